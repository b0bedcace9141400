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
