"""Returns and reimbursements reports of the emulated seller (Reports API 2021-06-30).

Unlike settlement reports, these are requested: ``createReport`` (report type, marketplaces,
``dataStartTime``/``dataEndTime``) answers a ``reportId``; ``getReport`` shows it ``DONE``
with its ``reportDocumentId`` (the emulator builds it at once; Amazon takes minutes);
``getReportDocument`` gives a pre-signed URL to the GZIP tab-separated file. The columns are
those of Amazon's report attribute pages (``domain/returns.py`` lists them):

- ``GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA``: one row per unit an FBA customer returned,
  made from the dataset's refunds of FBA items (``return-date`` a day or two before the refund
  was posted; seeded reason code, detailed disposition, status and license plate);
- ``GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE``: the same for seller-fulfilled (``MFN``) items;
- ``GET_FBA_REIMBURSEMENTS_DATA``: one row per SKU of the dataset's FBA reimbursement
  adjustments (approval date = posted date, Amazon's reimbursement reason of the type).

Rows fall in a report when their date is in ``[dataStartTime, dataEndTime)`` and their
marketplace was asked. ``dataset.returns_report_extra_lines`` (report type → list of raw
lines), when a test sets it, is appended to every file of that type (malformed rows).
"""

from datetime import datetime, timedelta

from .common import MARKETPLACES, MARKETPLACES_BY_ID, alnum, digest, digits, iso, unit
from .v2024 import REIMBURSEMENT_TYPES

FBA_RETURNS = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"
MERCHANT_RETURNS = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
REIMBURSEMENTS = "GET_FBA_REIMBURSEMENTS_DATA"
REPORT_TYPES = (FBA_RETURNS, MERCHANT_RETURNS, REIMBURSEMENTS)

FBA_COLUMNS = (
    "return-date",
    "order-id",
    "sku",
    "asin",
    "fnsku",
    "product-name",
    "quantity",
    "fulfillment-center-id",
    "detailed-disposition",
    "reason",
    "status",
    "license-plate-number",
    "customer-comments",
)
MERCHANT_COLUMNS = (
    "Order ID",
    "Order date",
    "Return request date",
    "Return request status",
    "Amazon RMA ID",
    "Merchant RMA ID",
    "Label type",
    "Label cost",
    "Currency code",
    "Return carrier",
    "Tracking ID",
    "Label to be paid by",
    "A-to-Z Claim",
    "Is prime",
    "ASIN",
    "Merchant SKU",
    "Item Name",
    "Return quantity",
    "Return Reason",
    "In policy",
    "Return type",
    "Resolution",
    "Invoice number",
    "Return delivery date",
    "Order Amount",
    "Order quantity",
    "SafeT Action reason",
    "SafeT claim id",
    "SafeT claim state",
    "SafeT claim creation time",
    "SafeT claim reimbursement amount",
    "Refunded Amount",
)
REIMBURSEMENT_COLUMNS = (
    "approval-date",
    "reimbursement-id",
    "case-id",
    "amazon-order-id",
    "reason",
    "sku",
    "fnsku",
    "asin",
    "product-name",
    "condition",
    "currency-unit",
    "amount-per-unit",
    "amount-total",
    "quantity-reimbursed-cash",
    "quantity-reimbursed-inventory",
    "quantity-reimbursed-total",
    "original-reimbursement-id",
    "original-reimbursement-type",
)
COLUMNS = {
    FBA_RETURNS: FBA_COLUMNS,
    MERCHANT_RETURNS: MERCHANT_COLUMNS,
    REIMBURSEMENTS: REIMBURSEMENT_COLUMNS,
}

