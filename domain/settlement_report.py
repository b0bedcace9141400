"""Amazon's flat-file settlement reports: parsed, their rows mapped to the project's amount types,
and compared with the events (see doc/settlement-reports.md).

Pure: no Odoo. Tab-separated; a header line, a summary row (settlement id, period, deposit
date, total, currency), then the amount rows. Two layouts, told apart by the header:

- **V2** (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``): one amount per row, named by
  ``transaction-type``, ``amount-type`` and ``amount-description``;
- **V1** (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE``, no ``amount-type`` column; Amazon removes
  it on 2026-11-11): one column pair per kind of amount (``price-type`` / ``price-amount``,
  ``item-related-fee-type`` / ``item-related-fee-amount``...), several per row. Each filled amount
  becomes the row V2 would write (Amazon's V1 → V2 table), then is mapped like a V2 row. A file
  with money in a column that has no V2 equivalent is refused, naming the layout and the column.

Dates and amounts are read in their real forms (ISO 8601, ``01.10.2026``; ``1.234,56``). A row
no table knows becomes ``Report/<amount-type>/<amount-description>``: shown, never dropped.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from . import values
from .vocabulary import canonical_type

REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
V1_REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE"
REQUIRED_COLUMNS = ("settlement-id", "total-amount", "currency", "amount-type", "amount")
V1_REQUIRED_COLUMNS = ("settlement-id", "total-amount", "currency", "transaction-type")
V2, V1 = "V2", "V1"

# ---------------------------------------------------------------------------------------------
# The mapping of report rows to the project's amount types (doc/settlement-reports.md's table)
# ---------------------------------------------------------------------------------------------

# amount-type → the project's category; the amount-description names the type.
AMOUNT_TYPE_CATEGORIES = {
    "itemprice": "Charge",
    "itemfees": "Fee",
    "itemrelatedfees": "Fee",
    "shipmentfees": "Fee",
    "orderfees": "Fee",
    "itemwithheldtax": "TaxWithheld",
    "promotion": "Promotion",
    "fba inventory reimbursement": "Adjustment",
    "reserve": "Adjustment",
    "retrocharge": "Retrocharge",
}
# (category, amount-description) → the project's spelling, where the report names it otherwise.
TYPE_SPELLINGS = {
    ("Charge", "shipping"): "ShippingCharge",
}
# transaction-type → category, for rows whose amount-type is ``other-transaction``.
TRANSACTION_TYPE_CATEGORIES = {
    "servicefee": "Fee",
}
# ``other-transaction`` rows (V2), the V1 transaction-type of an ``other-amount``: description →
# amount type. ``Transfer/…`` names money moved between settlements (no event ever carries it).
OTHER_TRANSACTIONS = {
    "subscription fee": "Fee/Subscription",
    "storage fee": "Fee/FBAStorageFee",
    "storagerenewalbilling": "Fee/StorageRenewalBilling",
    "disposalcomplete": "Fee/FBADisposalFee",
    "removalcomplete": "Fee/FBARemovalFee",
    "current reserve amount": "Adjustment/ReserveDebit",
    "previous reserve amount balance": "Adjustment/ReserveCredit",
    "payable to amazon": "Transfer/PayableToAmazon",
    "successful charge": "Transfer/SuccessfulCharge",
    "failed charge": "Transfer/FailedCharge",
    "repayment of negative amazon balance": "Transfer/RepaymentOfNegativeBalance",
    "micro deposit": "Transfer/MicroDeposit",
}
# A fee's name as the newer layout writes it (amount-type, or an other-transaction
# description) → Amazon's FeeType. Other names are written together: "Inbound Defect Fee" →
# InboundDefectFee.
FEE_NAMES = {
    "inbound transportation fee": "FBAInboundTransportationFee",
    "inbound transportation program fee": "FBAInboundTransportationProgramFee",
    "fba storage fee": "FBAStorageFee",
    "fba long term storage fee": "FBALongTermStorageFee",
    "fba removal order: disposal fee": "FBADisposalFee",
    "fba removal order: return fee": "FBARemovalFee",
}
# Newer fee layout: the fee's name in the amount-type, its part in the description.
FEE_BASE_DESCRIPTIONS = frozenset({"base fee", "base", "transactiontotalamount"})
FEE_TAX_DESCRIPTIONS = frozenset({"tax on fee", "tax", "taxamount", "fee tax"})
# The VAT Amazon charges on its fee, apart from the fee (the normalizer's name for it).
FEE_TAX = "FeeTax"
# Adjustment types Amazon writes in CamelCase (financesV0.json, real data); UPPER_SNAKE
# descriptions (REVERSAL_REIMBURSEMENT, WAREHOUSE_DAMAGE...) are adjustment types too.
ADJUSTMENT_TYPES = frozenset(
    name.lower()
    for name in (
        "FBAInventoryReimbursement ReserveEvent ReserveDebit ReserveCredit PostageBilling "
        "PostageRefund LostOrDamagedReimbursement CanceledButPickedUpReimbursement "
        "ReimbursementClawback SellerRewards BuyerRecharge"
    ).split()
)
_UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")


@dataclass(frozen=True)
class Category:
    """Rows the addon does not import as events: named apart, not compared, unless the events
    carry one of ``event_types`` (amount types) or are of one of ``event_kinds`` (event types):
    then the addon imports them, and they are compared."""

    key: str
    label: str
    event_types: frozenset = frozenset()
    event_kinds: frozenset = frozenset()


_RESERVE = frozenset(f"Adjustment/Reserve{t}" for t in ("Debit", "Credit", "Event"))
_ADVERTISING = frozenset({"Fee/CostOfAdvertising", f"{FEE_TAX}/CostOfAdvertising"})
CATEGORIES = {
    c.key: c
    for c in (
        Category("sales", "sales", event_kinds=frozenset({"sale"})),
        Category("reserve", "reserve", _RESERVE),
        Category("advertising", "advertising", _ADVERTISING),
        Category("liquidations", "FBA liquidations"),
        Category("transfers", "transfers and card charges"),
    )
}
# transaction-type → category (sales are compared when the settlement's events have sales)
TRANSACTION_CATEGORIES = {"order": "sales", "liquidations": "liquidations"}
# the project's amount type → category
TYPE_CATEGORIES = {
    **dict.fromkeys(_RESERVE, "reserve"),
    **dict.fromkeys(_ADVERTISING, "advertising"),
}

# V1 amount column → (its type column, the V2 amount-type). ``other-fee-amount`` and
# ``other-amount`` are named by other columns (see :func:`_v1_equivalent`).
V1_AMOUNT_COLUMNS = {
    "price-amount": ("price-type", "ItemPrice"),
    "item-related-fee-amount": ("item-related-fee-type", "ItemFees"),
    "shipment-fee-amount": ("shipment-fee-type", "ShipmentFees"),
    "order-fee-amount": ("order-fee-type", "OrderFees"),
    "promotion-amount": ("promotion-type", "Promotion"),
    "other-fee-amount": ("other-fee-reason-description", None),
    "other-amount": (None, None),
}
# V1 amount columns with no V2 equivalent: money there refuses the file.
V1_UNMAPPED_COLUMNS = {
    "misc-fee-amount": "it has no type column",
    "direct-payment-amount": "direct payments have no amount type in the V2 layout",
}
# V1 transaction types that stay the V2 transaction-type of an ``other-amount`` row
V1_ORDER_TRANSACTIONS = frozenset(
    {"order", "refund", "chargeback refund", "a-to-z guarantee claim", "liquidations"}
)


class ReportError(ValueError):
    """A settlement report that cannot be read (the file is kept as it came)."""


@dataclass(frozen=True)
class ReportRow:
    transaction_type: str
    amount_type: str  # the project's amount type
    amount: Decimal
    order_id: str | None
    raw_amount_type: str
    raw_description: str
    line: int
    category: str = ""  # a key of CATEGORIES when the addon does not import such rows
    adjustment_id: str | None = None  # as Amazon writes it (``amzn1:crow:…``)
    sku: str | None = None
    column: str | None = None  # V1: the amount column the row comes from
    posted: datetime | None = None  # posted-date-time, else posted-date (aware, UTC)
    marketplace: str | None = None  # marketplace-name (order rows)


@dataclass(frozen=True)
class SettlementReport:
    settlement_id: str
    start: datetime | None
    end: datetime | None
    deposit_date: datetime | None
    total: Decimal
    currency: str
    rows: tuple = field(default_factory=tuple)
    layout: str = V2

    @property
    def report_type(self):
        return REPORT_TYPE if self.layout == V2 else V1_REPORT_TYPE

    def totals_by_type(self):
        return _sum_by_type(self.rows)

    @property
    def rows_total(self):
        return sum((row.amount for row in self.rows), Decimal(0))


def _sum_by_type(rows):
    totals = {}
    for row in rows:
        totals[row.amount_type] = totals.get(row.amount_type, Decimal(0)) + row.amount
    return totals


def parse_amount(text, where=""):
    value = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if not value:
        raise ReportError(f"{where}: empty amount")
    if "," in value and "." in value:
        # the last separator is the decimal one
        if value.rfind(",") > value.rfind("."):
            value = value.replace(".", "").replace(",", ".")
        else:
            value = value.replace(",", "")
    elif "," in value:
        value = value.replace(",", ".")
    return values.parse_amount(
        value, where, error=ReportError, message=f"{where}: amount {text!r} is not a number"
    )


DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S %Z",
    "%Y-%m-%d %H:%M:%S",
    "%d.%m.%Y %H:%M:%S %Z",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y",
    "%Y-%m-%d",
)


def parse_date(text, where=""):
    value = (text or "").strip()
    if not value:
        return None
    return values.parse_date(
        value,
        where,
        iso_forms=True,
        formats=DATE_FORMATS,
        error=ReportError,
        message=f"{where}: date {text!r} not understood",
    )


# ---------------------------------------------------------------------------------------------
# Rows → amount types
# ---------------------------------------------------------------------------------------------


def _squeeze(text):
    return re.sub(r"[\s_-]", "", text).lower()


def fee_type_of(name):
    """Amazon's FeeType of a fee named as the newer layout writes it."""
    known = FEE_NAMES.get(name.strip().lower())
    if known:
        return known
    words = re.findall(r"[A-Za-z0-9]+", name)
    return "".join(w if w.isupper() else w[:1].upper() + w[1:] for w in words) or name.strip()


