from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .common_import import AmazonImportCommon


@tagged("post_install", "-at_install")
class TestIntegrityPull(AmazonImportCommon):
    """A pull that always ends (issue 11)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us, finances_api="v0")

    def _cursor(self, account):
        return self.env["amazon.sp.sync.cursor"].search([("account_id", "=", account.id)])

    def test_an_expired_next_token_restarts_its_window(self):
        refunds = [self._refund(days_ago=days, items=[self.us_item()]) for days in (2, 3, 4)]
        # The first page comes back empty with a next token; the run stops there (its page
        # budget), the cursor keeps the token.
        self.emu.inject("empty_page", count=1, operation="listFinancialEvents")
        start = datetime.now(UTC).replace(microsecond=0)
        with freeze_time(start):
            run = self._sync(self.account, max_pages=1)
        self.assertEqual(run.state, "partial")
        self.assertTrue(self._cursor(self.account).next_token)
        self.assertFalse(self._events(self.account))
        # Ten minutes later the token has expired (v0 tokens last three): the window is read
        # again from its start, and the run says so.
        with freeze_time(start + timedelta(minutes=10)):
            run = self._sync(self.account)
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(
            set(self._events(self.account).mapped("amazon_order_id")),
            {refund.order_id for refund in refunds},
        )
        self.assertFalse(self._cursor(self.account).next_token)
        # The emulator is not Amazon: its words stay out of the chatter, its error code is shown.
        bodies = " ".join(run.message_ids.mapped("body"))
        self.assertIn("no longer takes the next token", bodies)
        self.assertIn("InvalidInput", bodies)
        self.assertNotIn("token duration is 3 minutes", bodies)
