"""Finances v0 ``FinancialEvents`` → :class:`NormalizedEvent` (pure Python, no Odoo).

See ``domain.normalize`` for the shape both readers share.
"""

import logging
import re
from datetime import timezone

from .identity import _number_duplicates, digest_key, fingerprint
from .lines import _as_list, _Lines, _text
from .model import SOURCE_V0, MissingPostedDate, NormalizationError, NormalizedEvent, RawFailure
from .values import _DATA_ERRORS, _get, _message, parse_date, parse_quantity, raw_sha256
from .vocabulary import (
    ADJUSTMENT,
    CHARGE,
    FEE,
    PROMOTION,
    RETROCHARGE,
    TAX_WITHHELD,
    V0_ADJUSTMENT_LIST,
    V0_OTHER_LISTS,
    V0_RETROCHARGE_LIST,
    V0_SALES_LISTS,
    V0_SERVICE_FEE_LIST,
    V0_SHIPMENT_LISTS,
)

_logger = logging.getLogger(__name__)


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


# The money lists of a ShipmentEvent: (charges, fees, withheld tax, promotions) of an item and
# (charges, shipment fees, order fees) of the order, as a refund (adjustment) or a sale names them.
ADJUSTMENT_ITEM_LISTS = (
    "ItemChargeAdjustmentList",
    "ItemFeeAdjustmentList",
    "ItemTaxWithheldList",
    "PromotionAdjustmentList",
)
ADJUSTMENT_ORDER_LISTS = (
    "OrderChargeAdjustmentList",
    "ShipmentFeeAdjustmentList",
    "OrderFeeAdjustmentList",
)
SALE_ITEM_LISTS = ("ItemChargeList", "ItemFeeList", "ItemTaxWithheldList", "PromotionList")
SALE_ORDER_LISTS = ("OrderChargeList", "ShipmentFeeList", "OrderFeeList")


def _item_lines(lines, item, names):
    """The money of one ShipmentItem, read from its ``names`` lists (charges, fees, withheld
    tax, promotions), each line carrying the item's SKU, quantity and adjustment item id."""
    charges, fees, withheld, promotions = names
    extra = {
        "sku": _text(item.get("SellerSKU")),
        "quantity": parse_quantity(item.get("QuantityShipped")),
        "order_adjustment_item_id": _text(item.get("OrderAdjustmentItemId")),
    }
    _charges(lines, item.get(charges), charges, **extra)
    _fees(lines, item.get(fees), fees, **extra)
    _withheld(lines, item.get(withheld), withheld, **extra)
    _promotions(lines, item.get(promotions), promotions, **extra)


def _order_lines(lines, raw, names):
    """The order-level money of a ShipmentEvent, read from its ``names`` lists (charges,
    shipment fees, order fees)."""
    charges, shipment_fees, order_fees = names
    _charges(lines, raw.get(charges), charges)
    _fees(lines, raw.get(shipment_fees), shipment_fees)
    _fees(lines, raw.get(order_fees), order_fees)


def _v0_shipment_event(raw, event_type, list_name):
    lines = _Lines()
    # A chargeback repeats the sale it takes back in the sale lists (Amazon's own example, A01):
    # only its adjustment lists are its money. Elsewhere money there would be lost: refused.
    check = event_type != "chargeback"
    if check:
        _reject_sale_amounts(lines, raw, _V0_SALE_LISTS, list_name)
        for item in _as_list(raw.get("ShipmentItemList"), "ShipmentItemList"):
            _reject_sale_amounts(lines, item, _V0_SALE_ITEM_LISTS, "ShipmentItemList")
    for item in _as_list(raw.get("ShipmentItemAdjustmentList"), "ShipmentItemAdjustmentList"):
        if check:
            _reject_sale_amounts(lines, item, _V0_SALE_ITEM_LISTS, "ShipmentItemAdjustmentList")
        _item_lines(lines, item, ADJUSTMENT_ITEM_LISTS)
    _order_lines(lines, raw, ADJUSTMENT_ORDER_LISTS)
    return {
        "event_type": event_type,
        "amazon_order_id": _text(raw.get("AmazonOrderId")),
        "marketplace_name": _text(raw.get("MarketplaceName")),
        "posted_date": parse_date(raw.get("PostedDate")),
        "lines": lines,
        "description": None,
    }


def _v0_adjustment_event(raw, _event_type, _list_name):
    """An AdjustmentEvent. Its ``AdjustmentAmount`` or its items' ``TotalAmount`` may be missing
    (R03 has items only, and no ``PostedDate``: dated like a service fee)."""
    adjustment_type = _text(raw.get("AdjustmentType"))
    if not adjustment_type:
        raise NormalizationError("AdjustmentEvent without AdjustmentType")
    lines = _Lines()
    amount = raw.get("AdjustmentAmount")
    total = lines.money(amount, "AdjustmentAmount") if amount is not None else None
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
        if total is not None and lines.total() != total:
            raise NormalizationError(
                f"AdjustmentItemList TotalAmounts add up to {lines.total()}, "
                f"AdjustmentAmount is {total}"
            )
    elif total is not None:
        lines.add(ADJUSTMENT, adjustment_type, amount, "AdjustmentAmount")
    else:
        raise NormalizationError(
            "AdjustmentEvent without AdjustmentAmount and without item TotalAmounts"
        )
    return {
        "event_type": "adjustment",
        "amazon_order_id": None,
        "marketplace_name": None,
        "posted_date": _optional_date(raw),
        "lines": lines,
        "description": adjustment_type,
    }


