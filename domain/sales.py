"""Sales read from Amazon → :class:`NormalizedEvent` of type ``sale`` (pure Python, no Odoo).

Three sources give the same event (``doc/sales.md``):

- :func:`read_v0_sales`: the v0 sales lists (:data:`V0_SALES_LISTS`: ``ShipmentEventList`` and
  ``ShipmentSettleEventList``, both of ``ShipmentEvent`` shape);
- :func:`read_sale_transactions`: 2024-06-19 ``Shipment`` transactions
  (:data:`SALES_TRANSACTION_TYPES`), their leaves read by ``transaction_lines`` like any other
  transaction's;
- :func:`report_sales`: the ``Order`` rows of a settlement report (``domain.settlement_report``),
  one sale per order and posted date.

``normalize_v0_events`` and ``normalize_transactions`` call the first two (the import stages
sales like any event); each reader here reads sales only (the others are those readers' job).

Identity follows the other events: the key is ``txn:<transactionId>`` (2024-06-19) or a digest of
the content (v0, report); the fingerprint is the rule of order events (family, order id, posted
date to the second, net total) without the adjustment item ids, which v0 sales do not carry: a
sale read through either API, or from the report, gets the same fingerprint.
"""

import logging
from datetime import timezone
from decimal import Decimal

from .identity import _digest, _number_duplicates, digest_key
from .lines import _as_list, _Lines, _text
from .model import (
    SALE_EVENT_TYPE,
    SOURCE_REPORT,
    SOURCE_V0,
    NormalizationError,
    NormalizedEvent,
    NormalizedLine,
    RawFailure,
)
from .normalize_2024 import _related, transaction_event, transaction_lines
from .normalize_v0 import (
    SALE_ITEM_LISTS,
    SALE_ORDER_LISTS,
    _charges,
    _fees,
    _item_lines,
    _order_lines,
    _promotions,
    _withheld,
)
from .settlement_report import _records
from .settlement_report import parse_date as report_date
from .values import _DATA_ERRORS, _message, decimal_text, parse_date, raw_sha256
from .vocabulary import SALES_TRANSACTION_TYPES, V0_SALES_LISTS, name_key

_logger = logging.getLogger(__name__)

# The v0 list whose events are plain sales; the other sales list (DD+7 settle events) keeps its
# own fingerprint family until real data shows whether it repeats a ShipmentEventList sale.
V0_SALE_LIST = "ShipmentEventList"
# Money a ShipmentEvent may carry outside its sale lists. Adjustment lists belong to refunds,
# claims and chargebacks; direct payments and the cost of Amazon Points are not documented as
# part of what Amazon pays out. A sale carrying such money is refused, naming it: read from its
# sale lists only, that money would be lost.
_OUTSIDE_LISTS = {
    "OrderChargeAdjustmentList": "ChargeAmount",
    "ShipmentFeeAdjustmentList": "FeeAmount",
    "OrderFeeAdjustmentList": "FeeAmount",
    "DirectPaymentList": "DirectPaymentAmount",
}
_OUTSIDE_ITEM_LISTS = {
    "ItemChargeAdjustmentList": "ChargeAmount",
    "ItemFeeAdjustmentList": "FeeAmount",
    "PromotionAdjustmentList": "PromotionAmount",
}
_OUTSIDE_ITEM_FIELDS = ("CostOfPointsGranted", "CostOfPointsReturned")
_SALE_TRANSACTION_KEYS = frozenset(name_key(name) for name in SALES_TRANSACTION_TYPES)


def sale_fingerprint(order_id, posted_date, total, family=SALE_EVENT_TYPE):
    """The identity of a sale shared by both APIs and the settlement report: sha256 of the
    family, the order id, the posted date to the second in UTC and the net total (the parts of
    ``identity.fingerprint`` for order events, without adjustment item ids)."""
    when = posted_date.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _digest(["fp1", family, order_id or "", when, [], decimal_text(total)])


# ---------------------------------------------------------------------------------------------
# v0: ShipmentEventList, ShipmentSettleEventList
# ---------------------------------------------------------------------------------------------


def _item_money(lines, item, where):
    """``["<where><amount type> <amount>", ...]``: every amount of a ShipmentItem's lists."""
    scratch = _Lines(lines.currency)
    for name in ("ItemChargeList", "ItemChargeAdjustmentList"):
        _charges(scratch, item.get(name), name)
    for name in ("ItemFeeList", "ItemFeeAdjustmentList"):
        _fees(scratch, item.get(name), name)
    _withheld(scratch, item.get("ItemTaxWithheldList"), "ItemTaxWithheldList")
    for name in ("PromotionList", "PromotionAdjustmentList"):
        _promotions(scratch, item.get(name), name)
    lines.currency = scratch.currency
    return [f"{where}{ln.amount_type} {ln.amount}" for ln in scratch.lines if ln.amount]


