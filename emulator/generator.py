"""Seeded, canonical Amazon money movements and their two renderings (stdlib only).

A :class:`FinanceEvent` is API-neutral: it renders to a Finances v0 event
(:func:`to_v0_financial_events`) and to a Finances 2024-06-19 transaction (:func:`to_transaction`,
shape fixed by ``doc/event-shapes.md``) with the same amounts, the same posted date (to the
second), ``OrderAdjustmentItemId`` = ``ORDER_ADJUSTMENT_ITEM_ID`` and the financial event group
id = ``FINANCIAL_EVENT_GROUP_ID``.

Amounts follow the seller's point of view (negative = money leaves the seller), like Amazon's.
Every amount is a ``Decimal``; :func:`dumps` writes them as JSON numbers, digit for digit.

:func:`generate_dataset` builds a realistic, deterministic :class:`Dataset` for a seed; tests add
hand-made events with the ``Dataset.add_*`` methods.
"""

import copy
import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

UTC = timezone.utc
V0 = "v0"
V2024 = "2024-06-19"

ORDER_KINDS = ("refund", "guarantee_claim", "chargeback")
KINDS = (*ORDER_KINDS, "adjustment", "service_fee", "retrocharge")

# ---------------------------------------------------------------------------------------------
# Marketplaces, currencies, taxes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marketplace:
    code: str  # the project's short code (UK, not GB)
    marketplace_id: str
    country_code: str  # as the Sellers API writes it (GB for the UK)
    name: str  # v0 MarketplaceName
    currency: str
    language: str
    domain: str
    region: str  # na | eu | fe


def _mp(code, mid, country, name, currency, language, domain, region):
    return Marketplace(code, mid, country, name, currency, language, domain, region)


MARKETPLACES = {
    m.code: m
    for m in (
        _mp("US", "ATVPDKIKX0DER", "US", "Amazon.com", "USD", "en_US", "www.amazon.com", "na"),
        _mp("CA", "A2EUQ1WTGCTBG2", "CA", "Amazon.ca", "CAD", "en_CA", "www.amazon.ca", "na"),
        _mp(
            "MX", "A1AM78C64UM0Y8", "MX", "Amazon.com.mx", "MXN", "es_MX", "www.amazon.com.mx", "na"
        ),
        _mp(
            "BR", "A2Q3Y263D00KWC", "BR", "Amazon.com.br", "BRL", "pt_BR", "www.amazon.com.br", "na"
        ),
        _mp("UK", "A1F83G8C2ARO7P", "GB", "Amazon.co.uk", "GBP", "en_GB", "www.amazon.co.uk", "eu"),
        _mp("DE", "A1PA6795UKMFR9", "DE", "Amazon.de", "EUR", "de_DE", "www.amazon.de", "eu"),
        _mp("FR", "A13V1IB3VIYZZH", "FR", "Amazon.fr", "EUR", "fr_FR", "www.amazon.fr", "eu"),
        _mp("IT", "APJ6JRA9NG5V4", "IT", "Amazon.it", "EUR", "it_IT", "www.amazon.it", "eu"),
        _mp("ES", "A1RKKUPIHCS9HS", "ES", "Amazon.es", "EUR", "es_ES", "www.amazon.es", "eu"),
        _mp("NL", "A1805IZSGTT6HS", "NL", "Amazon.nl", "EUR", "nl_NL", "www.amazon.nl", "eu"),
        _mp(
            "BE", "AMEN7PMS3EDWL", "BE", "Amazon.com.be", "EUR", "fr_BE", "www.amazon.com.be", "eu"
        ),
        _mp("IE", "A28R8C7NBKEWEA", "IE", "Amazon.ie", "EUR", "en_IE", "www.amazon.ie", "eu"),
        _mp("SE", "A2NODRKZP88ZB9", "SE", "Amazon.se", "SEK", "sv_SE", "www.amazon.se", "eu"),
        _mp("PL", "A1C3SOZRARQ6R3", "PL", "Amazon.pl", "PLN", "pl_PL", "www.amazon.pl", "eu"),
        _mp(
            "TR", "A33AVAJ2PDY3EV", "TR", "Amazon.com.tr", "TRY", "tr_TR", "www.amazon.com.tr", "eu"
        ),
        _mp("AE", "A2VIGQ35RCS4UG", "AE", "Amazon.ae", "AED", "en_AE", "www.amazon.ae", "eu"),
        _mp("SA", "A17E79C6D8DWNP", "SA", "Amazon.sa", "SAR", "ar_SA", "www.amazon.sa", "eu"),
        _mp("EG", "ARBP9OOSHTCHU", "EG", "Amazon.eg", "EGP", "ar_EG", "www.amazon.eg", "eu"),
        _mp("IN", "A21TJRUUN4KGV", "IN", "Amazon.in", "INR", "en_IN", "www.amazon.in", "eu"),
        _mp("ZA", "AE08WJ6YKNBMC", "ZA", "Amazon.co.za", "ZAR", "en_ZA", "www.amazon.co.za", "eu"),
        _mp("JP", "A1VC38T7YXB528", "JP", "Amazon.co.jp", "JPY", "ja_JP", "www.amazon.co.jp", "fe"),
        _mp("SG", "A19VAU5U5O7RUS", "SG", "Amazon.sg", "SGD", "en_SG", "www.amazon.sg", "fe"),
        _mp(
            "AU", "A39IBJ37TRP1C6", "AU", "Amazon.com.au", "AUD", "en_AU", "www.amazon.com.au", "fe"
        ),
    )
}
MARKETPLACES_BY_ID = {m.marketplace_id: m for m in MARKETPLACES.values()}

CURRENCY_DECIMALS = {"JPY": 0}
# Rough value of one USD, to scale prices, fees and reimbursements.
USD_RATE = {
    "USD": "1",
    "CAD": "1.35",
    "MXN": "17",
    "BRL": "5",
    "GBP": "0.8",
    "EUR": "0.92",
    "SEK": "10.5",
    "PLN": "4",
    "TRY": "32",
    "AED": "3.67",
    "SAR": "3.75",
    "EGP": "48",
    "INR": "83",
    "ZAR": "18.5",
    "JPY": "150",
    "SGD": "1.35",
    "AUD": "1.5",
}

