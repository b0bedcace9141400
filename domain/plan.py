"""Normalized event + amount-type mapping → plan of accounting documents (pure Python, no Odoo).

The plan names accounts and products by opaque *refs* (``"fees"``, ``"shipping"``...: see
:data:`ACCOUNT_REFS`) that the Odoo side resolves to records; it never rounds, never guesses and
never drops a cent:

- an amount type without a rule is not planned: it is reported in ``unmapped`` and the event
  waits for review;
- the documents move the Amazon clearing account by exactly the event's total, or the result
  says by how much they do not;
- amounts finer than the currency allows, withheld tax that does not offset the item's tax, an
  ``ignore`` rule that hides money, VAT that cannot be reproduced: all are review reasons, stated
  with their amounts.

VAT (``doc/domain.md``, "VAT in the plan"): a seller tax rides on the credit-note line of its
base (``tax_amount``); in VAT marketplaces a promotion without a tax of its own includes VAT and
is split into its net (``amount``) and that VAT (``tax_amount``, ``tax_rate``: the rate of its
item's taxed lines); the VAT Amazon charges on a fee (``FeeTax/<Fee>``) is an ``input_tax`` line
of the fee entry, on the fee's account.

Signs (in one place, :func:`credited` / :func:`debited`): event amounts are Amazon's, from the
seller's point of view (negative = the seller pays). A credit-note line is the amount credited to
the customer (positive when the buyer gets money back); an entry line is signed, positive = debit
of that account; ``clearing_amount`` is the document's effect on the clearing account from the
seller's point of view (positive = Amazon owes the seller more).
"""

from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from .model import ORDER_EVENT_TYPES
from .plan_rules import (
    ACCOUNT_REFS,
    ROLES,
    TAX_BASES,
    AmountTypeRule,
    Mapping,
    default_mapping,
    default_rules,
)
from .plan_vat import infer_rate, promotion_base, split_included
from .vocabulary import FEE, PROMOTION, RETROCHARGE, VAT_MARKETPLACE_IDS

__all__ = [
    "ACCOUNT_REFS",
    "ROLES",
    "TAX_BASES",
    "AmountTypeRule",
    "DocumentPlan",
    "Mapping",
    "PlanLine",
    "PlanResult",
    "credited",
    "debited",
    "default_mapping",
    "default_rules",
    "plan_event",
    "summarize_unmapped",
]

ZERO = Decimal(0)

# ---------------------------------------------------------------------------------------------
# Signs
# ---------------------------------------------------------------------------------------------


def credited(amount):
    """Event amount → amount credited to the customer on a credit note (tax excluded)."""
    return -amount


def debited(amount):
    """Event amount → entry line on the counterpart account (positive = debit).

    The clearing account takes the event amount (Amazon owes the seller ``amount`` more), so the
    counterpart takes the opposite: a returned commission (+3.00) credits fees by 3.00.
    """
    return -amount


# ---------------------------------------------------------------------------------------------
# Plan
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanLine:
    """One line of a planned document.

    ``kind``: ``product`` or ``account`` (credit note); ``account`` or ``input_tax`` (entries:
    the VAT Amazon charges on a fee, which the Odoo layer books on the company's input VAT account
    where it is registered for VAT, else on ``account_ref``, the fee's account).
    ``tax_amount``: the seller's tax on a credit-note line, Amazon's figure. ``tax_rate``: the
    percent rate the planner found for a promotion whose VAT it split out, else None.
    """

    kind: str
    amount: Decimal
    account_ref: object = None
    product_ref: object = None
    sku: str | None = None
    quantity: Decimal | None = None
    label: str | None = None
    amount_types: tuple = ()
    tax_amount: Decimal = ZERO
    tax_rate: Decimal | None = None


@dataclass(frozen=True)
class DocumentPlan:
    kind: str  # "credit_note" | "fee_entry" | "entry"
    currency: str
    lines: list
    clearing_amount: Decimal

    @property
    def total(self):
        """Credit note: amount credited incl. tax. Entry: sum of the counterpart lines."""
        return sum((ln.amount + ln.tax_amount for ln in self.lines), ZERO)


@dataclass
class PlanResult:
    documents: list = field(default_factory=list)
    review_reasons: list = field(default_factory=list)
    unmapped: dict = field(default_factory=dict)

    @property
    def ok(self):
        """True when the documents can be posted as planned."""
        return not self.review_reasons

    @property
    def clearing_amount(self):
        return sum((doc.clearing_amount for doc in self.documents), ZERO)