def _outside_money(lines, raw):
    """``["<where> <amount>", ...]``: the money of ``raw`` outside its sale lists."""
    found = []

    def check(container, tables, where):
        for list_name, amount_key in tables.items():
            for comp in _as_list(container.get(list_name), f"{where}{list_name}"):
                amount = lines.money(comp.get(amount_key), f"{where}{list_name}")
                if amount:
                    found.append(f"{where}{list_name} {amount}")

    check(raw, _OUTSIDE_LISTS, "")
    for item in _as_list(raw.get("ShipmentItemList"), "ShipmentItemList"):
        where = f"ShipmentItemList.{_text(item.get('SellerSKU')) or '?'}."
        check(item, _OUTSIDE_ITEM_LISTS, where)
        for name in _OUTSIDE_ITEM_FIELDS:
            if item.get(name) is not None:
                amount = lines.money(item[name], f"{where}{name}")
                if amount:
                    found.append(f"{where}{name} {amount}")
    for item in _as_list(raw.get("ShipmentItemAdjustmentList"), "ShipmentItemAdjustmentList"):
        where = f"ShipmentItemAdjustmentList.{_text(item.get('SellerSKU')) or '?'}."
        found += _item_money(lines, item, where)
    return found


def _v0_sale_lines(raw):
    lines = _Lines()
    outside = _outside_money(lines, raw)
    if outside:
        raise NormalizationError(
            "a sale with money outside its sale lists: "
            + ", ".join(outside)
            + " (a sale is read from ItemChargeList, ItemFeeList, ItemTaxWithheldList, "
            "PromotionList, OrderChargeList, ShipmentFeeList and OrderFeeList; this money "
            "would be lost)"
        )
    for item in _as_list(raw.get("ShipmentItemList"), "ShipmentItemList"):
        _item_lines(lines, item, SALE_ITEM_LISTS)
    _order_lines(lines, raw, SALE_ORDER_LISTS)
    if not lines.lines:
        raise NormalizationError("sale without any amount")
    return lines


def _v0_sale(raw, list_name, marketplace_resolver, group_id):
    lines = _v0_sale_lines(raw)
    posted = parse_date(raw.get("PostedDate"))
    order_id = _text(raw.get("AmazonOrderId"))
    marketplace_name = _text(raw.get("MarketplaceName"))
    total = lines.total()
    family = SALE_EVENT_TYPE if list_name == V0_SALE_LIST else f"{SALE_EVENT_TYPE}:{list_name}"
    return NormalizedEvent(
        key=digest_key(family, order_id, posted, lines.lines),
        fingerprint=sale_fingerprint(order_id, posted, total, family),
        source_api=SOURCE_V0,
        event_type=SALE_EVENT_TYPE,
        amazon_order_id=order_id,
        marketplace_id=(
            marketplace_resolver(marketplace_name, lines.currency) if marketplace_resolver else None
        ),
        marketplace_name=marketplace_name,
        posted_date=posted,
        currency=lines.currency,
        total=total,
        lines=tuple(lines.lines),
        group_id=group_id,
        raw=raw,
        raw_sha256=raw_sha256(raw),
        source=list_name,
    )


def read_v0_sales(financial_events, marketplace_resolver=None, *, group_id=None):
    """The sales of Finances v0 ``FinancialEvents`` → (events, failures).

    ``financial_events``: one page's ``FinancialEvents`` (or its whole ``payload``), or a list of
    them; only the lists of :data:`V0_SALES_LISTS` are read. A sale's money is its sale lists'
    (charges, fees, withheld taxes, promotions of its items; order charges; shipment and order
    fees); a sale with money elsewhere, without ``PostedDate`` or without any amount is a
    failure naming why. ``marketplace_resolver`` and ``group_id`` as for ``normalize_v0_events``.
    """
    pages = financial_events if isinstance(financial_events, list) else [financial_events]
    events, failures, identities = [], [], {}
    for page in pages:
        if isinstance(page, dict) and isinstance(page.get("FinancialEvents"), dict):
            page = page["FinancialEvents"]
        if not isinstance(page, dict):
            continue  # normalize_v0_events names it
        for list_name in V0_SALES_LISTS:
            raw_list = page.get(list_name)
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
                    event = _v0_sale(raw, list_name, marketplace_resolver, group_id)
                except _DATA_ERRORS as exc:
                    _logger.info("Unreadable %s sale: %s", list_name, exc)
                    failures.append(RawFailure(list_name, raw, _message(exc)))
                    continue
                identities[id(event)] = len(identities)
                events.append(event)
    # Every v0 event is distinct in Amazon: repeats are numbered apart.
    return _number_duplicates(events, lambda ev: identities[id(ev)]), failures


