import os
import select
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api
from odoo.api import Transaction
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import config

from odoo.addons.account_amazon_refund.emulator import to_transaction

from .common_import import AmazonImportCommon
from .test_integrity_staging import replace_values

# A worker of its own (an OS process): it imports the account and, once the events of its
# second page are staged (not yet committed), says so and waits to be killed.
KILLED_WORKER = """
import sys, time
import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
odoo.tools.config.parse_config(sys.argv[2:])
registry = Registry(odoo.tools.config["db_name"])
with registry.cursor() as cr:
    cr.execute("SET lock_timeout = '30s'")
    env = api.Environment(cr, SUPERUSER_ID, {})
    # The emulator is not Amazon: allowed as the tests allow it.
    type(env["amazon.sp.service.connection"])._allow_custom_hosts = lambda service: True
    Staging = type(env["amazon.sp.service.staging"])
    stage, pages = Staging._stage, []
    def stage_then_wait(service, *args, **kwargs):
        result = stage(service, *args, **kwargs)
        if args[2]:  # a page with events (a window may begin with an empty one)
            pages.append(len(args[2]))
        if len(pages) == 2:
            print("MID-PAGE", flush=True)
            time.sleep(300)
        return result
    Staging._stage = stage_then_wait
    account = env["amazon.sp.account"].browse(int(sys.argv[1]))
    env["amazon.sp.service.import"]._sync(account, trigger="cron")
"""