class _Group:
    """Accumulates the lines of one document line."""

    def __init__(self, kind, rule, sku, label, account_ref=None, tax_rate=None):
        self.kind = kind
        self.rule = rule
        self.account_ref = account_ref if account_ref is not None else rule.account_ref
        self.sku = sku
        self.label = label
        self.tax_rate = tax_rate
        self.amount = ZERO
        self.tax = ZERO
        self.quantity = None
        self.types = []

    def add(self, amount_type, amount, quantity=None):
        self.amount += amount
        if amount_type not in self.types:
            self.types.append(amount_type)
        if quantity is not None:
            self.quantity = (self.quantity or ZERO) + quantity

    def line(self, q):
        return PlanLine(
            kind=self.kind,
            amount=_q(self.amount, q),
            account_ref=self.account_ref,
            product_ref=self.rule.product_ref,
            sku=self.sku,
            quantity=self.quantity,
            label=self.label,
            amount_types=tuple(self.types),
            tax_amount=_q(self.tax, q),
            tax_rate=self.tax_rate,
        )


def _lines(groups, quantum):
    """The document lines of ``groups``; a group whose amounts net to nothing gives none."""
    return [group.line(quantum) for group in groups.values() if group.amount or group.tax]


def _q(amount, quantum):
    """Quantize to the currency when that is exact (never rounds)."""
    exact = amount.quantize(quantum)
    return exact if exact == amount else amount


def _fmt(amount, quantum):
    return str(_q(amount, quantum))


def _item_key(line):
    return (line.order_adjustment_item_id, line.sku)


def _item_name(item_key):
    oaii, sku = item_key
    if sku and oaii:
        return f"item {sku} ({oaii})"
    if sku or oaii:
        return f"item {sku or oaii}"
    return "the order-level amounts"


def _charged_tax(event, ln, rule):
    """A tax that withheld tax offsets: the seller's tax charges, and in a retrocharge the tax
    Amazon charges afterwards (its reversal gives it back)."""
    return rule.role == "seller_tax" or (
        event.event_type == "retrocharge" and ln.category == RETROCHARGE
    )


def plan_event(event, mapping, currency_decimals=2, *, prices_include_tax=None):
    """Plan the documents of one :class:`NormalizedEvent` (see the module docstring).

    Refund, guarantee claim, chargeback: a ``credit_note`` for what the buyer got back and a
    ``fee_entry`` for fee changes. Other events: one ``entry``. Zero amounts are skipped.
    ``prices_include_tax``: whether the buyer's prices (and so promotions) include VAT; by
    default, whether the event's marketplace is one of :data:`VAT_MARKETPLACE_IDS`.
    """
    quantum = Decimal(1).scaleb(-currency_decimals)
    result = PlanResult()
    reasons = result.review_reasons
    if prices_include_tax is None:
        prices_include_tax = event.marketplace_id in VAT_MARKETPLACE_IDS

    def fmt(amount):
        return _fmt(amount, quantum)

    # 1. Precision: never round silently.
    too_fine = [ln for ln in event.lines if ln.amount != ln.amount.quantize(quantum)]
    if too_fine or event.total != event.total.quantize(quantum):
        shown = ", ".join(f"{ln.amount_type} ({ln.amount})" for ln in too_fine)
        reasons.append(
            f"Amounts with more decimals than {event.currency} allows ({currency_decimals}): "
            + (shown or f"total {event.total}")
        )

    # 2. Rules.
    mapped = []
    for ln in event.lines:
        if ln.amount == 0:
            continue
        rule = mapping.get(ln.amount_type)
        if rule is None:
            result.unmapped[ln.amount_type] = result.unmapped.get(ln.amount_type, ZERO) + ln.amount
        else:
            mapped.append((ln, rule))
    if result.unmapped:
        shown = ", ".join(f"{t} ({fmt(a)})" for t, a in sorted(result.unmapped.items()))
        reasons.append(f"Unmapped amount type(s): {shown}")

    # 3. Withheld tax (marketplace facilitator, low-value goods) must offset the item's tax
    #    charges exactly; then neither reaches the documents (the tax is Amazon's).
    dropped, folded = _offset_withheld(event, mapped, reasons, fmt)

    # 4. Ignored types must net to zero.
    _check_ignored(mapped, reasons, fmt)

    planned = [(ln, rule) for ln, rule in mapped if id(ln) not in dropped and rule.role != "ignore"]
    context = _Context(event, mapping, reasons, quantum, prices_include_tax, folded)
    if event.event_type in ORDER_EVENT_TYPES:
        result.documents.extend(_order_documents(context, planned))
    else:
        result.documents.extend(_entry_documents(context, planned))

    # 5. Every cent.
    moved = result.clearing_amount
    if moved != event.total:
        reasons.append(
            f"Documents move the clearing account by {fmt(moved)}, the event total is "
            f"{fmt(event.total)}: difference {fmt(event.total - moved)}"
        )
    return result


