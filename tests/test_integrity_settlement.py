from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common_import import AmazonImportCommon


@tagged("post_install", "-at_install")
class TestIntegritySettlement(AmazonImportCommon):
    """One failing settlement does not stop the check of the others (issue 11)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ds = cls.dataset
        cls.g_old = ds.group_for("USD", cls.now - timedelta(days=40))
        cls.g_new = ds.group_for("USD", cls.g_old.end + timedelta(days=1))
        for group in (cls.g_old, cls.g_new):
            ds.add_refund("US", posted=group.start + timedelta(hours=5), items=[cls.us_item()])
        cls.account = cls._import_account(
            "na", cls.marketplace_us, sync_from=(cls.now - timedelta(days=60)).replace(tzinfo=None)
        )

    def _settlement(self, group):
        return self.env["amazon.sp.settlement"].search(
            [("account_id", "=", self.account.id), ("group_id", "=", group.group_id)]
        )

    def test_a_failing_settlement_is_named_and_the_others_are_checked(self):
        Service = type(self.env["amazon.sp.service.settlement"])
        original = Service._group
        failing = self.g_old.group_id

        def group_or_fail(service, settlement):
            if settlement.group_id == failing:
                raise UserError(service.env._("entries already reconciled"))
            return original(service, settlement)

        with patch.object(Service, "_group", group_or_fail):
            run = self._sync(self.account)
        self.assertEqual(run.state, "done", run.error)
        old, new = self._settlement(self.g_old), self._settlement(self.g_new)
        self.assertEqual(old.state, "to_review")
        self.assertIn(
            "The check of this settlement failed: entries already reconciled", old.review_message
        )
        self.assertNotEqual(new.state, "to_review", new.review_message)
        self.assertTrue(new.state)
        # The cause gone, the next import checks it like the others.
        self._sync(self.account)
        self.assertEqual(old.state, new.state)

    def _bank_line(self, settlement, label):
        Service = self.env["amazon.sp.service.settlement"]
        payout_line = Service._payout_line(settlement)
        return self.env["account.bank.statement.line"].create(
            {
                "journal_id": payout_line.journal_id.id,
                "date": Service._payout_date(settlement) + timedelta(days=1),
                "amount": payout_line.amount_currency,
                "payment_ref": label,
            }
        )

    def test_a_bank_line_without_the_trace_id_is_only_proposed(self):
        run = self._sync(self.account)
        self.assertEqual(run.state, "done", run.error)
        settlement = self._settlement(self.g_old)
        self.assertTrue(settlement.payout_move_id, settlement.review_message)
        self.assertTrue(settlement.trace_id)
        payout_line = self.env["amazon.sp.service.settlement"]._payout_line(settlement)
        # Same amount, a day later, no trace id: proposed, not reconciled.
        first = self._bank_line(settlement, "TRANSFER FROM A CUSTOMER")
        settlement.action_match_bank_lines()
        self.assertFalse(first.is_reconciled)
        self.assertFalse(payout_line.reconciled)
        self.assertEqual(settlement.bank_proposal_line_id, first)
        self.assertIn("not its trace id", settlement.message_ids[0].body)
        # Rejected: forgotten, never proposed again.
        settlement.action_reject_bank_match()
        self.assertFalse(settlement.bank_proposal_line_id)
        self.assertEqual(settlement.bank_rejected_line_ids, first)
        self.assertIn("rejected the bank line", settlement.message_ids[0].body)
        settlement.action_match_bank_lines()
        self.assertFalse(settlement.bank_proposal_line_id)
        # Another one, confirmed by the accountant: reconciled, logged.
        second = self._bank_line(settlement, "AMAZON")
        settlement.action_match_bank_lines()
        self.assertEqual(settlement.bank_proposal_line_id, second)
        settlement.action_confirm_bank_match()
        self.assertTrue(second.is_reconciled)
        self.assertTrue(payout_line.reconciled)
        self.assertFalse(first.is_reconciled)
        self.assertFalse(settlement.bank_proposal_line_id)
        self.assertIn("confirmed the bank match", settlement.message_ids[0].body)

    def test_a_bank_line_with_the_trace_id_is_matched_at_once(self):
        self._sync(self.account)
        settlement = self._settlement(self.g_new)
        self.assertTrue(settlement.payout_move_id, settlement.review_message)
        other = self._bank_line(settlement, "AMAZON")
        traced = self._bank_line(settlement, f"AMAZON PAYMENTS {settlement.trace_id}")
        settlement.action_match_bank_lines()
        self.assertTrue(traced.is_reconciled)
        self.assertFalse(other.is_reconciled)
        self.assertFalse(settlement.bank_proposal_line_id)