# Seeded choices: (reason code, detailed disposition, status)
RETURN_CASES = (
    ("UNWANTED_ITEM", "SELLABLE", "Unit returned to inventory"),
    ("DEFECTIVE", "DEFECTIVE", "Unit returned to inventory"),
    ("DAMAGED_BY_CARRIER", "CARRIER_DAMAGED", "Unit returned to inventory"),
    ("DAMAGED_BY_FC", "DAMAGED", "Reimbursed"),
    ("SWITCHEROO", "CUSTOMER_DAMAGED", "Unit returned to inventory"),
    ("NOT_AS_DESCRIBED", "SELLABLE", "Unit returned to inventory"),
    ("MISSED_ESTIMATED_DELIVERY", "SELLABLE", "Unit returned to inventory"),
    ("QUALITY_UNACCEPTABLE", "DEFECTIVE", "Unit returned to inventory"),
)
COMMENTS = ("", "", "Stopped working after two days", "Not what I expected", "")
FULFILLMENT_CENTERS = {
    "na": ("PHX7", "ONT8", "YYZ4"),
    "eu": ("FRA3", "LTN1", "MAD4"),
    "fe": ("NRT5",),
}
# Adjustment type → the reimbursement report's reason
REIMBURSEMENT_REASONS = {
    "WAREHOUSE_DAMAGE": "Damaged_Warehouse",
    "WAREHOUSE_LOST": "Lost_Warehouse",
    "CustomerReturn": "CustomerReturn",
    "FBAInventoryReimbursement": "Lost_Warehouse",
    "MISSING_FROM_INBOUND": "Lost_Inbound",
    "REVERSAL_REIMBURSEMENT": "Reimbursement_Reversal",
    "COMPENSATED_CLAWBACK": "CustomerServiceIssue",
    "FREE_REPLACEMENT_REFUND_ITEMS": "FreeReplacementRefundItems",
    "INCORRECT_FEES_ITEMS": "Fee_Correction",
    "INCORRECT_FEES_NON_ITEMIZED": "Fee_Correction",
    "REMOVAL_ORDER_LOST": "RemovalOrderLost",
}


def _date(moment):
    """Amazon's ISO date with its offset, as the FBA flat files write it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _amount(value, currency):
    places = 0 if currency == "JPY" else 2
    return f"{value:.{places}f}"


def return_rows(dataset, report_type, markets, start, end):
    """The return rows (dicts by column) of the refunds whose return date is in the range."""
    network = "MFN" if report_type == MERCHANT_RETURNS else "AFN"
    rows = []
    for event in dataset.events:
        if (
            event.kind != "refund"
            or not event.returned
            or not event.order_id
            or event.marketplace not in markets
        ):
            continue
        market = MARKETPLACES[event.marketplace]
        for index, item in enumerate(event.items):
            if not item.sku or item.fulfillment_network != network:
                continue
            seed = (dataset.seed, event.transaction_id, index)
            returned = event.posted - timedelta(hours=12 + int(unit(*seed, "days") * 36))
            if not start <= returned < end:
                continue
            code, disposition, status = RETURN_CASES[int(unit(*seed, "case") * len(RETURN_CASES))]
            quantity = str(abs(item.quantity or 1))
            if report_type == MERCHANT_RETURNS:
                rows.append(
                    {
                        "Order ID": event.order_id,
                        "Order date": (returned - timedelta(days=9)).strftime("%d-%b-%Y"),
                        "Return request date": returned.strftime("%d-%b-%Y"),
                        "Return request status": "Approved",
                        "Amazon RMA ID": "D" + alnum(digest("rma", *seed), 9),
                        "Label type": "AmazonPrePaidLabel",
                        "Currency code": market.currency,
                        "A-to-Z Claim": "N",
                        "Is prime": "N",
                        "ASIN": item.asin or "",
                        "Merchant SKU": item.sku,
                        "Item Name": item.description or "",
                        "Return quantity": quantity,
                        "Return Reason": "CR-" + code,
                        "In policy": "Y",
                        "Return type": "C-Returns",
                        "Resolution": "StandardRefund",
                        "Order quantity": quantity,
                    }
                )
                continue
            centers = FULFILLMENT_CENTERS[market.region]
            rows.append(
                {
                    "return-date": _date(returned),
                    "order-id": event.order_id,
                    "sku": item.sku,
                    "asin": item.asin or "",
                    "fnsku": item.fnsku or "X00" + alnum(digest("fnsku", item.sku), 7),
                    "product-name": item.description or "",
                    "quantity": quantity,
                    "fulfillment-center-id": centers[int(unit(*seed, "fc") * len(centers))],
                    "detailed-disposition": disposition,
                    "reason": code,
                    "status": status,
                    "license-plate-number": "LPN" + alnum(digest("lpn", *seed), 10),
                    "customer-comments": COMMENTS[int(unit(*seed, "comment") * len(COMMENTS))],
                }
            )
    return rows


def reimbursement_rows(dataset, markets, start, end):
    """The reimbursement rows of the FBA reimbursement adjustments approved in the range."""
    rows = []
    for event in dataset.events:
        if (
            event.kind != "adjustment"
            or event.adjustment_type not in REIMBURSEMENT_TYPES
            or event.marketplace not in markets
            or not start <= event.posted < end
        ):
            continue
        reimbursement_id = digits(digest("reimbursement", event.transaction_id), 10)
        reason = REIMBURSEMENT_REASONS.get(event.adjustment_type, "General_Adjustment")
        for item in event.items:
            quantity = str(item.quantity or 0)
            total = item.amount or 0
            per_unit = item.per_unit if item.per_unit is not None else total
            reversal = event.adjustment_type == "REVERSAL_REIMBURSEMENT"
            rows.append(
                {
                    "approval-date": _date(event.posted),
                    "reimbursement-id": reimbursement_id,
                    "case-id": "",
                    "amazon-order-id": event.order_id or event.reimbursed_order_id or "",
                    "reason": reason,
                    "sku": item.sku or "",
                    "fnsku": item.fnsku or "",
                    "asin": item.asin or "",
                    "product-name": item.description or "",
                    "condition": "NewItem",
                    "currency-unit": event.currency,
                    "amount-per-unit": _amount(per_unit, event.currency),
                    "amount-total": _amount(total, event.currency),
                    "quantity-reimbursed-cash": quantity,
                    "quantity-reimbursed-inventory": "0",
                    "quantity-reimbursed-total": quantity,
                    "original-reimbursement-id": (
                        digits(digest("reimbursement", "original", event.transaction_id), 10)
                        if reversal
                        else ""
                    ),
                    "original-reimbursement-type": "Lost_Warehouse" if reversal else "",
                }
            )
    return rows


def render(dataset, request):
    """The tab-separated file (str) of a requested report."""
    report_type = request["reportType"]
    markets = {
        MARKETPLACES_BY_ID[mid].code
        for mid in request["marketplaceIds"]
        if mid in MARKETPLACES_BY_ID
    }
    start = datetime.fromisoformat(request["start"])
    end = datetime.fromisoformat(request["end"])
    if report_type == REIMBURSEMENTS:
        rows = reimbursement_rows(dataset, markets, start, end)
    else:
        rows = return_rows(dataset, report_type, markets, start, end)
    columns = COLUMNS[report_type]
    lines = ["\t".join(columns)]
    lines += ["\t".join(str(row.get(c, "")) for c in columns) for row in rows]
    lines += list(getattr(dataset, "returns_report_extra_lines", {}).get(report_type, ()))
    return "\n".join(lines) + "\n"


def requests_of(dataset):
    """The reports requested from ``dataset``'s seller: report id → request."""
    if not hasattr(dataset, "requested_reports"):
        dataset.requested_reports = {}
    return dataset.requested_reports