def _offset_withheld(event, mapped, reasons, fmt):
    """Where Amazon withheld the tax of an item: ``(dropped, folded)``, the ids of the lines
    the withheld tax offsets (both sides) and of the VAT parts of the item's promotions, which
    are then part of the promotion's price (the VAT is Amazon's, as in v0 where a promotion
    comes whole). A review reason per item where the withheld tax does not offset to the cent.
    """
    items = OrderedDict()
    for ln, rule in mapped:
        if rule.role == "withheld_tax" or _charged_tax(event, ln, rule):
            items.setdefault(_item_key(ln), []).append((ln, rule))
    dropped, folded = set(), set()
    for item_key, pairs in items.items():
        withheld = [ln for ln, rule in pairs if rule.role == "withheld_tax"]
        if not withheld:
            continue
        promotion = [ln for ln, rule in pairs if (_tax_base(rule) or "").startswith("promotion/")]
        promotion_ids = {id(ln) for ln in promotion}
        taxes = [
            ln for ln, rule in pairs if rule.role != "withheld_tax" and id(ln) not in promotion_ids
        ]
        tax_sum = sum((ln.amount for ln in taxes), ZERO)
        withheld_sum = sum((ln.amount for ln in withheld), ZERO)
        promotion_sum = sum((ln.amount for ln in promotion), ZERO)
        if tax_sum + withheld_sum == 0:
            folded.update(id(ln) for ln in promotion)
        elif tax_sum + promotion_sum + withheld_sum == 0:
            taxes += promotion  # Amazon withheld the VAT net of the promotion's
        else:
            reasons.append(
                f"Withheld tax does not offset the tax charges of {_item_name(item_key)}: "
                f"tax {fmt(tax_sum)}, withheld {fmt(withheld_sum)}, "
                f"difference {fmt(tax_sum + withheld_sum)}"
            )
        dropped.update(id(ln) for ln in taxes + withheld)
    return dropped, folded


def _check_ignored(mapped, reasons, fmt):
    ignored = [(ln, rule) for ln, rule in mapped if rule.role == "ignore"]
    if sum((ln.amount for ln, _rule in ignored), ZERO) != 0:
        per_type = OrderedDict()
        for ln, _rule in ignored:
            per_type[ln.amount_type] = per_type.get(ln.amount_type, ZERO) + ln.amount
        shown = ", ".join(f"{t} ({fmt(a)})" for t, a in per_type.items())
        reasons.append(f"Ignored amount types do not net to zero: {shown}")


class _Context:
    def __init__(self, event, mapping, reasons, quantum, prices_include_tax, folded=()):
        self.event = event
        self.folded = folded
        self.mapping = mapping
        self.reasons = reasons
        self.quantum = quantum
        self.prices_include_tax = prices_include_tax
        # The charges a seller tax can ride on: the rates of a VAT marketplace are read on them.
        self.tax_bases = {b.lower() for b in TAX_BASES.values() if not b.startswith(PROMOTION)}
        self.tax_bases.update(
            r.tax_of.lower() for r in mapping if r.tax_of and not r.tax_of.startswith(PROMOTION)
        )

    def fmt(self, amount):
        return _fmt(amount, self.quantum)

    def fee_tax_group(self, groups, ln, rule):
        """The ``input_tax`` group of a ``FeeTax/<Fee>`` line, on the rule's account or on the
        account of its fee's rule; None (a review reason) when there is neither."""
        account = rule.account_ref
        fee = f"{FEE}/{ln.amount_type.split('/', 1)[1]}"
        fee_rule = self.mapping.get(fee)
        if account is None and fee_rule is not None and fee_rule.role == "fee":
            account = fee_rule.account_ref
        if account is None:
            self.reasons.append(
                f"{ln.amount_type} ({self.fmt(ln.amount)}) is the tax on fee {fee}, which has "
                "no fee rule giving its account"
            )
            return None
        sku = None if self.event.event_type in ORDER_EVENT_TYPES else ln.sku
        key = ("input_tax", account, ln.amount_type.lower(), sku)
        group = groups.get(key)
        if group is None:
            label = rule.label or f"Tax on {fee.split('/', 1)[1]}"
            group = groups[key] = _Group("input_tax", rule, None, label, account_ref=account)
        return group