# How each marketplace taxes a refund:
#  facilitator: Amazon collects and remits (US): Charge Tax on tax-excluded prices, withheld back
#  included:    the seller owes VAT on tax-included prices: Tax = gross * r / (1 + r)
#  excluded:    the seller owes tax on tax-excluded prices (CA GST): Tax = net * r
US_STATE_RATES = ("0.06", "0.0625", "0.0725", "0.08", "0.08875", "0.1025")
TAX_RULES = {
    "US": ("facilitator", None),
    "CA": ("excluded", "0.05"),
    "UK": ("included", "0.20"),
    "DE": ("included", "0.19"),
    "FR": ("included", "0.20"),
    "IT": ("included", "0.22"),
    "ES": ("included", "0.21"),
    "NL": ("included", "0.21"),
    "BE": ("included", "0.21"),
    "IE": ("included", "0.23"),
    "SE": ("included", "0.25"),
    "PL": ("included", "0.23"),
    "JP": ("included", "0.10"),
}
REFERRAL_RATE = Decimal("0.15")

ORDER_PREFIX = {"na": "11", "eu": "30", "fe": "50"}

# The FinancialEvents lists of financesV0.json, in the model's order.
V0_LIST_NAMES = (
    "ShipmentEventList",
    "ShipmentSettleEventList",
    "RefundEventList",
    "GuaranteeClaimEventList",
    "ChargebackEventList",
    "PayWithAmazonEventList",
    "ServiceProviderCreditEventList",
    "RetrochargeEventList",
    "RentalTransactionEventList",
    "ProductAdsPaymentEventList",
    "ServiceFeeEventList",
    "SellerDealPaymentEventList",
    "DebtRecoveryEventList",
    "LoanServicingEventList",
    "AdjustmentEventList",
    "SAFETReimbursementEventList",
    "SellerReviewEnrollmentPaymentEventList",
    "FBALiquidationEventList",
    "CouponPaymentEventList",
    "ImagingServicesFeeEventList",
    "NetworkComminglingTransactionEventList",
    "AffordabilityExpenseEventList",
    "AffordabilityExpenseReversalEventList",
    "RemovalShipmentEventList",
    "RemovalShipmentAdjustmentEventList",
    "TrialShipmentEventList",
    "TDSReimbursementEventList",
    "AdhocDisbursementEventList",
    "TaxWithholdingEventList",
    "ChargeRefundEventList",
    "FailedAdhocDisbursementEventList",
    "ValueAddedServiceChargeEventList",
    "CapacityReservationBillingEventList",
    "EBTRefundReimbursementOnlyEventList",
)
V0_SHIPMENT_LIST = {
    "refund": "RefundEventList",
    "guarantee_claim": "GuaranteeClaimEventList",
    "chargeback": "ChargebackEventList",
}
REFUND_DESCRIPTION = {
    "refund": "Refund Order",
    "guarantee_claim": "A-to-z Guarantee Claim",
    "chargeback": "Chargeback Refund",
}

# Component families of an item: attribute → (2024 parent breakdownType, normalized category)
ITEM_FAMILIES = (
    ("charges", "ProductCharges"),
    ("withheld", "TaxWithheld"),
    ("promotions", "Promotions"),
    ("fees", "AmazonFees"),
)

GROUP_PERIOD = timedelta(days=14)
GROUP_EPOCH = datetime(2020, 1, 6, tzinfo=UTC)


def decimals(currency):
    return CURRENCY_DECIMALS.get(currency, 2)


def quantize(amount, currency):
    """Round half up to the currency's decimals (JPY: whole yen)."""
    exp = Decimal(1).scaleb(-decimals(currency))
    return Decimal(amount).quantize(exp, rounding=ROUND_HALF_UP)


def to_decimal(value):
    """Decimal from a Decimal, int or numeric string (floats through ``str``)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise TypeError(f"not an amount: {value!r}")
    return Decimal(str(value))


def iso(moment):
    """Aware datetime → ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, to the second)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aware(moment, what):
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be an aware datetime")
    return moment.astimezone(UTC)


def _digest(*parts):
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def _digits(hexdigest, length):
    return str(int(hexdigest, 16))[-length:].rjust(length, "0")


def _alnum(hexdigest, length):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    number = int(hexdigest, 16)
    chars = []
    for _ in range(length):
        number, rest = divmod(number, len(alphabet))
        chars.append(alphabet[rest])
    return "".join(chars)


# ---------------------------------------------------------------------------------------------
# JSON with Decimal numbers
# ---------------------------------------------------------------------------------------------


def _encode(value, out):
    if isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(json.dumps(str(key)))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value!r}")
        out.append(format(value, "f"))
    elif isinstance(value, datetime):
        out.append(json.dumps(iso(value)))
    else:
        out.append(json.dumps(value))


def dumps(value):
    """JSON text; Decimals become JSON numbers written exactly (``-20.00``, JPY ``-1500``)."""
    out = []
    _encode(value, out)
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Canonical records
# ---------------------------------------------------------------------------------------------


def _amounts(mapping):
    return {str(k): to_decimal(v) for k, v in (mapping or {}).items()}


@dataclass
class EventItem:
    """One line of an event: a refunded order item, or an adjusted SKU."""

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
    # Adjustment items: TotalAmount (and PerUnitAmount)
    amount: Decimal | None = None
    per_unit: Decimal | None = None

    def components(self):
        """``(family, type, amount)`` of every money component, in rendering order."""
        result = []
        for family, _parent in ITEM_FAMILIES:
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
    """One canonical Amazon money movement (not a sale), renderable to both APIs."""

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
    amount: Decimal | None = None  # adjustment without items (ReserveEvent, PostageBilling...)
    # service fee
    fees: dict = field(default_factory=dict)
    fee_reason: str | None = None
    fee_description: str | None = None
    sku: str | None = None
    # retrocharge
    retrocharge_type: str = "Retrocharge"
    base_tax: Decimal | None = None
    shipping_tax: Decimal | None = None
    # visibility
    deferred_until: datetime | None = None  # 2024: DEFERRED until then; v0: hidden until then
    available_at: datetime | None = None  # late arrival: listed by no API before then
    store_name: str | None = None

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

    def status(self, now=None):
        """2024-06-19 transactionStatus at ``now``."""
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

    def is_closed(self, now):
        return self.end <= now

    def covers(self, currency, moment):
        return currency == self.currency and self.start <= moment < self.end


# ---------------------------------------------------------------------------------------------
# Renderers: Finances v0
# ---------------------------------------------------------------------------------------------


def _v0_money(amount, currency):
    return {"CurrencyCode": currency, "CurrencyAmount": amount}


def _v0_charges(mapping, currency):
    return [{"ChargeType": k, "ChargeAmount": _v0_money(v, currency)} for k, v in mapping.items()]


def _v0_fees(mapping, currency):
    return [{"FeeType": k, "FeeAmount": _v0_money(v, currency)} for k, v in mapping.items()]


