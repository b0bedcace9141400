"""A settlement report file → the events of its settlement (pure Python, no Odoo).

When the Finances API no longer lists a settlement's events (older than Amazon keeps them, or a
seller who accounts by report), the settlement's flat file (V2 or V1, parsed by
``domain.settlement_report``) stands in for them: every row becomes part of a
:class:`~.model.NormalizedEvent` with ``source_api = "settlement-report"``, booked by the same
rules as the API's events (the report's amount types are the API's names):

- ``Order`` rows: sales (``domain.sales.report_sales``), one per order id and posted date;
- ``Refund``, ``Chargeback Refund`` and A-to-z guarantee claim rows: ``refund``, ``chargeback``
  and ``guarantee_claim`` events, one per order id, adjustment id and posted date;
- the other rows (service fees, advertising, subscription, storage, reimbursements, the reserve,
  transfers and card charges, liquidations, retrocharges...): one ``service_fee``,
  ``adjustment``, ``retrocharge`` or ``other`` event per transaction, named by its amount types.

Keys are ``report:<settlement id>:<digest>`` of what the rows say, stable across imports of the
same file. Fingerprints: a sale's is the API's (``sales.sale_fingerprint``); the others follow
``identity.fingerprint`` (the report carries no adjustment item ids, so they are the report's).
The events add up to the file's ``total-amount`` to the cent, or the file is refused; a row
without a posted date, or an order row without an order id, refuses it naming its line.
"""

from dataclasses import replace
from decimal import Decimal

from .identity import _digest, fingerprint
from .model import SOURCE_REPORT, NormalizedEvent, NormalizedLine
from .sales import report_sales
from .settlement_report import ReportError
from .values import raw_sha256

# transaction-type (lower case) → the event type of an order event
ORDER_TRANSACTIONS = {
    "refund": "refund",
    "chargeback refund": "chargeback",
    "chargeback": "chargeback",
    "a-to-z guarantee claim": "guarantee_claim",
    "a-to-z guarantee claims": "guarantee_claim",
    "guarantee claim": "guarantee_claim",
}
# amount-type category → the event type of a non-order row
CATEGORY_EVENT_TYPES = {
    "Fee": "service_fee",
    "FeeTax": "service_fee",
    "Adjustment": "adjustment",
    "Retrocharge": "retrocharge",
}
GROUP_PREFIX = "report-"


def group_id_of(settlement_id):
    """The group id of the settlement made from a report (Amazon's group id is not in it)."""
    return f"{GROUP_PREFIX}{settlement_id}"


def _key(settlement_id, parts):
    return f"report:{settlement_id}:{_digest(parts)}"


def _date_text(posted):
    return posted.isoformat() if posted else ""


def _check_rows(report):
    for row in report.rows:
        if row.posted is None:
            raise ReportError(
                f"line {row.line}: no posted-date ({row.transaction_type} "
                f"{row.raw_description or row.raw_amount_type} {row.amount})"
            )
        if row.transaction_type.lower() in ORDER_TRANSACTIONS and not row.order_id:
            raise ReportError(f"line {row.line}: {row.transaction_type} row without order-id")
    if report.rows_total != report.total:
        raise ReportError(
            f"the report's rows add up to {report.rows_total} {report.currency}, its total-amount "
            f"says {report.total}: a row is missing or unreadable"
        )


def _event_type(rows):
    kind = rows[0].transaction_type.lower()
    if kind in ORDER_TRANSACTIONS:
        return ORDER_TRANSACTIONS[kind]
    if kind == "servicefee":
        return "service_fee"
    types = {CATEGORY_EVENT_TYPES.get(row.amount_type.split("/", 1)[0]) for row in rows}
    return types.pop() if len(types) == 1 and None not in types else "other"


def _group_key(row):
    """Rows of one event: same transaction, order, adjustment and posted date; an
    ``other-transaction`` row is its own kind of transaction (named by its description)."""
    kind = row.raw_amount_type
    if kind.lower() in ("other-transaction", ""):
        kind = row.raw_description
    elif row.transaction_type.lower() in ORDER_TRANSACTIONS:
        kind = ""
    return (
        row.transaction_type,
        kind,
        row.order_id or "",
        row.adjustment_id or "",
        _date_text(row.posted),
    )