def _credit_group(credit, ln, rule, rate=None):
    if rule.role == "principal":
        key = ("product", ln.sku, rule.account_ref, rule.product_ref)
    else:
        key = ("account", rule.account_ref, rule.amount_type.lower(), rule.label, rate)
    group = credit.get(key)
    if group is None:
        if rule.role == "principal":
            label = rule.label or (f"Refund {ln.sku}" if ln.sku else "Refund")
            group = _Group("product", rule, ln.sku, label)
        else:
            group = _Group("account", rule, None, rule.label or rule.type_name, tax_rate=rate)
        credit[key] = group
    return group


def _tax_base(rule):
    return (rule.tax_of or TAX_BASES.get(rule.amount_type) or "").lower() or None


def _order_documents(ctx, planned):
    credit, fees = OrderedDict(), OrderedDict()
    base_of_item = {}  # (item key, amount type lower) → credit group
    bases = {}  # item key → {base amount type lower: [credited amount, credited tax]}
    taxes, included = [], []
    own_tax = {
        (_item_key(ln), _tax_base(rule)) for ln, rule in planned if rule.role == "seller_tax"
    }
    for ln, rule in planned:
        if rule.role in ("principal", "credit_note"):
            item, kind = _item_key(ln), ln.amount_type.lower()
            if ctx.prices_include_tax and ln.category == PROMOTION and (item, kind) not in own_tax:
                included.append((ln, rule))
                continue
            group = _credit_group(credit, ln, rule)
            quantity = ln.quantity if rule.role == "principal" else None
            group.add(ln.amount_type, credited(ln.amount), quantity)
            base_of_item[(item, kind)] = group
            if kind in ctx.tax_bases:
                bases.setdefault(item, {}).setdefault(kind, [ZERO, ZERO])[0] += credited(ln.amount)
        elif rule.role in ("fee", "adjustment"):
            key = (rule.account_ref, ln.amount_type.lower())
            group = fees.get(key)
            if group is None:
                group = fees[key] = _Group("account", rule, None, rule.label or rule.type_name)
            group.add(ln.amount_type, debited(ln.amount))
        elif rule.role == "fee_tax":
            group = ctx.fee_tax_group(fees, ln, rule)
            if group is not None:
                group.add(ln.amount_type, debited(ln.amount))
        elif rule.role == "seller_tax":
            taxes.append((ln, rule))
        # withheld_tax never gets here: step 3 of plan_event took every withheld line
    _attach_taxes(ctx, taxes, base_of_item, bases)
    if ctx.prices_include_tax:
        _included_promotions(ctx, included, bases, credit)
        _untaxed_charges(ctx, bases)
    documents = []
    lines = _lines(credit, ctx.quantum)
    if lines:
        credited_total = sum((ln.amount + ln.tax_amount for ln in lines), ZERO)
        if credited_total < 0:
            ctx.reasons.append(
                f"The credit note total is negative ({ctx.fmt(credited_total)}): the "
                "buyer got nothing back to credit"
            )
        documents.append(
            DocumentPlan("credit_note", ctx.event.currency, lines, _q(-credited_total, ctx.quantum))
        )
    entry = _entry("fee_entry", ctx.event, fees, ctx.quantum)
    if entry:
        documents.append(entry)
    return documents


def _attach_taxes(ctx, taxes, base_of_item, bases):
    """Each seller tax on the credit-note line of its base in the same item."""
    for ln, rule in taxes:
        base = _tax_base(rule)
        group = base and base_of_item.get((_item_key(ln), base))
        if group is None:
            named = rule.tax_of or TAX_BASES.get(rule.amount_type) or "base"
            ctx.reasons.append(
                f"Seller tax {ln.amount_type} ({ctx.fmt(ln.amount)}) of "
                f"{_item_name(_item_key(ln))} has no {named} line to belong to"
            )
            continue
        if id(ln) in ctx.folded:
            group.add(ln.amount_type, credited(ln.amount))
            continue
        group.tax += credited(ln.amount)
        if ln.amount_type not in group.types:
            group.types.append(ln.amount_type)
        pair = bases.get(_item_key(ln), {}).get(base)
        if pair is not None:
            pair[1] += credited(ln.amount)


