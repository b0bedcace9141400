"""Sales summarised per settlement and per day, as A2X and Link My Books book them (pure Python,
no Odoo). ``doc/sales.md`` describes the plan and what the Odoo layer makes of it.

:func:`plan_sales` gives, for the sale events of one settlement, one journal-entry plan per day
of the company (and currency): income by amount type (principal by product category or on one
account, shipping, gift wrap, promotions), the tax the seller owes as tax lines carrying Amazon's
amount and its base, marketplace-facilitator tax netted out, fees on fee accounts and the VAT on
them as input tax, all against the clearing account, which the day plans move by exactly the sum
of the events' totals. Lines are sums, never one per event: their number depends on the accounts,
categories and taxes met, not on the number of sales. What cannot be placed (an unmapped type,
withheld tax that does not net, a tax without its base...) is a ``review`` line on no account with
its reason: the plan still balances and names every cent, and is not ``ok``.

Signs: a line's ``amount`` is the entry's debit (positive) or credit (negative) on its account;
the clearing account is debited by the events' totals. Amounts are Decimal, never rounded here.
"""

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from .model import SALE_EVENT_TYPE
from .plan import _item_key, _item_name, _q, _tax_base
from .plan_rules import AmountTypeRule, Mapping, default_mapping
from .plan_vat import promotion_base, split_included
from .tax import tax_of
from .vocabulary import FEE, PROMOTION, VAT_MARKETPLACE_IDS

ZERO = Decimal(0)
HUNDRED = Decimal(100)
# The symbolic account of sales income (the Odoo layer maps it like plan_rules.ACCOUNT_REFS).
SALE_ACCOUNT_REFS = ("sales",)
KINDS = ("income", "tax", "account", "input_tax", "review")
_KIND_ORDER = {kind: number for number, kind in enumerate(KINDS)}
# How many sales a review reason names before it counts the rest.
SHOWN_SALES = 10


def sale_rules():
    """The rules a sale needs beyond :func:`default_rules` (which are written for refunds):
    principal on the sales account, and the fees seen in real sales only."""
    rules = (
        AmountTypeRule("Charge/Principal", "principal", "sales", label="Sales"),
        # CA settlement reports: the shipment fee of an FBA order ("FBA transportation fee")
        AmountTypeRule("Fee/FBATransportationFee", "fee", "fees"),
    )
    return {rule.amount_type: rule for rule in rules}


def sale_mapping(overrides=None):
    """The default rules, the sale rules, then ``overrides`` (a marketplace's own)."""
    mapping = default_mapping().merged(sale_rules())
    return mapping.merged(overrides) if overrides else mapping


# ---------------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryLine:
    """One line of a day's entry. ``amount``: debit (positive) or credit (negative) of
    ``account_ref`` (of the product category ``category_ref``'s income account when there is
    one). Income lines name the tax of their base in ``tax_key`` and its percent in ``tax_rate``
    (None: untaxed); a tax line carries Amazon's tax in ``amount`` and its base in ``tax_base``
    (the sum of the income lines naming that tax, same sign)."""

    kind: str
    amount: Decimal
    account_ref: object = None
    category_ref: object = None
    tax_key: object = None
    tax_rate: Decimal | None = None
    tax_base: Decimal = ZERO
    label: str | None = None
    amount_types: tuple = ()
    quantity: Decimal | None = None


@dataclass(frozen=True)
class DayPlan:
    """One journal entry: the sales of ``date`` (the company's day) in ``currency``."""

    date: date
    currency: str
    lines: tuple
    clearing_amount: Decimal
    event_keys: tuple

    @property
    def balance(self):
        """Debits less credits, the clearing line included: zero for a balanced entry."""
        return self.clearing_amount + sum((line.amount for line in self.lines), ZERO)


@dataclass
class SalesPlan:
    days: list = field(default_factory=list)
    review_reasons: list = field(default_factory=list)
    # amount type → (number of sales, amount)
    unmapped: dict = field(default_factory=dict)
    # event key → the reasons that sale waits for review
    event_reasons: dict = field(default_factory=dict)
    events_total: Decimal = ZERO

    @property
    def ok(self):
        return not self.review_reasons

    @property
    def clearing_amount(self):
        return sum((day.clearing_amount for day in self.days), ZERO)

    @property
    def line_count(self):
        return sum(len(day.lines) for day in self.days)


# ---------------------------------------------------------------------------------------------
# Accumulators
# ---------------------------------------------------------------------------------------------