def _v0_shipment_event(event):
    cur = event.currency
    items = []
    for item in event.items:
        entry = {
            "SellerSKU": item.sku,
            "OrderItemId": item.order_item_id,
            "OrderAdjustmentItemId": item.order_adjustment_item_id,
            "QuantityShipped": item.quantity,
        }
        entry = {k: v for k, v in entry.items() if v is not None}
        if item.charges:
            entry["ItemChargeAdjustmentList"] = _v0_charges(item.charges, cur)
        if item.fees:
            entry["ItemFeeAdjustmentList"] = _v0_fees(item.fees, cur)
        if item.withheld:
            entry["ItemTaxWithheldList"] = [
                {
                    "TaxCollectionModel": "MarketplaceFacilitator",
                    "TaxesWithheld": _v0_charges(item.withheld, cur),
                }
            ]
        if item.promotions:
            entry["PromotionAdjustmentList"] = [
                {
                    "PromotionType": name,
                    "PromotionId": item.promotion_ids.get(name, ""),
                    "PromotionAmount": _v0_money(amount, cur),
                }
                for name, amount in item.promotions.items()
            ]
        items.append(entry)
    result = {
        "AmazonOrderId": event.order_id,
        "SellerOrderId": event.order_id,
        "MarketplaceName": event.market.name,
        "PostedDate": iso(event.posted),
        "ShipmentItemAdjustmentList": items,
    }
    if event.fees:
        result["OrderFeeAdjustmentList"] = _v0_fees(event.fees, cur)
    return result


def _v0_adjustment_event(event):
    cur = event.currency
    result = {
        "AdjustmentType": event.adjustment_type,
        "PostedDate": iso(event.posted),
        "AdjustmentAmount": _v0_money(event.net, cur),
    }
    if event.store_name:
        result["StoreName"] = event.store_name
    if event.items:
        result["AdjustmentItemList"] = [
            {
                k: v
                for k, v in {
                    "Quantity": None if item.quantity is None else str(item.quantity),
                    "PerUnitAmount": None
                    if item.per_unit is None
                    else _v0_money(item.per_unit, cur),
                    "TotalAmount": _v0_money(item.total, cur),
                    "SellerSKU": item.sku,
                    "FnSKU": item.fnsku,
                    "ProductDescription": item.description,
                    "ASIN": item.asin,
                }.items()
                if v is not None
            }
            for item in event.items
        ]
    return result


def _v0_service_fee_event(event):
    # Amazon's v0 ServiceFeeEvent has no PostedDate (selling-partner-api-models #449).
    result = {
        "AmazonOrderId": event.order_id,
        "FeeReason": event.fee_reason,
        "FeeList": _v0_fees(event.fees, event.currency),
        "SellerSKU": event.sku,
        "FeeDescription": event.fee_description,
    }
    return {k: v for k, v in result.items() if v is not None}


def _v0_retrocharge_event(event):
    result = {
        "RetrochargeEventType": event.retrocharge_type,
        "AmazonOrderId": event.order_id,
        "PostedDate": iso(event.posted),
        "BaseTax": None if event.base_tax is None else _v0_money(event.base_tax, event.currency),
        "ShippingTax": None
        if event.shipping_tax is None
        else _v0_money(event.shipping_tax, event.currency),
        "MarketplaceName": event.market.name,
    }
    return {k: v for k, v in result.items() if v is not None}


def to_v0_event(event):
    """Canonical event → ``(list_name, v0 event object)``."""
    if event.kind in V0_SHIPMENT_LIST:
        return V0_SHIPMENT_LIST[event.kind], _v0_shipment_event(event)
    if event.kind == "adjustment":
        return "AdjustmentEventList", _v0_adjustment_event(event)
    if event.kind == "service_fee":
        return "ServiceFeeEventList", _v0_service_fee_event(event)
    if event.kind == "retrocharge":
        return "RetrochargeEventList", _v0_retrocharge_event(event)
    raise ValueError(f"no v0 rendering for event kind {event.kind!r}")


def to_v0_financial_events(events):
    """Events (canonical, or raw v0) → a v0 ``FinancialEvents`` object (every list present).

    Raw 2024-06-19 events are skipped. A raw v0 event of an unknown list adds that list.
    """
    result = {name: [] for name in V0_LIST_NAMES}
    for event in events:
        if isinstance(event, RawEvent):
            if event.api == V0:
                result.setdefault(event.list_name, []).append(copy.deepcopy(event.raw))
            continue
        list_name, obj = to_v0_event(event)
        result[list_name].append(obj)
    return result


# ---------------------------------------------------------------------------------------------
# Renderers: Finances 2024-06-19 (doc/event-shapes.md)
# ---------------------------------------------------------------------------------------------


def _money(amount, currency):
    return {"currencyCode": currency, "currencyAmount": amount}


def _node(name, amount, currency, children=None):
    return {
        "breakdownType": name,
        "breakdownAmount": _money(amount, currency),
        "breakdowns": children or [],
    }


def _parents(groups, currency):
    """``[(parent, {leaf: amount})]`` → breakdown parents with their leaves."""
    result = []
    for parent, leaves in groups:
        if not leaves:
            continue
        children = [_node(name, amount, currency) for name, amount in leaves.items()]
        total = sum(leaves.values(), Decimal(0))
        result.append(_node(parent, total, currency, children))
    return result


def _item_groups(event, item):
    groups = [(parent, getattr(item, family)) for family, parent in ITEM_FAMILIES]
    if item.amount is not None:
        groups.append(("Adjustment", {event.adjustment_type: item.amount}))
    return groups


def _summed(groups_list):
    summary = {}
    for groups in groups_list:
        for parent, leaves in groups:
            target = summary.setdefault(parent, {})
            for name, amount in leaves.items():
                target[name] = target.get(name, Decimal(0)) + amount
    return list(summary.items())


def _product_context(sku, asin, quantity, network="AFN"):
    context = {"contextType": "ProductContext", "asin": asin, "sku": sku}
    if quantity is not None:
        context["quantityShipped"] = quantity
    context["fulfillmentNetwork"] = network
    return {k: v for k, v in context.items() if v is not None}


def _event_level_groups(event):
    if event.kind == "adjustment" and not event.items:
        return [("Adjustment", {event.adjustment_type: event.amount})]
    if event.kind == "service_fee":
        return [("AmazonFees", dict(event.fees))]
    if event.kind == "retrocharge":
        leaves = {}
        if event.base_tax is not None:
            leaves["BaseTax"] = event.base_tax
        if event.shipping_tax is not None:
            leaves["ShippingTax"] = event.shipping_tax
        return [("Retrocharge", leaves)]
    if event.fees:  # order-level fees of a refund
        return [("AmazonFees", dict(event.fees))]
    return []


