from datetime import timedelta
from unittest.mock import patch

from odoo.tests import Form, tagged

from .common_import import AmazonImportCommon


class Killed(Exception):
    """Stands for the process being killed between two pages."""


@tagged("post_install", "-at_install")
class TestImportPull(AmazonImportCommon):
    """Cursors, idempotency, resuming, Amazon's faults, the wizard."""

    page_size = 3

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us)
        cls.refunds = [
            cls.dataset.add_refund(
                "US",
                posted=cls.now - timedelta(days=1, hours=index),
                items=[cls.us_item(f"SKU-{index}")],
            )
            for index in range(10)
        ]

    def _documents_per_event(self):
        events = self._events(self.account)
        return {event.key: len(event.move_ids) for event in events}

    def test_same_window_twice_creates_nothing(self):
        first = self._sync(self.account)
        self.assertEqual(first.events_new, 10)
        self.assertEqual(first.events_posted, 10)
        moves = self.env["account.move"].search_count([("amazon_order_id", "!=", False)])
        cursor = self.account.sync_cursor_ids
        self.assertEqual(len(cursor), 1)
        self.assertFalse(cursor.next_token)
        self.assertTrue(cursor.done_until)
        second = self._sync(self.account)
        self.assertRecordValues(
            second, [{"state": "done", "events_new": 0, "events_known": 10, "events_posted": 0}]
        )
        # An overlapping range through the wizard: known too.
        wizard = Form(
            self.env["amazon.sp.import"].with_context(
                active_model="amazon.sp.account", active_id=self.account.id
            )
        )
        wizard.date_from = (self.now - timedelta(days=5)).date()
        action = wizard.save().action_import()
        third = self.env["amazon.sp.import.run"].browse(action["res_id"])
        self.assertRecordValues(
            third, [{"trigger": "wizard", "state": "done", "events_new": 0, "events_known": 10}]
        )
        self.assertEqual(
            self.env["account.move"].search_count([("amazon_order_id", "!=", False)]), moves
        )
        self.assertEqual(set(self._documents_per_event().values()), {2})

    def test_overlap_reads_late_events(self):
        self._sync(self.account)
        # Amazon posts late: an event dated before the cursor shows up afterwards.
        late = self.dataset.add_refund(
            "US",
            posted=self.now - timedelta(hours=30),
            items=[self.us_item("SKU-LATE")],
        )
        run = self._sync(self.account)
        self.assertEqual(run.events_new, 1)
        event = self.env["amazon.sp.event"].search([("amazon_order_id", "=", late.order_id)])
        self.assertEqual(event.state, "posted")

    def test_killed_mid_pagination_resumes(self):
        Importer = type(self.env["amazon.sp.service.import"])
        original = Importer._stage_page
        pages = []

        def stage_then_die(importer, account, run, source, page, **kwargs):
            if len(pages) == 2:
                raise Killed()
            pages.append(page)
            return original(importer, account, run, source, page, **kwargs)

        killed = False
        # Not assertRaises: Odoo's rolls back to a savepoint, and what was done before the
        # kill (committed page by page in production) must stay.
        with patch.object(Importer, "_stage_page", stage_then_die):
            try:
                self._sync(self.account)
            except Killed:
                killed = True
        self.assertTrue(killed)
        cursor = self.env["amazon.sp.sync.cursor"].search([("account_id", "=", self.account.id)])
        self.assertTrue(cursor.next_token, "the cursor holds the next page")
        self.assertEqual(len(self._events(self.account)), 6)
        run = self._sync(self.account)
        self.assertEqual(run.state, "done")
        self.assertEqual(run.events_new, 4)
        events = self._events(self.account)
        self.assertEqual(len(events), 10)
        self.assertEqual(set(events.mapped("state")), {"posted"})
        self.assertEqual(set(self._documents_per_event().values()), {2})
        self.assertEveryCent(events)

    def test_faults_are_ridden_out(self):
        self.emu.inject("throttle", count=3, operation="listTransactions", after=1)
        self.emu.inject("server_error", count=1, operation="listTransactions", after=2)
        self.emu.inject("unavailable", count=1, operation="listTransactions", after=3)
        self.emu.inject("expired_token", count=1, operation="listTransactions", after=4)
        run = self._sync(self.account)
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.events_posted, 10)
        self.assertGreaterEqual(run.throttled, 3)
        self.assertGreaterEqual(run.retries, 6)
        self.assertGreaterEqual(run.token_refreshes, 2)
        self.assertEqual(self.emu.count("listTransactions", status=429), 3)

    def test_failure_is_recorded(self):
        self.emu.inject("server_error", count=None, operation="listTransactions")
        run = self._sync(self.account, trigger="cron")
        self.assertEqual(run.state, "failed")
        self.assertTrue(run.error)
        self.assertFalse(self._events(self.account))

    def test_wizard_one_order(self):
        target = self.refunds[4]
        wizard = Form(
            self.env["amazon.sp.import"].with_context(
                active_model="amazon.sp.account", active_id=self.account.id
            )
        )
        wizard.mode = "order"
        wizard.amazon_order_id = target.order_id
        action = wizard.save().action_import()
        run = self.env["amazon.sp.import.run"].browse(action["res_id"])
        self.assertEqual(run.events_new, 1)
        event = self._events(self.account)
        self.assertRecordValues(event, [{"amazon_order_id": target.order_id, "state": "posted"}])

    def test_long_range_is_cut(self):
        self.account.sync_from = (self.now - timedelta(days=400)).replace(tzinfo=None)
        run = self._sync(self.account)
        self.assertEqual(run.state, "done")
        self.assertEqual(run.events_new, 10)
        # 400 days in 30-day windows: at least 14 calls, none wider than 180 days (else empty).
        self.assertGreaterEqual(self.emu.count("listTransactions"), 14)

    def test_cron_bounded_batches(self):
        self.account.sudo().state = "linked"
        with patch("odoo.addons.account_amazon_refund.services.importer.CRON_MAX_PAGES", 2):
            self.env["amazon.sp.account"]._cron_amazon_sp_sync()
        Run = self.env["amazon.sp.import.run"]
        run = Run.search([("account_id", "=", self.account.id)], limit=1)
        self.assertEqual(run.state, "partial")
        self.assertEqual(run.pages, 2)
        self.env["amazon.sp.account"]._cron_amazon_sp_sync()
        self.assertEqual(len(self._events(self.account)), 10)
        last = Run.search([("account_id", "=", self.account.id)], limit=1)
        self.assertEqual(last.state, "done")

    def test_cron_works_in_the_account_company(self):
        other = self.setup_other_company(name="Amazon EU company")["company"]
        self.env.user.company_ids += other
        account = self._import_account("na", self.marketplace_us, company_id=other.id)
        account.sudo().state = "linked"
        self.account.sudo().refresh_token = False  # only the other company's account runs
        self.env["amazon.sp.account"]._cron_amazon_sp_sync()
        events = self._events(account)
        self.assertEqual(len(events), 10)
        self.assertEqual(set(events.mapped("state")), {"posted"})
        self.assertEqual(events.move_ids.company_id, other)
        self.assertEqual(events.move_ids.journal_id, other.amazon_sp_journal_id)
        self.assertNotEqual(other.amazon_sp_journal_id, self.company.amazon_sp_journal_id)
        self.assertEveryCent(events)