class _Group:
    """The running sums of one summary line."""

    __slots__ = ("amount", "base", "key", "quantity", "rate", "types")

    def __init__(self, key, rate=None):
        self.key = key  # (kind, account_ref, category_ref, tax_key, label)
        self.rate = rate
        self.amount = ZERO
        self.base = ZERO
        self.quantity = None
        self.types = []

    def add(self, amount, amount_types, base=ZERO, quantity=None):
        self.amount += amount
        self.base += base
        if quantity is not None:
            self.quantity = (self.quantity or ZERO) + quantity
        for amount_type in amount_types:
            if amount_type not in self.types:
                self.types.append(amount_type)

    def line(self, quantum):
        kind, account_ref, category_ref, tax_key, label = self.key
        return SummaryLine(
            kind=kind,
            amount=_q(self.amount, quantum),
            account_ref=account_ref,
            category_ref=category_ref,
            tax_key=tax_key,
            tax_rate=self.rate,
            tax_base=_q(self.base, quantum),
            label=label,
            amount_types=tuple(self.types),
            quantity=self.quantity,
        )


class _Day:
    __slots__ = ("clearing", "groups", "keys")

    def __init__(self):
        self.clearing = ZERO
        self.groups = {}
        self.keys = []

    def group(self, key, rate=None):
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _Group(key, rate)
        return group


class _Base:
    """The lines of one item that share an amount type (a base of tax), and their tax."""

    __slots__ = ("amount", "lines", "rule", "tax", "tax_types", "taxrate")

    def __init__(self, rule):
        self.rule = rule
        self.lines = []
        self.amount = ZERO
        self.tax = ZERO
        self.tax_types = []
        self.taxrate = None

    def add(self, ln):
        self.lines.append(ln)
        self.amount += ln.amount


# ---------------------------------------------------------------------------------------------
# One sale
# ---------------------------------------------------------------------------------------------


