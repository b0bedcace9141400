from odoo import api, fields, models

from ..domain.returns import FBA_RETURNS, MERCHANT_RETURNS, REIMBURSEMENTS

REPORT_TYPE_SELECTION = [
    (FBA_RETURNS, "FBA customer returns"),
    (MERCHANT_RETURNS, "Seller-fulfilled returns"),
    (REIMBURSEMENTS, "FBA reimbursements"),
]


class AmazonSpReturnReport(models.Model):
    """One returns or reimbursements report file downloaded from Amazon, kept as it came with
    its SHA-256 (a file already imported is not imported again)."""

    _name = "amazon.sp.return.report"
    _inherit = "amazon.sp.import.record"
    _description = "Amazon Returns Report File"
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    marketplace_id = fields.Many2one("amazon.sp.marketplace", ondelete="restrict")
    report_type = fields.Selection(REPORT_TYPE_SELECTION, required=True, readonly=True)
    report_id = fields.Char(string="Amazon Report ID", readonly=True)
    report_document_id = fields.Char(string="Amazon Document ID", readonly=True)
    data_start = fields.Datetime(string="From", readonly=True)
    data_end = fields.Datetime(string="To", readonly=True)
    sha256 = fields.Char(string="SHA-256", readonly=True, index=True)
    attachment_id = fields.Many2one("ir.attachment", readonly=True, string="File")
    row_count = fields.Integer(string="Rows", readonly=True)
    created_count = fields.Integer(string="New Rows", readonly=True)
    error_count = fields.Integer(string="Unreadable Rows", readonly=True)
    state = fields.Selection(
        [("done", "Imported"), ("partial", "Some rows unreadable"), ("error", "Unreadable")],
        required=True,
        default="done",
        readonly=True,
    )
    message = fields.Text(readonly=True, help="The rows that could not be read, by line.")

    @api.depends("report_type", "marketplace_id", "data_start")
    def _compute_name(self):
        labels = dict(REPORT_TYPE_SELECTION)
        for report in self:
            start = fields.Date.to_string(report.data_start) if report.data_start else ""
            parts = (labels.get(report.report_type), report.marketplace_id.code, start)
            report.name = " ".join(p for p in parts if p)


class AmazonSpReturnCursor(models.Model):
    """Where the pull of one account × marketplace × report type stands: everything before
    ``done_until`` was read; ``report_id`` is a report asked from Amazon and not ready yet."""

    _name = "amazon.sp.return.cursor"
    _inherit = "amazon.sp.import.record"
    _description = "Amazon Returns Report Cursor"
    _order = "account_id, marketplace_id, report_type"

    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    marketplace_id = fields.Many2one("amazon.sp.marketplace", required=True, ondelete="cascade")
    report_type = fields.Selection(REPORT_TYPE_SELECTION, required=True)
    done_until = fields.Datetime(help="Every row dated before this was read.")
    report_id = fields.Char(string="Report Asked", help="Amazon's report being prepared.")
    window_start = fields.Datetime()
    window_end = fields.Datetime()
    message = fields.Text(help="Why the last pull of this report stopped, if it did.")

    _sql_constraints = [  # noqa: RUF012
        (
            "account_marketplace_type_uniq",
            "unique(account_id, marketplace_id, report_type)",
            "One cursor per seller account, marketplace and report type.",
        )
    ]