def _other_transaction(transaction_type, description):
    key = description.lower()
    if key in OTHER_TRANSACTIONS:
        return OTHER_TRANSACTIONS[key]
    if key in FEE_NAMES:
        return f"Fee/{FEE_NAMES[key]}"
    category = TRANSACTION_TYPE_CATEGORIES.get(_squeeze(transaction_type))
    if category:
        return f"{category}/{canonical_type(description)}"
    if _UPPER_SNAKE.match(description) or key in ADJUSTMENT_TYPES:
        return f"Adjustment/{canonical_type(description)}"
    if re.search(r"(fee|billing)$", key):
        return f"Fee/{fee_type_of(description)}"
    return None


def amount_type_of(transaction_type, amount_type, description):
    """The project's amount type of a V2 report row (``Report/…`` when no table knows it)."""
    raw_type = (amount_type or "").strip()
    description = (description or "").strip()
    category = AMOUNT_TYPE_CATEGORIES.get(raw_type.lower())
    if category and description:
        spelling = TYPE_SPELLINGS.get((category, description.lower()))
        if not spelling and category == "Fee" and " " in description:
            spelling = fee_type_of(description)  # "FBA transportation fee"
        return f"{category}/{spelling or canonical_type(description)}"
    if description and raw_type.lower() in ("other-transaction", ""):
        known = _other_transaction(transaction_type or "", description)
        if known:
            return known
    elif raw_type and description.lower() in FEE_BASE_DESCRIPTIONS:
        return f"Fee/{fee_type_of(raw_type)}"
    elif raw_type and description.lower() in FEE_TAX_DESCRIPTIONS:
        return f"{FEE_TAX}/{fee_type_of(raw_type)}"
    return f"Report/{raw_type}/{description}"