class _Sale:
    """Places the lines of one sale in the groups of its day."""

    def __init__(self, summary, event, day):
        self.summary = summary
        self.event = event
        self.day = day
        self.reasons = []
        self.prices_include_tax = summary.prices_include_tax
        if self.prices_include_tax is None:
            self.prices_include_tax = event.marketplace_id in VAT_MARKETPLACE_IDS

    def fmt(self, amount):
        return str(_q(amount, self.summary.quantum))

    def review(self, lines, why=None):
        """Lines that cannot be placed: a ``review`` line per amount type, and the reason."""
        if why:
            self.reasons.append(why)
        for ln in lines:
            self.day.group(("review", None, None, None, ln.amount_type)).add(
                -ln.amount, (ln.amount_type,)
            )

    def plan(self):
        event, summary = self.event, self.summary
        if event.event_type != SALE_EVENT_TYPE:
            self.review(event.lines, f"not a sale ({event.event_type}): its lines wait")
            return
        if (event.transaction_status or "").upper() == "DEFERRED":
            self.reasons.append("deferred by Amazon: it is booked when Amazon releases it")
        quantum = summary.quantum
        too_fine = [ln for ln in event.lines if ln.amount != ln.amount.quantize(quantum)]
        if too_fine:
            shown = ", ".join(f"{ln.amount_type} ({ln.amount})" for ln in too_fine)
            self.reasons.append(f"amounts with more decimals than {event.currency} allows: {shown}")
        gap = event.total - sum((ln.amount for ln in event.lines), ZERO)
        if gap:
            self.reasons.append(f"its lines do not add up to its total {self.fmt(event.total)}")
            self.day.group(("review", None, None, None, "Total")).add(-gap, ("Total",))
        mapped, unmapped, ignored = [], [], []
        for ln in event.lines:
            if ln.amount == 0:
                continue
            rule = summary.rule(ln.amount_type)
            if rule is None:
                unmapped.append(ln)
            elif rule.role == "ignore":
                ignored.append(ln)
            else:
                mapped.append((ln, rule))
        if unmapped:
            summary.count_unmapped(unmapped)
            shown = ", ".join(f"{ln.amount_type} ({self.fmt(ln.amount)})" for ln in unmapped)
            self.review(unmapped, f"unmapped amount type(s): {shown}")
        if sum((ln.amount for ln in ignored), ZERO):
            shown = ", ".join(f"{ln.amount_type} ({self.fmt(ln.amount)})" for ln in ignored)
            self.review(ignored, f"ignored amount types do not net to zero: {shown}")
        placed, folded = self.net_withheld(mapped)
        self.place(placed, folded)

    def net_withheld(self, mapped):
        """Withheld tax offsets the item's charged tax (both then leave the entry, the tax is
        Amazon's) → the pairs to place and the ids of the promotion taxes then folded in their
        promotion's price. Where it does not offset to the cent, the item's taxes go to review."""
        items = OrderedDict()
        for ln, rule in mapped:
            if rule.role in ("withheld_tax", "seller_tax"):
                items.setdefault(_item_key(ln), []).append((ln, rule))
        netted, folded = set(), set()
        for item, pairs in items.items():
            withheld = [ln for ln, rule in pairs if rule.role == "withheld_tax"]
            if not withheld:
                continue
            promotion = [
                ln
                for ln, rule in pairs
                if rule.role == "seller_tax" and (_tax_base(rule) or "").startswith("promotion/")
            ]
            on_promotion = {id(ln) for ln in promotion}
            taxes = [
                ln for ln, rule in pairs if rule.role == "seller_tax" and id(ln) not in on_promotion
            ]
            tax, held, promo = (
                sum((ln.amount for ln in x), ZERO) for x in (taxes, withheld, promotion)
            )
            if tax + held == 0:
                folded.update(on_promotion)
            elif tax + promo + held == 0:
                taxes += promotion
            else:
                self.review(
                    taxes + withheld,
                    f"withheld tax does not offset the tax charges of {_item_name(item)}: tax "
                    f"{self.fmt(tax)}, withheld {self.fmt(held)}, difference "
                    f"{self.fmt(tax + held)}",
                )
            netted.update(id(ln) for ln in taxes + withheld)
        return [(ln, rule) for ln, rule in mapped if id(ln) not in netted], folded

    def place(self, pairs, folded):
        bases = OrderedDict()  # (item, amount type lower) → _Base
        taxes, included = [], []
        own_tax = {
            (_item_key(ln), _tax_base(rule)) for ln, rule in pairs if rule.role == "seller_tax"
        }
        for ln, rule in pairs:
            role = rule.role
            if role in ("principal", "credit_note"):
                key = (_item_key(ln), ln.amount_type.lower())
                if self.prices_include_tax and ln.category == PROMOTION and key not in own_tax:
                    included.append((ln, rule))
                    continue
                base = bases.get(key)
                if base is None:
                    base = bases[key] = _Base(rule)
                base.add(ln)
            elif role == "seller_tax":
                taxes.append((ln, rule))
            elif role == "fee_tax":
                self.fee_tax(ln, rule)
            else:  # fee, adjustment: their rules have an account
                label = rule.label or rule.type_name
                self.day.group(("account", rule.account_ref, None, None, label)).add(
                    -ln.amount, (ln.amount_type,)
                )
        self.attach_taxes(taxes, bases, folded)
        for base in bases.values():
            if base.tax:
                base.taxrate = self.summary.match(base.amount, base.tax)
                if base.taxrate is None:
                    self.reasons.append(
                        f"no sale tax gives Amazon's tax {self.fmt(base.tax)} on "
                        f"{self.fmt(base.amount)} ({', '.join(base.tax_types)})"
                    )
        if included:
            self.included_promotions(included, bases)
        if self.prices_include_tax:
            self.untaxed_charges(bases)
        for base in bases.values():
            self.emit(base)

    def fee_tax(self, ln, rule):
        """``FeeTax/<Fee>``: input tax on the rule's account, else on the fee rule's account."""
        fee = f"{FEE}/{ln.amount_type.split('/', 1)[1]}"
        account = rule.account_ref
        fee_rule = self.summary.rule(fee)
        if account is None and fee_rule is not None and fee_rule.role == "fee":
            account = fee_rule.account_ref
        if account is None:
            self.review([ln], f"{ln.amount_type} is the tax on {fee}, which has no fee account")
            return
        label = rule.label or f"Tax on {fee.split('/', 1)[1]}"
        self.day.group(("input_tax", account, None, None, label)).add(-ln.amount, (ln.amount_type,))

    def attach_taxes(self, taxes, bases, folded):
        """Each seller tax on the base of its item it is charged on (``tax_of``)."""
        for ln, rule in taxes:
            base_type = _tax_base(rule)
            base = bases.get((_item_key(ln), base_type)) if base_type else None
            if base is None:
                named = rule.tax_of or base_type or "base"
                self.review(
                    [ln],
                    f"seller tax {ln.amount_type} ({self.fmt(ln.amount)}) of "
                    f"{_item_name(_item_key(ln))} has no {named} line to belong to",
                )
            elif id(ln) in folded:
                base.add(ln)  # the promotion's VAT was Amazon's: part of its price
            else:
                base.tax += ln.amount
                if ln.amount_type not in base.tax_types:
                    base.tax_types.append(ln.amount_type)

    def included_promotions(self, included, bases):
        """A promotion of a VAT marketplace without a tax of its own includes VAT at the tax of
        its item's taxed lines (of the charge it names, if it names one): split into net + VAT."""
        per_item = OrderedDict()
        for ln, rule in included:
            per_item.setdefault((_item_key(ln), ln.amount_type.lower()), []).append((ln, rule))
        for (item, kind), pairs in per_item.items():
            named = promotion_base(kind)
            chosen = [b for (i, k), b in bases.items() if i == item and named in (None, k)]
            if not chosen:  # an order-level promotion: the taxed lines of the whole sale
                chosen = [b for (_i, k), b in bases.items() if named in (None, k)]
            taxed = [b for b in chosen if b.tax]
            rates = {b.taxrate.key: b.taxrate for b in taxed if b.taxrate is not None}
            base = bases[(item, kind)] = _Base(pairs[0][1])
            for ln, _rule in pairs:
                base.add(ln)
            if not taxed:
                continue  # nothing taxed: the promotion holds no VAT
            if len(rates) != 1 or len(rates) != len({id(b.taxrate) for b in taxed}):
                self.reasons.append(
                    f"{pairs[0][0].amount_type} ({self.fmt(base.amount)}) of "
                    f"{_item_name(item)} includes VAT, but its item's taxes give no one sale "
                    "tax: Amazon's VAT cannot be reproduced"
                )
                continue
            taxrate = next(iter(rates.values()))
            net, tax = split_included(base.amount, Decimal(taxrate.rate), self.summary.quantum)
            base.amount, base.tax, base.taxrate = net, tax, taxrate
            base.tax_types.append(f"{pairs[0][0].amount_type} (VAT included)")

    def untaxed_charges(self, bases):
        """In a VAT marketplace shipping and gift wrap follow their item's VAT."""
        for (item, kind), base in bases.items():
            if kind not in ("charge/shippingcharge", "charge/giftwrap") or base.tax:
                continue
            principal = bases.get((item, "charge/principal"))
            if principal is not None and principal.tax and base.amount:
                self.reasons.append(
                    f"{base.lines[0].amount_type} ({self.fmt(base.amount)}) of "
                    f"{_item_name(item)} carries no VAT while its principal does: Amazon's VAT "
                    "cannot be reproduced"
                )

    def emit(self, base):
        rule = base.rule
        taxrate = base.taxrate
        tax_key = None if taxrate is None else taxrate.key
        category = None
        quantity = None
        if rule.role == "principal":
            sku = base.lines[0].sku
            category = self.summary.category(sku) if sku else None
            quantities = [ln.quantity for ln in base.lines if ln.quantity is not None]
            quantity = sum(quantities, ZERO) if quantities else None
        if rule.account_ref is None and category is None:
            self.reasons.append(f"{rule.amount_type} has no account to be booked on")
        label = rule.label or rule.type_name
        types = [ln.amount_type for ln in base.lines]
        rate = None if taxrate is None else Decimal(taxrate.rate)
        self.day.group(("income", rule.account_ref, category, tax_key, label), rate).add(
            -base.amount, types, quantity=quantity
        )
        if base.tax or taxrate is not None:  # a base whose tax rounds to nothing is still one
            label = "Tax" if rate is None else f"Tax {format(rate.normalize(), 'f')}%"
            self.day.group(("tax", None, None, tax_key, label), rate).add(
                -base.tax, base.tax_types, base=-base.amount
            )


