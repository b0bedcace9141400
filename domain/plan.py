"""Normalized event + amount-type mapping → plan of accounting documents (pure Python, no Odoo).

The plan names accounts and products by opaque *refs* (``"fees"``, ``"shipping"``...: see
:data:`ACCOUNT_REFS`) that the Odoo side resolves to records; it never rounds, never guesses and
never drops a cent:

- an amount type without a rule is not planned: it is reported in ``unmapped`` and the event
  waits for review;
- the documents move the Amazon clearing account by exactly the event's total, or the result
  says by how much they do not;
- amounts finer than the currency allows, withheld tax that does not offset the item's tax, an
  ``ignore`` rule that hides money: all are review reasons, stated with their amounts.

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
from .vocabulary import FEE_TYPES

ROLES = (
    "principal",
    "credit_note",
    "seller_tax",
    "withheld_tax",
    "fee",
    "adjustment",
    "ignore",
)
_ROLES_NEEDING_ACCOUNT = ("credit_note", "fee", "adjustment")

# Symbolic accounts the default rules use; the Odoo side maps each to a real account at install.
ACCOUNT_REFS = (
    "refund_income",
    "shipping",
    "giftwrap",
    "promotion",
    "fees",
    "reimbursement",
    "reimbursement_return",
    "reimbursement_damage",
    "reserve",
    "other_income",
    "restocking",
)

# A seller-owed tax type → the amount type whose credit-note line carries it (same item).
TAX_BASES = {
    "Charge/Tax": "Charge/Principal",
    "Charge/ShippingTax": "Charge/ShippingCharge",
    "Charge/GiftWrapTax": "Charge/GiftWrap",
    "Charge/TaxDiscount": "Charge/Discount",
    "Charge/CODItemTaxCharge": "Charge/CODItemCharge",
    "Charge/CODOrderTaxCharge": "Charge/CODOrderCharge",
    "Charge/CODShippingTaxCharge": "Charge/CODShippingCharge",
}

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
# Mapping
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AmountTypeRule:
    """How one amount type (``"Fee/Commission"``, or ``"Promotion/*"`` for a whole category)
    reaches the documents.

    - ``principal``: a credit-note product line per SKU (product by SKU, else ``product_ref``,
      else the default refund product);
    - ``credit_note``: a credit-note line on ``account_ref`` (shipping, gift wrap, goodwill,
      promotions, restocking fee...);
    - ``seller_tax``: tax the seller owes, carried as ``tax_amount`` by the credit-note line of
      ``tax_of`` (default :data:`TAX_BASES`) in the same item;
    - ``withheld_tax``: marketplace-facilitator tax; it must offset the item's ``seller_tax``
      lines exactly, and then neither appears on documents (the tax is Amazon's);
    - ``fee``: a fee-entry line on ``account_ref``;
    - ``adjustment``: an entry line on ``account_ref`` (non-order events; in an order event it
      joins the fee entry);
    - ``ignore``: not for documents; only valid while the ignored amounts of an event net to zero.
    """

    amount_type: str
    role: str
    account_ref: object = None
    product_ref: object = None
    label: str | None = None
    tax_of: str | None = None

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"Unknown role {self.role!r} for {self.amount_type}")
        if "/" not in self.amount_type:
            raise ValueError(f"Amount type {self.amount_type!r} is not <Category>/<Type>")
        if self.role in _ROLES_NEEDING_ACCOUNT and self.account_ref is None:
            raise ValueError(f"Rule {self.amount_type} ({self.role}) needs an account_ref")

    @property
    def type_name(self):
        return self.amount_type.split("/", 1)[1]


class Mapping:
    """Amount type → :class:`AmountTypeRule`, looked up case-insensitively.

    An exact rule wins over a category wildcard ``"<Category>/*"``.
    """

    def __init__(self, rules=None):
        self._rules = OrderedDict()
        if isinstance(rules, Mapping):
            rules = rules.rules
        if isinstance(rules, dict):
            for key, rule in rules.items():
                if key.lower() != rule.amount_type.lower():
                    raise ValueError(f"Rule for {rule.amount_type} filed under {key!r}")
            rules = rules.values()
        for rule in rules or ():
            self._rules[rule.amount_type.lower()] = rule

    @property
    def rules(self):
        """The rules as a dict, keyed by their amount type."""
        return {rule.amount_type: rule for rule in self._rules.values()}

    def get(self, amount_type):
        key = amount_type.lower()
        rule = self._rules.get(key)
        if rule is None and "/" in key:
            rule = self._rules.get(key.split("/", 1)[0] + "/*")
        return rule

    def __contains__(self, amount_type):
        return self.get(amount_type) is not None

    def __len__(self):
        return len(self._rules)

    def __iter__(self):
        return iter(self._rules.values())

    def merged(self, overrides):
        """A new mapping: these rules, replaced or extended by ``overrides`` (a Mapping, a dict
        of rules or an iterable of rules), e.g. a marketplace's own accounts."""
        result = Mapping(self)
        for rule in Mapping(overrides):
            result._rules[rule.amount_type.lower()] = rule
        return result


def _rule(amount_type, role, account_ref=None, label=None, tax_of=None):
    return AmountTypeRule(amount_type, role, account_ref=account_ref, label=label, tax_of=tax_of)


def default_rules():
    """Sensible defaults: every documented ChargeType with a clear meaning, the FeeTypes seen in
    data, marketplace-facilitator withholding, promotions and the documented AdjustmentTypes.

    Left unmapped on purpose (their meaning depends on the jurisdiction or is undocumented; the
    accountant maps them once): ``Charge/GenericDeduction``, ``Charge/PaidthroughEBT``,
    ``Charge/TCS-*`` (India's tax collected at source).
    """
    rules = [
        # Charges: what the buyer paid and gets back
        _rule("Charge/Principal", "principal", "refund_income"),
        _rule("Charge/Tax", "seller_tax", tax_of="Charge/Principal"),
        _rule("Charge/ShippingCharge", "credit_note", "shipping", "Shipping"),
        _rule("Charge/ShippingTax", "seller_tax", tax_of="Charge/ShippingCharge"),
        _rule("Charge/GiftWrap", "credit_note", "giftwrap", "Gift wrap"),
        _rule("Charge/GiftWrapTax", "seller_tax", tax_of="Charge/GiftWrap"),
        _rule("Charge/Goodwill", "credit_note", "refund_income", "Goodwill"),
        _rule("Charge/RestockingFee", "credit_note", "restocking", "Restocking fee"),
        _rule("Charge/ReturnShipping", "credit_note", "shipping", "Return shipping"),
        _rule(
            "Charge/FreeReplacementReturnShipping",
            "credit_note",
            "shipping",
            "Free replacement return shipping",
        ),
        _rule("Charge/ExportCharge", "credit_note", "shipping", "Export charge"),
        _rule("Charge/Discount", "credit_note", "promotion", "Discount"),
        _rule("Charge/TaxDiscount", "seller_tax", tax_of="Charge/Discount"),
        _rule("Charge/CODItemCharge", "credit_note", "other_income", "Cash on delivery"),
        _rule("Charge/CODItemTaxCharge", "seller_tax", tax_of="Charge/CODItemCharge"),
        _rule("Charge/CODOrderCharge", "credit_note", "other_income", "Cash on delivery"),
        _rule("Charge/CODOrderTaxCharge", "seller_tax", tax_of="Charge/CODOrderCharge"),
        _rule("Charge/CODShippingCharge", "credit_note", "shipping", "Cash on delivery shipping"),
        _rule("Charge/CODShippingTaxCharge", "seller_tax", tax_of="Charge/CODShippingCharge"),
        _rule("Charge/PaymentMethodFee", "credit_note", "other_income", "Payment method fee"),
        # Charges that are Amazon's dealings with the seller, not the buyer's
        _rule("Charge/PointsFee", "fee", "fees", "Points fee"),
        _rule("Charge/SAFE-TReimbursement", "fee", "reimbursement", "SAFE-T reimbursement"),
        # Marketplace facilitator tax: Amazon's, offsets the tax charges
        _rule("TaxWithheld/MarketplaceFacilitatorTax-Principal", "withheld_tax"),
        _rule("TaxWithheld/MarketplaceFacilitatorTax-Shipping", "withheld_tax"),
        _rule("TaxWithheld/MarketplaceFacilitatorTax-Giftwrap", "withheld_tax"),
        _rule("TaxWithheld/MarketplaceFacilitatorTax-Other", "withheld_tax"),
        # Promotions (any PromotionType): reversals reduce the credit
        _rule("Promotion/*", "credit_note", "promotion", "Promotion"),
        # Adjustments (financesV0.json AdjustmentType)
        _rule("Adjustment/FBAInventoryReimbursement", "adjustment", "reimbursement"),
        _rule("Adjustment/ReserveEvent", "adjustment", "reserve"),
        _rule("Adjustment/PostageBilling", "adjustment", "fees"),
        _rule("Adjustment/PostageRefund", "adjustment", "fees"),
        _rule("Adjustment/LostOrDamagedReimbursement", "adjustment", "reimbursement_damage"),
        _rule("Adjustment/CanceledButPickedUpReimbursement", "adjustment", "reimbursement"),
        _rule("Adjustment/ReimbursementClawback", "adjustment", "reimbursement"),
        _rule("Adjustment/SellerRewards", "adjustment", "other_income"),
        # FBA reimbursement types seen in data (AdjustmentType is open-ended): a customer return
        # Amazon did not get back, and inventory Amazon lost or damaged, land on their own accounts
        _rule("Adjustment/CustomerReturn", "adjustment", "reimbursement_return"),
        _rule("Adjustment/REVERSAL_REIMBURSEMENT", "adjustment", "reimbursement_return"),
        _rule("Adjustment/WAREHOUSE_DAMAGE", "adjustment", "reimbursement_damage"),
        _rule("Adjustment/WAREHOUSE_LOST", "adjustment", "reimbursement_damage"),
        _rule("Adjustment/MISSING_FROM_INBOUND", "adjustment", "reimbursement_damage"),
        # Retrocharges: tax charged or given back afterwards
        _rule("Retrocharge/BaseTax", "adjustment", "fees", "Retrocharge tax"),
        _rule("Retrocharge/ShippingTax", "adjustment", "fees", "Retrocharge shipping tax"),
    ]
    fee_types = (
        *FEE_TYPES,  # seen in refunds
        # seen in service fee events (selling-partner-api-models #4299, #1778)
        "FBAStorageFee",
        "FBALongTermStorageFee",
        "FBARemovalFee",
        "FBADisposalFee",
        "FBACustomerReturnPerUnitFee",
        "FBAInboundConvenienceFee",
        "FBAOverageFee",
        "InboundDefectFee",
        "PaidServicesFee",
        "VineFee",
        "Subscription",
    )
    rules.extend(_rule(f"Fee/{name}", "fee", "fees") for name in fee_types)
    return {rule.amount_type: rule for rule in rules}


def default_mapping():
    return Mapping(default_rules())


# ---------------------------------------------------------------------------------------------
# Plan
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanLine:
    kind: str  # "product" | "account"
    amount: Decimal
    account_ref: object = None
    product_ref: object = None
    sku: str | None = None
    quantity: Decimal | None = None
    label: str | None = None
    amount_types: tuple = ()
    tax_amount: Decimal = ZERO


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

    def __init__(self, kind, rule, sku, label):
        self.kind = kind
        self.rule = rule
        self.sku = sku
        self.label = label
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
            account_ref=self.rule.account_ref,
            product_ref=self.rule.product_ref,
            sku=self.sku,
            quantity=self.quantity,
            label=self.label,
            amount_types=tuple(self.types),
            tax_amount=_q(self.tax, q),
        )


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


