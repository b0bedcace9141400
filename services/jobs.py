"""Imports carried out by OCA's queue_job, when it is installed (a soft dependency).

A run queued by a user becomes jobs, linked to it (``job_uuids``):

- *fetch* jobs read Amazon's pages, FETCH_PAGES at a time, each under the account's import lock:
  one fetch per account at a time (Amazon's rate limits are per seller and application), the
  next one queued when a step ends;
- *post* jobs book a batch of the events staged by a fetch, and any worker runs them while the
  next pages are read (their rows are locked, so an event is booked once);
- the *finish* job, once the last page is read and the posts are done, books what is left, reads
  the settlements and ends the run.

Jobs are idempotent (identity keys; every step reads where the cursors and the events stand) and a
throttled or failing Amazon is retried with a growing delay. Jobs never commit themselves
(queue_job commits each one).
"""

import contextlib
import logging
import time

from odoo import models
from odoo.exceptions import UserError

from ..spapi.exceptions import ServerError, SpApiError, ThrottledError, TransportError
from .importer import PROCESS_BATCH

_logger = logging.getLogger(__name__)

CHANNEL = "root.amazon_sp"
# Pages read by one fetch job.
FETCH_PAGES = 10
# Events booked by one post job.
POST_BATCH = PROCESS_BATCH
# Amazon failures worth trying again later.
RETRYABLE = (ThrottledError, ServerError, TransportError)
# Tries of a step that meets them (with BACKOFF seconds, doubled each time, up to BACKOFF_MAX).
MAX_RETRIES = 8
BACKOFF = 30
BACKOFF_MAX = 30 * 60
# Seconds before a step waiting for the account's lock or for the posts tries again.
WAIT = 10
JOB_STATES_OPEN = ("wait_dependencies", "pending", "enqueued", "started")


def _retryable(message, seconds, ignore_retry=False):
    from odoo.addons.queue_job.exception import RetryableJobError

    return RetryableJobError(message, seconds=seconds, ignore_retry=ignore_retry)


