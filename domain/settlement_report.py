"""Amazon's V2 flat-file settlement report (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``):
parsed, its rows mapped to the project's amount types, and compared with the events.

Pure: no Odoo. Tab-separated; a header line, a summary row (settlement id, period, deposit
date, total, currency), then one row per amount. Real files vary: dates as
``2026-10-01 07:00:00 UTC``, ISO 8601 or ``01.10.2026 07:00:00 UTC``; amounts with a decimal point
or a decimal comma (``-12,34``, ``1.234,56``). An unknown (amount-type, amount-description) pair
becomes ``Report/<amount-type>/<amount-description>``: shown, never dropped.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from . import values

REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
REQUIRED_COLUMNS = ("settlement-id", "total-amount", "currency", "amount-type", "amount")

# amount-type → family of the project's amount types (``<Family>/<amount-description>``)
AMOUNT_TYPE_FAMILIES = {
    "itemprice": "Charge",
    "itemfees": "Fee",
    "itemwithheldtax": "TaxWithheld",
    "promotion": "Promotion",
    "fba inventory reimbursement": "Adjustment",
    "reserve": "Adjustment",
    "retrocharge": "Retrocharge",
}
# transaction-type → family, for rows whose amount-type is generic ("other-transaction")
TRANSACTION_TYPE_FAMILIES = {
    "servicefee": "Fee",
}


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


@dataclass(frozen=True)
class SettlementReport:
    settlement_id: str
    start: datetime | None
    end: datetime | None
    deposit_date: datetime | None
    total: Decimal
    currency: str
    rows: tuple = field(default_factory=tuple)

    def totals_by_type(self):
        totals = {}
        for row in self.rows:
            totals[row.amount_type] = totals.get(row.amount_type, Decimal(0)) + row.amount
        return totals

    @property
    def rows_total(self):
        return sum((row.amount for row in self.rows), Decimal(0))


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


def amount_type_of(transaction_type, amount_type, description):
    """The project's amount type of a report row."""
    family = AMOUNT_TYPE_FAMILIES.get((amount_type or "").strip().lower())
    if family is None:
        family = TRANSACTION_TYPE_FAMILIES.get((transaction_type or "").strip().lower())
    description = (description or "").strip()
    if family and description:
        return f"{family}/{description}"
    return f"Report/{(amount_type or '').strip()}/{description}"


def parse_settlement_report(content):
    """Bytes or str of a V2 flat file → :class:`SettlementReport` (``ReportError`` when it
    cannot be read)."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = content.decode("cp1252")
    reader = csv.reader(io.StringIO(content), delimiter="\t", quoting=csv.QUOTE_NONE)
    rows = [row for row in reader if any(cell.strip() for cell in row)]
    if not rows:
        raise ReportError("the settlement report is empty")
    header = [cell.strip().lower() for cell in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ReportError(f"the settlement report has no column {', '.join(missing)}")
    records = [
        dict(zip(header, row + [""] * (len(header) - len(row)), strict=False)) for row in rows[1:]
    ]
    summary = next((r for r in records if (r.get("total-amount") or "").strip()), None)
    if summary is None:
        raise ReportError("the settlement report has no summary row (total-amount)")
    settlement_id = summary.get("settlement-id", "").strip()
    currency = summary.get("currency", "").strip()
    if not settlement_id or not currency:
        raise ReportError("the summary row has no settlement-id or currency")
    parsed = []
    for number, record in enumerate(records, start=2):
        if record is summary or not (record.get("amount") or "").strip():
            continue
        where = f"line {number}"
        raw_type = (record.get("amount-type") or "").strip()
        description = (record.get("amount-description") or "").strip()
        transaction_type = (record.get("transaction-type") or "").strip()
        parsed.append(
            ReportRow(
                transaction_type=transaction_type,
                amount_type=amount_type_of(transaction_type, raw_type, description),
                amount=parse_amount(record.get("amount"), where),
                order_id=(record.get("order-id") or "").strip() or None,
                raw_amount_type=raw_type,
                raw_description=description,
                line=number,
            )
        )
    return SettlementReport(
        settlement_id=settlement_id,
        start=parse_date(summary.get("settlement-start-date"), "settlement-start-date"),
        end=parse_date(summary.get("settlement-end-date"), "settlement-end-date"),
        deposit_date=parse_date(summary.get("deposit-date"), "deposit-date"),
        total=parse_amount(summary.get("total-amount"), "total-amount"),
        currency=currency,
        rows=tuple(parsed),
    )


@dataclass(frozen=True)
class WitnessLine:
    amount_type: str
    report: Decimal
    events: Decimal

    @property
    def difference(self):
        return self.report - self.events


def compare_with_events(report, events_by_type, events_total):
    """Report vs events, per amount type and in total → (lines, named differences)."""
    report_types = report.totals_by_type()
    types = sorted(set(report_types) | set(events_by_type))
    lines = tuple(
        WitnessLine(t, report_types.get(t, Decimal(0)), events_by_type.get(t, Decimal(0)))
        for t in types
    )
    differences = []
    if report.total != events_total:
        differences.append(
            f"Report total {report.total} {report.currency} differs from the events' "
            f"{events_total} by {report.total - events_total}"
        )
    if report.rows_total != report.total:
        differences.append(
            f"The report's rows add up to {report.rows_total}, its total says {report.total}"
        )
    for line in lines:
        if line.difference:
            if line.amount_type.startswith("Report/"):
                what = "not known to the mapping of report rows"
            elif not line.events:
                what = "not in the events"
            elif not line.report:
                what = "not in the report"
            else:
                what = f"report {line.report}, events {line.events}"
            differences.append(f"{line.amount_type}: {what} (difference {line.difference})")
    return lines, tuple(differences)
