"""Amazon's returns and reimbursements reports (Reports API 2021-06-30): tab-separated files →
typed rows, Amazon's return reason codes → a short list of reasons, and who damaged a unit.

Three report types, columns as Amazon's report attribute pages list them:

- ``GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA`` (FBA customer returns, "FBA Customer
  Concessions reports attributes");
- ``GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE`` (seller-fulfilled returns, "Returns reports
  attributes"; up to 60 days of data per request);
- ``GET_FBA_REIMBURSEMENTS_DATA`` (FBA reimbursements, "FBA Payments reports attributes").

A file whose header misses a required column is refused whole (:class:`ReportError`); a row
that cannot be read is named by its line number (:class:`RowError`) and the others are kept.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

FBA_RETURNS = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"
MERCHANT_RETURNS = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
REIMBURSEMENTS = "GET_FBA_REIMBURSEMENTS_DATA"
REPORT_TYPES = (FBA_RETURNS, MERCHANT_RETURNS, REIMBURSEMENTS)

FBA_RETURN_COLUMNS = (
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
MERCHANT_RETURN_COLUMNS = (
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
    FBA_RETURNS: FBA_RETURN_COLUMNS,
    MERCHANT_RETURNS: MERCHANT_RETURN_COLUMNS,
    REIMBURSEMENTS: REIMBURSEMENT_COLUMNS,
}
# Columns without which no row of the file can be read.
REQUIRED = {
    FBA_RETURNS: ("return-date", "order-id", "sku", "quantity"),
    MERCHANT_RETURNS: ("Order ID", "Return request date", "Merchant SKU", "Return quantity"),
    REIMBURSEMENTS: ("approval-date", "reimbursement-id", "currency-unit", "amount-total"),
}
# The widest data range asked in one report: below every documented limit (60 days for the
# flat-file returns report).
MAX_RANGE = timedelta(days=30)

# The short list of reasons (selection values of amazon.sp.return.reason).
REASON_SELECTION = (
    ("changed_mind", "Customer changed their mind"),
    ("defective", "Defective or poor quality"),
    ("damaged_carrier", "Damaged by the carrier"),
    ("damaged_warehouse", "Damaged in Amazon's warehouse"),
    ("wrong_item", "Wrong item sent"),
    ("not_as_described", "Not as described"),
    ("late", "Arrived late"),
    ("atoz", "A-to-z Guarantee claim"),
    ("chargeback", "Chargeback"),
    ("other", "Other"),
)

# Amazon's return reason codes (FBA report ``reason``; the seller-fulfilled report writes some
# with a ``CR-`` prefix) → reason.
REASONS = {
    "UNWANTED_ITEM": "changed_mind",
    "NO_REASON_GIVEN": "changed_mind",
    "FOUND_BETTER_PRICE": "changed_mind",
    "ORDERED_WRONG_ITEM": "changed_mind",
    "UNAUTHORIZED_PURCHASE": "changed_mind",
    "NOT_COMPATIBLE": "changed_mind",
    "PART_NOT_COMPATIBLE": "changed_mind",
    "EXCESSIVE_INSTALLATION": "changed_mind",
    "APPAREL_TOO_SMALL": "changed_mind",
    "APPAREL_TOO_LARGE": "changed_mind",
    "APPAREL_STYLE": "changed_mind",
    "DID_NOT_LIKE_FABRIC": "changed_mind",
    "DID_NOT_LIKE_COLOR": "changed_mind",
    "AMZ-PG-APP-TOO-SMALL": "changed_mind",
    "AMZ-PG-APP-TOO-LARGE": "changed_mind",
    "AMZ-PG-APP-STYLE": "changed_mind",
    "DEFECTIVE": "defective",
    "QUALITY_UNACCEPTABLE": "defective",
    "MISSING_PARTS": "defective",
    "AMZ-PG-DEFECTIVE": "defective",
    "DAMAGED_BY_CARRIER": "damaged_carrier",
    "DAMAGED_BY_FC": "damaged_warehouse",
    "SWITCHEROO": "wrong_item",
    "EXTRA_ITEM": "wrong_item",
    "WRONG_ITEM": "wrong_item",
    "NOT_AS_DESCRIBED": "not_as_described",
    "AMZ-PG-BAD-DESC": "not_as_described",
    "MISSED_ESTIMATED_DELIVERY": "late",
}


def reason_of(code):
    """The short reason of Amazon's ``code`` (``other`` when unknown or empty: the code itself
    stays on the return)."""
    text = (code or "").strip().upper()
    if text.startswith("CR-"):
        text = text[3:]
    return REASONS.get(text, "other")


_CARRIER = {"CARRIERDAMAGED"}
_WAREHOUSE = {"DAMAGED", "WAREHOUSEDAMAGED", "FULFILLERDAMAGED", "DISTRIBUTORDAMAGED"}


def damaged_by(disposition):
    """``"carrier"`` / ``"warehouse"`` when Amazon's disposition says who damaged the unit,
    else None (sellable, customer damaged, defective, unknown)."""
    text = re.sub("[^A-Z]", "", (disposition or "").upper())
    if text in _CARRIER:
        return "carrier"
    if text in _WAREHOUSE:
        return "warehouse"
    return None


class ReportError(ValueError):
    """The whole file cannot be read (not a report of this type)."""


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class ReturnRow:
    line: int
    source: str  # fba | merchant
    order_id: str
    sku: str
    quantity: int
    return_date: datetime
    asin: str = ""
    fnsku: str = ""
    product_name: str = ""
    fulfillment_center: str = ""
    disposition: str = ""
    reason_code: str = ""
    status: str = ""
    license_plate: str = ""
    customer_comments: str = ""
    rma_id: str = ""
    atoz: bool = False
    raw: dict = field(default_factory=dict)

    @property
    def key(self):
        if self.source == "fba":
            if self.license_plate:
                parts = ("fba", self.order_id, self.sku, self.license_plate)
            else:
                parts = (
                    "fba",
                    self.order_id,
                    self.sku,
                    self.fnsku,
                    self.return_date.isoformat(),
                    self.quantity,
                    self.fulfillment_center,
                )
        elif self.rma_id:
            parts = ("merchant", self.order_id, self.rma_id, self.sku)
        else:
            parts = ("merchant", self.order_id, self.sku, self.return_date.isoformat())
        return "|".join(str(p) for p in parts)


@dataclass
class ReimbursementRow:
    line: int
    reimbursement_id: str
    approval_date: datetime
    currency: str
    amount_total: Decimal
    amount_per_unit: Decimal | None = None
    case_id: str = ""
    order_id: str = ""
    reason: str = ""
    sku: str = ""
    fnsku: str = ""
    asin: str = ""
    product_name: str = ""
    condition: str = ""
    quantity_cash: int = 0
    quantity_inventory: int = 0
    quantity_total: int = 0
    original_reimbursement_id: str = ""
    original_reimbursement_type: str = ""
    raw: dict = field(default_factory=dict)

    @property
    def key(self):
        parts = (
            self.reimbursement_id,
            self.sku,
            self.fnsku,
            self.condition,
            self.original_reimbursement_id,
        )
        return "|".join(parts)


@dataclass
class ParsedReport:
    report_type: str
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)


def decode(content):
    """Report bytes → text: UTF-8 (with or without BOM), else Windows-1252 (EU flat files)."""
    if isinstance(content, str):
        return content
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


_ZONES = {
    "UTC": 0,
    "GMT": 0,
    "PST": -8,
    "PDT": -7,
    "MST": -7,
    "MDT": -6,
    "CST": -6,
    "CDT": -5,
    "EST": -5,
    "EDT": -4,
    "BST": 1,
    "CET": 1,
    "CEST": 2,
    "JST": 9,
}
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%d-%b-%Y", "%b %d, %Y", "%Y/%m/%d", "%d.%m.%Y")


def parse_date(text):
    """Amazon's date ``text`` → aware UTC datetime (a date without a zone is UTC).

    :raise ValueError: when ``text`` is empty or not a date Amazon writes
    """
    value = (text or "").strip()
    if not value:
        raise ValueError("empty date")
    offset = None
    match = re.match(r"^(.*\S)\s+([A-Z]{3,4})$", value)
    if match and match.group(2) in _ZONES:
        value, offset = match.group(1), _ZONES[match.group(2)]
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
        for fmt in _FORMATS:
            try:
                moment = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
        if moment is None:
            raise ValueError(f"unreadable date {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone(timedelta(hours=offset or 0)))
    return moment.astimezone(UTC)


def parse_amount(text):
    """Amazon's amount ``text`` → Decimal (``1,234.56``, ``1.234,56`` and ``12,50`` too);
    None when empty.

    :raise ValueError: when it is not a number
    """
    value = (text or "").strip().replace(" ", "")
    if not value:
        return None
    if "," in value and "." in value:
        if value.rfind(",") > value.rfind("."):
            value = value.replace(".", "").replace(",", ".")
        else:
            value = value.replace(",", "")
    elif "," in value:
        value = value.replace(",", ".")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"unreadable amount {text!r}") from None
    if not amount.is_finite():
        raise ValueError(f"unreadable amount {text!r}")
    return amount


def _quantity(text, name, required=True):
    value = (text or "").strip()
    if not value:
        if required:
            raise ValueError(f"{name} is empty")
        return 0
    try:
        return int(Decimal(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{name} {text!r} is not a number") from None


def _count(row, name):
    return _quantity(row.get(name), name, required=False)


def _fba_return(line, row):
    return ReturnRow(
        line=line,
        source="fba",
        order_id=row["order-id"],
        sku=row["sku"],
        quantity=_quantity(row["quantity"], "quantity"),
        return_date=parse_date(row["return-date"]),
        asin=row.get("asin", ""),
        fnsku=row.get("fnsku", ""),
        product_name=row.get("product-name", ""),
        fulfillment_center=row.get("fulfillment-center-id", ""),
        disposition=row.get("detailed-disposition", ""),
        reason_code=row.get("reason", ""),
        status=row.get("status", ""),
        license_plate=row.get("license-plate-number", ""),
        customer_comments=row.get("customer-comments", ""),
        raw=row,
    )


def _merchant_return(line, row):
    return ReturnRow(
        line=line,
        source="merchant",
        order_id=row["Order ID"],
        sku=row["Merchant SKU"],
        quantity=_quantity(row["Return quantity"], "Return quantity"),
        return_date=parse_date(row["Return request date"]),
        asin=row.get("ASIN", ""),
        product_name=row.get("Item Name", ""),
        reason_code=row.get("Return Reason", ""),
        status=row.get("Return request status", ""),
        rma_id=row.get("Amazon RMA ID", ""),
        atoz=row.get("A-to-Z Claim", "").strip().upper() in ("Y", "YES", "TRUE"),
        raw=row,
    )


def _reimbursement(line, row):
    total = parse_amount(row["amount-total"])
    if total is None:
        raise ValueError("amount-total is empty")
    return ReimbursementRow(
        line=line,
        reimbursement_id=row["reimbursement-id"],
        approval_date=parse_date(row["approval-date"]),
        currency=row["currency-unit"].strip().upper(),
        amount_total=total,
        amount_per_unit=parse_amount(row.get("amount-per-unit")),
        case_id=row.get("case-id", ""),
        order_id=row.get("amazon-order-id", ""),
        reason=row.get("reason", ""),
        sku=row.get("sku", ""),
        fnsku=row.get("fnsku", ""),
        asin=row.get("asin", ""),
        product_name=row.get("product-name", ""),
        condition=row.get("condition", ""),
        quantity_cash=_count(row, "quantity-reimbursed-cash"),
        quantity_inventory=_count(row, "quantity-reimbursed-inventory"),
        quantity_total=_count(row, "quantity-reimbursed-total"),
        original_reimbursement_id=row.get("original-reimbursement-id", ""),
        original_reimbursement_type=row.get("original-reimbursement-type", ""),
        raw=row,
    )


_BUILDERS = {FBA_RETURNS: _fba_return, MERCHANT_RETURNS: _merchant_return}
_BUILDERS[REIMBURSEMENTS] = _reimbursement


def parse_report(report_type, content):
    """The rows of a returns or reimbursements report file (bytes or text).

    Rows whose required values are empty or unreadable become :class:`RowError` s naming their
    line (the header is line 1); a row repeating a key already read in the file is kept once.

    :raise ReportError: unknown report type, empty file, or a required column missing
    """
    if report_type not in COLUMNS:
        raise ReportError(f"unknown report type {report_type!r}")
    lines = decode(content).splitlines()
    if not lines or not lines[0].strip():
        raise ReportError("the file is empty")
    header = [h.strip() for h in lines[0].split("\t")]
    missing = [c for c in REQUIRED[report_type] if c not in header]
    if missing:
        raise ReportError("columns missing: " + ", ".join(missing))
    build = _BUILDERS[report_type]
    result = ParsedReport(report_type)
    seen = set()
    for number, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        values = text.split("\t")
        if len(values) > len(header):
            result.errors.append(
                RowError(number, f"{len(values)} values for {len(header)} columns")
            )
            continue
        row = {name: value.strip() for name, value in zip(header, values, strict=False)}
        empty = [c for c in REQUIRED[report_type] if not row.get(c)]
        if empty:
            result.errors.append(RowError(number, "empty: " + ", ".join(empty)))
            continue
        try:
            parsed = build(number, row)
        except ValueError as exc:
            result.errors.append(RowError(number, str(exc)))
            continue
        if parsed.key in seen:
            continue
        seen.add(parsed.key)
        result.rows.append(parsed)
    return result