TRANSACTION_TYPE = {
    "refund": "Refund",
    "guarantee_claim": "Refund",
    "chargeback": "Refund",
    "adjustment": "Adjustment",
    "service_fee": "ServiceFee",
    "retrocharge": "Retrocharge",
}


def _description(event):
    if event.kind in REFUND_DESCRIPTION:
        return REFUND_DESCRIPTION[event.kind]
    if event.kind == "adjustment":
        return event.adjustment_type
    if event.kind == "service_fee":
        return event.fee_description or event.fee_reason or "Service Fee"
    return event.retrocharge_type


def to_transaction(event, now=None):
    """Canonical event → a 2024-06-19 transaction (``doc/event-shapes.md``); raw: a copy.

    ``now`` decides ``transactionStatus`` of deferred events (default: the real time).
    """
    if isinstance(event, RawEvent):
        return copy.deepcopy(event.raw)
    cur = event.currency
    market = event.market
    related = []
    if event.order_id:
        related.append(
            {"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": event.order_id}
        )
    if event.group_id:
        related.append(
            {
                "relatedIdentifierName": "FINANCIAL_EVENT_GROUP_ID",
                "relatedIdentifierValue": event.group_id,
            }
        )
    items, item_groups = [], []
    for item in event.items:
        groups = _item_groups(event, item)
        item_groups.append(groups)
        entry = {"description": item.description}
        if item.order_adjustment_item_id:
            entry["relatedIdentifiers"] = [
                {
                    "itemRelatedIdentifierName": "ORDER_ADJUSTMENT_ITEM_ID",
                    "itemRelatedIdentifierValue": item.order_adjustment_item_id,
                }
            ]
        entry["totalAmount"] = _money(item.total, cur)
        entry["breakdowns"] = _parents(groups, cur)
        entry["contexts"] = [
            _product_context(item.sku, item.asin, item.quantity, item.fulfillment_network)
        ]
        items.append(entry)
    level = _event_level_groups(event)
    if items and level:
        # Leaves are read from the items when there are items: order-level amounts (v0
        # OrderFeeAdjustmentList) travel as one more item without product.
        item_groups.append(level)
        items.append(
            {
                "description": "Order-level amounts",
                "totalAmount": _money(sum((sum(v.values()) for _p, v in level), Decimal(0)), cur),
                "breakdowns": _parents(level, cur),
                "contexts": [],
            }
        )
    summary = _summed(item_groups) if items else level
    contexts = []
    if event.kind == "service_fee" and event.sku:
        contexts.append(_product_context(event.sku, None, None))
    status = event.status(now)
    if event.deferred_until is not None:
        contexts.append(
            {
                "contextType": "DeferredContext",
                "deferralReason": "DD7",
                "maturityDate": iso(event.deferred_until),
            }
        )
    return {
        "sellingPartnerMetadata": {
            "sellingPartnerId": event.seller_id,
            "accountType": "Seller",
            "marketplaceId": market.marketplace_id,
        },
        "relatedIdentifiers": related,
        "transactionType": TRANSACTION_TYPE[event.kind],
        "transactionId": event.transaction_id,
        "transactionStatus": status,
        "description": _description(event),
        "postedDate": iso(event.posted),
        "totalAmount": _money(event.net, cur),
        "marketplaceDetails": {
            "marketplaceId": market.marketplace_id,
            "marketplaceName": market.name,
        },
        "items": items,
        "breakdowns": _parents(summary, cur),
        "contexts": contexts,
    }


def to_v0_group(group, total, now):
    """Group → v0 ``FinancialEventGroup`` at ``now`` (closed once its end has passed)."""
    cur = group.currency
    closed = group.is_closed(now)
    result = {
        "FinancialEventGroupId": group.group_id,
        "ProcessingStatus": "Closed" if closed else "Open",
    }
    if closed:
        result["FundTransferStatus"] = "Succeeded"
    result["OriginalTotal"] = _v0_money(total, cur)
    if group.converted_currency:
        converted = quantize(total * group.conversion_rate, group.converted_currency)
        result["ConvertedTotal"] = _v0_money(converted, group.converted_currency)
    else:
        result["ConvertedTotal"] = _v0_money(total, cur)
    if closed:
        result["FundTransferDate"] = iso(group.end)
        result["TraceId"] = group.trace_id
        result["AccountTail"] = group.account_tail
    result["BeginningBalance"] = _v0_money(group.beginning_balance, cur)
    result["FinancialEventGroupStart"] = iso(group.start)
    if closed:
        result["FinancialEventGroupEnd"] = iso(group.end)
    return result


# ---------------------------------------------------------------------------------------------
# Dataset
# ---------------------------------------------------------------------------------------------

DEFAULT_MARKETPLACES = ("US", "CA", "UK", "DE", "FR", "IT", "ES", "JP")

_FAMILY_ALIASES = {
    "charge": "charges",
    "charges": "charges",
    "fee": "fees",
    "fees": "fees",
    "withheld": "withheld",
    "taxwithheld": "withheld",
    "promotion": "promotions",
    "promotions": "promotions",
    "adjustment": "adjustment",
    "retrocharge": "retrocharge",
}


def _floor_hour(moment):
    return moment.replace(minute=0, second=0, microsecond=0)


def default_window(now=None):
    """``(start, end)`` = (now - 60 days, now - 1 hour), now floored to the hour, aware UTC."""
    anchor = _floor_hour((now or datetime.now(UTC)).astimezone(UTC))
    return anchor - timedelta(days=60), anchor - timedelta(hours=1)