def create(dataset, body, now, parse_date, invalid):
    """``createReport`` of a returns or reimbursements report: the new ``reportId``."""
    marketplace_ids = list(body.get("marketplaceIds") or [])
    if not marketplace_ids:
        raise invalid("marketplaceIds is required.")
    end = parse_date(body["dataEndTime"], "dataEndTime") if body.get("dataEndTime") else now
    if body.get("dataStartTime"):
        start = parse_date(body["dataStartTime"], "dataStartTime")
    else:
        start = end - timedelta(days=30)
    if start >= end:
        raise invalid("Invalid dataStartTime.", "dataStartTime must be before dataEndTime.")
    requested = requests_of(dataset)
    report_id = digits(digest("requested", dataset.seller_id, len(requested), iso(now)), 11)
    requested[report_id] = {
        "reportType": body["reportType"],
        "marketplaceIds": marketplace_ids,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "created": iso(now),
        "reportDocumentId": "amzn1.spdoc.1.4.na." + digits(digest("requested-doc", report_id), 30),
    }
    return report_id


def entry(report_id, request):
    """The ``Report`` object ``getReport`` answers (done at once)."""
    return {
        "reportId": report_id,
        "reportType": request["reportType"],
        "marketplaceIds": request["marketplaceIds"],
        "dataStartTime": iso(datetime.fromisoformat(request["start"])),
        "dataEndTime": iso(datetime.fromisoformat(request["end"])),
        "createdTime": request["created"],
        "processingStatus": "DONE",
        "processingStartTime": request["created"],
        "processingEndTime": request["created"],
        "reportDocumentId": request["reportDocumentId"],
    }


def find(dataset, report_id=None, document_id=None):
    """``(report id, request)`` of a requested report, or None."""
    for rid, request in requests_of(dataset).items():
        if rid == report_id or request["reportDocumentId"] == document_id:
            return rid, request
    return None
