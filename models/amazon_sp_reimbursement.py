from odoo import api, fields, models


class AmazonSpReimbursement(models.Model):
    """One row of Amazon's FBA reimbursements report: what Amazon paid back (in cash or in
    inventory) for a lost or damaged unit or a customer return, linked to its events."""

    _name = "amazon.sp.reimbursement"
    _inherit = "amazon.sp.import.record"
    _description = "Amazon FBA Reimbursement"
    _order = "approval_date desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    marketplace_id = fields.Many2one("amazon.sp.marketplace", index=True, ondelete="restrict")
    reimbursement_id = fields.Char(string="Reimbursement ID", index=True, readonly=True)
    case_id = fields.Char(string="Case ID", readonly=True)
    approval_date = fields.Datetime(index=True, readonly=True)
    amazon_order_id = fields.Char(index=True, readonly=True)
    reason = fields.Char(readonly=True, index=True, help="Amazon's reimbursement reason.")
    sku = fields.Char(string="SKU", index=True, readonly=True)
    fnsku = fields.Char(string="FNSKU", readonly=True)
    asin = fields.Char(string="ASIN", readonly=True)
    product_name = fields.Char(readonly=True)
    condition = fields.Char(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    currency_code = fields.Char(readonly=True, help="The currency as Amazon wrote it.")
    amount_per_unit = fields.Monetary(currency_field="currency_id", readonly=True)
    amount_total = fields.Monetary(currency_field="currency_id", readonly=True)
    quantity_cash = fields.Integer(string="Units Paid in Cash", readonly=True)
    quantity_inventory = fields.Integer(string="Units Replaced in Inventory", readonly=True)
    quantity_total = fields.Integer(string="Units Reimbursed", readonly=True)
    original_reimbursement_id = fields.Char(string="Original Reimbursement ID", readonly=True)
    original_reimbursement_type = fields.Char(readonly=True)
    event_ids = fields.Many2many(
        "amazon.sp.event",
        "amazon_sp_reimbursement_event_rel",
        "reimbursement_id",
        "event_id",
        string="Events",
        readonly=True,
        help="The order's events, or the reimbursement adjustment Amazon paid it with.",
    )
    linked = fields.Boolean(compute="_compute_linked", store=True)
    report_file_id = fields.Many2one("amazon.sp.return.report", ondelete="set null", readonly=True)
    raw_json = fields.Text(string="Raw Row", readonly=True)
    raw_sha256 = fields.Char(string="SHA-256", readonly=True)
    key = fields.Char(required=True, readonly=True, index=True)

    _sql_constraints = [  # noqa: RUF012
        (
            "key_unique",
            "unique(account_id, key)",
            "A reimbursement row is imported once per seller account.",
        ),
    ]

    @api.depends("reimbursement_id", "sku")
    def _compute_name(self):
        for row in self:
            row.name = " ".join(p for p in (row.reimbursement_id, row.sku) if p) or "/"

    @api.depends("event_ids")
    def _compute_linked(self):
        for row in self:
            row.linked = bool(row.event_ids)
