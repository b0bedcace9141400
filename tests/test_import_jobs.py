import unittest
from unittest.mock import patch

from odoo import api
from odoo.tests import common as odoo_tests_common
from odoo.tests import tagged

from .common_import import AmazonImportCommon

# queue_job's test helpers (18.0.3 on) register themselves in a table that Odoo 18 builds
# before mid-2025 do not have: give them an empty one (nothing reads it there).
odoo_tests_common.__dict__.setdefault("SETATTR_SOURCES", {})

try:
    from odoo.addons.queue_job.exception import RetryableJobError
    from odoo.addons.queue_job.tests.common import trap_jobs
except ImportError:  # queue_job is a soft dependency
    RetryableJobError = trap_jobs = None


@tagged("post_install", "-at_install")
class TestImportJobs(AmazonImportCommon):
    """With OCA's queue_job installed, imports are jobs: one fetch per account at a time, post
    jobs per batch, a finish; idempotent, retried when Amazon throttles (issue 14)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "queue.job" not in cls.env:
            raise unittest.SkipTest(
                "queue_job is not installed in the test database: the job path is not tested "
                "(dev/test installs it when AAR_OCA_ADDONS, default /opt/oca-addons, holds it)"
            )
        cls.env["ir.config_parameter"].sudo().set_param(
            "account_amazon_refund.use_queue_job", "True"
        )
        cls.account = cls._import_account("na", cls.marketplace_us)
        cls.Run = cls.env["amazon.sp.import.run"]

    def _runs(self, account=None):
        account = account or self.account
        return self.Run.search([("account_id", "=", account.id)])

    def _count(self, trap, method):
        return len([job for job in trap.enqueued_jobs if job.method_name == method])

    def _perform_all(self, trap):
        """Run the trapped jobs, and the jobs they queue, until none is left."""
        rounds = 0
        while trap.enqueued_jobs:
            rounds += 1
            self.assertLess(rounds, 50, "the jobs end")
            trap.perform_enqueued_jobs()
        return rounds

    def test_import_now_becomes_fetch_post_and_finish_jobs(self):
        for days in range(2, 9):
            self._refund(days_ago=days, items=[self.us_item()])
        self.assertTrue(self.env["amazon.sp.service.import"]._use_jobs())
        account = self.account.with_user(self.amazon_user)
        with trap_jobs() as trap, patch(f"{JOBS}.FETCH_PAGES", 1), patch(f"{JOBS}.POST_BATCH", 3):
            action = account.action_sync()
            self.assertEqual(action["tag"], "display_notification")
            run = self._runs()
            self.assertEqual(run.state, "queued")
            trap.assert_jobs_count(1, only=run._amazon_sp_job_fetch)
            trap.assert_enqueued_job(
                run._amazon_sp_job_fetch,
                properties={
                    "channel": "root.amazon_sp",
                    "identity_key": f"amazon_sp_fetch:{run.id}:0",
                },
            )
            self.assertEqual(run.job_count, 1)
            # Pressed again: the same run, no second job.
            account.action_sync()
            self.assertEqual(self._runs(), run)
            trap.assert_jobs_count(1)
            # The first fetch reads one page (4 events) and queues their posts, in batches of 3,
            # beside the next fetch.
            trap.perform_enqueued_jobs()
            self.assertEqual(run.state, "running")
            self.assertEqual(run.pages, 1)
            self.assertEqual(self._count(trap, "_amazon_sp_job_post"), 2)
            self.assertEqual(self._count(trap, "_amazon_sp_job_fetch"), 1)
            self._perform_all(trap)
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.phase, "end")
        events = self._events(self.account)
        self.assertEqual(len(events), 7)
        self.assertEqual(set(events.mapped("state")), {"posted"})
        notes = events.move_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(len(notes), 7, "no event booked twice")
        # The posts' figures are the run's (their tallies folded in at the end).
        self.assertEqual(run.events_posted, 7)
        self.assertFalse(run.tally_ids)
        self.assertEqual(run.progress, 100.0)
        self.assertIn("7 posted", run.summary)
        # fetch × 2 (two pages), post × 3 (4 + 3 events), finish
        self.assertEqual(run.job_count, 6)

    def test_a_post_job_books_each_event_once_and_keeps_its_figures_apart(self):
        for days in (2, 3):
            self._refund(days_ago=days, items=[self.us_item()])
        with trap_jobs() as trap:
            self.account.action_sync()
            run = self._runs()
            trap.perform_enqueued_jobs()  # the fetch: 2 events, one post job, then the finish
            self.assertEqual(self._count(trap, "_amazon_sp_job_post"), 1)
            events = self._events(self.account)
            self.assertEqual(set(events.mapped("state")), {"new"})
            run._amazon_sp_job_post(events.ids)
            self.assertEqual(set(events.mapped("state")), {"posted"})
            self.assertEqual(run.events_posted, 0, "not written on the run by a post")
            self.assertEqual(sum(run.tally_ids.mapped("events_posted")), 2)
            self.assertEqual(run._booked_count(), 2, "the progress counts them")
            # Run again (a retry, a second worker): nothing more is booked.
            self.assertEqual(run._amazon_sp_job_post(events.ids), "Nothing left to book.")
            self._perform_all(trap)
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.events_posted, 2)
        self.assertEqual(len(events.move_ids.filtered(lambda m: m.move_type == "out_refund")), 2)

    def test_fetches_of_one_account_wait_for_its_lock_and_retry_when_throttled(self):
        self._refund(items=[self.us_item()])
        with trap_jobs() as trap:
            self.account.action_sync()
            run = self._runs()
            with self.registry.cursor() as other_cr:
                other = api.Environment(other_cr, self.env.uid, {})["amazon.sp.service.import"]
                self.assertTrue(other._lock(self.account))
                with self.assertRaises(RetryableJobError) as caught:
                    run._amazon_sp_job_fetch()
                self.assertTrue(caught.exception.ignore_retry, "waiting is not a failed try")
                self.assertEqual(run.state, "queued")
                other._unlock(self.account)
            # Amazon throttles past the client's own retries: the job tries again later.
            self.emu.inject("throttle", count=None, operation="listTransactions")
            with self.assertRaises(RetryableJobError) as caught:
                run._amazon_sp_job_fetch()
            self.assertGreaterEqual(caught.exception.seconds, 30)
            self.assertFalse(caught.exception.ignore_retry)
            # The lock was released: the next try goes through.
            self.emu.reset_faults()
            self._perform_all(trap)
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(self._events(self.account).mapped("state"), ["posted"])

    def test_a_failure_ends_the_run_and_tells_the_user(self):
        self.emu.inject("server_error", count=None, operation="listTransactions")
        with trap_jobs() as trap, patch(f"{JOBS}.RETRYABLE", ()):
            self.account.with_user(self.amazon_user).action_sync()
            run = self._runs()
            self._perform_all(trap)
        self.assertEqual(run.state, "failed")
        self.assertIn("Amazon's service failed", run.error)
        self.assertIn("The import failed", run.summary)

    def test_the_scheduled_import_queues_one_fetch_per_account(self):
        other = self._import_account("na", self.marketplace_us)
        with trap_jobs() as trap:
            self.env["amazon.sp.account"]._cron_amazon_sp_sync()
            runs = self.Run.search([("account_id", "in", (self.account | other).ids)])
            self.assertEqual(runs.account_id, self.account | other)
            self.assertEqual(set(runs.mapped("trigger")), {"cron"})
            self.assertFalse(runs.requested_by_id, "nobody to notify")
            self.assertEqual(self._count(trap, "_amazon_sp_job_fetch"), 2)
            # The next hour, while they are still queued: nothing more.
            self.env["amazon.sp.account"]._cron_amazon_sp_sync()
            trap.assert_jobs_count(2)
            self._perform_all(trap)
        self.assertEqual(set(runs.mapped("state")), {"done"}, runs.mapped("error"))

    def test_switched_off_the_scheduled_action_carries_out_the_runs(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "account_amazon_refund.use_queue_job", "False"
        )
        self._refund(items=[self.us_item()])
        with trap_jobs() as trap:
            self.account.action_sync()
            trap.assert_jobs_count(0)
        run = self._runs()
        self.assertFalse(run.job_uuids)
        self.env["amazon.sp.account"]._cron_amazon_sp_run_queued()
        self.assertEqual(run.state, "done", run.error)


JOBS = "odoo.addons.account_amazon_refund.services.jobs"
