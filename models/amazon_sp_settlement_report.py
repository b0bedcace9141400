import base64
import hashlib
import logging
from datetime import UTC, timedelta
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..domain import settlement_report
from ..spapi.exceptions import SpApiError

_logger = logging.getLogger(__name__)

# Amazon keeps reports ~90 days.
REPORT_HISTORY = timedelta(days=90)
# getReportDocument allows a burst of 15, then one call a minute: at most this many per run.
DOCUMENTS_PER_RUN = 10
# A report matches a settlement whose period starts and ends within this of its own.
MATCH_TOLERANCE = timedelta(days=1)


def _dec(value):
    return Decimal(str(value or 0))


class AmazonSpSettlementReport(models.Model):
    """Amazon's V2 flat-file settlement report: a second witness of a settlement's totals."""

    _name = "amazon.sp.settlement.report"
    _description = "Amazon Settlement Report (V2 flat file)"
    _inherit = ["mail.thread"]  # noqa: RUF012
    _order = "start_date desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    settlement_id = fields.Many2one("amazon.sp.settlement", index=True, ondelete="set null")
    amazon_settlement_id = fields.Char(string="Amazon Settlement ID", readonly=True)
    report_id = fields.Char(readonly=True)
    report_document_id = fields.Char(readonly=True, required=True)
    start_date = fields.Datetime(readonly=True)
    end_date = fields.Datetime(readonly=True)
    deposit_date = fields.Datetime(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    total_amount = fields.Monetary(currency_field="currency_id", readonly=True)
    events_total = fields.Monetary(currency_field="currency_id", readonly=True)
    attachment_id = fields.Many2one("ir.attachment", readonly=True, string="File")
    sha256 = fields.Char(string="SHA-256", readonly=True)
    state = fields.Selection(
        [
            ("unmatched", "No settlement"),
            ("match", "Agrees"),
            ("differs", "Differs"),
            ("error", "Unreadable"),
        ],
        default="unmatched",
        required=True,
        tracking=True,
    )
    message = fields.Text(readonly=True)
    line_ids = fields.One2many(
        "amazon.sp.settlement.report.line", "report_id", string="Per Amount Type"
    )

    _sql_constraints = [  # noqa: RUF012
        (
            "document_unique",
            "unique(account_id, report_document_id)",
            "A settlement report is downloaded once per seller account.",
        ),
    ]

    @api.depends("amazon_settlement_id", "start_date", "currency_id")
    def _compute_name(self):
        for report in self:
            start = fields.Date.to_string(report.start_date) if report.start_date else ""
            parts = (report.amazon_settlement_id, start, report.currency_id.name)
            report.name = " ".join(p for p in parts if p) or report.report_document_id

    def _parsed(self):
        self.ensure_one()
        return settlement_report.parse_settlement_report(base64.b64decode(self.attachment_id.datas))

    def _amazon_sp_match(self):
        """Find the settlement of each report (same account and currency, same period ±1 day)."""
        Settlement = self.env["amazon.sp.settlement"]
        for report in self.filtered(lambda r: not r.settlement_id and r.start_date):
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

    def _amazon_sp_compare(self):
        """Report vs the settlement's staged events, per amount type and in total."""
        for report in self:
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
            parsed = report._parsed()
            events = report.settlement_id.event_ids.filtered(lambda e: e.state != "error")
            by_type = {}
            for line in events.line_ids:
                by_type[line.amount_type] = by_type.get(line.amount_type, Decimal(0)) + _dec(
                    line.amount
                )
            currency = report.currency_id
            by_type = {t: _dec(currency.round(float(a))) for t, a in by_type.items()}
            events_total = _dec(currency.round(sum(events.mapped("amount_total"))))
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
                        (
                            0,
                            0,
                            {
                                "amount_type": line.amount_type,
                                "report_amount": float(line.report),
                                "events_amount": float(line.events),
                                "difference": float(line.difference),
                            },
                        )
                        for line in lines
                    ],
                }
            )

    def action_compare(self):
        self._amazon_sp_match()
        self._amazon_sp_compare()
        return True