def _v0_service_fee_event(raw, _event_type, _list_name):
    lines = _Lines()
    _fees(lines, raw.get("FeeList"), "FeeList", sku=_text(raw.get("SellerSKU")))
    if not lines.lines:
        # R02, R04: real service fee events without FeeList carry no money: nothing to book.
        return None
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


def _optional_date(raw, name="PostedDate"):
    value = _get(raw, name)
    return parse_date(value, name) if value else None


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


def _fill(template, context, default):
    """``Fee/{FeeType}`` with the field of ``context`` (case-insensitive), else ``default``."""

    def field(match):
        return _text(_get(context, match.group(1))) or default

    return re.sub(r"{(\w+)}", field, template)


def _strings(obj):
    return {key: value for key, value in obj.items() if isinstance(value, str)}


def _component_money(component):
    for name in ("FeeAmount", "ChargeAmount", "PromotionAmount", "Amount"):
        value = _get(component, name)
        if value is not None:
            return value
    raise NormalizationError(f"component without amount: {sorted(component)}")


def _money_field(lines, obj, field, template, context, default, **extra):
    """The lines of one money field of a listed event (see :class:`V0List`)."""
    value = _get(obj, field)
    if value is None:
        return
    if _is_money(value):
        category, type_name = _fill(template, context, default).split("/", 1)
        lines.add(category, type_name, value, field, **extra)
        return
    components = [value] if isinstance(value, dict) else _as_list(value, field)
    for component in components:
        if not isinstance(component, dict):
            raise NormalizationError(f"{field} is not an amount")
        if "TaxesWithheld" in component:
            _money_field(lines, component, "TaxesWithheld", template, context, default, **extra)
            continue
        own = {**context, **_strings(component)}
        category, type_name = _fill(template, own, default).split("/", 1)
        lines.add(category, type_name, _component_money(component), field, **extra)


def _v0_listed_event(raw, _event_type, list_name):
    """An event of one of the other lists of financesV0.json (:data:`V0_OTHER_LISTS`)."""
    spec = V0_OTHER_LISTS[list_name]
    lines = _Lines()
    context = _strings(raw)
    sku = _text(_get(raw, spec.sku)) if spec.sku else None
    for field, template in spec.money:
        _money_field(lines, raw, field, template, context, spec.category, sku=sku)
    if spec.items:
        list_field, pairs, sku_field, quantity_field = spec.items
        for item in _as_list(_get(raw, list_field), list_field):
            extra = {
                "sku": _text(_get(item, sku_field)),
                "quantity": parse_quantity(_get(item, quantity_field)),
            }
            own = {**context, **_strings(item)}
            for field, template in pairs:
                _money_field(lines, item, field, template, own, spec.category, **extra)
    total = _get(raw, spec.total) if spec.total else None
    if total is not None:
        amount = lines.money(total, spec.total)
        if not lines.lines:
            lines.add(spec.category, spec.total, total, spec.total, sku=sku)
        elif lines.total() != amount:
            raise NormalizationError(
                f"the amounts of a {list_name} event add up to {lines.total()}, "
                f"{spec.total} is {amount}"
            )
    return {
        "event_type": "other",
        "amazon_order_id": _text(_get(raw, spec.order)) if spec.order else None,
        "marketplace_name": (
            _text(_get(raw, spec.marketplace_name)) if spec.marketplace_name else None
        ),
        "marketplace_id": _text(_get(raw, spec.marketplace_id)) if spec.marketplace_id else None,
        "posted_date": _optional_date(raw, spec.date),
        "lines": lines,
        "description": (_text(_get(raw, spec.description)) if spec.description else None)
        or list_name,
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
    if list_name in V0_OTHER_LISTS:
        return _v0_listed_event, "other"
    return _v0_unknown_event, "other"


def _v0_event(raw, list_name, reader, event_type, ctx):
    fields = reader(raw, event_type, list_name)
    if fields is None:
        return None
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
    marketplace_id = fields.pop("marketplace_id", None)
    if marketplace_id is None and resolver:
        marketplace_id = resolver(fields["marketplace_name"], lines.currency)
    # An undated event (a v0 service fee) is told apart from its repeats by its settlement.
    undated_group = ctx["group_id"] if posted is None else None
    return NormalizedEvent(
        key=digest_key(kind, order_id, posted, lines.lines, group_id=undated_group),
        fingerprint=fingerprint(
            event_type, order_id, posted, lines.lines, total, group_id=undated_group
        ),
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
    (v0 ``ServiceFeeEvent``, some ``AdjustmentEvent``, lists without a date field); their key and
    fingerprint do not include that date.

    The sales lists (:data:`V0_SALES_LISTS`) become ``"sale"`` events, read by
    ``domain.sales.read_v0_sales`` after the other lists (its failures are added); every other
    list of financesV0.json becomes ``"other"`` events (:data:`V0_OTHER_LISTS`), and lists of an
    unknown name too when their total can be determined, else failures. A service fee event
    without ``FeeList`` carries no money and gives no event.
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
            if list_name in V0_SALES_LISTS:
                continue  # read by domain.sales below
            reader, event_type = _v0_reader(list_name)
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
                    if event is None:
                        continue
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
    # domain.sales reads through this module's item readers: imported here, not at the top.
    from .sales import read_v0_sales

    sales, sale_failures = read_v0_sales(pages, marketplace_resolver, group_id=group_id)
    return events + sales, failures + sale_failures