@tagged("post_install", "-at_install")
class TestIntegrityDrills(AmazonImportCommon):
    """The drills of issue 11 that need no committed data: a poisoned page, two imports of one
    account started together (each on its own database connection)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us)

    def _poisoned(self, refund, name, value):
        """``refund`` sent again by Amazon with every ``name`` set to ``value``."""
        transaction = replace_values(to_transaction(refund), name, value)
        self.dataset.remove(refund)
        self.dataset.add_raw_transaction(transaction, currency="USD", marketplace="US")

    def test_a_page_with_poisoned_events_posts_the_others(self):
        self.assertEqual(self.page_size, 4)
        good = self._refund(days_ago=2, items=[self.us_item()])
        poisons = {
            "ZZZ": ("currencyCode", "ZZZ"),
            "huge": ("currencyAmount", Decimal("-1E+400")),
            "zero": ("currencyAmount", -0.0),
        }
        orders = {}
        for label, (name, value) in poisons.items():
            refund = self._refund(days_ago=2, items=[self.us_item()])
            self._poisoned(refund, name, value)
            orders[label] = refund.order_id
        run = self._sync(self.account)
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.events_fetched, 4, "one page of four")
        by_order = {event.amazon_order_id: event for event in self._events(self.account)}
        self.assertEqual(by_order[good.order_id].state, "posted")
        self.assertEveryCent(by_order[good.order_id])
        self.assertEqual(by_order[orders["ZZZ"]].state, "error")
        self.assertIn("currency code ZZZ", by_order[orders["ZZZ"]].review_message)
        # Its breakdown cannot add up to its total: kept in error with its raw data.
        events = self._events(self.account)
        huge = events.filtered(lambda event: orders["huge"] in (event.raw_json or ""))
        self.assertEqual(huge.state, "error")
        self.assertTrue(huge.review_message)
        self.assertEqual(by_order[orders["zero"]].state, "nothing")
        self.assertFalse(by_order[orders["zero"]].move_ids)
        running = self.env["amazon.sp.import.run"].search(
            [("account_id", "=", self.account.id), ("state", "=", "running")]
        )
        self.assertFalse(running)
        # The next import reads the page again: nothing new, nothing blocked.
        again = self._sync(self.account, date_from=self.now - timedelta(days=5))
        self.assertEqual((again.state, again.events_new), ("done", 0))


@tagged("post_install", "-at_install")
class TestIntegrityDrillsCommitted(AmazonImportCommon):
    """The drills on committed data, as two workers see it: an account of the database's first
    company is committed for the test (and deleted after it, with what the drill committed)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main_company = cls.env.ref("base.main_company")
        # The emulator's host, allowed for the workers too (the test's parameter is not
        # committed).
        cls.startClassPatcher(
            patch.object(
                type(cls.env["amazon.sp.service.connection"]),
                "_allow_custom_hosts",
                return_value=True,
            )
        )

    def _committed_account(self):
        """A seller account committed in the first company (the other workers see it), removed
        with everything of it when the test ends."""
        with self.registry.cursor() as cr:
            cr.execute("SET lock_timeout = '30s'")
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = env["amazon.sp.account"].create(
                {
                    "name": "Drill seller",
                    "company_id": self.main_company.id,
                    "region": "na",
                    "seller_id": f"A1DRILL{os.getpid()}",
                    "application_id": self.emu.application_id,
                    "lwa_client_id": self.emu.client_id,
                    "lwa_client_secret": self.emu.client_secret,
                    "refresh_token": self.emu.refresh_token,
                    "api_url": self.emu.url,
                    "lwa_url": self.emu.lwa_url,
                    "marketplace_ids": [Command.set(self.marketplace_us.ids)],
                    "finances_api": "2024-06-19",
                    "sync_from": (self.now - timedelta(days=10)).replace(tzinfo=None),
                }
            )
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self._delete_committed, account.id)
        return account.id

    def _delete_committed(self, account_id):
        with self.registry.cursor() as cr:
            cr.execute("SET lock_timeout = '30s'")
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = env["amazon.sp.account"].with_context(active_test=False).browse(account_id)
            events = (
                env["amazon.sp.event"]
                .with_context(active_test=False)
                .search([("account_id", "=", account_id)])
            )
            moves = events.move_ids
            moves.filtered(lambda move: move.state == "posted").button_draft()
            moves.with_context(force_delete=True).unlink()
            flow = env["amazon.sp.event"]._amazon_sp_flow()
            for model in ("amazon.sp.event", "amazon.sp.settlement", "amazon.sp.import.run"):
                flow.env[model].with_context(active_test=False).search(
                    [("account_id", "=", account_id)]
                ).unlink()
            flow.env["amazon.sp.account"].browse(account.id).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def test_two_imports_started_together_book_each_event_once(self):
        refunds = [self._refund(days_ago=days, items=[self.us_item()]) for days in (2, 3, 4)]
        account_id = self._committed_account()
        Importer = type(self.env["amazon.sp.service.import"])
        pull, refuse = Importer._pull_cursors, Importer._refuse
        refused = threading.Event()
        barrier = threading.Barrier(2, timeout=60)
        results = {}

        def pull_after_the_other_tried(service, *args, **kwargs):
            # The lock is held: the other import, started together, tries now.
            refused.wait(timeout=60)
            return pull(service, *args, **kwargs)

        def refuse_and_tell(service, *args, **kwargs):
            refused.set()
            return refuse(service, *args, **kwargs)

        def worker(name):
            # A worker of its own: its database connection, its transaction.
            with self.registry.cursor() as cr:
                cr.execute("SET lock_timeout = '30s'")
                # (the registry given: the test holds the lock of the registries' table)
                cr.transaction = Transaction(self.registry)
                env = api.Environment(cr, SUPERUSER_ID, {})
                account = env["amazon.sp.account"].browse(account_id)
                barrier.wait()
                try:
                    run = env["amazon.sp.service.import"]._sync(account)
                except UserError as exc:
                    results[name] = ("refused", str(exc))
                else:
                    events = env["amazon.sp.event"].search([("account_id", "=", account_id)])
                    results[name] = (
                        run.state,
                        sorted(events.mapped("amazon_order_id")),
                        events.mapped("state"),
                        [
                            self._clearing_moved(ev) == ev.currency_id.round(ev.amount_total)
                            for ev in events
                        ],
                    )
                cr.rollback()

        with (
            patch.object(Importer, "_pull_cursors", pull_after_the_other_tried),
            patch.object(Importer, "_refuse", refuse_and_tell),
        ):
            threads = [threading.Thread(target=worker, args=(name,), daemon=True) for name in "AB"]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        self.assertEqual(len(results), 2, results)
        outcomes = sorted(results.values(), key=lambda outcome: outcome[0])
        done, refused_outcome = outcomes
        self.assertEqual(done[0], "done", results)
        self.assertEqual(done[1], sorted(refund.order_id for refund in refunds))
        self.assertEqual(set(done[2]), {"posted"})
        self.assertTrue(all(done[3]), "each event booked once, to the cent")
        self.assertEqual(refused_outcome[0], "refused")
        self.assertIn("already running", refused_outcome[1])

    def _odoo_options(self):
        """The command-line options of a worker on this database."""
        options = ["-d", self.env.cr.dbname, f"--addons-path={config['addons_path']}"]
        for name in ("db_host", "db_port", "db_user", "db_password"):
            if config.get(name):
                options.append(f"--{name}={config[name]}")
        return options

    def test_a_run_killed_mid_page_resumes_and_none_stays_running(self):
        refunds = [
            self._refund(days_ago=2 + index / 10, items=[self.us_item()]) for index in range(6)
        ]
        account_id = self._committed_account()
        child = subprocess.Popen(
            [sys.executable, "-c", KILLED_WORKER, str(account_id), *self._odoo_options()],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            deadline = time.monotonic() + 180
            line = ""
            while line != "MID-PAGE":
                ready, _w, _x = select.select([child.stdout], [], [], 5)
                if ready:
                    line = child.stdout.readline().strip()
                ended = not ready and child.poll() is not None
                if ended or time.monotonic() > deadline:
                    self.fail(f"the worker did not reach its second page ({child.poll()})")
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
            child.stdout.close()
        # What the killed worker committed: its first page, its run still running.
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            runs = env["amazon.sp.import.run"].search([("account_id", "=", account_id)])
            self.assertEqual(runs.mapped("state"), ["running"])
            staged = env["amazon.sp.event"].search_count([("account_id", "=", account_id)])
            self.assertEqual(staged, self.page_size, "the first page, committed")
        # The next import (another worker) closes the dead run and goes on from the next page.
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = env["amazon.sp.account"].browse(account_id)
            run = env["amazon.sp.service.import"]._sync(account, trigger="cron")
            self.assertEqual(run.state, "done", run.error)
            self.assertEqual(run.events_new, 2, "resumed at page two")
            killed = runs.with_env(env)
            self.assertEqual(killed.state, "failed")
            self.assertIn("stopped before it ended", killed.error)
            Run = env["amazon.sp.import.run"]
            self.assertFalse(
                Run.search([("account_id", "=", account_id), ("state", "=", "running")])
            )
            events = env["amazon.sp.event"].search([("account_id", "=", account_id)])
            self.assertEqual(
                sorted(events.mapped("amazon_order_id")), sorted(r.order_id for r in refunds)
            )
            self.assertEqual(set(events.mapped("state")), {"posted"})
            for event in events:
                self.assertEqual(
                    self._clearing_moved(event), event.currency_id.round(event.amount_total)
                )
            cr.rollback()