class AmazonSpSettlementReportLine(models.Model):
    _name = "amazon.sp.settlement.report.line"
    _description = "Amazon Settlement Report: Amount Type"
    _order = "amount_type"

    report_id = fields.Many2one(
        "amazon.sp.settlement.report",
        required=True,
        ondelete="cascade",
        index=True,
        string="Settlement Report",
    )
    company_id = fields.Many2one(related="report_id.company_id", store=True)
    currency_id = fields.Many2one(related="report_id.currency_id")
    amount_type = fields.Char(required=True)
    report_amount = fields.Monetary(currency_field="currency_id", string="Report")
    events_amount = fields.Monetary(currency_field="currency_id", string="Events")
    difference = fields.Monetary(currency_field="currency_id")


class AmazonSpSettlement(models.Model):
    _inherit = "amazon.sp.settlement"

    report_ids = fields.One2many(
        "amazon.sp.settlement.report", "settlement_id", string="Settlement Reports"
    )
    witness_state = fields.Selection(
        [("none", "No report"), ("match", "Agrees"), ("differs", "Differs")],
        compute="_compute_witness_state",
        store=True,
        string="Settlement Report",
    )

    @api.depends("report_ids.state")
    def _compute_witness_state(self):
        for settlement in self:
            states = set(settlement.report_ids.mapped("state"))
            if not states:
                settlement.witness_state = "none"
            elif states & {"differs", "error"}:
                settlement.witness_state = "differs"
            else:
                settlement.witness_state = "match"


class AmazonSpAccount(models.Model):
    _inherit = "amazon.sp.account"

    def action_amazon_sp_fetch_settlement_reports(self):
        for account in self:
            try:
                account._amazon_sp_fetch_settlement_reports()
            except SpApiError as exc:
                raise UserError(
                    self.env._("Amazon's settlement reports could not be read: %(e)s", e=str(exc))
                ) from exc
        return True

    def _amazon_sp_fetch_settlement_reports(self, client=None):
        """Download the V2 flat-file settlement reports not downloaded yet (idempotent), match
        them with their settlements and compare. Returns the new reports."""
        self.ensure_one()
        client = client or self._amazon_sp_client()
        Report = self.env["amazon.sp.settlement.report"]
        known = set(Report.search([("account_id", "=", self.id)]).mapped("report_document_id"))
        since = self._amazon_sp_now() - REPORT_HISTORY
        entries = []
        for page in client.get_reports(
            report_types=[settlement_report.REPORT_TYPE],
            processing_statuses=["DONE"],
            created_since=since,
            page_size=100,
        ):
            entries += (page.payload or {}).get("reports") or []
        Currency = self.env["res.currency"].with_context(active_test=False)
        created = Report.browse()
        # Only periods starting at or after the account's start (its settlements are listed
        # from it), newest first: the documents' rate limit makes each run take a few.
        start = self._amazon_sp_start()
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
            sha = hashlib.sha256(content).hexdigest()
            vals = {
                "account_id": self.id,
                "report_id": entry.get("reportId"),
                "report_document_id": document_id,
                "sha256": sha,
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
                    start_date=_naive(parsed.start),
                    end_date=_naive(parsed.end),
                    deposit_date=_naive(parsed.deposit_date),
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
            [("account_id", "=", self.id), ("state", "in", ("unmatched", "differs"))]
        )
        (created | pending).action_compare()
        return created


def _before(text, moment):
    """Whether Amazon's ISO date ``text`` is before ``moment`` (aware); False if unreadable."""
    try:
        value = settlement_report.parse_date(text)
    except settlement_report.ReportError:
        return False
    return bool(value) and value < moment


def _naive(moment):
    return moment.astimezone(UTC).replace(tzinfo=None) if moment else False
