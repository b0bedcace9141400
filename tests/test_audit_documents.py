import base64
import io
from datetime import timedelta

import openpyxl

from odoo import Command
from odoo.tests import tagged

from .common_import import AmazonImportCommon, D


@tagged("post_install", "-at_install")
class TestAuditDocuments(AmazonImportCommon):
    """Documents stay true after posting: an imported document reset, edited or cancelled
    sends its event to review; posted again, it must match Amazon's net to the cent; keeping
    documents Amazon changed since needs a reason. The review's export writes text as text."""

    marketplace_codes = ("US",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us)
        cls.refund = cls.dataset.add_refund(
            "US", posted=cls.now - timedelta(days=2), items=[cls.us_item("SKU-A")]
        )

    def _posted_event(self):
        self._sync(self.account)
        event = self.env["amazon.sp.event"].search(
            [("account_id", "=", self.account.id), ("amazon_order_id", "=", self.refund.order_id)]
        )
        self.assertEqual(event.state, "posted", event.review_message)
        return event

    def test_reset_and_posted_again_is_checked(self):
        event = self._posted_event()
        credit_note = event.move_ids.filtered(lambda m: m.move_type == "out_refund")
        credit_note.with_user(self.env.user).button_draft()
        self.assertRecordValues(event, [{"state": "to_review", "review_reason": "document"}])
        self.assertIn("reset to draft", event.review_message)
        self.assertIn(credit_note.display_name, event.message_ids[:1].body)
        # Posted again unchanged: it matches Amazon's net, the event is booked again.
        credit_note.action_post()
        self.assertRecordValues(event, [{"state": "posted", "review_reason": False}])
        self.assertIn("posted again", event.message_ids[:1].body)
        self.assertEveryCent(event)
        # Edited, then posted: the every-cent check keeps the event in review.
        credit_note.button_draft()
        line = (
            credit_note.invoice_line_ids.filtered("tax_ids")[:1] or credit_note.invoice_line_ids[0]
        )
        credit_note.write(
            {"invoice_line_ids": [Command.update(line.id, {"price_unit": line.price_unit + 5})]}
        )
        credit_note.action_post()
        self.assertEqual(credit_note.state, "posted")
        self.assertRecordValues(event, [{"state": "to_review", "review_reason": "balance"}])
        self.assertIn("clearing account", event.review_message)
        # Post on the event runs the same check.
        event.action_post()
        self.assertRecordValues(event, [{"state": "to_review", "review_reason": "balance"}])

    def test_cancelled_document_is_not_booked(self):
        event = self._posted_event()
        entry = event.move_ids.filtered(lambda m: m.move_type == "entry")
        entry.button_cancel()
        self.assertEqual(entry.state, "cancel")
        self.assertRecordValues(event, [{"state": "to_review", "review_reason": "document"}])
        self.assertIn("cancelled", event.review_message)
        event.action_post()
        self.assertNotEqual(event.state, "posted")
        self.assertEqual(event.review_reason, "balance")

    def test_post_of_a_change_from_amazon_asks_a_reason(self):
        event = self._posted_event()
        moves = event.move_ids
        self.refund.items[0].charges["Principal"] = D("-25.00")
        self._sync(self.account)
        self.assertRecordValues(event, [{"state": "to_review", "review_reason": "changed"}])
        as_user = event.with_user(self.amazon_user)
        action = as_user.action_post()
        self.assertEqual(action["res_model"], "amazon.sp.event.post")
        self.assertEqual(event.state, "to_review", "no reason, nothing done")
        # The list's mass action asks too.
        server_action = self.env.ref("account_amazon_refund.amazon_sp_event_action_server_post")
        action = (
            server_action.with_user(self.amazon_user)
            .with_context(active_model="amazon.sp.event", active_ids=event.ids, active_id=event.id)
            .run()
        )
        self.assertEqual(action["res_model"], "amazon.sp.event.post")
        self.assertEqual(event.state, "to_review")
        wizard = (
            self.env["amazon.sp.event.post"]
            .with_user(self.amazon_user)
            .with_context(**action["context"])
            .create({"reason": "Amazon's correction is booked next month"})
        )
        self.assertEqual(wizard.event_ids, event)
        wizard.action_confirm()
        self.assertRecordValues(event, [{"state": "posted", "review_reason": False}])
        self.assertEqual(event.move_ids, moves)
        body = event.message_ids[:1].body
        self.assertIn("Amazon's correction is booked next month", body)
        self.assertIn(self.amazon_user.name, body)

    def test_export_writes_text_as_text(self):
        review = self.env["amazon.sp.reconciliation"].create(
            {
                "account_id": self.account.id,
                "scope": "range",
                "marketplace_id": self.marketplace_us.id,
                "currency_id": self.env.ref("base.USD").id,
                "line_ids": [
                    Command.create({"amount_type": "=1+1", "amazon_amount": 1.0}),
                ],
                "difference_ids": [
                    Command.create(
                        {
                            "key": "k1",
                            "kind": "changed",
                            "amount": -2.0,
                            "message": '=HYPERLINK("http://example.com","x")',
                            "note": "+1-1",
                        }
                    ),
                    Command.create(
                        {"key": "k2", "kind": "changed", "message": "-2+3", "note": "@SUM(A1)"}
                    ),
                ],
            }
        )
        attachment = self.env["amazon.sp.service.review"]._export_xlsx(review)
        book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(attachment.datas)))
        cells = [
            cell
            for sheet in ("Amount types", "Differences")
            for row in book[sheet].iter_rows(min_row=2)
            for cell in row
            if isinstance(cell.value, str)
        ]
        values = {cell.value for cell in cells}
        for text in ("=1+1", '=HYPERLINK("http://example.com","x")', "+1-1", "-2+3", "@SUM(A1)"):
            self.assertIn(text, values)
        self.assertEqual({cell.data_type for cell in cells}, {"s"})
