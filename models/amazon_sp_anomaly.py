from odoo import api, fields, models
from odoo.exceptions import UserError

RULE_SELECTION = [
    ("daily_volume", "Many refunds in a day"),
    ("sku_spike", "Product refunded more than usual"),
    ("repeat_refund", "Order refunded more than once"),
    ("over_refund", "Refunded more than the sale"),
    ("claims_sku", "A-to-z claims and chargebacks on one product"),
    ("claims_buyer", "A-to-z claims and chargebacks from one buyer"),
    ("return_country", "Return received in another country"),
]
# What a user may write outside the anomaly run (the dismiss dialog).
USER_FIELDS = ("state", "dismiss_reason", "dismissed_by", "dismissed_date")


class AmazonSpAnomaly(models.Model):
    """One hit of an anomaly rule: which refunds look wrong, with the figures and the events
    that made the rule fire. Written by ``amazon.sp.service.anomalies``; a later run updates
    it (one per account, rule and subject)."""

    _name = "amazon.sp.anomaly"
    _description = "Amazon Refund Anomaly"
    _inherit = ["mail.thread", "mail.activity.mixin", "amazon.sp.import.record"]  # noqa: RUF012
    _amazon_sp_user_fields = USER_FIELDS
    _order = "date desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    marketplace_id = fields.Many2one("amazon.sp.marketplace", index=True)
    rule = fields.Selection(RULE_SELECTION, required=True, index=True)
    key = fields.Char(required=True, readonly=True, index=True)
    subject = fields.Char(
        readonly=True, help="What the hit is about: the day, product, order, buyer or return."
    )
    date = fields.Date(readonly=True, help="The day of the last event of the hit.")
    amazon_order_id = fields.Char(string="Order ID", readonly=True, index=True)
    sku = fields.Char(string="SKU", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Buyer", readonly=True)
    count = fields.Integer(string="Number of Events", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(currency_field="currency_id", readonly=True)
    fulfillment_center = fields.Char(readonly=True)
    return_id = fields.Many2one(
        "amazon.sp.return",
        readonly=True,
        ondelete="cascade",
        index="btree_not_null",
    )
    figures = fields.Text(readonly=True, help="What made the rule fire, in plain words.")
    event_ids = fields.Many2many(
        "amazon.sp.event",
        "amazon_sp_anomaly_event_rel",
        "anomaly_id",
        "event_id",
        string="Events",
        readonly=True,
    )
    event_count = fields.Integer(compute="_compute_event_count")
    first_seen = fields.Datetime(readonly=True)
    last_seen = fields.Datetime(readonly=True, help="The last run that found it.")
    state = fields.Selection(
        [("open", "Open"), ("dismissed", "Dismissed")],
        default="open",
        required=True,
        index=True,
        tracking=True,
    )
    dismiss_reason = fields.Text(tracking=True)
    dismissed_by = fields.Many2one("res.users", readonly=True)
    dismissed_date = fields.Datetime(readonly=True)

    _sql_constraints = [  # noqa: RUF012
        (
            "account_key_uniq",
            "unique(account_id, key)",
            "An anomaly is found once per account, rule and subject.",
        ),
    ]

    @api.depends("rule", "subject", "marketplace_id")
    def _compute_name(self):
        labels = dict(self._fields["rule"]._description_selection(self.env))
        for anomaly in self:
            parts = [labels.get(anomaly.rule, ""), anomaly.marketplace_id.code, anomaly.subject]
            anomaly.name = " · ".join(p for p in parts if p)

    def _compute_event_count(self):
        for anomaly in self:
            anomaly.event_count = len(anomaly.event_ids)

    def action_view_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_event_action"
        )
        action["domain"] = [("id", "in", self.event_ids.ids)]
        action["context"] = {"create": False}
        return action

    def action_open_dismiss(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Dismiss Anomalies"),
            "res_model": "amazon.sp.anomaly.dismiss",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_anomaly_ids": self.ids},
        }

    def _amazon_sp_dismiss(self, reason):
        """Dismiss the hits with the user's reason: later runs update their figures but keep
        them dismissed; their open activities are marked done."""
        if not (reason or "").strip():
            raise UserError(self.env._("Say why the anomaly is dismissed."))
        self.write(
            {
                "state": "dismissed",
                "dismiss_reason": reason,
                "dismissed_by": self.env.user.id,
                "dismissed_date": fields.Datetime.now(),
            }
        )
        for anomaly in self:
            anomaly.activity_ids.action_feedback(
                feedback=self.env._("Dismissed: %(reason)s", reason=reason)
            )
        return True

    def action_reopen(self):
        self.write(
            {
                "state": "open",
                "dismiss_reason": False,
                "dismissed_by": False,
                "dismissed_date": False,
            }
        )
        return True

    @api.model
    def action_run(self):
        """Run the anomaly rules and the claim candidates now for every seller account."""
        self.env["amazon.sp.service.anomalies"]._run()
        return True

    @api.model
    def _cron_amazon_sp_anomalies(self):
        """Scheduled action: the anomaly rules and the claim candidates of every account."""
        self.env["amazon.sp.service.anomalies"]._run()
        return True
