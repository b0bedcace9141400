from unittest.mock import patch

import psycopg2.errors

from odoo import api
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common_import import AmazonImportCommon


@tagged("post_install", "-at_install")
class TestIntegrityLock(AmazonImportCommon):
    """One import per account at a time; a run never stays running (issue 11)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us)

    def _runs(self, account, **filters):
        domain = [("account_id", "=", account.id)]
        domain += [(name, "=", value) for name, value in filters.items()]
        return self.env["amazon.sp.import.run"].search(domain)

    def _running_run(self, account):
        # (as the import creates them: in its flow)
        return (
            self.env["amazon.sp.import.run"]
            ._amazon_sp_flow()
            .create({"account_id": account.id, "trigger": "cron", "state": "running"})
        )

    def test_a_second_import_is_refused_while_the_first_holds_the_lock(self):
        self._refund(items=[self.us_item()])
        before = self._running_run(self.account)
        # Another worker (its own database connection) imports the account.
        with self.registry.cursor() as other_cr:
            other = api.Environment(other_cr, self.env.uid, {})["amazon.sp.service.import"]
            self.assertTrue(other._lock(self.account))
            with self.assertRaisesRegex(UserError, "already running since"):
                self._sync(self.account)
            # The scheduled action skips the account quietly, without a run.
            self.assertFalse(self.env["amazon.sp.service.import"]._sync_scheduled(self.account))
            self.assertEqual(self._runs(self.account), before)
            self.assertEqual(before.state, "running", "its worker is alive: not closed")
            other._unlock(self.account)
        # The other worker is done: the import goes on, and the run it found running was
        # left by no live worker.
        run = self._sync(self.account)
        self.assertEqual(run.state, "done")
        self.assertEqual(before.state, "failed")
        self.assertIn("stopped before it ended", before.error)

    def test_the_scheduled_action_closes_runs_left_running(self):
        dead = self._running_run(self.account)
        self.env["amazon.sp.service.import"]._sync_scheduled(self.env["amazon.sp.account"])
        self.assertEqual(dead.state, "failed")
        self.assertTrue(dead.date_end)

    def test_a_database_conflict_ends_the_scheduled_run(self):
        Importer = type(self.env["amazon.sp.service.import"])
        conflict = psycopg2.errors.SerializationFailure("could not serialize access")
        with patch.object(Importer, "_pull_cursors", side_effect=conflict):
            more = self.env["amazon.sp.service.import"]._sync_scheduled(self.account)
        self.assertFalse(more)
        run = self._runs(self.account)
        self.assertEqual(run.state, "failed")
        self.assertIn("could not serialize access", run.error)

    def test_an_unexpected_error_ends_the_run_and_is_raised(self):
        Importer = type(self.env["amazon.sp.service.import"])
        raised = None
        # (not assertRaises: its savepoint would roll the run back)
        with patch.object(Importer, "_pull_cursors", side_effect=OverflowError("too big")):
            try:
                self._sync(self.account)
            except OverflowError as exc:
                raised = exc
        self.assertIsInstance(raised, OverflowError)
        run = self._runs(self.account)
        self.assertEqual((run.state, run.error), ("failed", "too big"))
