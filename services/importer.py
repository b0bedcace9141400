import logging
import time
from datetime import UTC, datetime, timedelta

import psycopg2

from odoo import fields, models
from odoo.exceptions import UserError

from ..spapi.exceptions import SpApiError

_logger = logging.getLogger(__name__)

# Amazon refuses dates less than 2 minutes before the request: keep one more minute of margin.
LATEST_DELAY = timedelta(minutes=3)
# Windows more than 180 days wide come back empty: read long ranges in chunks.
CHUNK = timedelta(days=30)
# Shortest window worth a call.
MIN_WINDOW = timedelta(minutes=1)
# Default first window when the account has no sync_from.
DEFAULT_HISTORY = timedelta(days=30)
# Events planned and turned into documents per batch (one create, one action_post).
PROCESS_BATCH = 500
# Pages read per account and scheduled run before it re-arms itself.
CRON_MAX_PAGES = 100
# Event batches processed per account and scheduled run.
CRON_MAX_BATCHES = 10
# The first key of the PostgreSQL advisory lock held by the import of an account (the second is
# the account's id): one import per account at a time, released when its worker dies.
LOCK_CLASS = 0x414D5A
# Failures that end an import run (the database's serialization and lock errors included).
RUN_ERRORS = (SpApiError, UserError, psycopg2.Error)