class AmazonSpServiceJobs(models.AbstractModel):
    _name = "amazon.sp.service.jobs"
    _description = "Amazon Import Jobs (queue_job)"

    # ------------------------------------------------------------------------------------------
    # Queueing
    # ------------------------------------------------------------------------------------------

    def _enqueue(self, run):
        """Start ``run`` (queued by a user) as jobs."""
        self._delay(
            run,
            "_amazon_sp_job_fetch",
            identity=f"amazon_sp_fetch:{run.id}:0",
            description=self.env._(
                "Amazon: read the pages of %(account)s", account=run.account_id.name
            ),
        )

    def _delay(self, run, method, *args, identity, description):
        """Queue ``run.method(*args)`` as a job and link it to the run."""
        delayed = run.with_delay(
            channel=CHANNEL,
            identity_key=identity,
            description=description,
            max_retries=MAX_RETRIES,
        )
        job = getattr(delayed, method)(*args)
        uuids = [uuid for uuid in (run.job_uuids or "").split(",") if uuid]
        if job.uuid not in uuids:
            run._amazon_sp_flow().job_uuids = ",".join([*uuids, job.uuid])
        return job

    def _backoff(self):
        """Seconds before the current job tries again: doubled at each try."""
        uuid = self.env.context.get("job_uuid")
        tries = 0
        if uuid:
            tries = self.env["queue.job"].sudo().search([("uuid", "=", uuid)], limit=1).retry
        return min(BACKOFF * 2 ** max(tries, 0), BACKOFF_MAX)

    def _prepare(self, run):
        """The importer, the run and its account, in the import flow and the account's company,
        and no commit (queue_job commits each job)."""
        company = run.account_id.company_id
        importer = (
            self.env["amazon.sp.service.import"]
            .with_company(company)
            .with_context(amazon_sp_no_commit=True)
            ._amazon_sp_flow()
        )
        run = run.with_env(importer.env)
        return importer, run, run.account_id

    # ------------------------------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------------------------------

    def _fetch(self, run):
        """One fetch step: read FETCH_PAGES pages from the cursors, queue the posts of the
        events they staged, then queue the next step (or the finish)."""
        importer, run, account = self._prepare(run)
        if run.state not in ("queued", "running"):
            return "The run already ended."
        if run.kind == "reports":
            done = importer._sync_reports(account, run)
            if not done:
                raise _retryable("Another import of this account is running.", WAIT, True)
            return run.summary
        if run.kind == "settlements":
            return self._finish(run)
        with self._locked_step(importer, account, run) as step:
            if run.state == "queued":
                importer._close_dead_runs(account)
                account.company_id._amazon_sp_ensure_setup()
                run = step["run"] = importer._start_run(account, run, {"kind": "import"})
            run.phase = "fetch"
            client = step["client"] = account._get_spapi_client(interactive=False)
            more = importer._pull_cursors(account, run, client, {"pages": FETCH_PAGES})
            run._set_client_stats(getattr(client, "stats", None))
            run.duration += time.monotonic() - step["started"]
        if step["failed"]:
            return run.error
        self._dispatch(importer, run, account)
        if more:
            self._delay(
                run,
                "_amazon_sp_job_fetch",
                identity=f"amazon_sp_fetch:{run.id}:{run.pages}",
                description=self.env._(
                    "Amazon: read the pages of %(account)s", account=account.name
                ),
            )
        else:
            self._delay(
                run,
                "_amazon_sp_job_finish",
                identity=f"amazon_sp_finish:{run.id}",
                description=self.env._(
                    "Amazon: end the import of %(account)s", account=account.name
                ),
            )
        return f"{run.pages} page(s) read"

    @contextlib.contextmanager
    def _locked_step(self, importer, account, run):
        """One step of ``run`` under the account's import lock (another import holding it: the
        job is retried later). Yields a dict the step fills: ``run`` (once started), ``client``
        (once made); ``started``. A throttled or unreachable Amazon retries the job with
        backoff; another Amazon or user error ends the run as failed and sets ``failed``."""
        if not importer._lock(account):
            raise _retryable("Another import of this account is running.", WAIT, True)
        step = {"run": run, "client": None, "started": time.monotonic(), "failed": False}
        try:
            yield step
        except RETRYABLE as exc:
            raise _retryable(str(exc), self._backoff()) from exc
        except (SpApiError, UserError) as exc:
            importer._fail(account, step["run"], step["client"], exc, step["started"])
            step["failed"] = True
        finally:
            importer._unlock(account)

    def _dispatch(self, importer, run, account):
        """Queue post jobs for the events staged since the last dispatch, POST_BATCH each."""
        domain = importer._pending_domain(account) + [("id", ">", run.dispatched_until_id)]
        events = self.env["amazon.sp.event"].search(domain, order="id")
        for start in range(0, len(events), POST_BATCH):
            batch = events[start : start + POST_BATCH]
            self._delay(
                run,
                "_amazon_sp_job_post",
                batch.ids,
                identity=f"amazon_sp_post:{run.id}:{batch.ids[0]}:{batch.ids[-1]}",
                description=self.env._(
                    "Amazon: book %(count)s event(s) of %(account)s",
                    count=len(batch),
                    account=account.name,
                ),
            )
        if events:
            run._amazon_sp_flow().dispatched_until_id = events[-1].id

    def _post(self, run, event_ids):
        """Book the events ``event_ids`` still new (rows locked: another worker skips them)."""
        importer, run, _account = self._prepare(run)
        self.env["amazon.sp.event"].flush_model(["state"])
        self.env.cr.execute(
            "SELECT id FROM amazon_sp_event WHERE id = ANY(%s) AND state = 'new' "
            "FOR UPDATE SKIP LOCKED",
            [list(event_ids)],
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        events = importer.env["amazon.sp.event"].browse(ids)
        if not events:
            return "Nothing left to book."
        # Figures go to tallies folded in at the end: posts of one run never update one row.
        run = run.with_context(amazon_sp_run_tally=True)
        events.with_env(run.env)._amazon_sp_process(run=run)
        importer._put_stuck_aside(events, run)
        return f"{len(events)} event(s) booked"

    def _posts_open(self, run):
        uuids = [uuid for uuid in (run.job_uuids or "").split(",") if uuid]
        return (
            self.env["queue.job"]
            .sudo()
            .search_count(
                [
                    ("uuid", "in", uuids),
                    ("method_name", "=", "_amazon_sp_job_post"),
                    ("state", "in", JOB_STATES_OPEN),
                ]
            )
        )

    def _finish(self, run):
        """Once every post ended: book what is left, read the settlements, end the run."""
        importer, run, account = self._prepare(run)
        if run.state not in ("queued", "running"):
            return "The run already ended."
        if self._posts_open(run):
            raise _retryable("Events of this import are being booked.", WAIT, True)
        with self._locked_step(importer, account, run) as step:
            if run.state == "queued":
                run = step["run"] = importer._start_run(account, run, {"kind": run.kind})
            run._fold_tallies()
            run.phase = "book"
            more = importer._process_pending(account, run)
            run.phase = "settle"
            client = step["client"] = account._get_spapi_client(interactive=False)
            importer.env["amazon.sp.service.settlement"]._sync_settlements(account, run, client)
            run._set_client_stats(getattr(client, "stats", None))
            importer._end_run(account, run, client, more, step["started"])
        if step["failed"]:
            return run.error
        return run.summary
