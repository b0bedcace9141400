from odoo.tests import HttpCase, tagged

from .common_import import AmazonImportCommon


@tagged("post_install", "-at_install")
class TestTourImport(AmazonImportCommon, HttpCase):
    """In a browser, an accountant of the Amazon Refunds User group presses Import now: the
    page does not wait for Amazon; the run is queued, then (once the scheduled action ran it)
    the account and the run say what it did. Without Chromium, Odoo skips the test and says so."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us)

    def test_user_imports_in_the_background(self):
        self.assertFalse(self.amazon_user.has_group("account.group_account_user"))
        for days in (2, 3):
            self._refund(days_ago=days, items=[self.us_item()])
        url = f"/odoo/action-account_amazon_refund.amazon_sp_account_action/{self.account.id}"
        self.start_tour(url, "account_amazon_refund_import_now", login="amz_user", timeout=120)
        run = self.env["amazon.sp.import.run"].search([("account_id", "=", self.account.id)])
        self.assertRecordValues(
            run, [{"state": "queued", "requested_by_id": self.amazon_user.id, "pages": 0}]
        )
        self.assertFalse(self._events(self.account), "nothing read from Amazon in the request")
        # The scheduled action, triggered by the button, carries it out.
        self.env["amazon.sp.account"]._cron_amazon_sp_run_queued()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.events_posted, 2)
        self.start_tour(url, "account_amazon_refund_import_done", login="amz_user", timeout=120)