def plan_event(event, mapping, currency_decimals=2):
    """Plan the documents of one :class:`NormalizedEvent` (see the module docstring).

    Refund, guarantee claim, chargeback: a ``credit_note`` for what the buyer got back and a
    ``fee_entry`` for fee changes. Other events: one ``entry``. Zero amounts are skipped.
    """
    quantum = Decimal(1).scaleb(-currency_decimals)
    result = PlanResult()
    reasons = result.review_reasons

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

    # 3. Marketplace facilitator tax: withheld tax must offset the item's tax charges exactly.
    items = OrderedDict()
    for ln, rule in mapped:
        if rule.role in ("seller_tax", "withheld_tax"):
            items.setdefault(_item_key(ln), []).append((ln, rule))
    dropped = set()
    for item_key, pairs in items.items():
        withheld = [ln for ln, rule in pairs if rule.role == "withheld_tax"]
        if not withheld:
            continue
        taxes = [ln for ln, rule in pairs if rule.role == "seller_tax"]
        tax_sum = sum((ln.amount for ln in taxes), ZERO)
        withheld_sum = sum((ln.amount for ln in withheld), ZERO)
        if tax_sum + withheld_sum != 0:
            reasons.append(
                f"Withheld tax does not offset the tax charges of {_item_name(item_key)}: "
                f"tax {fmt(tax_sum)}, withheld {fmt(withheld_sum)}, "
                f"difference {fmt(tax_sum + withheld_sum)}"
            )
        dropped.update(id(ln) for ln in taxes + withheld)

    # 4. Ignored types must net to zero.
    ignored = [(ln, rule) for ln, rule in mapped if rule.role == "ignore"]
    ignored_sum = sum((ln.amount for ln, _rule in ignored), ZERO)
    if ignored_sum != 0:
        per_type = OrderedDict()
        for ln, _rule in ignored:
            per_type[ln.amount_type] = per_type.get(ln.amount_type, ZERO) + ln.amount
        shown = ", ".join(f"{t} ({fmt(a)})" for t, a in per_type.items())
        reasons.append(f"Ignored amount types do not net to zero: {shown}")

    planned = [(ln, rule) for ln, rule in mapped if id(ln) not in dropped and rule.role != "ignore"]
    if event.event_type in ORDER_EVENT_TYPES:
        result.documents.extend(_order_documents(event, planned, reasons, quantum))
    else:
        result.documents.extend(_entry_documents(event, planned, reasons, quantum))

    # 5. Every cent.
    moved = result.clearing_amount
    if moved != event.total:
        reasons.append(
            f"Documents move the clearing account by {fmt(moved)}, the event total is "
            f"{fmt(event.total)}: difference {fmt(event.total - moved)}"
        )
    return result


