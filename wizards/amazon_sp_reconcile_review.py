from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError


class AmazonSpReconcileReview(models.TransientModel):
    """Start a reconciliation review: a settlement, or an account × marketplace × date range."""

    _name = "amazon.sp.reconcile.review"
    _description = "Start an Amazon Reconciliation Review"

    scope = fields.Selection(
        [("settlement", "Settlement"), ("range", "Date range")], required=True, default="range"
    )
    settlement_id = fields.Many2one("amazon.sp.settlement")
    account_id = fields.Many2one("amazon.sp.account", string="Seller Account")
    marketplace_id = fields.Many2one(
        "amazon.sp.marketplace", domain="[('id', 'in', allowed_marketplace_ids)]"
    )
    allowed_marketplace_ids = fields.Many2many(
        "amazon.sp.marketplace", compute="_compute_allowed_marketplace_ids"
    )
    date_from = fields.Date(default=lambda self: fields.Date.context_today(self) - timedelta(7))
    date_to = fields.Date(default=lambda self: fields.Date.context_today(self) - timedelta(1))

    @api.depends("account_id")
    def _compute_allowed_marketplace_ids(self):
        for wizard in self:
            wizard.allowed_marketplace_ids = wizard.account_id.marketplace_ids

    @api.onchange("settlement_id")
    def _onchange_settlement_id(self):
        if self.settlement_id:
            self.account_id = self.settlement_id.account_id

    def action_start(self):
        self.ensure_one()
        if self.scope == "settlement":
            if not self.settlement_id:
                raise UserError(self.env._("Choose the settlement to review."))
            vals = {
                "scope": "settlement",
                "settlement_id": self.settlement_id.id,
                "account_id": self.settlement_id.account_id.id,
            }
        else:
            if not (self.account_id and self.marketplace_id and self.date_from and self.date_to):
                raise UserError(
                    self.env._("Choose the seller account, the marketplace and the dates.")
                )
            if self.date_from > self.date_to:
                raise UserError(self.env._("The start date is after the end date."))
            vals = {
                "scope": "range",
                "account_id": self.account_id.id,
                "marketplace_id": self.marketplace_id.id,
                "date_from": self.date_from,
                "date_to": self.date_to,
            }
        review = self.env["amazon.sp.reconciliation"].create(vals)
        review.action_refresh()
        return {
            "type": "ir.actions.act_window",
            "res_model": review._name,
            "res_id": review.id,
            "view_mode": "form",
        }


class AmazonSpReconciliationAccept(models.TransientModel):
    """Accept open differences of a review with a note (who and when are logged)."""

    _name = "amazon.sp.reconciliation.accept"
    _description = "Accept Amazon Reconciliation Differences"

    reconciliation_id = fields.Many2one("amazon.sp.reconciliation", required=True)
    difference_ids = fields.Many2many(
        "amazon.sp.reconciliation.difference",
        "amazon_sp_reconciliation_accept_difference_rel",
        "wizard_id",
        "difference_id",
        domain="[('reconciliation_id', '=', reconciliation_id), ('state', '=', 'open')]",
    )
    note = fields.Text(required=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        rec_id = values.get("reconciliation_id")
        if rec_id and "difference_ids" in fields_list and not values.get("difference_ids"):
            review = self.env["amazon.sp.reconciliation"].browse(rec_id)
            values["difference_ids"] = [
                (6, 0, review.difference_ids.filtered(lambda d: d.state == "open").ids)
            ]
        return values

    def action_accept(self):
        self.ensure_one()
        if not self.difference_ids:
            raise UserError(self.env._("Choose the differences to accept."))
        self.difference_ids._accept(self.note)
        return {"type": "ir.actions.act_window_close"}
