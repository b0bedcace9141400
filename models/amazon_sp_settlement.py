from odoo import api, fields, models

PROCESSING_STATUS_SELECTION = [("open", "Open"), ("closed", "Closed")]
SETTLEMENT_STATE_SELECTION = [
    ("open", "Open"),  # Amazon still adds events to the group
    ("to_reconcile", "To Reconcile"),  # closed; waits for its funds, its events or its payout
    ("to_review", "To Review"),  # closed, paid, but Odoo's figures differ from Amazon's
    ("reconciled", "Reconciled"),  # payout posted, clearing lines reconciled
]


class AmazonSpSettlement(models.Model):
    """A financial event group (settlement period) of a seller account, as Amazon reports it,
    and what Odoo made of it: its events, its payout entry, its reconciliation."""

    _name = "amazon.sp.settlement"
    _description = "Amazon Settlement"
    _inherit = ["mail.thread", "mail.activity.mixin"]  # noqa: RUF012
    _order = "start_date desc, id desc"
    _rec_name = "name"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    group_id = fields.Char(
        string="Event Group",
        required=True,
        readonly=True,
        index=True,
        help="Amazon's FinancialEventGroupId.",
    )
    marketplace_id = fields.Many2one(
        "amazon.sp.marketplace",
        index=True,
        help="The marketplace of the group's events (empty while it has none).",
    )
    processing_status = fields.Selection(PROCESSING_STATUS_SELECTION, readonly=True, index=True)
    fund_transfer_status = fields.Char(readonly=True)
    fund_transfer_date = fields.Datetime(readonly=True)
    start_date = fields.Datetime(string="Start", readonly=True)
    end_date = fields.Datetime(string="End", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True, help="OriginalTotal's currency.")
    original_total = fields.Monetary(currency_field="currency_id", readonly=True)
    beginning_balance = fields.Monetary(currency_field="currency_id", readonly=True)
    converted_currency_id = fields.Many2one("res.currency", readonly=True, string="Payout Currency")
    converted_total = fields.Monetary(
        currency_field="converted_currency_id", readonly=True, string="Payout Amount"
    )
    trace_id = fields.Char(readonly=True)
    account_tail = fields.Char(readonly=True, help="Last digits of the bank account paid.")
    raw_json = fields.Text(string="Raw JSON", readonly=True)
    raw_sha256 = fields.Char(string="SHA-256", readonly=True)
    event_ids = fields.One2many("amazon.sp.event", "settlement_id", string="Events")
    state = fields.Selection(
        SETTLEMENT_STATE_SELECTION, default="open", required=True, index=True, tracking=True
    )
    review_message = fields.Text()
    payout_move_id = fields.Many2one("account.move", readonly=True, copy=False, string="Payout")
    last_refresh = fields.Datetime(readonly=True)

    _sql_constraints = [  # noqa: RUF012
        (
            "group_unique",
            "unique(account_id, group_id)",
            "A financial event group is stored once per seller account.",
        ),
    ]

    @api.depends("group_id", "start_date", "currency_id")
    def _compute_name(self):
        for settlement in self:
            start = fields.Date.to_string(settlement.start_date) if settlement.start_date else ""
            currency = settlement.currency_id.name or ""
            settlement.name = " ".join(p for p in (start, currency, settlement.group_id) if p)