def _credit_group_key(ln, rule):
    if rule.role == "principal":
        return ("product", ln.sku, rule.account_ref, rule.product_ref)
    return ("account", rule.account_ref, rule.amount_type.lower(), rule.label)


def _order_documents(event, planned, reasons, quantum):
    credit = OrderedDict()
    fees = OrderedDict()
    base_of_item = {}  # (item key, amount type lower) → credit group
    taxes = []
    for ln, rule in planned:
        if rule.role in ("principal", "credit_note"):
            key = _credit_group_key(ln, rule)
            group = credit.get(key)
            if group is None:
                if rule.role == "principal":
                    label = rule.label or (f"Refund {ln.sku}" if ln.sku else "Refund")
                    group = _Group("product", rule, ln.sku, label)
                else:
                    label = rule.label or rule.type_name
                    group = _Group("account", rule, None, label)
                credit[key] = group
            quantity = ln.quantity if rule.role == "principal" else None
            group.add(ln.amount_type, credited(ln.amount), quantity)
            base_of_item[(_item_key(ln), ln.amount_type.lower())] = group
        elif rule.role in ("fee", "adjustment"):
            key = (rule.account_ref, ln.amount_type.lower())
            group = fees.get(key)
            if group is None:
                group = fees[key] = _Group("account", rule, None, rule.label or rule.type_name)
            group.add(ln.amount_type, debited(ln.amount))
        elif rule.role == "seller_tax":
            taxes.append((ln, rule))
        # withheld_tax never gets here: step 3 of plan_event took every withheld line
    for ln, rule in taxes:
        base = rule.tax_of or TAX_BASES.get(rule.amount_type)
        group = base and base_of_item.get((_item_key(ln), base.lower()))
        if group is None:
            reasons.append(
                f"Seller tax {ln.amount_type} ({_fmt(ln.amount, quantum)}) of "
                f"{_item_name(_item_key(ln))} has no {base or 'base'} line to belong to"
            )
            continue
        group.tax += credited(ln.amount)
        if ln.amount_type not in group.types:
            group.types.append(ln.amount_type)
    documents = []
    if credit:
        lines = [group.line(quantum) for group in credit.values()]
        credited_total = sum((ln.amount + ln.tax_amount for ln in lines), ZERO)
        if credited_total < 0:
            reasons.append(
                f"The credit note total is negative ({_fmt(credited_total, quantum)}): the "
                "buyer got nothing back to credit"
            )
        documents.append(
            DocumentPlan("credit_note", event.currency, lines, _q(-credited_total, quantum))
        )
    if fees:
        documents.append(_entry("fee_entry", event, fees, quantum))
    return documents


def _entry(kind, event, groups, quantum):
    lines = [group.line(quantum) for group in groups.values()]
    clearing = -sum((ln.amount for ln in lines), ZERO)
    return DocumentPlan(kind, event.currency, lines, _q(clearing, quantum))


def _entry_documents(event, planned, reasons, quantum):
    groups = OrderedDict()
    for ln, rule in planned:
        if rule.role in ("seller_tax", "withheld_tax") or rule.account_ref is None:
            reasons.append(
                f"{ln.amount_type} ({_fmt(ln.amount, quantum)}) has role {rule.role}, which "
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
    return [_entry("entry", event, groups, quantum)] if groups else []


def summarize_unmapped(results):
    """Each unmapped amount type once: ``{amount_type: (number of events, total amount)}``."""
    summary = {}
    for result in results:
        for amount_type, amount in result.unmapped.items():
            count, total = summary.get(amount_type, (0, ZERO))
            summary[amount_type] = (count + 1, total + amount)
    return dict(sorted(summary.items()))