def category_of(transaction_type, amount_type):
    """The key of the category of rows the addon does not import ("" when it imports them)."""
    key = (transaction_type or "").strip().lower()
    if key in TRANSACTION_CATEGORIES:
        return TRANSACTION_CATEGORIES[key]
    if amount_type.startswith("Transfer/"):
        return "transfers"
    return TYPE_CATEGORIES.get(amount_type, "")


def classify_row(transaction_type, amount_type, description):
    """``(the project's amount type, category key)`` of a V2 report row."""
    project_type = amount_type_of(transaction_type, amount_type, description)
    return project_type, category_of(transaction_type, project_type)


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


class _Borrowed(io.RawIOBase):
    """A binary file read through a text wrapper, which closes what it reads once done: the
    file itself stays open (its owner keeps it)."""

    def __init__(self, file):
        super().__init__()
        self.file = file

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _iter_records(content, encoding="utf-8-sig"):
    """``(header, records)``: the header's column names and an iterator over the data lines as
    dicts (column → cell), read from the bytes or binary file as they are needed (a file of
    many rows is never held whole). ``UnicodeDecodeError`` when they are not ``encoding``."""
    if isinstance(content, bytes):
        text = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
    elif hasattr(content, "read"):
        content.seek(0)
        text = io.TextIOWrapper(io.BufferedReader(_Borrowed(content)), encoding, newline="")
    else:
        text = io.StringIO(content.lstrip("\ufeff"), newline="")
    reader = csv.reader(text, delimiter="\t", quoting=csv.QUOTE_NONE)
    rows = (row for row in reader if any(cell.strip() for cell in row))
    first = next(rows, None)
    if first is None:
        raise ReportError("the settlement report is empty")
    header = [cell.strip().lower() for cell in first]
    width = len(header)
    records = (dict(zip(header, row + [""] * (width - len(row)), strict=False)) for row in rows)
    return header, records


