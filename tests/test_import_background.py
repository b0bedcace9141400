import json
from contextlib import ExitStack
from unittest.mock import patch

from odoo import api, fields
from odoo.tests import tagged

from .common_import import AmazonImportCommon


@tagged("post_install", "-at_install")
class TestImportBackground(AmazonImportCommon):
    """*Import now*, *Refresh settlements* and *Download settlement reports* queue a run and
    return at once; the scheduled action carries it out (queue_job switched off here) and the
    user who asked is notified when it ends (issues 11 and 12)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us)
        cls.cron = cls.env.ref("account_amazon_refund.ir_cron_amazon_sp_queued")

    def _runs(self, **filters):
        domain = [("account_id", "=", self.account.id)]
        domain += [(name, "=", value) for name, value in filters.items()]
        return self.env["amazon.sp.import.run"].search(domain)

    def _triggers(self):
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])

    def _notifications(self, user):
        """The browser notifications sent to ``user`` in this transaction (bus.bus writes them
        when it commits)."""
        found = []
        for values in self.env.cr.precommit.data.get("bus.bus.values", []):
            channel = json.loads(values["channel"])
            message = json.loads(values["message"])
            if channel[1:] == ["res.partner", user.partner_id.id] and (
                message["type"] == "simple_notification"
            ):
                found.append(message["payload"])
        return found

    def _run_queued(self):
        return self.env["amazon.sp.account"]._cron_amazon_sp_run_queued()

    def test_import_now_queues_then_the_scheduled_action_imports_and_notifies(self):
        for days in (2, 3, 4, 5, 6):
            self._refund(days_ago=days, items=[self.us_item()])
        account = self.account.with_user(self.amazon_user)
        triggers = self._triggers()
        action = account.action_sync()
        # The button returns at once: a notification, nothing read from Amazon yet.
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("The import has started", action["params"]["message"])
        run = self._runs()
        self.assertEqual(len(run), 1)
        self.assertRecordValues(
            run,
            [
                {
                    "state": "queued",
                    "kind": "import",
                    "requested_by_id": self.amazon_user.id,
                    "pages": 0,
                    "progress": 0.0,
                }
            ],
        )
        self.assertEqual(run.progress_text, "Waiting to start")
        self.assertFalse(run.waiting_text, "the scheduled action is active")
        self.assertFalse(self._events(self.account))
        self.assertEqual(self._triggers(), triggers + 1, "the scheduled action runs now")
        # A second press while it waits asks nothing more.
        account.action_sync()
        self.assertEqual(self._runs(), run)
        self.assertEqual(self.account.amazon_sp_last_run_id, run)
        self.assertEqual(self.account.amazon_sp_last_run_state, "queued")

        self._run_queued()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.create_uid, self.amazon_user)
        events = self._events(self.account)
        self.assertEqual(len(events), 5)
        self.assertEqual(set(events.mapped("state")), {"posted"})
        self.assertEqual(run.events_posted, 5)
        self.assertEqual(run.pages, 2, "5 events, pages of 4")
        self.assertEqual(run.progress, 100.0)
        self.assertEqual(run.phase, "end")
        self.assertIn("2 page(s) read from Amazon: 5 event(s), 5 new.", run.summary)
        self.assertIn("5 posted", run.summary)
        self.account.invalidate_recordset()  # (read again, as the form does)
        self.assertEqual(self.account.amazon_sp_last_run_summary, run.summary)
        # The user who asked is told, in their browser.
        notes = self._notifications(self.amazon_user)
        self.assertEqual(len(notes), 1)
        self.assertIn("5 posted", notes[0]["message"])
        self.assertEqual(notes[0]["type"], "success")
        self.assertIn(self.account.name, notes[0]["title"])
        # Nothing waits any more: the scheduled action does nothing.
        self.assertFalse(self.env["amazon.sp.service.import"]._run_queued())

    def test_a_long_import_goes_on_step_by_step_with_its_progress(self):
        for days in range(2, 10):
            self._refund(days_ago=days, items=[self.us_item()])
        self.account.with_user(self.amazon_user).action_sync()
        run = self._runs()
        Import = self.env["amazon.sp.service.import"]
        # One page per step: the run stays queued, its figures growing, nobody notified yet.
        with self._budget(pages=1, batches=0):
            self.assertTrue(Import._run_queued())
        self.assertEqual(run.state, "queued")
        self.assertEqual(run.pages, 1)
        self.assertEqual(run.events_fetched, 4)
        self.assertEqual(run.phase, "book")
        self.assertEqual(run.progress, 0.0, "none of the events fetched is booked yet")
        self.assertEqual(run.progress_text, "1 page(s) read, 4 event(s) fetched, 4 new, 0 booked")
        # Fetching: the share of the dates read, from the last event fetched.
        run._amazon_sp_flow().phase = "fetch"
        self.assertGreater(run.progress, 0.0)
        self.assertLessEqual(run.progress, 99.0)
        self.assertFalse(self._notifications(self.amazon_user))
        # The last page, and one batch of 3 events booked.
        with self._budget(pages=1, batches=1, batch=3):
            self.assertTrue(Import._run_queued())
        self.assertEqual(run.state, "queued")
        self.assertEqual((run.pages, run.events_new, run._booked_count()), (2, 8, 3))
        self.assertEqual(run.progress, 37.5, "3 of the 8 new events booked")
        self.assertFalse(Import._run_queued())
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.events_posted, 8)
        events = self._events(self.account)
        notes = events.move_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(len(notes), 8, "each event booked once")
        self.assertEqual(len(self._notifications(self.amazon_user)), 1)

    def _budget(self, pages, batches, batch=None):
        from odoo.addons.account_amazon_refund.services import (
            background,
            importer,
        )

        stack = ExitStack()
        stack.enter_context(
            patch.multiple(background, CRON_MAX_PAGES=pages, CRON_MAX_BATCHES=batches)
        )
        if batch:
            stack.enter_context(patch.object(importer, "PROCESS_BATCH", batch))
        return stack

    def test_an_import_waits_while_another_holds_the_account(self):
        self._refund(items=[self.us_item()])
        self.account.with_user(self.amazon_user).action_sync()
        run = self._runs()
        with self.registry.cursor() as other_cr:
            other = api.Environment(other_cr, self.env.uid, {})["amazon.sp.service.import"]
            self.assertTrue(other._lock(self.account))
            later = self.env["ir.cron.trigger"].search_count(
                [("cron_id", "=", self.cron.id), ("call_at", ">", fields.Datetime.now())]
            )
            # It waits (not refused); the scheduled action tries again in a minute, not at once.
            self.assertFalse(self.env["amazon.sp.service.import"]._run_queued())
            self.assertEqual(run.state, "queued")
            self.assertEqual(
                self.env["ir.cron.trigger"].search_count(
                    [("cron_id", "=", self.cron.id), ("call_at", ">", fields.Datetime.now())]
                ),
                later + 1,
            )
            other._unlock(self.account)
        self._run_queued()
        self.assertEqual(run.state, "done", run.error)

    def test_a_run_waiting_for_a_switched_off_scheduled_action_says_so(self):
        self.cron.active = False
        action = self.account.with_user(self.amazon_user).action_sync()
        run = self._runs()
        self.assertEqual(run.state, "queued")
        self.assertIn("switched off", run.waiting_text)
        self.assertIn("Amazon: imports asked for by users", run.waiting_text)
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("switched off", action["params"]["message"])
        self.assertIn("switched off", self.account.amazon_sp_last_run_waiting)
        # The hourly scheduled import carries it out too.
        self.env["amazon.sp.account"]._cron_amazon_sp_sync()
        self.assertEqual(run.state, "done", run.error)
        self.assertFalse(run.waiting_text)

    def test_settlements_and_reports_run_in_the_background(self):
        account = self.account.with_user(self.amazon_user)
        action = account.action_amazon_sp_refresh_settlements()
        self.assertEqual(action["tag"], "display_notification")
        action = account.action_amazon_sp_fetch_settlement_reports()
        self.assertEqual(action["tag"], "display_notification")
        settle = self._runs(kind="settlements")
        reports = self._runs(kind="reports")
        self.assertEqual((settle | reports).mapped("state"), ["queued", "queued"])
        # Amazon fails on the report list: the run says why, the user is told.
        self.emu.inject("server_error", count=None, operation="getReports")
        self._run_queued()
        self.assertEqual(settle.state, "done", settle.error)
        self.assertIn("settlement(s) read", settle.summary)
        self.assertEqual(reports.state, "failed")
        self.assertIn("Amazon's settlement reports could not be read", reports.error)
        self.assertIn("Amazon's service failed; try again later.", reports.error)
        notes = self._notifications(self.amazon_user)
        self.assertEqual(sorted(n["type"] for n in notes), ["danger", "success"])
        # Once Amazon answers, the next press downloads them.
        self.emu.reset_faults()
        account.action_amazon_sp_fetch_settlement_reports()
        again = self._runs(kind="reports") - reports
        self._run_queued()
        self.assertEqual(again.state, "done", again.error)
        self.assertIn("settlement report(s) downloaded", again.summary)
