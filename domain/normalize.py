"""Amazon Finances payloads → :class:`NormalizedEvent` (pure Python, no Odoo).

Two readers share one output shape (``doc/event-shapes.md`` is the contract):

- :func:`normalize_v0_events` reads the ``FinancialEvents`` object of Finances v0 pages;
- :func:`normalize_transactions` reads 2024-06-19 ``listTransactions`` transactions.

Every money component becomes a :class:`NormalizedLine` whose ``amount_type`` is
``"<Category>/<Type>"``. The categories live in :data:`CATEGORIES` and the canonical type
spellings in :data:`TYPE_NAMES` (compared case-insensitively): real data that differs from the
emulator's vocabulary is a one-line change there. Unknown names are kept as Amazon spells them
and become unmapped amount types for the planner (the event waits for review; nothing is dropped).

Signs: the normalizer never changes a sign. Amounts stay as Amazon sends them, from the seller's
point of view (negative = money leaves the seller); see :func:`seller_amount`, the only place that
would change if that ever proved wrong. The planner converts to document signs.

A malformed event raises :class:`NormalizationError` inside the reader, which turns it into a
:class:`RawFailure`; the other events of the page are still normalized.
"""

import hashlib
import json
import logging
import math
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from .model import (
    ORDER_EVENT_TYPES,
    SOURCE_2024,
    SOURCE_V0,
    MissingPostedDate,
    NormalizationError,
    NormalizedEvent,
    NormalizedLine,
    RawFailure,
)

_logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# Vocabulary: the ONE table of categories and of type spellings
# ---------------------------------------------------------------------------------------------

CHARGE = "Charge"
TAX_WITHHELD = "TaxWithheld"
PROMOTION = "Promotion"
FEE = "Fee"
ADJUSTMENT = "Adjustment"
RETROCHARGE = "Retrocharge"
OTHER = "Other"

# category → (v0 sources, 2024-06-19 parent ``breakdownType`` names). The v0 column documents the
# readers below; the 2024 column is what :func:`category_for_breakdown` looks up.
CATEGORIES = {
    CHARGE: (
        ("ItemChargeAdjustmentList", "OrderChargeAdjustmentList"),
        ("ProductCharges", "Product Charges"),
    ),
    TAX_WITHHELD: (
        ("ItemTaxWithheldList[].TaxesWithheld", "RetrochargeTaxWithheldList[].TaxesWithheld"),
        ("TaxWithheld", "Tax Withheld"),
    ),
    PROMOTION: (("PromotionAdjustmentList",), ("Promotions", "Promotion")),
    FEE: (
        (
            "ItemFeeAdjustmentList",
            "ShipmentFeeAdjustmentList",
            "OrderFeeAdjustmentList",
            "ServiceFeeEvent.FeeList",
        ),
        ("AmazonFees", "Amazon Fees"),
    ),
    ADJUSTMENT: (("AdjustmentEvent.AdjustmentType",), ("Adjustment", "Adjustments")),
    RETROCHARGE: (("RetrochargeEvent.BaseTax", "RetrochargeEvent.ShippingTax"), ("Retrocharge",)),
}

# FeeTypes seen in refund data (the model lists none: the type is open-ended).
FEE_TYPES = (
    "Commission",
    "RefundCommission",
    "FBAPerUnitFulfillmentFee",
    "FBAPerOrderFulfillmentFee",
    "FBAWeightBasedFee",
    "FixedClosingFee",
    "VariableClosingFee",
    "GiftwrapCommission",
    "SalesTaxCollectionFee",
    "ShippingHB",
    "ShippingChargeback",
    "DigitalServicesFee",
)

# Canonical spellings of known type names. The first entry that matches (case-insensitively)
# gives the spelling; unknown names keep Amazon's spelling.
TYPE_NAMES = (
    # ChargeType (financesV0.json; GiftWrap spelled as in doc/event-shapes.md)
    "Principal",
    "Tax",
    "MarketplaceFacilitatorTax-Principal",
    "MarketplaceFacilitatorTax-Shipping",
    "MarketplaceFacilitatorTax-Giftwrap",
    "MarketplaceFacilitatorTax-Other",
    "Discount",
    "TaxDiscount",
    "CODItemCharge",
    "CODItemTaxCharge",
    "CODOrderCharge",
    "CODOrderTaxCharge",
    "CODShippingCharge",
    "CODShippingTaxCharge",
    "ShippingCharge",
    "ShippingTax",
    "Goodwill",
    "GiftWrap",
    "GiftWrapTax",
    "RestockingFee",
    "ReturnShipping",
    "PointsFee",
    "GenericDeduction",
    "FreeReplacementReturnShipping",
    "PaymentMethodFee",
    "ExportCharge",
    "SAFE-TReimbursement",
    "TCS-CGST",
    "TCS-SGST",
    "TCS-IGST",
    "TCS-UTGST",
    "PaidthroughEBT",
    # FeeType (open-ended; seen in data)
    *FEE_TYPES,
    # AdjustmentType (financesV0.json)
    "FBAInventoryReimbursement",
    "ReserveEvent",
    "PostageBilling",
    "PostageRefund",
    "LostOrDamagedReimbursement",
    "CanceledButPickedUpReimbursement",
    "ReimbursementClawback",
    "SellerRewards",
    # Retrocharge components
    "BaseTax",
)
# Other spellings of a known name (not just a case difference): alias → canonical.
TYPE_ALIASES = {
    "Principle": "Principal",  # the 2024-06-19 model's own example spells it so
}