class Dataset:
    """The events and financial event groups of one seller.

    ``events`` holds canonical :class:`FinanceEvent` records, ``raw_events`` verbatim ones for
    one API (``add_raw_v0`` / ``add_raw_transaction``), ``groups`` the :class:`EventGroup` s.
    Group totals are computed from the events (``group_total``), so changes show at once.
    """

    def __init__(
        self,
        seller_id="A1EMULATORSELLER",
        marketplaces=DEFAULT_MARKETPLACES,
        start=None,
        end=None,
        seed=0,
    ):
        default_start, default_end = default_window()
        self.seller_id = seller_id
        self.marketplaces = tuple(marketplaces)
        for code in self.marketplaces:
            if code not in MARKETPLACES:
                raise ValueError(f"unknown marketplace {code!r}")
        self.start = _aware(start, "start") if start else default_start
        self.end = _aware(end, "end") if end else default_end
        self.seed = seed
        self.events = []
        self.raw_events = []
        self.groups = []
        self.group_offsets = {}  # currency → days after GROUP_EPOCH where its periods start
        # Settlement reports (emulator/reports.py) that disagree with the events, for tests:
        # group id → extra flat-file rows (dicts by column) / an amount added to total-amount.
        self.report_extra_rows = {}
        self.report_total_delta = {}
        self._seq = 0
        self._rng = random.Random(f"{seed}:{seller_id}:hand-made")

    # -- ids ----------------------------------------------------------------------------------

    def _next_id(self):
        self._seq += 1
        return f"EV{self._seq:06d}"

    def _hash(self, *parts):
        return _digest(self.seed, self.seller_id, *parts)

    def _transaction_id(self, event_id):
        return "TXN" + _alnum(self._hash("txn", event_id), 24)

    def _order_id(self, marketplace, event_id):
        prefix = ORDER_PREFIX[MARKETPLACES[marketplace].region]
        digits = _digits(self._hash("order", event_id), 15)
        return f"{prefix}{digits[0]}-{digits[1:8]}-{digits[8:15]}"

    def _item_ids(self, event_id, index):
        h = self._hash("item", event_id, index)
        return _digits(h[:16], 14), _digits(h[16:32], 14)

    # -- groups -------------------------------------------------------------------------------

    def group_for(self, currency, posted, create=True):
        """The group of ``currency`` whose period holds ``posted`` (created when missing)."""
        for group in self.groups:
            if group.covers(currency, posted):
                return group
        if not create:
            return None
        offset = timedelta(days=self.group_offsets.get(currency, 0))
        anchor = GROUP_EPOCH + offset
        periods = (posted - anchor) // GROUP_PERIOD
        start = anchor + periods * GROUP_PERIOD
        h = self._hash("group", currency, iso(start))
        group = EventGroup(
            group_id=_alnum(h, 43),
            currency=currency,
            start=start,
            end=start + GROUP_PERIOD,
            trace_id=_alnum(h[::-1], 15),
            account_tail=_digits(h[:8], 3),
            beginning_balance=quantize(0, currency),
        )
        self.groups.append(group)
        self.groups.sort(key=lambda g: (g.start, g.currency, g.group_id))
        return group

    def markets_of(self, currency):
        """The dataset's marketplaces (MARKETPLACES entries) selling in ``currency``."""
        return [MARKETPLACES[m] for m in self.marketplaces if MARKETPLACES[m].currency == currency]

    def group(self, group_id):
        for group in self.groups:
            if group.group_id == group_id:
                return group
        return None

    def group_events(self, group):
        return [ev for ev in self.events if ev.group_id == group.group_id]

    def group_total(self, group):
        """OriginalTotal: the sum of the nets of the group's canonical events."""
        return sum((ev.net for ev in self.group_events(group)), quantize(0, group.currency))

    def fund_transfers(self, now=None):
        """What reaches the seller's bank: one transfer per closed group, as the bank statement
        shows it (``[{"group_id", "date", "amount", "currency", "trace_id", "account_tail"}]``)."""
        now = now or datetime.now(UTC)
        transfers = []
        for group in self.groups:
            if not group.is_closed(now):
                continue
            rendered = to_v0_group(group, self.group_total(group), now)
            converted = rendered["ConvertedTotal"]
            transfers.append(
                {
                    "group_id": group.group_id,
                    "date": group.end,
                    "amount": converted["CurrencyAmount"],
                    "currency": converted["CurrencyCode"],
                    "trace_id": group.trace_id,
                    "account_tail": group.account_tail,
                }
            )
        return transfers

    def ensure_groups(self, currencies=None):
        """Create the groups covering ``[start, end]`` for the given (default: all) currencies."""
        currencies = currencies or sorted({MARKETPLACES[m].currency for m in self.marketplaces})
        for currency in currencies:
            moment = self.start
            while moment <= self.end:
                group = self.group_for(currency, moment)
                moment = group.end
            self.group_for(currency, self.end)

    # -- events -------------------------------------------------------------------------------

    def _add(self, event):
        event.group_id = self.group_for(event.currency, event.posted).group_id
        self.events.append(event)
        return event

    def _base(self, kind, marketplace, posted, order_id=None, **kwargs):
        if marketplace not in MARKETPLACES:
            raise ValueError(f"unknown marketplace {marketplace!r}")
        event_id = self._next_id()
        posted = _aware(posted, "posted") if posted else self.end
        event = FinanceEvent(
            event_id=event_id,
            kind=kind,
            marketplace=marketplace,
            currency=MARKETPLACES[marketplace].currency,
            posted=posted.replace(microsecond=0),
            seller_id=self.seller_id,
            transaction_id=kwargs.pop("transaction_id", None) or self._transaction_id(event_id),
            order_id=order_id,
            **kwargs,
        )
        return event

    def add_refund(
        self,
        marketplace="US",
        order_id=None,
        posted=None,
        items=None,
        kind="refund",
        transaction_id=None,
        deferred_until=None,
        available_at=None,
        fees=None,
    ):
        """A refund, A-to-z guarantee claim or chargeback (``kind``).

        ``items``: ``[{"sku", "quantity", "charges": {"Principal": Decimal(...)}, "fees": {...},
        "withheld": {...}, "promotions": {...}, "order_adjustment_item_id"?, "description"?,
        "asin"?}]``; amounts are Decimals (ints and strings accepted). ``items=None`` makes one
        realistic item for the marketplace. ``fees``: order-level fee adjustments (v0
        ``OrderFeeAdjustmentList``; only without items in 2024-06-19, so rarely useful).
        """
        if kind not in ORDER_KINDS:
            raise ValueError(f"kind must be one of {ORDER_KINDS}, not {kind!r}")
        event = self._base(
            kind,
            marketplace,
            posted,
            transaction_id=transaction_id,
            deferred_until=deferred_until,
            available_at=available_at,
            fees=_amounts(fees),
        )
        event.order_id = order_id or self._order_id(marketplace, event.event_id)
        if items is None:
            product = PRODUCTS[self._rng.randrange(len(PRODUCTS))]
            specs = [_refund_item_spec(self._rng, marketplace, kind, product)]
        else:
            specs = items
        for index, spec in enumerate(specs):
            adj_id, order_item_id = self._item_ids(event.event_id, index)
            product = _product(spec.get("sku"))
            item = EventItem(
                sku=spec.get("sku"),
                quantity=spec.get("quantity", 1),
                order_adjustment_item_id=spec.get("order_adjustment_item_id", adj_id),
                order_item_id=spec.get("order_item_id", order_item_id),
                asin=spec.get("asin", product.asin if product else None),
                description=spec.get("description", product.title if product else spec.get("sku")),
                fulfillment_network=spec.get("fulfillment_network", "AFN"),
                charges=_amounts(spec.get("charges")),
                fees=_amounts(spec.get("fees")),
                withheld=_amounts(spec.get("withheld")),
                promotions=_amounts(spec.get("promotions")),
            )
            item.promotion_ids = {
                name: spec.get("promotion_ids", {}).get(name)
                or "PR-" + _alnum(self._hash("promo", event.event_id, index, name), 12)
                for name in item.promotions
            }
            event.items.append(item)
        return self._add(event)

    def add_adjustment(
        self,
        marketplace="US",
        adjustment_type="FBAInventoryReimbursement",
        posted=None,
        items=None,
        amount=None,
        transaction_id=None,
        available_at=None,
    ):
        """An AdjustmentEvent: per-SKU ``items`` (``[{"sku", "quantity", "per_unit", "total"?,
        "fnsku"?, "asin"?, "description"?}]``, total = per_unit × quantity by default), or one
        ``amount`` without items (ReserveEvent, PostageBilling...)."""
        if not items and amount is None:
            raise ValueError("an adjustment needs items or an amount")
        event = self._base(
            "adjustment",
            marketplace,
            posted,
            transaction_id=transaction_id,
            available_at=available_at,
            adjustment_type=adjustment_type,
            amount=None if items else to_decimal(amount),
        )
        for spec in items or []:
            product = _product(spec.get("sku"))
            quantity = spec.get("quantity", 1)
            per_unit = to_decimal(spec["per_unit"]) if spec.get("per_unit") is not None else None
            total = spec.get("total")
            if total is None:
                if per_unit is None:
                    raise ValueError("an adjustment item needs total or per_unit")
                total = per_unit * quantity
            event.items.append(
                EventItem(
                    sku=spec.get("sku"),
                    quantity=quantity,
                    asin=spec.get("asin", product.asin if product else None),
                    fnsku=spec.get("fnsku", product.fnsku if product else None),
                    description=spec.get("description", product.title if product else None),
                    amount=to_decimal(total),
                    per_unit=per_unit,
                )
            )
        return self._add(event)

    def add_service_fee(
        self,
        marketplace="US",
        fees=None,
        posted=None,
        order_id=None,
        sku=None,
        fee_reason=None,
        fee_description=None,
        transaction_id=None,
    ):
        """A ServiceFeeEvent, e.g. ``fees={"Subscription": Decimal("-39.99")}``."""
        if not fees:
            raise ValueError("a service fee needs fees")
        event = self._base(
            "service_fee",
            marketplace,
            posted,
            order_id=order_id,
            transaction_id=transaction_id,
            fees=_amounts(fees),
            sku=sku,
            fee_reason=fee_reason,
            fee_description=fee_description,
        )
        return self._add(event)

    def add_retrocharge(
        self,
        marketplace="US",
        order_id=None,
        posted=None,
        base_tax=None,
        shipping_tax=None,
        retrocharge_type="Retrocharge",
        transaction_id=None,
    ):
        event = self._base(
            "retrocharge",
            marketplace,
            posted,
            transaction_id=transaction_id,
            retrocharge_type=retrocharge_type,
            base_tax=None if base_tax is None else to_decimal(base_tax),
            shipping_tax=None if shipping_tax is None else to_decimal(shipping_tax),
        )
        event.order_id = order_id or self._order_id(marketplace, event.event_id)
        return self._add(event)

    def _raw(self, api, raw, posted, currency, marketplace, list_name, available_at):
        market = MARKETPLACES.get(marketplace) if marketplace else None
        currency = currency or (market.currency if market else None)
        posted = _aware(posted, "posted") if posted else self.end
        event = RawEvent(
            event_id=self._next_id(),
            api=api,
            raw=copy.deepcopy(raw),
            posted=posted,
            currency=currency,
            seller_id=self.seller_id,
            list_name=list_name,
            marketplace=marketplace,
            available_at=available_at,
        )
        if currency:
            event.group_id = self.group_for(currency, posted).group_id
        self.raw_events.append(event)
        return event

    def add_raw_v0(
        self, list_name, raw, posted=None, currency=None, marketplace=None, available_at=None
    ):
        """A verbatim v0 event in ``list_name`` (any name, known or not), listed as is.

        ``posted`` (default: the event's ``PostedDate`` when readable, else the dataset end)
        places it in time; ``currency`` (default: the marketplace's, else the first
        ``CurrencyCode`` found) places it in a group. It counts in no group total.
        """
        posted = posted or _guess_posted(raw, "PostedDate")
        currency = currency or _guess_currency(raw, "CurrencyCode")
        event = self._raw(V0, raw, posted, currency, marketplace, list_name, available_at)
        if isinstance(raw, dict):
            event.order_id = (
                raw.get("AmazonOrderId") if isinstance(raw.get("AmazonOrderId"), str) else None
            )
        return event

    def add_raw_transaction(
        self, raw, posted=None, currency=None, marketplace=None, available_at=None
    ):
        """A verbatim 2024-06-19 transaction, listed as is (see :meth:`add_raw_v0`).

        Filters read it where they can: ``marketplaceDetails.marketplaceId``,
        ``transactionStatus`` and the ``ORDER_ID`` related identifier.
        """
        posted = posted or _guess_posted(raw, "postedDate")
        currency = currency or _guess_currency(raw, "currencyCode")
        if marketplace is None and isinstance(raw, dict):
            details = raw.get("marketplaceDetails")
            mid = details.get("marketplaceId") if isinstance(details, dict) else None
            if mid in MARKETPLACES_BY_ID:
                marketplace = MARKETPLACES_BY_ID[mid].code
        event = self._raw(V2024, raw, posted, currency, marketplace, None, available_at)
        if isinstance(raw, dict):
            status = raw.get("transactionStatus")
            event.transaction_status = status if isinstance(status, str) else None
            for ident in raw.get("relatedIdentifiers") or []:
                if isinstance(ident, dict) and ident.get("relatedIdentifierName") == "ORDER_ID":
                    event.order_id = ident.get("relatedIdentifierValue")
        return event

    # -- changes ------------------------------------------------------------------------------

    def event(self, event_id=None, transaction_id=None, order_id=None):
        """Find an event by internal id, transactionId or order id (first match)."""
        for event in self.events + self.raw_events:
            if event_id and event.event_id == event_id:
                return event
            if transaction_id and getattr(event, "transaction_id", None) == transaction_id:
                return event
            if order_id and event.order_id == order_id:
                return event
        raise KeyError(event_id or transaction_id or order_id)

    def change_amount(self, event, family, type_name, amount, item=0):
        """Set one component of an existing event (an upstream change under the same key).

        ``family``: ``charges``, ``fees``, ``withheld``, ``promotions`` (per ``item`` index),
        ``adjustment`` (the item's total, or the event amount without items), ``service_fee``
        fees, ``retrocharge`` (``BaseTax`` / ``ShippingTax``). A missing type is added.
        """
        if isinstance(event, str):
            event = self.event(event_id=event)
        family = _FAMILY_ALIASES.get(family.lower().replace("_", ""), family)
        amount = to_decimal(amount)
        if family == "adjustment":
            if event.items:
                target = event.items[item]
                if target.per_unit is not None and target.quantity:
                    target.per_unit = amount / target.quantity
                target.amount = amount
            else:
                event.amount = amount
        elif family == "retrocharge":
            if type_name == "BaseTax":
                event.base_tax = amount
            elif type_name == "ShippingTax":
                event.shipping_tax = amount
            else:
                raise ValueError(
                    f"retrocharge components are BaseTax and ShippingTax, not {type_name}"
                )
        elif family == "fees" and not event.items:
            event.fees[type_name] = amount
        elif family in ("charges", "fees", "withheld", "promotions"):
            getattr(event.items[item], family)[type_name] = amount
        else:
            raise ValueError(f"unknown component family {family!r}")
        return event

    def remove(self, event):
        """Forget an event (canonical or raw)."""
        if event in self.events:
            self.events.remove(event)
        else:
            self.raw_events.remove(event)

    def all_events(self):
        """Canonical and raw events, ordered by posted date then id."""
        return sorted(self.events + self.raw_events, key=lambda ev: (ev.posted, ev.event_id))


