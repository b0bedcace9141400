"""V2 flat-file settlement reports of the emulated seller (Reports API 2021-06-30).

Amazon generates one ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2`` per closed settlement; it
cannot be requested. The file is tab-separated: a header line, one summary row (settlement id,
period, deposit date, total, currency), then one row per amount of every event of the group.
The settlement id is numeric and differs from the FinancialEventGroupId, as at Amazon. The full
column list is UNCONFIRMED (see the project's spapi-facts.md); these are the commonly documented
ones.
"""

import gzip
import hashlib
from datetime import timedelta

SETTLEMENT_REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
COLUMNS = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "amount-type",
    "amount-description",
    "amount",
    "fulfillment-id",
    "posted-date",
    "posted-date-time",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "promotion-id",
)
# Amazon makes the report available some time after the period closes.
REPORT_DELAY = timedelta(hours=1)
# Pre-signed document URLs expire after 5 minutes.
DOCUMENT_URL_LIFETIME = timedelta(minutes=5)

TRANSACTION_TYPES = {
    "refund": "Refund",
    "guarantee_claim": "A-to-z Guarantee Claim",
    "chargeback": "Chargeback Refund",
    "adjustment": "other-transaction",
    "service_fee": "ServiceFee",
    "retrocharge": "Retrocharge",
}
ITEM_AMOUNT_TYPES = {
    "charges": "ItemPrice",
    "fees": "ItemFees",
    "withheld": "ItemWithheldTax",
    "promotions": "Promotion",
}


def _digits(text, length):
    number = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    return str(number)[:length]


def settlement_id(group):
    return _digits("settlement:" + group.group_id, 11)


def report_id(group):
    return _digits("report:" + group.group_id, 11)


def document_id(group):
    return "amzn1.spdoc.1.4.na." + _digits("document:" + group.group_id, 30)


def _date(moment):
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _amount(value, currency):
    places = 0 if currency == "JPY" else 2
    return f"{value:.{places}f}"


def _amount_type(event, family, name):
    if family in ITEM_AMOUNT_TYPES and event.kind != "service_fee":
        return ITEM_AMOUNT_TYPES[family], name
    if family == "fees":  # service fee
        return "other-transaction", name
    if family == "adjustment":
        return ("Reserve" if name == "ReserveEvent" else "FBA Inventory Reimbursement"), name
    if family == "retrocharge":
        return "Retrocharge", name
    return family, name


def report_rows(dataset, group):
    """The amount rows of a group's events (dicts keyed by column)."""
    rows = []
    for event in dataset.group_events(group):
        base = {
            "transaction-type": TRANSACTION_TYPES.get(event.kind, event.kind),
            "order-id": event.order_id or "",
            "marketplace-name": event.market.name,
            "posted-date": event.posted.strftime("%Y-%m-%d"),
            "posted-date-time": _date(event.posted),
        }
        for family, name, amount, item in event.components():
            amount_type, description = _amount_type(event, family, name)
            row = dict(base)
            row.update(
                {
                    "amount-type": amount_type,
                    "amount-description": description or "",
                    "amount": _amount(amount, event.currency),
                    "adjustment-id": (item.order_adjustment_item_id or "") if item else "",
                    "sku": (item.sku or "") if item else (event.sku or ""),
                    "quantity-purchased": str(item.quantity or "") if item else "",
                }
            )
            rows.append(row)
    rows += [dict(r) for r in dataset.report_extra_rows.get(group.group_id, ())]
    return rows


def render_settlement_report(dataset, group):
    """The flat file (str) of a closed group."""
    cur = group.currency
    rows = report_rows(dataset, group)
    total = dataset.group_total(group) + dataset.report_total_delta.get(group.group_id, 0)
    sid = settlement_id(group)
    lines = ["\t".join(COLUMNS)]
    summary = {
        "settlement-id": sid,
        "settlement-start-date": _date(group.start),
        "settlement-end-date": _date(group.end),
        "deposit-date": _date(group.end),
        "total-amount": _amount(total, cur),
        "currency": cur,
    }
    lines.append("\t".join(summary.get(c, "") for c in COLUMNS))
    for row in rows:
        row = {**row, "settlement-id": sid}
        lines.append("\t".join(str(row.get(c, "")) for c in COLUMNS))
    return "\n".join(lines) + "\n"


def report_entry(dataset, group):
    """The ``Report`` object getReports lists for a closed group."""
    markets = sorted(
        {ev.market.marketplace_id for ev in dataset.group_events(group)}
        or {m.marketplace_id for m in dataset.markets_of(group.currency)}
    )
    created = group.end + REPORT_DELAY
    return {
        "reportId": report_id(group),
        "reportType": SETTLEMENT_REPORT_TYPE,
        "marketplaceIds": markets,
        "dataStartTime": group.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dataEndTime": group.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "createdTime": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "processingStatus": "DONE",
        "processingStartTime": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "processingEndTime": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reportDocumentId": document_id(group),
    }


def available_reports(dataset, now):
    """Reports of the groups closed (and reported) at ``now``, oldest first."""
    return [
        (group, report_entry(dataset, group))
        for group in dataset.groups
        if group.is_closed(now) and group.end + REPORT_DELAY <= now
    ]


def gzip_document(text):
    return gzip.compress(text.encode("utf-8"), mtime=0)