# ---------------------------------------------------------------------------------------------
# The settlement
# ---------------------------------------------------------------------------------------------


class _Summary:
    def __init__(self, mapping, tz, taxes, quantum, prices_include_tax, sku_categories):
        self.mapping = mapping
        self.tz = tz
        self.taxes = tuple(taxes)
        self.quantum = quantum
        self.prices_include_tax = prices_include_tax
        self.categories = sku_categories
        self.days = {}  # (date, currency) → _Day
        self.unmapped = {}  # amount type → [sales, amount]
        self.event_reasons = {}
        self.labels = {}  # event key → how a review reason names the sale
        self.total = ZERO
        self._rules = {}
        self._matches = {}

    def rule(self, amount_type):
        try:
            return self._rules[amount_type]
        except KeyError:
            rule = self._rules[amount_type] = self.mapping.get(amount_type)
            return rule

    def category(self, sku):
        return self.categories.get(sku) if self.categories else None

    def match(self, base, tax):
        """The sale tax of ``taxes`` that gives ``tax`` on ``base`` to the cent (the closest to
        their ratio when several do), or None."""
        key = (base, tax)
        if key not in self._matches:
            fitting = [t for t in self.taxes if tax_of(t, base, tax, self.quantum) == tax]
            if fitting and base:
                ratio = tax / base * HUNDRED
                fitting.sort(key=lambda t: abs(Decimal(t.rate) - ratio))
            self._matches[key] = fitting[0] if fitting and base else None
        return self._matches[key]

    def count_unmapped(self, lines):
        for ln in lines:
            entry = self.unmapped.setdefault(ln.amount_type, [0, ZERO])
            entry[0] += 1
            entry[1] += ln.amount

    def add(self, event):
        when = event.posted_date.astimezone(self.tz).date()
        day = self.days.get((when, event.currency))
        if day is None:
            day = self.days[(when, event.currency)] = _Day()
        day.clearing += event.total
        day.keys.append(event.key)
        self.total += event.total
        sale = _Sale(self, event, day)
        sale.plan()
        if sale.reasons:
            self.event_reasons[event.key] = tuple(sale.reasons)
            self.labels[event.key] = event.amazon_order_id or event.key

    def result(self):
        plan = SalesPlan(events_total=self.total)
        for (when, currency), day in sorted(self.days.items()):
            groups = [g for g in day.groups.values() if g.amount or g.base or g.key[0] == "review"]
            lines = sorted(
                (g.line(self.quantum) for g in groups),
                key=lambda ln: (
                    _KIND_ORDER[ln.kind],
                    str(ln.label),
                    str(ln.account_ref),
                    str(ln.category_ref),
                    str(ln.tax_key),
                ),
            )
            plan.days.append(
                DayPlan(
                    when, currency, tuple(lines), _q(day.clearing, self.quantum), tuple(day.keys)
                )
            )
        plan.unmapped = {t: (n, a) for t, (n, a) in sorted(self.unmapped.items())}
        plan.event_reasons = self.event_reasons
        plan.review_reasons = self.reasons(plan)
        return plan

    def reasons(self, plan):
        fmt = lambda amount: str(_q(amount, self.quantum))  # noqa: E731
        reasons = []
        currencies = sorted({day.currency for day in plan.days})
        if len(currencies) > 1:
            reasons.append(f"Sales in several currencies: {', '.join(currencies)}")
        if plan.unmapped:
            shown = ", ".join(f"{t} ({n} sale(s), {fmt(a)})" for t, (n, a) in plan.unmapped.items())
            reasons.append(f"Unmapped amount type(s) in the sales: {shown}")
        if self.event_reasons:
            shown = [
                f"{self.labels[key]}: {'; '.join(why)}"
                for key, why in list(self.event_reasons.items())[:SHOWN_SALES]
            ]
            more = len(self.event_reasons) - len(shown)
            reasons.append(
                f"{len(self.event_reasons)} sale(s) wait for review: "
                + " | ".join(shown)
                + (f" | and {more} more" if more > 0 else "")
            )
        for day in plan.days:
            if day.balance:  # a guard: every line placed above has its counterpart
                reasons.append(f"The entry of {day.date} does not balance: {fmt(day.balance)}")
        return reasons