_TYPE_LOOKUP = {}
for _name in TYPE_NAMES:
    _TYPE_LOOKUP.setdefault(_name.lower(), _name)
for _alias, _canonical in TYPE_ALIASES.items():
    _TYPE_LOOKUP.setdefault(_alias.lower(), _canonical)

_BREAKDOWN_LOOKUP = {}
for _category, (_v0_sources, _parents) in CATEGORIES.items():
    for _parent in _parents:
        _BREAKDOWN_LOOKUP.setdefault(_parent.lower(), _category)


def canonical_type(name):
    """Canonical spelling of an Amazon type name (case-insensitive); unknown names unchanged."""
    return _TYPE_LOOKUP.get(name.strip().lower(), name.strip())


def category_for_breakdown(breakdown_type):
    """Category of a 2024-06-19 parent ``breakdownType``, or None when unknown."""
    return _BREAKDOWN_LOOKUP.get(breakdown_type.strip().lower())


def amount_type(category, type_name):
    return f"{category}/{canonical_type(type_name)}"


def seller_amount(amount):
    """Amazon amount → line amount. Identity: lines keep Amazon's sign (seller's point of view).

    The one place to change should real data prove a source uses the opposite convention.
    """
    return amount


# ---------------------------------------------------------------------------------------------
# Event types
# ---------------------------------------------------------------------------------------------

# v0 list name → event type. Lists of ShipmentEvent shape first.
V0_SHIPMENT_LISTS = {
    "RefundEventList": "refund",
    "GuaranteeClaimEventList": "guarantee_claim",
    "ChargebackEventList": "chargeback",
}
V0_ADJUSTMENT_LIST = "AdjustmentEventList"
V0_SERVICE_FEE_LIST = "ServiceFeeEventList"
V0_RETROCHARGE_LIST = "RetrochargeEventList"
# The other lists of financesV0.json's FinancialEvents: not ours (sales, ads, loans...), ignored
# on purpose. A list name in neither set is new: its events come back as "other" events.
V0_IGNORED_LISTS = frozenset(
    {
        "ShipmentEventList",
        "ShipmentSettleEventList",
        "EBTRefundReimbursementOnlyEventList",
        "PayWithAmazonEventList",
        "ServiceProviderCreditEventList",
        "RentalTransactionEventList",
        "ProductAdsPaymentEventList",
        "SellerDealPaymentEventList",
        "DebtRecoveryEventList",
        "LoanServicingEventList",
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
    }
)

# 2024-06-19 transactionType (lower case, no spaces) → event type. None = skipped (sales).
TRANSACTION_TYPES = {
    "shipment": None,
    "refund": "refund",
    "guaranteeclaim": "guarantee_claim",
    "chargeback": "chargeback",
    "adjustment": "adjustment",
    "servicefee": "service_fee",
    "retrocharge": "retrocharge",
    "retrochargereversal": "retrocharge",
}
# Amazon merges refunds, A-to-z claims and chargebacks into transactionType Refund (#4268):
# the description tells them apart (lower case).
REFUND_DESCRIPTIONS = {
    "refund order": "refund",
    "a-to-z guarantee claim": "guarantee_claim",
    "chargeback refund": "chargeback",
}

