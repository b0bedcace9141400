from odoo import fields, models

from .amazon_sp_event import EVENT_TYPE_SELECTION


class AccountMove(models.Model):
    _inherit = "account.move"

    amazon_order_id = fields.Char(
        index="btree_not_null",
        copy=False,
        help="Amazon order id; a refund for this order reverses this invoice.",
    )
    amazon_marketplace_id = fields.Many2one(
        "amazon.sp.marketplace", copy=False, index="btree_not_null"
    )
    amazon_event_type = fields.Selection(EVENT_TYPE_SELECTION, copy=False)
    amazon_event_ids = fields.Many2many(
        "amazon.sp.event",
        "account_move_amazon_sp_event_rel",
        "move_id",
        "event_id",
        string="Amazon Events",
        copy=False,
        readonly=True,
    )
    amazon_event_count = fields.Integer(compute="_compute_amazon_event_count")

    def _compute_amazon_event_count(self):
        for move in self:
            move.amazon_event_count = len(move.amazon_event_ids)

    def action_view_amazon_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_event_action"
        )
        events = self.amazon_event_ids
        if len(events) == 1:
            action.update({"view_mode": "form", "res_id": events.id, "views": [(False, "form")]})
        else:
            action["domain"] = [("id", "in", events.ids)]
        action["context"] = {}
        return action

    def _post(self, soft=True):
        """A draft Amazon document posted by hand (not from its event): its event is posted
        once all its documents are."""
        posted = super()._post(soft)
        events = posted.amazon_event_ids.filtered(
            lambda ev: (
                ev.state in ("ready", "to_review")
                and ev.review_reason in (False, "threshold")
                and all(move.state == "posted" for move in ev.move_ids)
            )
        )
        if events:
            events.write({"state": "posted", "review_reason": False, "review_message": False})
        return posted