def _guess_posted(raw, key):
    if isinstance(raw, dict) and isinstance(raw.get(key), str):
        text = raw[key].strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _guess_currency(raw, key):
    if isinstance(raw, dict):
        if isinstance(raw.get(key), str):
            return raw[key]
        values = raw.values()
    elif isinstance(raw, list):
        values = raw
    else:
        return None
    for value in values:
        found = _guess_currency(value, key)
        if found:
            return found
    return None


# ---------------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    sku: str
    asin: str
    fnsku: str
    title: str
    usd: Decimal  # consumer price in the US, tax excluded


def _products():
    specs = (
        ("WIDGET-BLUE", "Blue widget", "19.99"),
        ("WIDGET-RED", "Red widget", "21.99"),
        ("KETTLE-1L", "Electric kettle 1 l", "34.99"),
        ("MUG-SET-4", "Ceramic mug set (4)", "24.50"),
        ("LAMP-DESK", "LED desk lamp", "45.00"),
        ("CABLE-USBC-2M", "USB-C cable 2 m", "9.99"),
        ("BACKPACK-20L", "Backpack 20 l", "59.90"),
        ("HEADPHONES-BT", "Bluetooth headphones", "79.00"),
        ("YOGA-MAT", "Yoga mat", "29.95"),
        ("BOTTLE-750", "Insulated bottle 750 ml", "17.49"),
        ("TEA-GREEN-100", "Green tea, 100 bags", "12.80"),
        ("PUZZLE-1000", "Jigsaw puzzle, 1000 pieces", "15.99"),
    )
    result = []
    for sku, title, usd in specs:
        h = _digest("product", sku)
        result.append(
            Product(sku, "B0" + _alnum(h, 8), "X00" + _alnum(h[::-1], 7), title, Decimal(usd))
        )
    return tuple(result)