def _included_promotions(ctx, included, bases, credit):
    """Promotions of a VAT marketplace without a tax of their own: their amount includes VAT at
    the rate of their item's taxed lines (of the charge they name, if they name one)."""
    per_item = OrderedDict()
    for ln, rule in included:
        per_item.setdefault((_item_key(ln), ln.amount_type.lower()), []).append((ln, rule))
    for (item, _kind), pairs in per_item.items():
        ln, rule = pairs[0]
        gross = sum((credited(p.amount) for p, _r in pairs), ZERO)
        item_bases = bases.get(item) or {}
        if not item_bases:  # an order-level promotion: the taxed lines of the whole order
            item_bases = {k: v for b in bases.values() for k, v in b.items()}
        named = promotion_base(ln.amount_type)
        chosen = [v for k, v in item_bases.items() if named is None or k == named]
        rate = infer_rate(chosen, ctx.quantum)
        if rate is None:
            shown = ", ".join(f"tax {ctx.fmt(t)} on {ctx.fmt(b)}" for b, t in chosen)
            ctx.reasons.append(
                f"{ln.amount_type} ({ctx.fmt(credited(gross))}) of {_item_name(item)} includes "
                f"VAT, but no one rate gives the taxes of its item ({shown}): Amazon's VAT "
                "cannot be reproduced"
            )
            rate = ZERO
        net, tax = split_included(gross, rate, ctx.quantum)
        group = _credit_group(credit, ln, rule, rate if tax else None)
        group.add(ln.amount_type, net)
        group.tax += tax


def _untaxed_charges(ctx, bases):
    """In a VAT marketplace, shipping and gift wrap follow their item's VAT: one without tax
    beside a taxed principal cannot give Amazon's VAT."""
    for item, item_bases in bases.items():
        principal = item_bases.get("charge/principal")
        if principal is None or not principal[1]:
            continue
        for kind in ("Charge/ShippingCharge", "Charge/GiftWrap"):
            base = item_bases.get(kind.lower())
            if base is not None and base[0] and not base[1]:
                ctx.reasons.append(
                    f"{kind} ({ctx.fmt(base[0])}) of {_item_name(item)} "
                    f"carries no VAT while its principal does ({ctx.fmt(principal[1])} on "
                    f"{ctx.fmt(principal[0])}): Amazon's VAT cannot be reproduced"
                )


def _entry(kind, event, groups, quantum):
    lines = _lines(groups, quantum)
    if not lines:
        return None
    clearing = -sum((ln.amount for ln in lines), ZERO)
    return DocumentPlan(kind, event.currency, lines, _q(clearing, quantum))


def _entry_documents(ctx, planned):
    groups = OrderedDict()
    event = ctx.event
    for ln, rule in planned:
        if rule.role == "fee_tax":
            group = ctx.fee_tax_group(groups, ln, rule)
            if group is not None:
                group.add(ln.amount_type, debited(ln.amount), ln.quantity)
            continue
        if rule.role in ("seller_tax", "withheld_tax") or rule.account_ref is None:
            ctx.reasons.append(
                f"{ln.amount_type} ({ctx.fmt(ln.amount)}) has role {rule.role}, which "
                f"needs an account in a {event.event_type} event"
            )
            continue
        key = (rule.account_ref, ln.amount_type.lower(), ln.sku)
        group = groups.get(key)
        if group is None:
            label = rule.label or rule.type_name
            if ln.sku:
                label = f"{label} {ln.sku}"
            group = groups[key] = _Group("account", rule, ln.sku, label)
        group.add(ln.amount_type, debited(ln.amount), ln.quantity)
    entry = _entry("entry", event, groups, ctx.quantum)
    return [entry] if entry else []


def summarize_unmapped(results):
    """Each unmapped amount type once: ``{amount_type: (number of events, total amount)}``."""
    summary = {}
    for result in results:
        for amount_type, amount in result.unmapped.items():
            count, total = summary.get(amount_type, (0, ZERO))
            summary[amount_type] = (count + 1, total + amount)
    return dict(sorted(summary.items()))
