from odoo import api, fields, models
from odoo.exceptions import UserError

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
    amazon_settled_by_id = fields.Many2one(
        "amazon.sp.settlement",
        compute="_compute_amazon_settled_by_id",
        string="Settled by Amazon Settlement",
        help="The Amazon settlement whose payout cleared this document.",
    )

    def _compute_amazon_event_count(self):
        for move in self:
            move.amazon_event_count = len(move.amazon_event_ids)

    def _is_amazon_sp_document(self):
        """Imported from Amazon (an event's document or a settlement's payout)."""
        self.ensure_one()
        return bool(self.amazon_event_ids or self.amazon_marketplace_id)

    def _amazon_sp_logs_notes(self):
        return any(move._is_amazon_sp_document() for move in self)

    @api.depends("amazon_event_ids.settlement_id.payout_move_id", "line_ids.reconciled")
    def _compute_amazon_settled_by_id(self):
        for move in self:
            settlements = move.amazon_event_ids.settlement_id.filtered("payout_move_id")
            settled = settlements[:1]
            move.amazon_settled_by_id = settled.paid_by_id or settled

    @api.depends("amazon_event_ids", "amazon_marketplace_id")
    def _compute_payment_state(self):
        """Amazon documents are cleared by their settlement's payout, an entry: Odoo would call
        a credit note matched only with entries "reversed". Cleared by Amazon, it is paid."""
        res = super()._compute_payment_state()
        for move in self:
            if move.payment_state != "reversed" or not move._is_amazon_sp_document():
                continue
            clearing = move.company_id.amazon_sp_clearing_account_id
            receivable = move.line_ids.filtered(
                lambda line: (
                    line.account_id.account_type in ("asset_receivable", "liability_payable")
                )
            )
            # Cleared on the Amazon clearing account (by the settlement), not reversed by hand.
            if receivable and receivable.account_id == clearing:
                move.payment_state = "paid"
        return res

    def _compute_payments_widget_to_reconcile_info(self):
        """Amazon documents are reconciled by their settlement only: none is offered to, nor
        offered, another document's outstanding credits or debits."""
        res = super()._compute_payments_widget_to_reconcile_info()
        for move in self.filtered("invoice_has_outstanding"):
            if move._is_amazon_sp_document():
                move.invoice_outstanding_credits_debits_widget = False
                move.invoice_has_outstanding = False
                continue
            widget = move.invoice_outstanding_credits_debits_widget
            foreign = self.env["account.move"].browse(
                [item["move_id"] for item in widget["content"]]
            )
            amazon = foreign.filtered(lambda other: other._is_amazon_sp_document()).ids
            content = [item for item in widget["content"] if item["move_id"] not in amazon]
            move.invoice_outstanding_credits_debits_widget = content and {
                **widget,
                "content": content,
            }
            move.invoice_has_outstanding = bool(content)
        return res

    def js_assign_outstanding_line(self, line_id):
        """The widget's click, refused between an Amazon document and another document."""
        line = self.env["account.move.line"].browse(line_id)
        for move in self:
            if move._is_amazon_sp_document() or line.move_id._is_amazon_sp_document():
                raise UserError(
                    self.env._(
                        "Amazon documents are reconciled by their Amazon settlement only: "
                        "%(document)s cannot be matched by hand.",
                        document=(
                            line.move_id if not move._is_amazon_sp_document() else move
                        ).display_name,
                    )
                )
        return super().js_assign_outstanding_line(line_id)

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
        # Found by PostgreSQL: a summary entry posts the day's thousands of sales, none waiting.
        waiting = self.env["amazon.sp.event"].search(
            [
                ("move_ids", "in", posted.ids),
                ("state", "in", ("ready", "to_review")),
                ("review_reason", "in", (False, "threshold", "document")),
            ]
        )
        events = flow(waiting).filtered(
            lambda ev: all(move.state == "posted" for move in ev.move_ids)
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