# ---------------------------------------------------------------------------------------------
# Small parsers
# ---------------------------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_amount(value, what="amount"):
    """A JSON number (int, float, Decimal or numeric string) → Decimal, never via binary float.

    Floats go through ``str()`` (their shortest repr: ``-19.6`` stays ``-19.6``).
    """
    if isinstance(value, bool):
        raise NormalizationError(f"{what} is not a number: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(str(value))
    elif isinstance(value, str) and _NUMBER_RE.match(value.strip()):
        result = Decimal(value.strip())
    else:
        raise NormalizationError(f"{what} is not a number: {value!r}")
    if not result.is_finite():
        raise NormalizationError(f"{what} is not a finite number: {value!r}")
    return result


def parse_quantity(value):
    """Item quantity (integer in ShipmentItem, string in AdjustmentItem) → Decimal or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return parse_amount(value, "quantity")
    except NormalizationError:
        _logger.warning("Ignoring an unreadable item quantity %r", value)
        return None


def parse_date(value, what="PostedDate"):
    """ISO 8601 date-time → aware UTC datetime. A string without offset is taken as UTC."""
    if not value:
        raise NormalizationError(f"missing {what}")
    if not isinstance(value, str):
        raise NormalizationError(f"{what} is not a date-time string: {value!r}")
    match = _DATE_RE.match(value.strip())
    if not match:
        raise NormalizationError(f"{what} is not an ISO 8601 date-time: {value!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        result = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro
        )
    except ValueError as exc:
        raise NormalizationError(f"{what} is not a valid date-time: {value!r}") from exc
    tz = timezone.utc
    if offset and offset not in ("Z", "z"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        tz = timezone(sign * timedelta(minutes=minutes))
    return result.replace(tzinfo=tz).astimezone(timezone.utc)


def decimal_text(amount):
    """A Decimal written without trailing zeros or exponent: -19.60 and -19.6 give "-19.6"."""
    if amount == 0:
        return "0"
    return format(amount.normalize(), "f")


def canonical_json(value):
    """Canonical JSON: sorted keys, no spaces, Decimals written exactly as received."""
    if isinstance(value, dict):
        parts = []
        for key in sorted(value):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {key!r}")
            parts.append(json.dumps(key) + ":" + canonical_json(value[key]))
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical_json(item) for item in value) + "]"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError(f"not a finite number: {value!r}")
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise TypeError(f"not a finite number: {value!r}")
        return repr(value)
    if value is None or isinstance(value, bool | int | str):
        return json.dumps(value)
    raise TypeError(f"not JSON data: {value!r}")


def raw_sha256(raw):
    """SHA-256 (hex) of :func:`canonical_json` of the raw event."""
    try:
        text = canonical_json(raw)
    except TypeError as exc:
        raise NormalizationError(f"raw event is not JSON data: {exc}") from exc
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _digest(parts):
    return hashlib.sha256(canonical_json(parts).encode("utf-8")).hexdigest()


# What a malformed payload can raise while it is read: it fails that event only.
_DATA_ERRORS = (ValueError, TypeError, AttributeError, KeyError, IndexError)


def _message(exc):
    if isinstance(exc, NormalizationError):
        return str(exc)
    return f"unexpected shape ({type(exc).__name__}: {exc})"


def _get(mapping, *names):
    """First present key among ``names`` (exact, then case-insensitive)."""
    for name in names:
        if name in mapping:
            return mapping[name]
    lowered = {str(k).lower(): v for k, v in mapping.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


# ---------------------------------------------------------------------------------------------
# Line collection (one currency per event)
# ---------------------------------------------------------------------------------------------


class _Lines:
    """Collects the lines of one event and checks that they share one currency."""

    def __init__(self, currency=None):
        self.currency = currency
        self.lines = []

    def money(self, obj, where):
        """``{CurrencyCode, CurrencyAmount}`` (either casing) → Decimal, checking the currency."""
        if not isinstance(obj, dict):
            raise NormalizationError(f"{where}: missing amount")
        code = _get(obj, "CurrencyCode", "currencyCode")
        if "CurrencyAmount" in obj or "currencyAmount" in obj:
            raw_amount = _get(obj, "CurrencyAmount", "currencyAmount")
        else:
            raise NormalizationError(f"{where}: missing CurrencyAmount")
        amount = parse_amount(raw_amount, f"{where} amount")
        if not isinstance(code, str) or not code.strip():
            raise NormalizationError(f"{where}: missing CurrencyCode")
        code = code.strip().upper()
        if self.currency is None:
            self.currency = code
        elif code != self.currency:
            raise NormalizationError(
                f"currency mismatch inside one event: {where} is in {code}, "
                f"the event is in {self.currency}"
            )
        return amount

    def add(self, category, type_name, money_obj, where, **extra):
        if not isinstance(type_name, str) or not type_name.strip():
            raise NormalizationError(f"{where}: missing type name")
        amount = seller_amount(self.money(money_obj, f"{where} {type_name}"))
        line = NormalizedLine(amount_type(category, type_name), amount, **extra)
        self.lines.append(line)
        return line

    def total(self):
        return sum((line.amount for line in self.lines), Decimal(0))


def _as_list(value, where):
    if value is None:
        return []
    if not isinstance(value, list):
        raise NormalizationError(f"{where} is not a list")
    for item in value:
        if not isinstance(item, dict):
            raise NormalizationError(f"{where} contains a non-object: {item!r}")
    return value


def _charges(lines, components, where, category=CHARGE, **extra):
    for comp in _as_list(components, where):
        lines.add(category, comp.get("ChargeType"), comp.get("ChargeAmount"), where, **extra)


def _fees(lines, components, where, **extra):
    for comp in _as_list(components, where):
        lines.add(FEE, comp.get("FeeType"), comp.get("FeeAmount"), where, **extra)


def _withheld(lines, components, where, **extra):
    for group in _as_list(components, where):
        _charges(lines, group.get("TaxesWithheld"), f"{where}.TaxesWithheld", TAX_WITHHELD, **extra)


def _promotions(lines, components, where, **extra):
    for comp in _as_list(components, where):
        lines.add(PROMOTION, comp.get("PromotionType"), comp.get("PromotionAmount"), where, **extra)


def _text(value):
    if value is None:
        return None
    value = str(value).strip()
    return value or None


# ---------------------------------------------------------------------------------------------
# Identity: key and fingerprint (doc/event-shapes.md "Event identity")
# ---------------------------------------------------------------------------------------------


def _line_parts(lines):
    return sorted(
        [
            ln.amount_type,
            decimal_text(ln.amount),
            ln.sku or "",
            ln.order_adjustment_item_id or "",
        ]
        for ln in lines
    )


def _adjustment_item_ids(lines):
    return sorted({ln.order_adjustment_item_id for ln in lines if ln.order_adjustment_item_id})


def _date_text(posted_date):
    return posted_date.astimezone(timezone.utc).isoformat() if posted_date else ""


def digest_key(kind, order_id, posted_date, lines):
    """``v0:<sha256>`` of event kind, order id, posted date, adjustment item ids and amounts."""
    parts = [
        kind,
        order_id or "",
        _date_text(posted_date),
        _adjustment_item_ids(lines),
        _line_parts(lines),
    ]
    return "v0:" + _digest(parts)


def fingerprint(event_type, order_id, posted_date, lines, total):
    """Identity shared by both APIs (the same canonical event gives the same fingerprint).

    sha256 of: the family (``order`` for refund/claim/chargeback, else the event type); the order
    id, or for a non-order event without one its sorted amount types and SKUs; the posted date to
    the second in UTC; the sorted adjustment item ids; the net total.
    """
    if event_type in ORDER_EVENT_TYPES:
        family, ident = "order", order_id or ""
    else:
        family = event_type
        ident = [
            order_id or "",
            sorted({ln.amount_type for ln in lines}),
            sorted({ln.sku for ln in lines if ln.sku}),
        ]
    when = ""
    if posted_date is not None:
        when = posted_date.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = ["fp1", family, ident, when, _adjustment_item_ids(lines), decimal_text(total)]
    return _digest(parts)


def _number_duplicates(events, identity):
    """Events identical in content but distinct in Amazon (two equal service fees) must not
    collapse into one: the n-th repeat of a key or fingerprint within one call gets ``#n``.
    ``identity(event)`` says which events are the SAME Amazon event (not numbered)."""
    result = []
    seen_keys, seen_fps = {}, {}
    for event in events:
        ident = identity(event)
        changes = {}
        for attr, seen in (("key", seen_keys), ("fingerprint", seen_fps)):
            value = getattr(event, attr)
            owners = seen.setdefault(value, [])
            if ident not in owners:
                owners.append(ident)
            rank = owners.index(ident) + 1
            if rank > 1:
                changes[attr] = f"{value}#{rank}"
        if changes:
            event = replace(event, **changes)
        result.append(event)
    return result


# ---------------------------------------------------------------------------------------------
# Finances v0
# ---------------------------------------------------------------------------------------------

# ShipmentEvent lists that belong to sales, not to refunds: money in them would be ignored by the
# adjustment readers, so a refund-type event carrying non-zero amounts there is malformed.
_V0_SALE_LISTS = {
    "OrderChargeList": ("ChargeType", "ChargeAmount"),
    "ShipmentFeeList": ("FeeType", "FeeAmount"),
    "OrderFeeList": ("FeeType", "FeeAmount"),
    "DirectPaymentList": ("DirectPaymentType", "DirectPaymentAmount"),
}
_V0_SALE_ITEM_LISTS = {
    "ItemChargeList": ("ChargeType", "ChargeAmount"),
    "ItemFeeList": ("FeeType", "FeeAmount"),
    "PromotionList": ("PromotionType", "PromotionAmount"),
}


def _reject_sale_amounts(lines, container, tables, where):
    for list_name, (_type_key, amount_key) in tables.items():
        for comp in _as_list(container.get(list_name), f"{where}.{list_name}"):
            if lines.money(comp.get(amount_key), f"{where}.{list_name}") != 0:
                raise NormalizationError(
                    f"unexpected amounts in {list_name} of a refund-type event "
                    "(only the *AdjustmentList lists are read)"
                )


def _v0_shipment_event(raw, event_type, list_name):
    lines = _Lines()
    _reject_sale_amounts(lines, raw, _V0_SALE_LISTS, list_name)
    if _as_list(raw.get("ShipmentItemList"), "ShipmentItemList"):
        for item in raw["ShipmentItemList"]:
            _reject_sale_amounts(lines, item, _V0_SALE_ITEM_LISTS, "ShipmentItemList")
    for item in _as_list(raw.get("ShipmentItemAdjustmentList"), "ShipmentItemAdjustmentList"):
        _reject_sale_amounts(lines, item, _V0_SALE_ITEM_LISTS, "ShipmentItemAdjustmentList")
        extra = {
            "sku": _text(item.get("SellerSKU")),
            "quantity": parse_quantity(item.get("QuantityShipped")),
            "order_adjustment_item_id": _text(item.get("OrderAdjustmentItemId")),
        }
        _charges(lines, item.get("ItemChargeAdjustmentList"), "ItemChargeAdjustmentList", **extra)
        _fees(lines, item.get("ItemFeeAdjustmentList"), "ItemFeeAdjustmentList", **extra)
        _withheld(lines, item.get("ItemTaxWithheldList"), "ItemTaxWithheldList", **extra)
        _promotions(lines, item.get("PromotionAdjustmentList"), "PromotionAdjustmentList", **extra)
    _charges(lines, raw.get("OrderChargeAdjustmentList"), "OrderChargeAdjustmentList")
    _fees(lines, raw.get("ShipmentFeeAdjustmentList"), "ShipmentFeeAdjustmentList")
    _fees(lines, raw.get("OrderFeeAdjustmentList"), "OrderFeeAdjustmentList")
    return {
        "event_type": event_type,
        "amazon_order_id": _text(raw.get("AmazonOrderId")),
        "marketplace_name": _text(raw.get("MarketplaceName")),
        "posted_date": parse_date(raw.get("PostedDate")),
        "lines": lines,
        "description": None,
    }


def _v0_adjustment_event(raw, _event_type, _list_name):
    adjustment_type = _text(raw.get("AdjustmentType"))
    if not adjustment_type:
        raise NormalizationError("AdjustmentEvent without AdjustmentType")
    posted = parse_date(raw.get("PostedDate"))
    lines = _Lines()
    total = lines.money(raw.get("AdjustmentAmount"), "AdjustmentAmount")
    items = _as_list(raw.get("AdjustmentItemList"), "AdjustmentItemList")
    priced = [item for item in items if item.get("TotalAmount") is not None]
    if priced:
        if len(priced) != len(items):
            raise NormalizationError("AdjustmentItemList: some items have no TotalAmount")
        for item in items:
            lines.add(
                ADJUSTMENT,
                adjustment_type,
                item["TotalAmount"],
                "AdjustmentItemList",
                sku=_text(item.get("SellerSKU")),
                quantity=parse_quantity(item.get("Quantity")),
                description=_text(item.get("ProductDescription")),
            )
        if lines.total() != total:
            raise NormalizationError(
                f"AdjustmentItemList TotalAmounts add up to {lines.total()}, "
                f"AdjustmentAmount is {total}"
            )
    else:
        lines.add(ADJUSTMENT, adjustment_type, raw.get("AdjustmentAmount"), "AdjustmentAmount")
    return {
        "event_type": "adjustment",
        "amazon_order_id": None,
        "marketplace_name": None,
        "posted_date": posted,
        "lines": lines,
        "description": adjustment_type,
    }


def _v0_service_fee_event(raw, _event_type, _list_name):
    lines = _Lines()
    _fees(lines, raw.get("FeeList"), "FeeList", sku=_text(raw.get("SellerSKU")))
    if not lines.lines:
        raise NormalizationError("ServiceFeeEvent without FeeList")
    return {
        "event_type": "service_fee",
        "amazon_order_id": _text(raw.get("AmazonOrderId")),
        "marketplace_name": None,
        # Amazon's v0 ServiceFeeEvent has no PostedDate (selling-partner-api-models #449, #4182).
        "posted_date": _optional_date(raw),
        "lines": lines,
        "description": _text(raw.get("FeeDescription")) or _text(raw.get("FeeReason")),
    }


def _v0_retrocharge_event(raw, _event_type, _list_name):
    lines = _Lines()
    for name in ("BaseTax", "ShippingTax"):
        if raw.get(name) is not None:
            lines.add(RETROCHARGE, name, raw[name], "RetrochargeEvent")
    _withheld(lines, raw.get("RetrochargeTaxWithheldList"), "RetrochargeTaxWithheldList")
    return {
        "event_type": "retrocharge",
        "amazon_order_id": _text(raw.get("AmazonOrderId")),
        "marketplace_name": _text(raw.get("MarketplaceName")),
        "posted_date": parse_date(raw.get("PostedDate")),
        "lines": lines,
        "description": _text(raw.get("RetrochargeEventType")),
    }


def _optional_date(raw):
    value = _get(raw, "PostedDate")
    return parse_date(value) if value else None


def _is_money(value):
    return isinstance(value, dict) and ("CurrencyAmount" in value or "currencyAmount" in value)


def _v0_unknown_event(raw, _event_type, list_name):
    """An event of a list this code does not know: lines when its total can be determined.

    Determinable: component lists only (``FeeList``-like ``FeeType``/``FeeAmount`` or
    ``ChargeType``/``ChargeAmount`` objects) → their sum; else exactly one money field, or
    exactly one money field whose name starts with ``Total`` → that amount.
    """
    source = list_name.removesuffix("EventList")
    lines = _Lines()
    sku = _text(_get(raw, "SellerSKU", "SKU"))
    for key, value in raw.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            if all("FeeType" in v for v in value):
                _fees(lines, value, key, sku=sku)
            elif all("ChargeType" in v for v in value):
                _charges(lines, value, key, sku=sku)
    money_fields = sorted(key for key, value in raw.items() if _is_money(value))
    if money_fields and lines.lines:
        raise NormalizationError(
            f"cannot determine the total of a {list_name} event: both component lists and "
            f"amount fields ({', '.join(money_fields)})"
        )
    if not lines.lines:
        totals = [key for key in money_fields if key.lower().startswith("total")]
        if len(money_fields) == 1:
            chosen = money_fields[0]
        elif len(totals) == 1:
            chosen = totals[0]
        else:
            raise NormalizationError(
                f"cannot determine the total of a {list_name} event "
                f"(amount fields: {', '.join(money_fields) or 'none'})"
            )
        lines.add(source, chosen, raw[chosen], list_name, sku=sku)
    return {
        "event_type": "other",
        "amazon_order_id": _text(_get(raw, "AmazonOrderId")),
        "marketplace_name": _text(_get(raw, "MarketplaceName")),
        "posted_date": _optional_date(raw),
        "lines": lines,
        "description": list_name,
    }


def _v0_reader(list_name):
    if list_name in V0_SHIPMENT_LISTS:
        return _v0_shipment_event, V0_SHIPMENT_LISTS[list_name]
    if list_name == V0_ADJUSTMENT_LIST:
        return _v0_adjustment_event, "adjustment"
    if list_name == V0_SERVICE_FEE_LIST:
        return _v0_service_fee_event, "service_fee"
    if list_name == V0_RETROCHARGE_LIST:
        return _v0_retrocharge_event, "retrocharge"
    if list_name in V0_IGNORED_LISTS:
        return None, None
    return _v0_unknown_event, "other"


def _v0_event(raw, list_name, reader, event_type, ctx):
    fields = reader(raw, event_type, list_name)
    lines = fields.pop("lines")
    if not lines.lines:
        raise NormalizationError("event without any amount")
    posted = fields["posted_date"]
    if posted is None:
        if ctx["posted_date_fallback"] is None:
            raise MissingPostedDate(
                f"missing PostedDate ({list_name} events may have none: "
                "pass posted_date_fallback, e.g. the end of the requested window)"
            )
        fields["posted_date"] = ctx["posted_date_fallback"]
    kind = event_type if event_type != "other" else f"other:{list_name}"
    total = lines.total()
    order_id = fields["amazon_order_id"]
    resolver = ctx["marketplace_resolver"]
    marketplace_id = resolver(fields["marketplace_name"], lines.currency) if resolver else None
    return NormalizedEvent(
        key=digest_key(kind, order_id, posted, lines.lines),
        fingerprint=fingerprint(event_type, order_id, posted, lines.lines, total),
        source_api=SOURCE_V0,
        marketplace_id=marketplace_id,
        currency=lines.currency,
        total=total,
        lines=tuple(lines.lines),
        group_id=ctx["group_id"],
        raw=raw,
        raw_sha256=raw_sha256(raw),
        source=list_name,
        **fields,
    )


def normalize_v0_events(
    financial_events,
    marketplace_resolver=None,
    *,
    group_id=None,
    posted_date_fallback=None,
):
    """Finances v0 ``FinancialEvents`` → (events, failures).

    ``financial_events`` is one page's ``FinancialEvents`` object (a whole ``payload`` is
    accepted too), or a list of them (the pages of one window: identical events on different
    pages are then numbered apart, see :func:`_number_duplicates`).

    ``marketplace_resolver(marketplace_name, currency) -> marketplace_id | None`` fills
    ``marketplace_id`` (v0 gives only ``MarketplaceName``, and none for adjustments and service
    fees). ``group_id`` is the ``FinancialEventGroupId`` when the page was listed by group.
    ``posted_date_fallback`` (aware datetime) dates events Amazon sends without ``PostedDate``
    (v0 ``ServiceFeeEvent``); their key and fingerprint do not include that date.

    Sales lists and the other known non-refund lists are ignored (:data:`V0_IGNORED_LISTS`);
    lists of an unknown name come back as ``"other"`` events, or failures.
    """
    pages = financial_events if isinstance(financial_events, list) else [financial_events]
    if posted_date_fallback is not None and posted_date_fallback.tzinfo is None:
        raise ValueError("posted_date_fallback must be an aware datetime")
    ctx = {
        "marketplace_resolver": marketplace_resolver,
        "group_id": group_id,
        "posted_date_fallback": (
            posted_date_fallback.astimezone(timezone.utc) if posted_date_fallback else None
        ),
    }
    events, failures, identities = [], [], {}
    for page in pages:
        if isinstance(page, dict) and isinstance(page.get("FinancialEvents"), dict):
            page = page["FinancialEvents"]
        if not isinstance(page, dict):
            failures.append(RawFailure("FinancialEvents", page, "FinancialEvents is not an object"))
            continue
        for list_name, raw_list in page.items():
            reader, event_type = _v0_reader(list_name)
            if reader is None:
                continue
            if raw_list is None:
                continue
            if not isinstance(raw_list, list):
                failures.append(RawFailure(list_name, raw_list, f"{list_name} is not a list"))
                continue
            for raw in raw_list:
                if not isinstance(raw, dict):
                    failures.append(RawFailure(list_name, raw, "event is not an object"))
                    continue
                try:
                    event = _v0_event(raw, list_name, reader, event_type, ctx)
                except _DATA_ERRORS as exc:
                    _logger.info("Unreadable %s event: %s", list_name, exc)
                    failures.append(
                        RawFailure(
                            list_name,
                            raw,
                            _message(exc),
                            missing_posted_date=isinstance(exc, MissingPostedDate),
                        )
                    )
                    continue
                identities[id(event)] = len(identities)
                events.append(event)
    # Every v0 event is distinct in Amazon: number all repeats.
    events = _number_duplicates(events, lambda ev: identities[id(ev)])
    return events, failures


# ---------------------------------------------------------------------------------------------
# Finances 2024-06-19
# ---------------------------------------------------------------------------------------------


def _breakdown_list(value, where):
    # The model's own example wraps the transaction-level list in {"breakdowns": [...]}.
    if isinstance(value, dict) and "breakdowns" in value:
        value = value["breakdowns"]
    return _as_list(value, where)


def _leaves(lines, breakdowns, where, known=None, top_name=None, **extra):
    """Add one line per leaf breakdown.

    Category of a leaf: its deepest ancestor whose ``breakdownType`` is a known category, else
    the top-level parent's own name (unknown category: kept, so it goes to review). A top-level
    breakdown without children is a leaf of its own category, type = its name.
    """
    for node in _breakdown_list(breakdowns, where):
        name = node.get("breakdownType")
        if not isinstance(name, str) or not name.strip():
            raise NormalizationError(f"{where}: breakdown without breakdownType")
        name = name.strip()
        children = _breakdown_list(node.get("breakdowns"), f"{where}.{name}")
        node_category = category_for_breakdown(name)
        if children:
            _leaves(
                lines,
                children,
                f"{where}.{name}",
                known=node_category or known,
                top_name=top_name or name,
                **extra,
            )
        else:
            category = known or (node_category if top_name is None else None)
            category = category or top_name or name
            lines.add(category, name, node.get("breakdownAmount"), where, **extra)


def _item_extra(item):
    extra = {"sku": None, "quantity": None, "order_adjustment_item_id": None}
    for ident in _as_list(item.get("relatedIdentifiers"), "item relatedIdentifiers"):
        if ident.get("itemRelatedIdentifierName") == "ORDER_ADJUSTMENT_ITEM_ID":
            extra["order_adjustment_item_id"] = _text(ident.get("itemRelatedIdentifierValue"))
    extra.update(_product_context(item.get("contexts")))
    extra["description"] = _text(item.get("description"))
    return extra


def _product_context(contexts):
    for ctx in _as_list(contexts, "contexts"):
        if ctx.get("contextType") == "ProductContext" or "sku" in ctx:
            return {
                "sku": _text(ctx.get("sku")),
                "quantity": parse_quantity(ctx.get("quantityShipped")),
            }
    return {}


def _object(value):
    return value if isinstance(value, dict) else {}


def _related(transaction, name):
    for ident in _as_list(transaction.get("relatedIdentifiers"), "relatedIdentifiers"):
        if ident.get("relatedIdentifierName") == name:
            return _text(ident.get("relatedIdentifierValue"))
    return None


def transaction_event_type(transaction_type, description):
    """2024-06-19 transactionType (+ description for Refund) → event type; None = skip."""
    key = re.sub(r"[\s_-]", "", transaction_type).lower()
    if key not in TRANSACTION_TYPES:
        return "other"
    event_type = TRANSACTION_TYPES[key]
    if event_type == "refund":
        event_type = REFUND_DESCRIPTIONS.get((description or "").strip().lower(), "refund")
    return event_type


def _transaction(raw):
    transaction_type = _text(raw.get("transactionType"))
    if not transaction_type:
        raise NormalizationError("transaction without transactionType")
    description = _text(raw.get("description"))
    event_type = transaction_event_type(transaction_type, description)
    if event_type is None:
        return None
    posted = parse_date(raw.get("postedDate"), "postedDate")
    lines = _Lines()
    total = lines.money(raw.get("totalAmount"), "totalAmount")
    for item in _as_list(raw.get("items"), "items"):
        _leaves(lines, item.get("breakdowns"), "items.breakdowns", **_item_extra(item))
    if not lines.lines:
        _leaves(
            lines,
            raw.get("breakdowns"),
            "breakdowns",
            **_product_context(raw.get("contexts")),
        )
    if not lines.lines and event_type == "other" and total != 0:
        lines.add(OTHER, transaction_type, raw.get("totalAmount"), "totalAmount")
    if lines.total() != total:
        raise NormalizationError(
            f"breakdown leaves add up to {lines.total()}, totalAmount is {total}"
        )
    order_id = _related(raw, "ORDER_ID")
    details = _object(raw.get("marketplaceDetails"))
    metadata = _object(raw.get("sellingPartnerMetadata"))
    transaction_id = _text(raw.get("transactionId"))
    if transaction_id:
        key = f"txn:{transaction_id}"
    else:
        # No transactionId (the model's own sandbox example has none): a content digest.
        key = "v2024:" + digest_key(event_type, order_id, posted, lines.lines)[3:]
    return NormalizedEvent(
        key=key,
        fingerprint=fingerprint(event_type, order_id, posted, lines.lines, total),
        source_api=SOURCE_2024,
        event_type=event_type,
        amazon_order_id=order_id,
        marketplace_id=_text(details.get("marketplaceId")) or _text(metadata.get("marketplaceId")),
        marketplace_name=_text(details.get("marketplaceName")),
        posted_date=posted,
        currency=lines.currency,
        total=total,
        lines=tuple(lines.lines),
        group_id=_related(raw, "FINANCIAL_EVENT_GROUP_ID"),
        transaction_id=transaction_id,
        transaction_status=_text(raw.get("transactionStatus")),
        description=description,
        raw=raw,
        raw_sha256=raw_sha256(raw),
        source=transaction_type,
    )


def normalize_transactions(transactions):
    """Finances 2024-06-19 transactions → (events, failures).

    ``Shipment`` transactions (sales) are skipped; an unknown ``transactionType`` becomes an
    ``"other"`` event. The breakdown leaves (from the items when there are items, else from the
    transaction-level breakdowns) must add up to ``totalAmount``, else the transaction fails.
    """
    events, failures = [], []
    for raw in transactions or []:
        if not isinstance(raw, dict):
            failures.append(RawFailure("transactions", raw, "transaction is not an object"))
            continue
        source = _text(raw.get("transactionType")) or "transactions"
        try:
            event = _transaction(raw)
        except _DATA_ERRORS as exc:
            _logger.info("Unreadable transaction %s: %s", raw.get("transactionId"), exc)
            failures.append(RawFailure(source, raw, _message(exc)))
            continue
        if event is not None:
            events.append(event)
    # The same transactionId twice is the same transaction; distinct ones are numbered apart.
    events = _number_duplicates(events, lambda ev: ev.transaction_id or id(ev))
    return events, failures