def _decoded(read):
    """``read(encoding)`` in UTF-8 (with or without BOM), else in Windows-1252 (Amazon's
    European files)."""
    try:
        return read("utf-8-sig")
    except UnicodeDecodeError:
        return read("cp1252")


def _records(content):
    """``(header, [records])``: :func:`_iter_records`, the records in a list."""

    def read(encoding):
        header, records = _iter_records(content, encoding)
        return header, list(records)

    return _decoded(read)


def _layout(header):
    if "amount-type" in header or not any(c in header for c in V1_AMOUNT_COLUMNS):
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ReportError(f"the settlement report has no column {', '.join(missing)}")
        return V2
    missing = [c for c in V1_REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ReportError(
            f"V1 settlement flat file ({V1_REPORT_TYPE}): no column {', '.join(missing)}"
        )
    return V1


def _cell(record, name):
    return (record.get(name) or "").strip()


def _row(
    record, number, transaction_type, amount_type, description, amount, column=None, light=False
):
    project_type, category = classify_row(transaction_type, amount_type, description)
    if light:
        # what the sums need: the row's date, order and SKU are not read
        return ReportRow(transaction_type, project_type, amount, None, "", "", 0, category)
    where = f"line {number} posted-date"
    return ReportRow(
        transaction_type=transaction_type,
        amount_type=project_type,
        amount=amount,
        order_id=_cell(record, "order-id") or None,
        raw_amount_type=amount_type,
        raw_description=description,
        line=number,
        category=category,
        adjustment_id=_cell(record, "adjustment-id") or None,
        sku=_cell(record, "sku") or None,
        column=column,
        posted=parse_date(_cell(record, "posted-date-time") or _cell(record, "posted-date"), where),
        marketplace=_cell(record, "marketplace-name") or None,
    )


def _v2_rows(record, number, light=False):
    if not _cell(record, "amount"):
        return []
    amount = parse_amount(record.get("amount"), f"line {number}")
    names = (_cell(record, c) for c in ("transaction-type", "amount-type", "amount-description"))
    return [_row(record, number, *names, amount, light=light)]


def _v1_equivalent(record, column, transaction_type):
    """The ``(transaction-type, amount-type, amount-description)`` V2 writes for a V1 amount."""
    type_column, v2_amount_type = V1_AMOUNT_COLUMNS[column]
    fee_type = _cell(record, "item-related-fee-type")
    service_fee = _squeeze(transaction_type) == "servicefee"
    if column == "item-related-fee-amount" and service_fee:
        return transaction_type, fee_type, "TransactionTotalAmount"
    if v2_amount_type:
        return transaction_type, v2_amount_type, _cell(record, type_column)
    if transaction_type.lower() in V1_ORDER_TRANSACTIONS:
        kind = transaction_type
    else:
        kind = "other-transaction"
    if column == "other-fee-amount":
        reason = _cell(record, "other-fee-reason-description") or transaction_type
        if service_fee and fee_type:
            return transaction_type, fee_type, reason
        return kind, "other-transaction", reason
    return kind, "other-transaction", transaction_type  # other-amount


def _v1_rows(record, number, header, light=False):
    """The V2 rows of one V1 line: one per filled amount column."""
    transaction_type = _cell(record, "transaction-type")
    rows = []
    for column in header:
        if not column.endswith("-amount") or column == "total-amount" or not _cell(record, column):
            continue
        where = f"line {number}"
        if column not in V1_AMOUNT_COLUMNS:
            why = V1_UNMAPPED_COLUMNS.get(column, "the column is not known")
            raise ReportError(
                f"V1 settlement flat file ({V1_REPORT_TYPE}, no amount-type column): {where}: "
                f"column {column} holds {_cell(record, column)} but cannot be mapped to an "
                f"amount type ({why}); the file is not compared"
            )
        amount = parse_amount(record.get(column), where)
        kind, amount_type, description = _v1_equivalent(record, column, transaction_type)
        rows.append(
            _row(record, number, kind, amount_type, description, amount, column, light=light)
        )
    return rows


def parse_settlement_report(content, *, totals_only=False):
    """Bytes, str or binary file of a V2 or V1 flat file → :class:`SettlementReport`
    (``ReportError`` when it cannot be read, or is a V1 file with money in a column that cannot
    be mapped).

    ``totals_only``: the rows summed per category and amount type as they are read (one
    :class:`ReportRow` per sum, ``line`` 0, no order, SKU or date; the rows' dates are not
    read): what :func:`compare` needs, in memory that does not grow with the file's rows."""
    return _decoded(lambda encoding: _parse(content, encoding, totals_only))


def _parse(content, encoding, totals_only):
    header, records = _iter_records(content, encoding)
    layout = _layout(header)
    summary = None
    parsed, sums = [], {}
    for number, record in enumerate(records, start=2):
        if summary is None and _cell(record, "total-amount"):
            summary = record
            continue
        if layout == V2:
            rows = _v2_rows(record, number, light=totals_only)
        else:
            rows = _v1_rows(record, number, header, light=totals_only)
        if not totals_only:
            parsed += rows
            continue
        for row in rows:
            key = (row.category, row.amount_type)
            sums[key] = sums.get(key, Decimal(0)) + row.amount
    if summary is None:
        raise ReportError("the settlement report has no summary row (total-amount)")
    settlement_id = _cell(summary, "settlement-id")
    currency = _cell(summary, "currency")
    if not settlement_id or not currency:
        raise ReportError("the summary row has no settlement-id or currency")
    if totals_only:
        parsed = [
            ReportRow(
                transaction_type="",
                amount_type=amount_type,
                amount=amount,
                order_id=None,
                raw_amount_type="",
                raw_description="",
                line=0,
                category=category,
            )
            for (category, amount_type), amount in sorted(sums.items())
        ]
    return SettlementReport(
        settlement_id=settlement_id,
        start=parse_date(summary.get("settlement-start-date"), "settlement-start-date"),
        end=parse_date(summary.get("settlement-end-date"), "settlement-end-date"),
        deposit_date=parse_date(summary.get("deposit-date"), "deposit-date"),
        total=parse_amount(summary.get("total-amount"), "total-amount"),
        currency=currency,
        rows=tuple(parsed),
        layout=layout,
    )
