from datetime import UTC, datetime, time, timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError


class AmazonSpImport(models.TransientModel):
    """Import a date range, or the events of one Amazon order, for catch-up and support cases.

    The cursors of the scheduled import are left as they are.
    """

    _name = "amazon.sp.import"
    _description = "Import Amazon Refunds"

    account_id = fields.Many2one(
        "amazon.sp.account", string="Seller Account", required=True, ondelete="cascade"
    )
    mode = fields.Selection(
        [("range", "Date range"), ("order", "One Amazon order")],
        default="range",
        required=True,
    )
    date_from = fields.Date(
        default=lambda self: fields.Date.context_today(self) - timedelta(days=7)
    )
    date_to = fields.Date(help="Empty: up to now.")
    amazon_order_id = fields.Char(help="e.g. 111-1234567-1234567")

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        if (
            "account_id" in fields_list
            and not res.get("account_id")
            and self.env.context.get("active_model") == "amazon.sp.account"
        ):
            res["account_id"] = self.env.context.get("active_id")
        return res

    def action_import(self):
        self.ensure_one()
        importer = self.env["amazon.sp.service.import"]
        if self.mode == "order":
            order_id = (self.amazon_order_id or "").strip()
            if not order_id:
                raise UserError(self.env._("Enter the Amazon order id."))
            run = importer._sync(self.account_id, trigger="wizard", order_id=order_id)
        else:
            if not self.date_from:
                raise UserError(self.env._("Enter the first date."))
            if self.date_to and self.date_to < self.date_from:
                raise UserError(self.env._("The last date is before the first one."))
            date_from = datetime.combine(self.date_from, time.min, tzinfo=UTC)
            date_to = (
                datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=UTC)
                if self.date_to
                else None
            )
            run = importer._sync(
                self.account_id, trigger="wizard", date_from=date_from, date_to=date_to
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": "amazon.sp.import.run",
            "res_id": run.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }
