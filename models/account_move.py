from odoo import fields, models

from .amazon_sp_event import EVENT_TYPE_SELECTION
from .amazon_sp_flow_guard import flow


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
        once all its documents are and they pass the every-cent check (a document reset to
        draft and posted again included)."""
        posted = super()._post(soft)
        events = flow(posted.amazon_event_ids).filtered(
            lambda ev: (
                ev.state in ("ready", "to_review")
                and ev.review_reason in (False, "threshold", "document")
                and all(move.state == "posted" for move in ev.move_ids)
            )
        )
        if events:
            again = events.filtered(lambda ev: ev.review_reason == "document")
            checked = events._amazon_sp_check_documents()
            checked.write({"state": "posted", "review_reason": False, "review_message": False})
            for event in checked & again:
                event.message_post(
                    body=self.env._(
                        "Documents posted again by %(user)s; they match Amazon's net amount.",
                        user=self.env.user.name,
                    )
                )
        return posted

    def button_draft(self):
        res = super().button_draft()
        self._amazon_sp_document_changed(self.env._("reset to draft"))
        return res

    def button_cancel(self):
        res = super().button_cancel()
        self._amazon_sp_document_changed(self.env._("cancelled"))
        return res

    def _amazon_sp_document_changed(self, what):
        """An imported document reset to draft or cancelled: its event no longer stands booked,
        it goes to review saying what happened (posting it again re-checks every cent)."""
        for move in self.filtered("amazon_event_ids"):
            events = flow(move.amazon_event_ids).filtered(
                lambda ev: ev.state in ("posted", "ready", "to_review", "nothing")
            )
            message = self.env._(
                "%(document)s was %(what)s by %(user)s: the event is not booked as Amazon "
                "reported it until its documents are posted again and match its net amount "
                "(or it is ignored).",
                document=move.display_name,
                what=what,
                user=self.env.user.name,
            )
            for event in events:
                event._amazon_sp_set_review("document", message)
                event.message_post(body=message)
