import logging
import time
from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError

from ..spapi.exceptions import SpApiError
from .importer import CRON_MAX_BATCHES, CRON_MAX_PAGES, RUN_ERRORS

_logger = logging.getLogger(__name__)

# The system parameter that switches the queue_job path off ("False") where queue_job is
# installed but its job runner is not started.
USE_JOBS_PARAM = "account_amazon_refund.use_queue_job"
# Queued runs carried out by one call of the scheduled action before it re-arms itself.
QUEUED_PER_CALL = 20


class AmazonSpServiceImportBackground(models.AbstractModel):
    """Imports asked for by a user (*Import now*, *Refresh settlements*, *Download settlement
    reports*) run in the background: the button queues a run and returns at once; queue_job's
    jobs carry it out when queue_job is installed (``amazon.sp.service.jobs``), else the
    scheduled action, triggered now. The user who asked is notified when it ends."""

    _inherit = "amazon.sp.service.import"

    # ------------------------------------------------------------------------------------------
    # Queue
    # ------------------------------------------------------------------------------------------

    def _use_jobs(self):
        """True when queue_job is installed in this database (and not switched off)."""
        if "queue.job" not in self.env:
            return False
        param = self.env["ir.config_parameter"].sudo().get_param(USE_JOBS_PARAM, "True")
        return param.strip().lower() not in ("0", "false", "no")

    def _queue(self, accounts, kind="import", trigger="manual"):
        """Queue ``kind`` (import, settlements, reports) for each account and start it in the
        background. An account that already has such work waiting (or, with queue_job, in its
        jobs) keeps it: nothing is asked twice. Returns the runs."""
        self = self._amazon_sp_flow()
        Run = self.env["amazon.sp.import.run"]
        use_jobs = self._use_jobs()
        runs = Run
        for account in accounts:
            domain = [("account_id", "=", account.id), ("kind", "=", kind)]
            if use_jobs:
                domain += [("state", "in", ("queued", "running")), ("job_uuids", "!=", False)]
            else:
                domain += [("state", "=", "queued")]
            run = Run.search(domain, limit=1)
            if not run:
                run = Run.create(
                    {
                        "account_id": account.id,
                        "kind": kind,
                        "trigger": trigger,
                        "state": "queued",
                        "phase": "queued",
                        "requested_by_id": self.env.uid if trigger == "manual" else False,
                        "finances_api": account.finances_api,
                        "marketplace_names": ", ".join(
                            account._amazon_sp_enabled_marketplaces().mapped("name")
                        ),
                    }
                )
                if use_jobs:
                    self.env["amazon.sp.service.jobs"]._enqueue(run)
            runs |= run
        if not use_jobs:
            self._trigger_queued()
        return runs

    def _trigger_queued(self, at=None):
        """Trigger the scheduled action that carries out the queued runs (now, or ``at``)."""
        cron = self.env.ref(
            "account_amazon_refund.ir_cron_amazon_sp_queued", raise_if_not_found=False
        )
        if cron:
            cron.sudo()._trigger(at)

    def _queued_notification(self, runs):
        """The client action a button returns once it queued ``runs``: a notification, and the
        form reloaded (its last run shows the progress)."""
        waiting = runs.filtered("waiting_text")[:1].waiting_text
        message = waiting or self.env._(
            "The import has started; you will be notified when it ends. Its progress shows on "
            "the account and on its import run."
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Amazon import"),
                "message": message,
                "type": "warning" if waiting else "info",
                "sticky": bool(waiting),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------------------------------------
    # The scheduled action's part
    # ------------------------------------------------------------------------------------------

    def _run_queued(self, limit=QUEUED_PER_CALL):
        """Carry out the runs queued by users (without queue_job), oldest first, each as the user
        who asked, one import per account at a time. True when one went on and has more to do
        (the caller triggers the scheduled action again at once); runs whose account is busy
        with another import try again in a minute."""
        Run = self.env["amazon.sp.import.run"].sudo()
        domain = [("state", "=", "queued"), ("job_uuids", "=", False)]
        more = waiting = False
        runs = Run.search(domain, order="id", limit=limit)
        for run in runs:
            user = run.requested_by_id or self.env.user
            importer = self.with_user(user).with_company(run.company_id)
            try:
                done = importer._run_one(run.with_user(user).with_company(run.company_id))
            except Exception:
                _logger.exception("Amazon queued run %s failed", run.id)
                if self._can_commit():
                    self.env.cr.rollback()
                continue
            if not done:
                waiting = True
            elif run.state == "queued":
                more = True
        if waiting and not more:
            self._trigger_queued(at=fields.Datetime.now() + timedelta(minutes=1))
        # Past the limit, others wait: at once too.
        return more or (len(runs) == limit and bool(Run.search_count(domain, limit=1)))

    def _run_one(self, run):
        """Carry out one queued run, in one bounded step (the rest stays queued)."""
        account = run.account_id
        if run.kind == "reports":
            return self._sync_reports(account, run)
        done = self._sync(
            account,
            trigger="background",
            settlements_only=run.kind == "settlements",
            max_pages=CRON_MAX_PAGES,
            max_batches=CRON_MAX_BATCHES,
            run=run,
        )
        return done

    # ------------------------------------------------------------------------------------------
    # Settlement reports
    # ------------------------------------------------------------------------------------------

    def _fetch_settlement_reports(self, account):
        """Download the new V2 settlement reports of ``account`` now and compare them with their
        settlements. Returns the new reports; raises a UserError saying why Amazon could not be
        read."""
        self, account = (rec._amazon_sp_flow() for rec in (self, account))
        Reports = self.env["amazon.sp.service.settlement.report"]
        Connection = self.env["amazon.sp.service.connection"]
        client = account._get_spapi_client(interactive=True)
        try:
            reports = Reports._fetch(account, client=client)
        except SpApiError as error:
            Connection._record_apart(account, client, error)
            raise UserError(
                self.env._(
                    "Amazon's settlement reports could not be read: %(error)s",
                    error=account._amazon_sp_error_message(error),
                )
            ) from error
        Connection._record(account, client)
        return reports

    def _sync_reports(self, account, run):
        """A queued *Download settlement reports*, under the account's import lock."""
        self, account = (rec._amazon_sp_flow() for rec in (self, account))
        if not self._lock(account):
            return self.env["amazon.sp.import.run"]
        try:
            run = self._start_run(account, run, {"kind": "reports"})
            run.phase = "reports"
            self._commit()
            started = time.monotonic()
            try:
                reports = self._fetch_settlement_reports(account)
            except RUN_ERRORS as exc:
                if self._can_commit():
                    self.env.cr.rollback()
                run.write(
                    {
                        "state": "failed",
                        "error": self.env["amazon.sp.service.connection"]._failure_message(
                            account, exc
                        ),
                        "date_end": fields.Datetime.now(),
                        "duration": time.monotonic() - started,
                    }
                )
                run._end()
                self._commit()
                return run
            run.write(
                {
                    "state": "done",
                    "reports_downloaded": len(reports),
                    "date_end": fields.Datetime.now(),
                    "duration": time.monotonic() - started,
                }
            )
            run._end()
            self._commit()
            return run
        finally:
            self._unlock(account)