PRODUCTS = _products()
_PRODUCTS_BY_SKU = {p.sku: p for p in PRODUCTS}


def _product(sku):
    return _PRODUCTS_BY_SKU.get(sku)


def local(usd_amount, currency):
    """A USD amount converted to ``currency`` at the rough rate, quantized (JPY: 10 yen)."""
    amount = Decimal(usd_amount) * Decimal(USD_RATE.get(currency, "1"))
    if currency == "JPY":
        return (amount / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 10
    return quantize(amount, currency)


def _tax(base, rate, mode, currency):
    """Tax of a base amount: ``included`` bases hold their tax, the others do not."""
    if mode == "included":
        return quantize(base * rate / (1 + rate), currency)
    return quantize(base * rate, currency)


def _refund_item_spec(rng, marketplace, kind, product):
    """A realistic refunded item for ``marketplace`` (amounts from the seller's point of view)."""
    market = MARKETPLACES[marketplace]
    cur = market.currency
    mode, rate = TAX_RULES.get(marketplace, ("none", None))
    if mode == "facilitator":
        rate = Decimal(rng.choice(US_STATE_RATES))
    rate = Decimal(rate) if rate is not None else Decimal(0)
    quantity = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
    included = mode == "included"
    # Consumer prices: tax-included where the seller's VAT is included in the price.
    unit = local(product.usd * (1 + rate if included else 1), cur)
    gross = unit * quantity
    shipping = local(Decimal("4.99"), cur) if rng.random() < 0.4 else Decimal(0)
    giftwrap = local(Decimal("3.99"), cur) if rng.random() < 0.12 else Decimal(0)

    charges, withheld, promotions, fees = {}, {}, {}, {}

    def charge(name, tax_name, withheld_name, base):
        if not base:
            return
        tax = _tax(base, rate, mode, cur) if mode != "none" else Decimal(0)
        charges[name] = -(base - tax) if included else -base
        if tax:
            charges[tax_name] = -tax
            if mode == "facilitator":
                withheld[withheld_name] = tax

    charge("Principal", "Tax", "MarketplaceFacilitatorTax-Principal", gross)
    charge("ShippingCharge", "ShippingTax", "MarketplaceFacilitatorTax-Shipping", shipping)
    charge("GiftWrap", "GiftWrapTax", "MarketplaceFacilitatorTax-Giftwrap", giftwrap)
    if kind == "refund" and rng.random() < 0.1:
        # The seller keeps a restocking fee: the refund is that much smaller.
        charges["RestockingFee"] = quantize(gross * Decimal("0.2"), cur)
    if rng.random() < 0.25:
        # The promotion the buyer had is taken back: money back to the seller.
        if shipping and rng.random() < 0.5:
            promotions["PromotionMetaDataDefinitionValue"] = shipping
        else:
            promotions["PromotionMetaDataDefinitionValue"] = quantize(gross * Decimal("0.1"), cur)
    referral = quantize(gross * REFERRAL_RATE, cur)
    if referral:
        fees["Commission"] = referral
        if kind != "chargeback":
            refund_fee = min(Decimal(5), referral * Decimal("0.2"))
            fees["RefundCommission"] = -quantize(refund_fee, cur)
    return {
        "sku": product.sku,
        "quantity": quantity,
        "charges": charges,
        "withheld": withheld,
        "promotions": promotions,
        "fees": fees,
    }


def _posted(rng, start, end):
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(max(span, 1)))