def plan_sales(
    events,
    mapping,
    tz,
    *,
    taxes=(),
    currency_decimals=2,
    prices_include_tax=None,
    sku_categories=None,
):
    """The summary of the sale events of one settlement (group) → :class:`SalesPlan`: one
    :class:`DayPlan` per day of ``tz`` (a ``tzinfo`` or an IANA name: the company's timezone)
    and currency, in date order.

    ``mapping``: a :class:`Mapping` (:func:`sale_mapping` gives the defaults). ``taxes``: the
    ``domain.tax.TaxRate`` of the company's sale taxes the seller's tax may be charged at.
    ``prices_include_tax``: whether promotions include VAT (default: the sale's marketplace is
    one of ``VAT_MARKETPLACE_IDS``). ``sku_categories``: a dict, SKU → the product
    category ref whose income account takes the SKU's principal (None: the rule's account).

    Linear in the number of events and lines; the plan keeps sums, not events (only their keys,
    per day). Every cent of every event is in a line; what cannot be placed is a ``review`` line
    and a reason, and the plan is then not ``ok``.
    """
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    if not isinstance(mapping, Mapping):
        mapping = Mapping(mapping)
    quantum = Decimal(1).scaleb(-currency_decimals)
    summary = _Summary(mapping, tz, taxes, quantum, prices_include_tax, sku_categories)
    for event in events:
        summary.add(event)
    return summary.result()
