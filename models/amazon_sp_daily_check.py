from odoo import api, fields, models


class AmazonSpDailyCheck(models.Model):
    """One marketplace and day of one seller account: Amazon's refund and adjustment totals
    beside what Odoo posted for them."""

    _name = "amazon.sp.daily.check"
    _description = "Amazon Daily Consistency Check"
    _inherit = ["mail.thread", "mail.activity.mixin"]  # noqa: RUF012
    _order = "day desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    marketplace_id = fields.Many2one("amazon.sp.marketplace", required=True, index=True)
    day = fields.Date(required=True, index=True)
    currency_id = fields.Many2one("res.currency", required=True)
    amazon_refund_total = fields.Monetary(currency_field="currency_id", string="Amazon Refunds")
    amazon_adjustment_total = fields.Monetary(
        currency_field="currency_id", string="Amazon Adjustments"
    )
    odoo_refund_total = fields.Monetary(currency_field="currency_id", string="Odoo Refunds")
    odoo_adjustment_total = fields.Monetary(currency_field="currency_id", string="Odoo Adjustments")
    refund_difference = fields.Monetary(currency_field="currency_id")
    adjustment_difference = fields.Monetary(currency_field="currency_id")
    amazon_count = fields.Integer(string="Amazon Events")
    odoo_count = fields.Integer(string="Odoo Posted Events")
    state = fields.Selection(
        [("ok", "Consistent"), ("differs", "Differs")], required=True, default="ok", tracking=True
    )
    checked_at = fields.Datetime()
    differences = fields.Text(help="Each difference named, as the reconciliation review does.")
    summary = fields.Text()

    _sql_constraints = [  # noqa: RUF012
        (
            "day_unique",
            "unique(account_id, marketplace_id, day)",
            "One check per seller account, marketplace and day.",
        ),
    ]

    @api.depends("account_id", "marketplace_id", "day")
    def _compute_name(self):
        for check in self:
            check.name = " ".join(
                p for p in (check.account_id.name, check.marketplace_id.code, str(check.day)) if p
            )

    def action_open_review(self):
        """Open a reconciliation review of this marketplace and day."""
        self.ensure_one()
        review = self.env["amazon.sp.reconciliation"].create(
            {
                "account_id": self.account_id.id,
                "scope": "range",
                "marketplace_id": self.marketplace_id.id,
                "date_from": self.day,
                "date_to": self.day,
            }
        )
        review.action_refresh()
        return {
            "type": "ir.actions.act_window",
            "res_model": review._name,
            "res_id": review.id,
            "view_mode": "form",
        }

    def action_recheck(self):
        Check = self.env["amazon.sp.service.check"]
        for check in self:
            Check._daily_check(check.account_id, check.day, check.marketplace_id)
        return True
