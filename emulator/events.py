"""The emulator's canonical records: API-neutral events, their items, raw events and groups.

A :class:`FinanceEvent` renders to a Finances v0 event (:mod:`.v0`) and to a Finances 2024-06-19
transaction (:mod:`.v2024`) carrying the same money, the same posted date (to the second), the
same order adjustment item ids and the same financial event group. Amounts follow the seller's
point of view (negative = money leaves the seller), like Amazon's.

``quirks`` are the irregular shapes real Amazon data has (``doc/emulator.md``): each one changes
only how one API writes the event, never its money.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .common import MARKETPLACES, UTC, V0, fee_vat_rate, included_tax, vat_rate

ORDER_KINDS = ("refund", "guarantee_claim", "chargeback")
KINDS = (*ORDER_KINDS, "adjustment", "service_fee", "retrocharge", "order", "product_ads")

# The fee of a ProductAdsPaymentEvent (the project's amount type Fee/CostOfAdvertising, the V2
# report's "Cost of Advertising")
ADS_FEE = "CostOfAdvertising"

# Component families of an item, in rendering order.
ITEM_FAMILIES = ("charges", "withheld", "promotions", "fees")

# Irregular shapes seen in real data (doc/emulator.md):
#  status_null      2024: transactionStatus null although released (R10)
#  items_null       2024: an adjustment's items carry "breakdowns": null, the money is only in
#                   the transaction-level breakdowns (R12, models#4993)
#  items_partial    2024: a service fee whose items hold part of the total only (R11, #4237)
#  v0_undated       v0: an adjustment without PostedDate and AdjustmentAmount (R03)
#  v0_feeless_twin  v0: a service fee preceded by an event without FeeList (R02, R04)
QUIRKS = ("status_null", "items_null", "items_partial", "v0_undated", "v0_feeless_twin")


@dataclass
class EventItem:
    """One line of an event: a refunded or sold order item, or an adjusted SKU."""

    sku: str | None = None
    quantity: int | None = None
    order_adjustment_item_id: str | None = None
    order_item_id: str | None = None
    asin: str | None = None
    fnsku: str | None = None
    description: str | None = None
    fulfillment_network: str = "AFN"
    # ChargeType / FeeType / withheld ChargeType / PromotionType → amount
    charges: dict = field(default_factory=dict)
    fees: dict = field(default_factory=dict)
    withheld: dict = field(default_factory=dict)
    promotions: dict = field(default_factory=dict)
    promotion_ids: dict = field(default_factory=dict)
    # What the promotions reduce: "Principal" or "Shipping" (2024 leaf, report description)
    promotion_base: str = "Principal"
    # FeeType → the part of the fee that is Amazon's VAT on it; None: the marketplace's rule
    fee_taxes: dict | None = None
    # Adjustment items: TotalAmount (and PerUnitAmount)
    amount: Decimal | None = None
    per_unit: Decimal | None = None

    def components(self):
        """``(family, type, amount)`` of every money component, in rendering order."""
        result = []
        for family in ITEM_FAMILIES:
            for name, amount in getattr(self, family).items():
                result.append((family, name, amount))
        if self.amount is not None:
            result.append(("adjustment", None, self.amount))
        return result

    @property
    def total(self):
        return sum((amount for _f, _n, amount in self.components()), Decimal(0))


@dataclass
class FinanceEvent:
    """One canonical Amazon money movement, renderable to both APIs."""

    event_id: str
    kind: str  # one of KINDS
    marketplace: str  # MARKETPLACES code
    currency: str
    posted: datetime
    seller_id: str
    transaction_id: str
    order_id: str | None = None
    items: list = field(default_factory=list)
    group_id: str | None = None
    # adjustment
    adjustment_type: str | None = None
    amount: Decimal | None = None  # adjustment without items (ReserveDebit, PostageBilling...)
    # service fee (and order-level fees of a refund)
    fees: dict = field(default_factory=dict)
    fee_taxes: dict | None = None  # as EventItem.fee_taxes, for the event's own fees
    fee_reason: str | None = None
    fee_description: str | None = None
    sku: str | None = None
    # retrocharge
    retrocharge_type: str = "Retrocharge"
    base_tax: Decimal | None = None
    shipping_tax: Decimal | None = None
    # order (sale)
    shipment_id: str | None = None
    # product_ads (ProductAdsPaymentEvent): its one fee is "CostOfAdvertising" in ``fees``
    invoice_id: str | None = None
    ads_transaction_type: str = "Charge"
    # returns and reimbursements reports: a refund whose item never came back (no return row);
    # the order a reimbursement covers (its report row names it; the event itself does not)
    returned: bool = True
    reimbursed_order_id: str | None = None
    # visibility
    deferred_until: datetime | None = None  # 2024: DEFERRED until then; v0: hidden until then
    available_at: datetime | None = None  # late arrival: listed by no API before then
    store_name: str | None = None
    quirks: frozenset = frozenset()

    @property
    def market(self):
        return MARKETPLACES[self.marketplace]

    def components(self):
        """``(family, type, amount, item)`` of every money component of the event."""
        result = []
        for item in self.items:
            for family, name, amount in item.components():
                result.append((family, name or self.adjustment_type, amount, item))
        if self.kind == "adjustment" and not self.items:
            result.append(("adjustment", self.adjustment_type, self.amount, None))
        for name, amount in self.fees.items():
            result.append(("fees", name, amount, None))
        if self.kind == "retrocharge":
            for name in ("BaseTax", "ShippingTax"):
                amount = self.base_tax if name == "BaseTax" else self.shipping_tax
                if amount is not None:
                    result.append(("retrocharge", name, amount, None))
        return result

    @property
    def net(self):
        return sum((c[2] for c in self.components()), Decimal(0))

    def has(self, quirk):
        return quirk in self.quirks

    def status(self, now=None):
        """2024-06-19 status at ``now`` as the ``transactionStatus`` filter names it."""
        if self.deferred_until is None:
            return "RELEASED"
        now = now or datetime.now(UTC)
        return "DEFERRED" if now < self.deferred_until else "DEFERRED_RELEASED"

    def visible(self, api, now):
        """Listed by ``api`` at ``now``? (late arrivals; v0 shows deferred events once released)"""
        if self.available_at is not None and now < self.available_at:
            return False
        deferred = self.deferred_until is not None and now < self.deferred_until
        return not (api == V0 and deferred)


@dataclass
class RawEvent:
    """A verbatim event for one API only (malformed or unknown shapes for tests)."""

    event_id: str
    api: str  # V0 or V2024
    raw: object
    posted: datetime
    currency: str | None
    seller_id: str
    list_name: str | None = None  # v0 only
    marketplace: str | None = None
    order_id: str | None = None
    group_id: str | None = None
    transaction_status: str | None = None
    available_at: datetime | None = None
    kind: str = "raw"

    def visible(self, api, now):
        if api != self.api:
            return False
        return self.available_at is None or now >= self.available_at


@dataclass
class EventGroup:
    """A financial event group (settlement period) of one currency: ``[start, end)``."""

    group_id: str
    currency: str
    start: datetime
    end: datetime
    trace_id: str
    account_tail: str
    beginning_balance: Decimal = Decimal(0)
    converted_currency: str | None = None
    conversion_rate: Decimal | None = None
    # None: "Succeeded" once closed; "Failed": the bank returned the transfer (no bank line)
    fund_transfer_status: str | None = None
    # A failed transfer of the previous group, paid again with this one (in OriginalTotal)
    carried_in: Decimal = Decimal(0)

    def is_closed(self, now):
        return self.end <= now

    def covers(self, currency, moment):
        return currency == self.currency and self.start <= moment < self.end


# ---------------------------------------------------------------------------------------------
# Splits every rendering agrees on
# ---------------------------------------------------------------------------------------------


def fee_tax(event, owner, name, amount):
    """The part of fee ``name`` (``amount``, VAT included) that is Amazon's VAT on its fee, or
    None when the fee shows no Tax (US, CA, JP). ``owner`` (an item, or the event for its own
    fees) may fix it in ``fee_taxes``; else the marketplace's rate applies (R10)."""
    if owner.fee_taxes is not None:
        return owner.fee_taxes.get(name)
    rate = fee_vat_rate(event.marketplace)
    if rate is None:
        return None
    return included_tax(amount, rate, event.currency)


def promotion_parts(event, amount):
    """A promotion → ``(net, vat)``: in VAT marketplaces a promotion includes VAT, and Amazon
    writes its two parts apart (R01: 0.71 and 0.13 of a 0.84 free shipping). ``vat`` is None
    where prices exclude tax (US, CA) or the VAT part rounds to zero."""
    rate = vat_rate(event.marketplace)
    if rate is None:
        return amount, None
    vat = included_tax(amount, rate, event.currency)
    if not vat:
        return amount, None
    return amount - vat, vat
