import base64
import hashlib
import logging
from datetime import timedelta
from decimal import Decimal

from odoo import Command, api, models

from ..domain import settlement_report
from .common import to_decimal, to_naive_utc

_logger = logging.getLogger(__name__)

# Amazon keeps reports ~90 days.
REPORT_HISTORY = timedelta(days=90)
# getReportDocument allows a burst of 15, then one call a minute: at most this many per run.
DOCUMENTS_PER_RUN = 10
# A report matches a settlement whose period starts and ends within this of its own.
MATCH_TOLERANCE = timedelta(days=1)


class AmazonSpSettlementReportService(models.AbstractModel):
    """Amazon's V2 flat-file settlement reports: download the new ones, find their settlement
    and compare them with the settlement's staged events (a second witness of its totals)."""

    _name = "amazon.sp.service.settlement.report"
    _description = "Amazon SP-API: settlement reports"

    @api.model
    def _fetch(self, account, client=None):
        """Download the V2 flat-file settlement reports not downloaded yet (idempotent), match
        them with their settlements and compare. Returns the new reports.

        :raise SpApiError: when Amazon cannot be read (the caller decides what the user sees)
        """
        account.ensure_one()
        Import = self.env["amazon.sp.service.import"]
        client = client or account._get_spapi_client()
        Report = self.env["amazon.sp.settlement.report"]
        known = set(Report.search([("account_id", "=", account.id)]).mapped("report_document_id"))
        since = Import._now() - REPORT_HISTORY
        entries = []
        for page in client.get_reports(
            report_types=[settlement_report.REPORT_TYPE],
            processing_statuses=["DONE"],
            created_since=since,
            page_size=100,
        ):
            entries += (page.payload or {}).get("reports") or []
        Currency = self.env["res.currency"].with_context(active_test=False)
        created = Report
        # Only periods starting at or after the account's start (its settlements are listed
        # from it), newest first: the documents' rate limit makes each run take a few.
        start = Import._start(account)
        todo = [
            e
            for e in entries
            if e.get("reportDocumentId") not in known and not _before(e.get("dataStartTime"), start)
        ]
        todo.sort(key=lambda e: e.get("dataEndTime") or "", reverse=True)
        for entry in todo[:DOCUMENTS_PER_RUN]:
            document_id = entry.get("reportDocumentId")
            if not document_id or document_id in known:
                continue
            known.add(document_id)
            document = client.get_report_document(document_id)
            content = client.download_report_document(document)
            vals = {
                "account_id": account.id,
                "report_id": entry.get("reportId"),
                "report_document_id": document_id,
                "sha256": hashlib.sha256(content).hexdigest(),
            }
            try:
                parsed = settlement_report.parse_settlement_report(content)
            except settlement_report.ReportError as exc:
                _logger.warning("Amazon settlement report %s unreadable: %s", document_id, exc)
                vals.update(state="error", message=str(exc))
            else:
                currency = Currency.search([("name", "=", parsed.currency)], limit=1)
                vals.update(
                    amazon_settlement_id=parsed.settlement_id,
                    start_date=to_naive_utc(parsed.start),
                    end_date=to_naive_utc(parsed.end),
                    deposit_date=to_naive_utc(parsed.deposit_date),
                    currency_id=currency.id,
                    total_amount=float(parsed.total),
                )
            report = Report.create(vals)
            report.attachment_id = self.env["ir.attachment"].create(
                {
                    "name": f"settlement-{vals.get('amazon_settlement_id') or document_id}.txt",
                    "raw": content,
                    "res_model": report._name,
                    "res_id": report.id,
                    "mimetype": "text/tab-separated-values",
                }
            )
            created |= report
        pending = Report.search(
            [("account_id", "=", account.id), ("state", "in", ("unmatched", "differs"))]
        )
        self._match(created | pending)
        self._compare(created | pending)
        return created

    @api.model
    def _match(self, reports):
        """Find the settlement of each report (same account and currency, same period ±1 day)."""
        Settlement = self.env["amazon.sp.settlement"]
        for report in reports.filtered(lambda r: not r.settlement_id and r.start_date):
            candidates = Settlement.search(
                [
                    ("account_id", "=", report.account_id.id),
                    ("currency_id", "=", report.currency_id.id),
                    ("start_date", ">=", report.start_date - MATCH_TOLERANCE),
                    ("start_date", "<=", report.start_date + MATCH_TOLERANCE),
                ]
            )
            if report.end_date:
                candidates = candidates.filtered(
                    lambda s, end=report.end_date: (
                        s.end_date and abs(s.end_date - end) <= MATCH_TOLERANCE
                    )
                )
            if len(candidates) == 1:
                report.settlement_id = candidates

    @api.model
    def _compare(self, reports):
        """Report vs the settlement's staged events, per amount type and in total."""
        for report in reports:
            if report.state == "error":
                continue
            if not report.settlement_id:
                report.write(
                    {
                        "state": "unmatched",
                        "message": self.env._(
                            "No settlement of this account has this period and currency yet."
                        ),
                    }
                )
                continue
            parsed = settlement_report.parse_settlement_report(
                base64.b64decode(report.attachment_id.datas)
            )
            events = report.settlement_id.event_ids.filtered(lambda e: e.state != "error")
            by_type = {}
            for line in events.line_ids:
                by_type[line.amount_type] = by_type.get(line.amount_type, Decimal(0)) + to_decimal(
                    line.amount
                )
            currency = report.currency_id
            by_type = {t: to_decimal(currency.round(float(a))) for t, a in by_type.items()}
            events_total = to_decimal(currency.round(sum(events.mapped("amount_total"))))
            lines, differences = settlement_report.compare_with_events(
                parsed, by_type, events_total
            )
            report.line_ids.unlink()
            report.write(
                {
                    "events_total": float(events_total),
                    "state": "differs" if differences else "match",
                    "message": "\n".join(differences) or False,
                    "line_ids": [
                        Command.create(
                            {
                                "amount_type": line.amount_type,
                                "report_amount": float(line.report),
                                "events_amount": float(line.events),
                                "difference": float(line.difference),
                            }
                        )
                        for line in lines
                    ],
                }
            )


def _before(text, moment):
    """Whether Amazon's ISO date ``text`` is before ``moment`` (aware); False if unreadable."""
    try:
        value = settlement_report.parse_date(text)
    except settlement_report.ReportError:
        return False
    return bool(value) and value < moment
