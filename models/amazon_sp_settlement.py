from odoo import api, fields, models

from .amazon_sp_flow_guard import flow

PROCESSING_STATUS_SELECTION = [("open", "Open"), ("closed", "Closed")]
SETTLEMENT_STATE_SELECTION = [
    ("open", "Open"),  # Amazon still adds events to the group
    ("to_reconcile", "To Reconcile"),  # closed; waits for its funds, its events or its payout
    ("to_review", "To Review"),  # closed, paid, but Odoo's figures differ from Amazon's
    ("transfer_failed", "Transfer Failed"),  # Amazon's transfer failed: paid by a later group
    ("reconciled", "Reconciled"),  # payout posted, clearing lines reconciled
]
# What a user may write on a settlement outside the import's flows (a note).
USER_FIELDS = ("review_message",)


class AmazonSpSettlement(models.Model):
    """A financial event group (settlement period) of a seller account, as Amazon reports it,
    and what Odoo made of it: its events, its payout entry, its reconciliation."""

    _name = "amazon.sp.settlement"
    _description = "Amazon Settlement"
    _inherit = ["mail.thread", "mail.activity.mixin", "amazon.sp.import.record"]  # noqa: RUF012
    _amazon_sp_user_fields = USER_FIELDS
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
    carried_balance = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        help="The beginning balance Amazon's total holds without an event of the group (a "
        "reserve released, a failed transfer paid again, a balance charged): the payout books it.",
    )
    carried_kind = fields.Selection(
        [
            ("reserve", "Reserve released"),
            ("failed_transfer", "Failed transfer paid again"),
            ("charge", "Balance charged to the seller"),
        ],
        string="Carried Balance Kind",
        readonly=True,
    )
    paid_by_id = fields.Many2one(
        "amazon.sp.settlement",
        readonly=True,
        copy=False,
        string="Paid With",
        help="The later settlement whose payout paid this one's failed transfer.",
    )
    trace_id = fields.Char(readonly=True)
    from_report = fields.Boolean(string="From a Settlement Report File", readonly=True)
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
    report_ids = fields.One2many(
        "amazon.sp.settlement.report", "settlement_id", string="Settlement Reports"
    )
    witness_state = fields.Selection(
        [("none", "No report"), ("match", "Agrees"), ("differs", "Differs")],
        compute="_compute_witness_state",
        store=True,
        string="Settlement Report",
    )

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

    # ------------------------------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------------------------------

    def action_refresh(self):
        """Read the groups again from Amazon (their events too, once closed) and re-check."""
        for account in self.account_id:
            account.action_amazon_sp_refresh_settlements()
        return True

    def action_check(self):
        """Link the events of the settlements again and check them (paying out those that
        match)."""
        settlements = flow(self)
        Service = settlements.env["amazon.sp.service.settlement"]
        Service._link_events(settlements)
        Service._check(settlements)
        return True

    def action_match_bank_lines(self):
        settlements = flow(self)
        matched = settlements.env["amazon.sp.service.settlement"]._match_bank_lines(settlements)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if matched else "warning",
                "message": self.env._(
                    "%(count)s payout(s) matched with a bank line.", count=len(matched)
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_view_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_event_action"
        )
        action["domain"] = [("settlement_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_view_payout(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.payout_move_id.id,
            "view_mode": "form",
        }