ADJUSTMENT_PLAN = (
    # (marketplace, AdjustmentType, number of SKUs, sign)
    ("US", "FBAInventoryReimbursement", 2, 1),
    ("US", "WAREHOUSE_DAMAGE", 1, 1),
    ("US", "CustomerReturn", 1, 1),
    ("US", "MISSING_FROM_INBOUND", 1, 1),
    ("US", "REVERSAL_REIMBURSEMENT", 1, -1),
    ("CA", "WAREHOUSE_LOST", 1, 1),
    ("UK", "WAREHOUSE_DAMAGE", 1, 1),
    ("DE", "WAREHOUSE_LOST", 2, 1),
    ("FR", "CustomerReturn", 1, 1),
    ("JP", "CustomerReturn", 1, 1),
)
CLAIM_PLAN = (
    ("US", "guarantee_claim"),
    ("US", "chargeback"),
    ("UK", "guarantee_claim"),
    ("DE", "chargeback"),
    ("JP", "guarantee_claim"),
)
SUBSCRIPTION_FEE = {"USD": "39.99", "CAD": "29.99", "GBP": "25.00", "EUR": "39.00", "JPY": "4900"}


def _generate_refunds(dataset, rng, marketplaces, refunds_per_marketplace):
    plan = [(m, "refund") for m in marketplaces for _ in range(refunds_per_marketplace)]
    plan += [(m, kind) for m, kind in CLAIM_PLAN if m in marketplaces]
    for marketplace, kind in plan:
        count = rng.choices((1, 2, 3), weights=(75, 20, 5))[0]
        products = rng.sample(PRODUCTS, count)
        items = [_refund_item_spec(rng, marketplace, kind, p) for p in products]
        dataset.add_refund(
            marketplace,
            posted=_posted(rng, dataset.start, dataset.end),
            items=items,
            kind=kind,
        )


def _generate_adjustments(dataset, rng, marketplaces):
    for marketplace, adjustment_type, count, sign in ADJUSTMENT_PLAN:
        if marketplace not in marketplaces:
            continue
        cur = MARKETPLACES[marketplace].currency
        items = []
        for product in rng.sample(PRODUCTS, count):
            per_unit = local(product.usd * Decimal("0.6"), cur) * sign
            items.append({"sku": product.sku, "quantity": rng.randint(1, 3), "per_unit": per_unit})
        dataset.add_adjustment(
            marketplace,
            adjustment_type,
            posted=_posted(rng, dataset.start, dataset.end),
            items=items,
        )


def _generate_reserve(dataset, rng, marketplaces):
    """A reserve held at the end of a USD period and released into the next one."""
    if "US" not in marketplaces:
        return
    groups = [g for g in dataset.groups if g.currency == "USD"]
    if len(groups) < 2:
        return
    held, released = groups[-2], groups[-1]
    hold_at = held.end - timedelta(minutes=5)
    release_at = released.start + timedelta(minutes=5)
    if hold_at < dataset.start or release_at >= dataset.end:
        return
    amount = local(Decimal(rng.randrange(80, 300)), "USD")
    dataset.add_adjustment("US", "ReserveEvent", posted=hold_at, amount=-amount)
    dataset.add_adjustment("US", "ReserveEvent", posted=release_at, amount=amount)
    released.beginning_balance = amount


def _generate_fees(dataset, rng, marketplaces):
    seen = set()
    for marketplace in marketplaces:
        cur = MARKETPLACES[marketplace].currency
        if cur in seen or cur not in SUBSCRIPTION_FEE:
            continue
        seen.add(cur)
        dataset.add_service_fee(
            marketplace,
            fees={"Subscription": -Decimal(SUBSCRIPTION_FEE[cur])},
            posted=_posted(rng, dataset.start, dataset.end),
            fee_reason="Subscription Fee",
            fee_description="Subscription Fee",
        )
    if "US" in marketplaces:
        product = rng.choice(PRODUCTS)
        dataset.add_service_fee(
            "US",
            fees={"FBAStorageFee": -local(Decimal(rng.randrange(500, 2500)) / 100, "USD")},
            posted=_posted(rng, dataset.start, dataset.end),
            sku=product.sku,
            fee_reason="FBA storage fee",
            fee_description="FBA Inventory Storage Fee",
        )
        dataset.add_retrocharge(
            "US",
            posted=_posted(rng, dataset.start, dataset.end),
            base_tax=-local(Decimal(rng.randrange(50, 400)) / 100, "USD"),
            shipping_tax=-local(Decimal(rng.randrange(5, 60)) / 100, "USD"),
        )


def generate_dataset(
    seed=42,
    start=None,
    end=None,
    seller_id="A1EMULATORSELLER",
    marketplaces=DEFAULT_MARKETPLACES,
    refunds_per_marketplace=6,
):
    """A deterministic dataset for ``seed``: refunds, claims, chargebacks, reimbursements, a
    reserve, service fees, a retrocharge, and the financial event groups holding them.

    ``start``/``end`` (aware) default to now - 60 days .. now - 1 hour (now floored to the
    hour). The same seed, window and arguments give the same dataset.
    """
    rng = random.Random(seed)
    dataset = Dataset(seller_id, marketplaces, start, end, seed=seed)
    currencies = sorted({MARKETPLACES[m].currency for m in dataset.marketplaces})
    for currency in currencies:
        dataset.group_offsets[currency] = rng.randrange(14)
    dataset.ensure_groups(currencies)
    _generate_refunds(dataset, rng, dataset.marketplaces, refunds_per_marketplace)
    _generate_adjustments(dataset, rng, dataset.marketplaces)
    _generate_reserve(dataset, rng, dataset.marketplaces)
    _generate_fees(dataset, rng, dataset.marketplaces)
    eur = [g for g in dataset.groups if g.currency == "EUR"]
    if eur:
        # One EUR settlement paid out to a GBP bank account.
        eur[0].converted_currency = "GBP"
        eur[0].conversion_rate = Decimal("0.8573")
    dataset.events.sort(key=lambda ev: (ev.posted, ev.event_id))
    return dataset
