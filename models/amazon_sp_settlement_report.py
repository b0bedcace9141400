from odoo import api, fields, models


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
    booked = fields.Boolean(
        string="Settlement Booked from This File",
        readonly=True,
        help="The settlement's events were made from this file's rows (the Finances API's "
        "events were not available).",
    )
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

    def action_book(self):
        """Book the settlement from this report (its rows as the settlement's events)."""
        self.ensure_one()
        Service = self.env["amazon.sp.service.settlement.report"]
        return _notify(self.env, *Service._book_report(self))

    def action_compare(self):
        """Find the settlement of each report and compare their figures again."""
        Service = self.env["amazon.sp.service.settlement.report"]
        Service._match(self)
        Service._compare(self)
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


def _notify(env, settlement, message, created):
    """A notification saying what was booked, then the settlement's form."""
    action = {"type": "ir.actions.act_window_close"}
    if settlement:
        action = {
            "type": "ir.actions.act_window",
            "res_model": "amazon.sp.settlement",
            "res_id": settlement.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
    return {
        "type": "ir.actions.client",
        "tag": "display_notification",
        "params": {
            "type": "success" if created else "warning",
            "title": env._("Settlement report"),
            "message": message,
            "sticky": False,
            "next": action,
        },
    }