# ---------------------------------------------------------------------------------------------
# 2024-06-19: Shipment transactions
# ---------------------------------------------------------------------------------------------


def is_sale_transaction(raw):
    """True for a 2024-06-19 transaction of a sales type (:data:`SALES_TRANSACTION_TYPES`)."""
    kind = _text(raw.get("transactionType")) if isinstance(raw, dict) else None
    return bool(kind) and name_key(kind) in _SALE_TRANSACTION_KEYS


def sale_transaction(raw):
    """One 2024-06-19 sale transaction → its ``sale`` event (raises on unreadable data)."""
    posted = parse_date(raw.get("postedDate"), "postedDate")
    money = _Lines()
    total = money.money(raw.get("totalAmount"), "totalAmount")
    lines = transaction_lines(raw)
    order_id = _related(raw, "ORDER_ID")
    return transaction_event(
        raw,
        SALE_EVENT_TYPE,
        posted,
        money.currency,
        total,
        lines,
        sale_fingerprint(order_id, posted, total),
    )


def read_sale_transactions(transactions):
    """The sales of Finances 2024-06-19 transactions → (events, failures).

    Only transactions of :data:`SALES_TRANSACTION_TYPES` are read (the others, and what is not
    an object, are ``normalize_transactions``' to name). Their leaves are read as
    ``transaction_lines`` reads them: from the items when they add up, else from the
    transaction-level breakdowns; a sale whose breakdowns are missing keeps its total under
    ``Other/<transactionType>`` (reviewed by name); leaves that do not add up are a failure.
    """
    events, failures = [], []
    for raw in transactions or []:
        if not is_sale_transaction(raw):
            continue
        try:
            events.append(sale_transaction(raw))
        except _DATA_ERRORS as exc:
            _logger.info("Unreadable sale %s: %s", raw.get("transactionId"), exc)
            failures.append(RawFailure(_text(raw.get("transactionType")), raw, _message(exc)))
    events = _number_duplicates(events, lambda ev: ev.transaction_id or id(ev))
    return events, failures


# ---------------------------------------------------------------------------------------------
# Settlement reports: the Order rows
# ---------------------------------------------------------------------------------------------


def report_posted_dates(content):
    """``{line number: posted date (aware, UTC) or None}`` of a settlement report file, numbered
    as ``parse_settlement_report`` numbers its rows (``ReportRow.line``)."""
    _header, records = _records(content)
    return {
        number: report_date(record.get("posted-date"), f"line {number} posted-date")
        for number, record in enumerate(records, start=2)
    }


def report_sales(report, posted_dates, *, marketplace_id=None, marketplace_name=None):
    """The sales of a parsed settlement report → (events, failures): its rows of the ``sales``
    category (``Order`` rows), one sale per order id and posted date (``posted_dates``: see
    :func:`report_posted_dates`), in the report's currency, lines keeping the report's amount
    types. A sale row without order id or date is a failure naming its line."""
    groups, failures = {}, []
    for row in report.rows:
        if row.category != "sales":
            continue
        posted = posted_dates.get(row.line)
        if not row.order_id or posted is None:
            what = "order-id" if not row.order_id else "posted-date"
            failures.append(RawFailure(SOURCE_REPORT, row, f"line {row.line}: no {what}"))
            continue
        groups.setdefault((row.order_id, posted), []).append(row)
    events = []
    for (order_id, posted), rows in groups.items():
        lines = tuple(NormalizedLine(row.amount_type, row.amount, sku=row.sku) for row in rows)
        total = sum((line.amount for line in lines), Decimal(0))
        kind = f"{SALE_EVENT_TYPE}:{report.settlement_id}"
        raw = {"settlement_id": report.settlement_id, "lines": [row.line for row in rows]}
        events.append(
            NormalizedEvent(
                key="report:" + digest_key(kind, order_id, posted, lines)[3:],
                fingerprint=sale_fingerprint(order_id, posted, total),
                source_api=SOURCE_REPORT,
                event_type=SALE_EVENT_TYPE,
                amazon_order_id=order_id,
                marketplace_id=marketplace_id,
                marketplace_name=marketplace_name,
                posted_date=posted,
                currency=report.currency,
                total=total,
                lines=lines,
                group_id=report.settlement_id,
                raw=raw,
                raw_sha256=raw_sha256(raw),
                source=rows[0].transaction_type,
            )
        )
    return events, failures
