from datetime import timedelta

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common_import import AmazonImportCommon, D


@tagged("post_install", "-at_install")
class TestIntegrityChange(AmazonImportCommon):
    """Adopting Amazon's change: the documents of an event Amazon changed after posting are
    reversed and remade from the new content, logged on both (issue 11)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us)

    def _event(self, refund):
        return self._events(self.account).filtered(lambda ev: ev.amazon_order_id == refund.order_id)

    def test_adopting_amazons_change_reverses_and_remakes_the_documents(self):
        refund = self.dataset.add_refund(
            "US", posted=self.now - timedelta(days=2), items=[self.us_item("SKU-CHG")]
        )
        other = self.dataset.add_refund(
            "US", posted=self.now - timedelta(days=2), items=[self.us_item("SKU-OTHER")]
        )
        self._sync(self.account)
        event = self._event(refund)
        self.assertEqual(event.state, "posted")
        first_moves = event.move_ids
        first_sha, first_amount = event.raw_sha256, event.amount_total
        refund.items[0].charges["Principal"] = D("-25.00")
        self._sync(self.account)
        self.assertRecordValues(event, [{"state": "to_review", "review_reason": "changed"}])
        new_sha = event.upstream_sha256

        # An event Amazon did not change cannot take "new" content.
        with self.assertRaises(UserError):
            self._event(other).action_adopt_change()

        event.action_adopt_change()
        self.assertRecordValues(
            event,
            [
                {
                    "state": "posted",
                    "review_reason": False,
                    "raw_sha256": new_sha,
                    "upstream_sha256": False,
                    "upstream_raw_json": False,
                }
            ],
        )
        self.assertAlmostEqual(event.amount_total, first_amount - 5.0)  # 5.00 more given back
        principal = event.line_ids.filtered(lambda ln: ln.amount_type == "Charge/Principal")
        self.assertEqual(principal.amount, -25.0)
        # the first documents stay posted, each reversed by a posted entry; new ones follow
        self.assertTrue(first_moves <= event.move_ids)
        self.assertEqual(set(first_moves.mapped("state")), {"posted"})
        reversals = event.move_ids.filtered(lambda m: m.reversed_entry_id in first_moves)
        self.assertEqual(len(reversals), len(first_moves))
        self.assertEqual(set(reversals.mapped("state")), {"posted"})
        new_moves = event.move_ids - first_moves - reversals
        self.assertTrue(new_moves)
        self.assertEqual(set(new_moves.mapped("state")), {"posted"})
        # every cent: all the event's posted documents together move the clearing account by
        # Amazon's new net
        self.assertEveryCent(event)
        # logged on both sides, with Amazon's first content kept
        bodies = " ".join(event.message_ids.mapped("body"))
        self.assertIn("Amazon's change adopted by", bodies)
        self.assertIn(first_sha[:12], bodies)
        attachment = event.message_ids.attachment_ids.filtered(lambda a: first_sha[:12] in a.name)
        self.assertTrue(attachment)
        for move in first_moves:
            self.assertIn("Amazon changed its event", move.message_ids[:1].body)
        # a second import changes nothing
        self._sync(self.account)
        self.assertEqual(event.state, "posted")
        self.assertEqual(len(event.move_ids), len(first_moves) + len(reversals) + len(new_moves))