class AmazonSpServiceImport(models.AbstractModel):
    """The import of an Amazon seller account: pull the Finances pages (from the cursors, a
    date range or one order), stage their events, then plan and post them in batches.

    Every method takes the account it works on first. Amazon is read only through the account's
    :class:`~..domain.sources.FinancesSource`. Extensions inherit this model
    (``_inherit = "amazon.sp.service.import"``) and override a step with ``super()``.
    """

    _name = "amazon.sp.service.import"
    _description = "Amazon Import Service"

    # ------------------------------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------------------------------

    def _sync(
        self,
        account,
        trigger="manual",
        date_from=None,
        date_to=None,
        order_id=None,
        max_pages=None,
        max_batches=None,
        settlements_only=False,
        run=None,
    ):
        """Pull (from the cursors, a date range or one order), stage, then process; after a
        complete pull from the cursors, refresh the settlements (``settlements_only``: only that).

        ``run``: a queued run to carry out (see ``services/background.py``) instead of a new
        one. Returns the import run. Scheduled and background runs record a failure on the run
        and return; runs started by a user record it and raise a UserError.
        """
        self, account = (rec._amazon_sp_flow() for rec in (self, account))
        account.ensure_one()
        if self.env.company != account.company_id or account.env.company != account.company_id:
            # The scheduled action runs in its user's company: work in the account's.
            company = account.company_id
            return self.with_company(company)._sync(
                account.with_company(company),
                trigger=trigger,
                date_from=date_from,
                date_to=date_to,
                order_id=order_id,
                max_pages=max_pages,
                max_batches=max_batches,
                settlements_only=settlements_only,
                run=run,
            )
        if not self._lock(account):
            return self._refuse(account, trigger)
        try:
            return self._sync_locked(
                account,
                trigger,
                date_from=date_from,
                date_to=date_to,
                order_id=order_id,
                max_pages=max_pages,
                max_batches=max_batches,
                settlements_only=settlements_only,
                run=run,
            )
        finally:
            self._unlock(account)

    def _sync_locked(
        self,
        account,
        trigger,
        date_from=None,
        date_to=None,
        order_id=None,
        max_pages=None,
        max_batches=None,
        settlements_only=False,
        run=None,
    ):
        """:meth:`_sync` once the account's lock is held."""
        self._close_dead_runs(account)
        account.company_id._amazon_sp_ensure_setup()
        run = self._start_run(
            account,
            run,
            {
                "trigger": trigger,
                "amazon_order_id": order_id,
                "kind": "settlements" if settlements_only else "import",
            },
        )
        self._commit()
        started = time.monotonic()
        client = None
        more = False
        try:
            client = account._get_spapi_client(interactive=trigger == "manual")
            budget = {"pages": max_pages, "batches": max_batches}
            if not settlements_only:
                run.phase = "fetch"
                if order_id:
                    self._pull_order(account, run, client, order_id)
                elif date_from:
                    self._pull_range(account, run, client, date_from, date_to, budget)
                else:
                    more = self._pull_cursors(account, run, client, budget)
            run.phase = "book"
            more = self._process_pending(account, run, max_batches=budget["batches"]) or more
            if settlements_only or not (order_id or date_from or more):
                run.phase = "settle"
                self._commit()
                self.env["amazon.sp.service.settlement"]._sync_settlements(account, run, client)
        except Exception as exc:
            # Whatever stops it, the run ends (failed, with the reason): it never stays running.
            self._fail(account, run, client, exc, started)
            if not isinstance(exc, RUN_ERRORS):
                raise
            if trigger not in ("cron", "background"):
                raise UserError(
                    self.env._("The Amazon import failed: %(error)s", error=run.error)
                ) from exc
            return run
        run._set_client_stats(getattr(client, "stats", None))
        if more and trigger == "background":
            # A run queued by a user goes on at the next call of the scheduled action.
            run.write({"state": "queued", "duration": run.duration + time.monotonic() - started})
            self._commit()
            return run
        self._end_run(account, run, client, more, started)
        self._commit()
        return run

    def _end_run(self, account, run, client, more, started):
        """End ``run`` as done (or *More to do*), notify who asked for it and record the
        outcome on the account. ``started``: the ``time.monotonic()`` of this part of it."""
        run.write(
            {
                "state": "partial" if more else "done",
                "date_end": fields.Datetime.now(),
                "duration": run.duration + time.monotonic() - started,
            }
        )
        run._end()
        Connection = self.env["amazon.sp.service.connection"]
        Connection._record(account, client, outcome=Connection._outcome(run))

    def _start_run(self, account, run, vals):
        """The run of an import starting now: ``run`` (a queued one) or a new one."""
        marketplaces = account._amazon_sp_enabled_marketplaces()
        vals = dict(
            vals,
            account_id=account.id,
            finances_api=account.finances_api,
            marketplace_names=", ".join(marketplaces.mapped("name")),
            state="running",
            phase="queued",
        )
        if run:
            run = run.with_env(self.env)
            vals.update(trigger=run.trigger, kind=run.kind)
            if run.phase == "queued":
                vals["date_start"] = fields.Datetime.now()
            else:
                vals.pop("phase")  # a queued run going on
            run.write(vals)
            return run
        return self.env["amazon.sp.import.run"].create(vals)

    def _fail(self, account, run, client, exc, started):
        """End ``run`` as failed and record the failure on the account in plain words (see
        ``amazon.sp.service.connection._record_failure``)."""
        _logger.warning("Amazon import run %s of account %s failed: %s", run.id, account.id, exc)
        if self._can_commit():
            self.env.cr.rollback()
        run._set_client_stats(getattr(client, "stats", None))
        Connection = self.env["amazon.sp.service.connection"]
        run.write(
            {
                "state": "failed",
                "error": Connection._failure_message(account, exc),
                "date_end": fields.Datetime.now(),
                "duration": run.duration + time.monotonic() - started,
            }
        )
        run._end()
        Connection._record_failure(account, run, client, exc)
        self._commit()

    def _sync_scheduled(self, accounts):
        """The scheduled import of ``accounts``, in bounded batches: each reads at most
        CRON_MAX_PAGES pages and processes at most CRON_MAX_BATCHES batches. A failing account
        is logged and left for the next run. Returns True when one had more to do.

        With queue_job, each account's import is queued as jobs instead."""
        if self._use_jobs():
            self._queue(accounts, trigger="cron")
            return False
        more = False
        flow = self._amazon_sp_flow()
        running = flow.env["amazon.sp.import.run"].search([("state", "=", "running")])
        flow._close_dead_runs(running.account_id)
        for account in accounts:
            try:
                run = self._sync(
                    account,
                    trigger="cron",
                    max_pages=CRON_MAX_PAGES,
                    max_batches=CRON_MAX_BATCHES,
                )
            except Exception:
                _logger.exception("Amazon import of account %s failed", account.id)
                if self._can_commit():
                    self.env.cr.rollback()
                continue
            more = more or (run and run.state == "partial")
        return more

    # ------------------------------------------------------------------------------------------
    # One import per account at a time
    # ------------------------------------------------------------------------------------------

    def _lock(self, account):
        """Take the account's import lock (a session advisory lock: it outlives the commits of
        the import and is released when its worker dies). False when another import holds it."""
        self.env.cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, account.id))
        return self.env.cr.fetchone()[0]

    def _unlock(self, account):
        try:
            self.env.cr.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, account.id))
        except psycopg2.Error as exc:  # a lost connection has lost its locks too
            _logger.warning("Amazon account %s: import lock not released: %s", account.id, exc)

    def _refuse(self, account, trigger):
        """Another import of ``account`` holds its lock: say so (a scheduled run only logs it
        and returns no run)."""
        running = self.env["amazon.sp.import.run"].search(
            [("account_id", "=", account.id), ("state", "=", "running")], limit=1
        )
        if running:
            message = self.env._(
                "An import of this account is already running since %(date)s. Wait for it to "
                "end, then import again.",
                date=fields.Datetime.to_string(running.date_start),
            )
        else:
            message = self.env._(
                "An import of this account is already running. Wait for it to end, then import "
                "again."
            )
        _logger.info("Amazon account %s: %s", account.id, message)
        if trigger in ("cron", "background"):
            return self.env["amazon.sp.import.run"]
        raise UserError(message)

    def _close_dead_runs(self, accounts):
        """Close as failed the runs left running by a worker that died (killed, lost its
        database connection): a running run whose account's lock is free, or held by this
        worker before its run began."""
        Run = self.env["amazon.sp.import.run"]
        for account in accounts:
            # Runs carried out by queue_job's jobs end through their jobs.
            dead = Run.search(
                [
                    ("account_id", "=", account.id),
                    ("state", "=", "running"),
                    ("job_uuids", "=", False),
                ]
            )
            if not dead or not self._lock(account):
                continue
            try:
                dead.write(
                    {
                        "state": "failed",
                        "date_end": fields.Datetime.now(),
                        "error": self.env._(
                            "This import stopped before it ended (its worker was stopped, lost "
                            "its database connection or met a database conflict); the next "
                            "import goes on from where it stopped."
                        ),
                    }
                )
                self._commit()
            finally:
                self._unlock(account)

    # ------------------------------------------------------------------------------------------
    # Time and transactions
    # ------------------------------------------------------------------------------------------

    def _now(self):
        """Now, as an aware UTC datetime."""
        return datetime.now(UTC)

    def _latest(self):
        """The latest date Amazon accepts as the end of a window."""
        return (self._now() - LATEST_DELAY).replace(microsecond=0)

    def _start(self, account):
        """Where the account's first pull starts (aware UTC)."""
        if account.sync_from:
            start = fields.Datetime.to_datetime(account.sync_from)
            return start.replace(tzinfo=UTC) if start.tzinfo is None else start
        return self._now() - DEFAULT_HISTORY

    def _chunks(self, start, end):
        """[start, end) cut in CHUNK windows; a remainder shorter than MIN_WINDOW waits for the
        next run (Amazon refuses empty ranges; the overlap reads it again anyway)."""
        while end - start >= MIN_WINDOW:
            stop = min(start + CHUNK, end)
            yield start, stop
            start = stop

    def _can_commit(self):
        """Like account.move._can_commit(): never commit under tests, nor in a queue_job job
        (context key ``amazon_sp_no_commit``: queue_job commits the job)."""
        if self.env.context.get("amazon_sp_no_commit"):
            return False
        return self.env["account.move"]._can_commit()

    def _commit(self):
        """Commit what was done so far (a page and its cursor go together)."""
        if self._can_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit

    # ------------------------------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------------------------------

    def _process_pending(self, account, run, max_batches=None):
        """Plan and post the account's new events in batches. True when some are left.

        Every event fetched leaves ``new`` (posted, draft, to review, error or nothing to
        book): one that did not is logged and put in error, and no event is fetched twice by
        one call, so the loop always ends."""
        Event = self.env["amazon.sp.event"]
        domain = self._pending_domain(account)
        seen = []
        done = 0
        while max_batches is None or done < max_batches:
            events = Event.search(
                domain + [("id", "not in", seen)], order="posted_date, id", limit=PROCESS_BATCH
            )
            if not events:
                return False
            seen += events.ids
            events._amazon_sp_process(run=run)
            self._put_stuck_aside(events, run)
            self._commit()
            done += 1
        return bool(Event.search_count(domain + [("id", "not in", seen)], limit=1))

    def _pending_domain(self, account):
        """The events of ``account`` the import books: new ones, except summary-policy sales,
        which stay new until their settlement closes (its check books them)."""
        per_event = ("invoice", "invoiced")
        domain = [("account_id", "=", account.id), ("state", "=", "new"), "|"]
        domain += [("event_type", "!=", "sale"), ("marketplace_id.sales_policy", "in", per_event)]
        return domain

    def _put_stuck_aside(self, events, run):
        """Events still new once processed go to error, logged: the loop always ends."""
        stuck = events.filtered(lambda ev: ev.state == "new")
        if not stuck:
            return
        _logger.warning(
            "Amazon account %s: %s event(s) still new after processing: %s",
            stuck.account_id.ids,
            len(stuck),
            ", ".join(stuck.mapped("key")),
        )
        stuck._amazon_sp_set_review(
            False,
            self.env._(
                "The import planned this event but made nothing of it (no document, "
                "no reason): retry it, or ignore it."
            ),
            state="error",
        )
        if run:
            run._add(events_error=len(stuck))
