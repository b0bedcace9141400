from odoo import api, fields, models

from ..domain import sources

# ClientStats attributes copied on the run (spapi.results.ClientStats.as_dict()).
STAT_FIELDS = {
    "calls": "api_calls",
    "throttled": "throttled",
    "retries": "retries",
    "rate_wait": "rate_wait",
    "backoff_wait": "backoff_wait",
    "token_refreshes": "token_refreshes",
}


class AmazonSpImportRun(models.Model):
    """One pull of one seller account: what was asked, what Amazon answered, what became of it."""

    _name = "amazon.sp.import.run"
    _description = "Amazon Import Run"
    _inherit = ["mail.thread", "amazon.sp.import.record"]  # noqa: RUF012
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    trigger = fields.Selection(
        [("cron", "Scheduled"), ("manual", "Button"), ("wizard", "Wizard")],
        default="manual",
        required=True,
    )
    finances_api = fields.Selection(sources.selection(), string="Finances API")
    state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("partial", "More to do"), ("failed", "Failed")],
        default="running",
        required=True,
        index=True,
    )
    window_start = fields.Datetime()
    window_end = fields.Datetime()
    amazon_order_id = fields.Char()
    marketplace_names = fields.Char(string="Marketplaces")
    date_start = fields.Datetime(default=fields.Datetime.now, string="Started")
    date_end = fields.Datetime(string="Ended")
    duration = fields.Float(string="Duration (s)", digits=(16, 2))
    pages = fields.Integer()
    api_calls = fields.Integer(string="API Calls")
    throttled = fields.Integer(string="429 Waited Out")
    retries = fields.Integer()
    token_refreshes = fields.Integer()
    rate_wait = fields.Float(string="Rate Wait (s)", digits=(16, 3))
    backoff_wait = fields.Float(string="Backoff Wait (s)", digits=(16, 3))
    events_fetched = fields.Integer(string="Fetched")
    events_new = fields.Integer(string="New")
    events_known = fields.Integer(string="Already Known")
    events_changed = fields.Integer(string="Changed Upstream")
    events_posted = fields.Integer(string="Posted")
    events_draft = fields.Integer(string="Left Draft")
    events_to_review = fields.Integer(string="To Review")
    events_error = fields.Integer(string="In Error")
    events_nothing = fields.Integer(
        string="Nothing to Book",
        help="Events whose amounts are zero or cancel out: no document needed.",
    )
    settlements_read = fields.Integer()
    settlements_reconciled = fields.Integer()
    error = fields.Text()
    event_ids = fields.One2many("amazon.sp.event", "import_run_id", string="Events")

    @api.depends("account_id", "date_start")
    def _compute_name(self):
        for run in self:
            run.name = f"{run.account_id.name or ''} {fields.Datetime.to_string(run.date_start)}"

    def _add(self, **counts):
        """Add figures to the run (one write)."""
        self.ensure_one()
        self.write({key: self[key] + value for key, value in counts.items() if value})

    def _set_client_stats(self, stats):
        self.ensure_one()
        if stats is None:
            return
        data = stats.as_dict() if hasattr(stats, "as_dict") else dict(stats)
        vals = {}
        for key, fname in STAT_FIELDS.items():
            if key in data and data[key] is not None:
                vals[fname] = data[key]
        if vals:
            self.write(vals)

    def action_view_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_event_action"
        )
        action["domain"] = [("import_run_id", "=", self.id)]
        action["context"] = {}
        return action
