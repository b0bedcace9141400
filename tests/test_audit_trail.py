from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL

from .common_import import AmazonImportCommon, D


@tagged("post_install", "-at_install")
class TestAuditTrail(AmazonImportCommon):
    """What the import stored (events, lines, cursors, settlements, runs) is written by the
    import only: users of the Amazon groups cannot rewrite it, and an altered raw event is
    found and booked from nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us)
        cls.refund = cls.dataset.add_refund(
            "US", posted=cls.now - timedelta(days=2), items=[cls.us_item("SKU-A")]
        )

    def _event(self, refund):
        return self.env["amazon.sp.event"].search(
            [("account_id", "=", self.account.id), ("amazon_order_id", "=", refund.order_id)]
        )

    def _sql(self, query, *args):
        self.env.flush_all()
        self.env.cr.execute(SQL(query, *args))
        self.env.invalidate_all()

    def assertRefused(self, records, vals):
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            records.write(vals)

    def test_user_imports_then_cannot_rewrite_the_event(self):
        """The user presses Import now (the flow writes what it must), then cannot set a
        posted event back to new (which Retry would book a second time), nor forge it."""
        run = self._sync(self.account.with_user(self.amazon_user))
        self.assertEqual((run.state, run.events_posted), ("done", 1))
        event = self._event(self.refund)
        self.assertEqual(event.state, "posted")
        moves = event.move_ids
        for user in (self.amazon_user, self.amazon_manager):
            as_user = event.with_user(user)
            for vals in (
                {"state": "new"},
                {"review_reason": False},
                {"raw_json": '{"forged": true}'},
                {"raw_sha256": "0" * 64},
                {"normalized_json": "{}"},
                {"content_sha256": "0" * 64},
                {"key": "forged"},
                {"fingerprint": "forged"},
                {"amount_total": -1000.0},
                {"move_ids": [Command.clear()]},
                {"line_ids": [Command.create({"amount_type": "Charge/Principal", "amount": -9})]},
            ):
                with self.subTest(user=user.login, vals=vals):
                    self.assertRefused(as_user, vals)
            line = as_user.line_ids[0]
            with self.subTest(user=user.login, model="line"):
                self.assertRefused(line, {"amount": -1000.0})
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    line.unlink()
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    line.create({"event_id": event.id, "amount_type": "Fee/Forged", "amount": 5})
            with self.subTest(user=user.login, model="event create"):
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    as_user.create(
                        {"account_id": self.account.id, "key": "forged", "source_api": "v0"}
                    )
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            event.with_user(self.amazon_manager).unlink()
        # Nothing changed: Retry on the posted event books nothing more.
        event.invalidate_recordset()
        self.assertEqual(event.state, "posted")
        event.with_user(self.amazon_user).action_retry()
        self.assertEqual(event.move_ids, moves)
        self.assertEveryCent(event)

    def test_user_cannot_move_the_cursors_or_the_run_figures(self):
        run = self._sync(self.account.with_user(self.amazon_user))
        run = self.env["amazon.sp.import.run"].browse(run.id)  # out of the flow that made it
        cursors = self.env["amazon.sp.sync.cursor"].search([("account_id", "=", self.account.id)])
        self.assertTrue(cursors)
        for user in (self.amazon_user, self.amazon_manager):
            with self.subTest(user=user.login):
                self.assertRefused(cursors.with_user(user), {"done_until": "2030-01-01 00:00:00"})
                self.assertRefused(cursors.with_user(user), {"next_token": "forged"})
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    cursors.with_user(user).unlink()
                self.assertRefused(run.with_user(user), {"events_posted": 0, "state": "failed"})
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    run.with_user(user).create({"account_id": self.account.id})
                # A context sent over RPC cannot open the flow.
                self.assertRefused(
                    cursors.with_user(user).with_context(amazon_sp_flow=True),
                    {"done_until": "2030-01-01 00:00:00"},
                )
        # The next import still reads the cursors it saved (nothing new, nothing lost).
        again = self._sync(self.account.with_user(self.amazon_user))
        self.assertEqual((again.state, again.events_new), ("done", 0))

    def test_user_cannot_change_a_settlement(self):
        settlement = (
            self.env["amazon.sp.settlement"]
            .sudo()
            .create(
                {
                    "account_id": self.account.id,
                    "group_id": "GROUP-AUDIT-1",
                    "processing_status": "closed",
                    "currency_id": self.env.ref("base.USD").id,
                    "original_total": 120.0,
                }
            )
        )
        for user in (self.amazon_user, self.amazon_manager):
            as_user = settlement.with_user(user)
            for vals in (
                {"original_total": 1.0},
                {"converted_total": 1.0},
                {"state": "reconciled"},
                {"raw_json": "{}"},
                {"group_id": "OTHER"},
            ):
                with self.subTest(user=user.login, vals=vals):
                    self.assertRefused(as_user, vals)
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                as_user.create({"account_id": self.account.id, "group_id": "FORGED"})
        # A note stays the user's to write.
        settlement.with_user(self.amazon_user).write({"review_message": "Asked Amazon"})
        self.assertEqual(settlement.review_message, "Asked Amazon")
        self.assertEqual(settlement.original_total, 120.0)

    def test_review_buttons_still_work_for_a_user(self):
        item = self.us_item("SKU-U")
        item["fees"]["AuditUnknownFee"] = D("-0.50")
        odd = self.dataset.add_refund("US", posted=self.now - timedelta(days=1), items=[item])
        self._sync(self.account.with_user(self.amazon_user))
        event = self._event(odd).with_user(self.amazon_user)
        self.assertEqual(event.review_reason, "unmapped")
        event.action_retry()
        self.assertEqual(event.review_reason, "unmapped")
        # The ignore dialog writes the reason on the event, then the button ignores it.
        event.write({"ignore_reason": "Booked by hand"})
        event.action_ignore()
        self.assertEqual(event.state, "ignored")

    def test_altered_raw_data_is_found_and_not_booked(self):
        item = self.us_item("SKU-H")
        item["fees"]["AuditHashFee"] = D("-0.50")
        odd = self.dataset.add_refund("US", posted=self.now - timedelta(days=1), items=[item])
        self._sync(self.account)
        event = self._event(odd)
        self.assertEqual(event.review_reason, "unmapped")
        self.assertFalse(event.raw_mismatch)
        self.assertFalse(self._event(self.refund).raw_mismatch)
        self._sql(
            "UPDATE amazon_sp_event SET raw_json = replace(raw_json, '-0.5', '-500') WHERE id = %s",
            event.id,
        )
        self.assertTrue(event.raw_mismatch)
        # The form says so.
        arch = event.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="raw_mismatch"', arch)
        # Mapped and retried, it is not booked: it waits for review, saying why.
        self.env["amazon.sp.amount.mapping"].create(
            {
                "company_id": self.company.id,
                "amount_type": "Fee/AuditHashFee",
                "role": "fee",
                "account_id": self.company._amazon_sp_account("fees").id,
            }
        )
        event.action_retry()
        self.assertRecordValues(
            event, [{"state": "to_review", "review_reason": "integrity", "move_ids": []}]
        )
        self.assertIn("SHA-256", event.review_message)
        event.action_post()
        self.assertRecordValues(event, [{"state": "to_review", "move_ids": []}])