class _Marketplaces:
    """Amazon's marketplace id of rows by their marketplace name; rows without one (fees,
    transfers), or with a name no marketplace has ("Non-Amazon CA": multi-channel orders), take
    the file's one known marketplace."""

    def __init__(self, report, resolver, default=None):
        self.resolver, self.currency = resolver, report.currency
        names = sorted({row.marketplace for row in report.rows if row.marketplace})
        known = {name: self._resolve(name) for name in names}
        ids = {mid for mid in known.values() if mid}
        self.default_id = ids.pop() if len(ids) == 1 else None
        self.default_name = next((n for n, mid in known.items() if mid == self.default_id), None)
        if self.default_id is None and len(names) == 1:
            self.default_name = names[0]
        if self.default_id is None and default:
            self.default_name, self.default_id = default

    def _resolve(self, name):
        return self.resolver(name, self.currency) if self.resolver and name else None

    def of(self, rows):
        """``(marketplace name, marketplace id)`` of an event's rows."""
        name = next((row.marketplace for row in rows if row.marketplace), None)
        found = self._resolve(name)
        if found:
            return name, found
        return name or self.default_name, self.default_id


def _event(report, group_key, rows, group_id, marketplaces):
    lines = tuple(NormalizedLine(row.amount_type, row.amount, sku=row.sku) for row in rows)
    total = sum((row.amount for row in rows), Decimal(0))
    event_type = _event_type(rows)
    first = rows[0]
    name, marketplace_id = marketplaces.of(rows)
    raw = {
        "settlement_id": report.settlement_id,
        "transaction_type": first.transaction_type,
        "lines": [row.line for row in rows],
        "rows": [
            [row.raw_amount_type, row.raw_description, str(row.amount), row.sku or ""]
            for row in rows
        ],
    }
    parts = [
        list(group_key),
        sorted([ln.amount_type, str(ln.amount), ln.sku or ""] for ln in lines),
    ]
    return NormalizedEvent(
        key=_key(report.settlement_id, parts),
        fingerprint=fingerprint(event_type, first.order_id, first.posted, lines, total),
        source_api=SOURCE_REPORT,
        event_type=event_type,
        amazon_order_id=first.order_id,
        marketplace_id=marketplace_id,
        marketplace_name=name,
        posted_date=first.posted,
        currency=report.currency,
        total=total,
        lines=lines,
        group_id=group_id,
        description=first.raw_description or first.raw_amount_type or None,
        raw=raw,
        raw_sha256=raw_sha256(raw),
        source=first.transaction_type,
    )


def report_events(report, marketplace_resolver=None, default_marketplace=None):
    """The events of a parsed settlement report → tuple of :class:`NormalizedEvent`.

    ``marketplace_resolver(marketplace_name, currency)`` → Amazon's marketplace id (or None), as
    for v0 events; rows without a marketplace name take the file's one marketplace, else
    ``default_marketplace`` (``(name, marketplace id)``, e.g. the account's one marketplace).
    Raises :class:`~.settlement_report.ReportError` naming the line of a row that cannot be
    an event, or when the rows do not add up to the file's total.
    """
    _check_rows(report)
    group_id = group_id_of(report.settlement_id)
    marketplaces = _Marketplaces(report, marketplace_resolver, default_marketplace)
    rows_by_line = {row.line: row for row in report.rows}
    sales, failures = report_sales(report, {row.line: row.posted for row in report.rows})
    if failures:
        raise ReportError(failures[0].message)
    events = []
    for sale in sales:
        name, marketplace_id = marketplaces.of([rows_by_line[n] for n in sale.raw["lines"]])
        events.append(
            replace(
                sale,
                key=f"report:{report.settlement_id}:{sale.key.split(':', 1)[1]}",
                group_id=group_id,
                marketplace_name=name,
                marketplace_id=marketplace_id,
            )
        )
    groups = {}
    for row in report.rows:
        if row.category != "sales":
            groups.setdefault(_group_key(row), []).append(row)
    events += [_event(report, key, rows, group_id, marketplaces) for key, rows in groups.items()]
    events = _unique_fingerprints(events)
    total = sum((ev.total for ev in events), Decimal(0))
    if total != report.total:  # every row is in one event
        raise ReportError(f"the events add up to {total}, the file's total is {report.total}")
    return tuple(events)


def _unique_fingerprints(events):
    """Two events of one file are never the same money: a repeated fingerprint is numbered."""
    seen, result = {}, []
    for ev in sorted(events, key=lambda e: (e.posted_date, e.key)):
        count = seen.get(ev.fingerprint, 0) + 1
        seen[ev.fingerprint] = count
        result.append(ev if count == 1 else replace(ev, fingerprint=f"{ev.fingerprint}#{count}"))
    return result
