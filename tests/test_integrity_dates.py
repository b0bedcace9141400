from datetime import timedelta

from odoo.tests import tagged

from odoo.addons.account_amazon_refund.domain import sources
from odoo.addons.account_amazon_refund.emulator import to_transaction
from odoo.addons.account_amazon_refund.services.common import company_tz

from .common_import import AmazonImportCommon


@tagged("post_install", "-at_install")
class TestIntegrityDates(AmazonImportCommon):
    """An event dated in the future or before the account's start waits for review (issue 11)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us)

    def _event(self, refund):
        return self._events(self.account).filtered(lambda ev: ev.amazon_order_id == refund.order_id)

    def _stage_refund(self, refund):
        """Stage ``refund`` as Amazon's page would give it (whatever its date)."""
        Importer = self.env["amazon.sp.service.import"]._amazon_sp_flow()
        source = sources.get_source("2024-06-19")
        run = Importer.env["amazon.sp.import.run"].create({"account_id": self.account.id})
        page = type("Page", (), {"payload": {"transactions": [to_transaction(refund)]}})
        Importer._stage_page(self.account, run, source, page)
        return run

    def test_dates_in_the_future_or_before_the_start_wait_for_review(self):
        ok = self._refund(days_ago=2, items=[self.us_item()])
        future = self._refund(posted=self.now + timedelta(days=3), items=[self.us_item()])
        old = self._refund(posted=self.now - timedelta(days=15), items=[self.us_item()])
        self.dataset.remove(future)
        self.dataset.remove(old)
        run = self._sync(self.account)
        for refund in (future, old):
            self._stage_refund(refund)
        run.env["amazon.sp.service.import"]._process_pending(self.account, run)
        self.assertEqual(self._event(ok).state, "posted")
        for refund, words in ((future, "in the future"), (old, "before the start")):
            event = self._event(refund)
            self.assertEqual(event.state, "to_review", words)
            self.assertFalse(event.move_ids)
            self.assertIn(words, event.review_message)

    def test_accounting_date_is_the_companys_not_the_importing_users(self):
        """An event at 23:30 UTC is dated by the company's time zone whoever imports it."""
        self.env.company.partner_id.tz = "Europe/Brussels"
        late = self.now.replace(hour=23, minute=30, second=0, microsecond=0) - timedelta(days=2)
        refund = self._refund(posted=late, items=[self.us_item()])
        self.env.user.tz = "America/Los_Angeles"
        self._sync(self.account)
        self.assertEqual(self._event(refund).date, (late + timedelta(days=1)).date())

    def test_company_without_time_zone_uses_its_countrys_or_utc(self):
        company = self.env.company
        company.partner_id.tz = False
        self.env.user.tz = "Asia/Tokyo"
        company.country_id = self.env.ref("base.de")
        self.assertEqual(company_tz(self.env, company).zone, "Europe/Berlin")
        company.country_id = self.env.ref("base.us")  # many time zones: UTC, never the user's
        self.assertEqual(company_tz(self.env, company).zone, "UTC")
