from odoo import api, fields, models

from ..domain import sources

# The figures a post job (queue_job) adds to its run, through a tally.
TALLY_FIELDS = (
    "events_posted",
    "events_draft",
    "events_to_review",
    "events_error",
    "events_nothing",
)

RUN_STATES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("done", "Done"),
    ("partial", "More to do"),
    ("failed", "Failed"),
]

# The work a run does (a run queued by a user says which).
KINDS = [
    ("import", "Import"),
    ("settlements", "Settlements"),
    ("reports", "Settlement Reports"),
]

# ClientStats attributes copied on the run (spapi.results.ClientStats.as_dict()).
STAT_FIELDS = {
    "calls": "api_calls",
    "throttled": "throttled",
    "retries": "retries",
    "rate_wait": "rate_wait",
    "backoff_wait": "backoff_wait",
    "token_refreshes": "token_refreshes",
}


class AmazonSpImportRun(models.Model):
    """One pull of one seller account: what was asked, what Amazon answered, what became of it."""

    _name = "amazon.sp.import.run"
    _description = "Amazon Import Run"
    _inherit = ["mail.thread", "amazon.sp.import.record"]  # noqa: RUF012
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    trigger = fields.Selection(
        [("cron", "Scheduled"), ("manual", "Button"), ("wizard", "Wizard")],
        default="manual",
        required=True,
    )
    finances_api = fields.Selection(sources.selection(), string="Finances API")
    state = fields.Selection(
        RUN_STATES,
        default="running",
        required=True,
        index=True,
    )
    kind = fields.Selection(KINDS, string="Work", default="import", required=True)
    requested_by_id = fields.Many2one(
        "res.users",
        string="Asked by",
        help="The user who asked for this import, notified at its end.",
    )
    phase = fields.Selection(
        [
            ("queued", "Waiting to start"),
            ("fetch", "Reading Amazon's pages"),
            ("book", "Booking the events"),
            ("settle", "Reading the settlements"),
            ("reports", "Downloading the settlement reports"),
            ("end", "Ended"),
        ],
        default="queued",
        string="Step",
    )
    progress = fields.Float(
        compute="_compute_progress",
        string="Progress (%)",
        help="While Amazon's pages are read: the share of the dates read; while the events are "
        "booked: the share of the new events booked.",
    )
    progress_text = fields.Char(compute="_compute_progress", string="Progress")
    waiting_text = fields.Char(compute="_compute_progress", string="Waiting")
    summary = fields.Text(string="What it did", readonly=True)
    job_uuids = fields.Char(string="Jobs", help="The background jobs (queue_job) of this run.")
    job_count = fields.Integer(compute="_compute_job_count", string="Background Jobs")
    dispatched_until_id = fields.Integer(
        help="The last event whose booking was queued as a job (queue_job)."
    )
    tally_ids = fields.One2many("amazon.sp.import.run.tally", "run_id")
    window_start = fields.Datetime()
    window_end = fields.Datetime()
    amazon_order_id = fields.Char()
    marketplace_names = fields.Char(string="Marketplaces")
    date_start = fields.Datetime(default=fields.Datetime.now, string="Started")
    date_end = fields.Datetime(string="Ended")
    duration = fields.Float(string="Duration (s)", digits=(16, 2))
    pages = fields.Integer()
    api_calls = fields.Integer(string="API Calls")
    throttled = fields.Integer(string="429 Waited Out")
    retries = fields.Integer()
    token_refreshes = fields.Integer()
    rate_wait = fields.Float(string="Rate Wait (s)", digits=(16, 3))
    backoff_wait = fields.Float(string="Backoff Wait (s)", digits=(16, 3))
    events_fetched = fields.Integer(string="Fetched")
    events_new = fields.Integer(string="New")
    events_known = fields.Integer(string="Already Known")
    events_changed = fields.Integer(string="Changed Upstream")
    events_posted = fields.Integer(string="Posted")
    events_draft = fields.Integer(string="Left Draft")
    events_to_review = fields.Integer(string="To Review")
    events_error = fields.Integer(string="In Error")
    events_nothing = fields.Integer(
        string="Nothing to Book",
        help="Events whose amounts are zero or cancel out: no document needed.",
    )
    settlements_read = fields.Integer()
    reports_downloaded = fields.Integer(string="Settlement Reports Downloaded")
    settlements_reconciled = fields.Integer()
    error = fields.Text()
    event_ids = fields.One2many("amazon.sp.event", "import_run_id", string="Events")

    @api.depends("account_id", "date_start")
    def _compute_name(self):
        for run in self:
            run.name = f"{run.account_id.name or ''} {fields.Datetime.to_string(run.date_start)}"

    @api.depends(
        "state", "phase", "pages", "events_fetched", "events_new", "events_posted", "window_start"
    )
    def _compute_progress(self):
        for run in self:
            run.progress = run._progress_percent()
            run.progress_text = run._progress_words()
            run.waiting_text = run._waiting_words()

    def _compute_job_count(self):
        for run in self:
            run.job_count = len([uuid for uuid in (run.job_uuids or "").split(",") if uuid])

    def _booked_count(self):
        """The new events this run booked (or put aside: review, error, nothing to book),
        with those its post jobs booked so far."""
        return sum(rec[fname] for rec in (self, *self.tally_ids) for fname in TALLY_FIELDS)

    def _progress_percent(self):
        if self.state in ("done", "partial"):
            return 100.0
        if self.phase == "fetch" and self.window_start and self.window_end:
            last = self.env["amazon.sp.event"].search(
                [("import_run_id", "=", self.id)], order="posted_date desc", limit=1
            )
            span = (self.window_end - self.window_start).total_seconds()
            if last.posted_date and span > 0:
                done = (last.posted_date - self.window_start).total_seconds()
                return round(max(0.0, min(done / span, 0.99)) * 100, 1)
            return 0.0
        if self.phase == "book" and self.events_new:
            return round(min(self._booked_count() / self.events_new, 1.0) * 100, 1)
        return 0.0

    def _progress_words(self):
        if self.state == "queued" and self.phase == "queued":
            return self.env._("Waiting to start")
        return self.env._(
            "%(pages)s page(s) read, %(fetched)s event(s) fetched, %(new)s new, %(booked)s booked",
            pages=self.pages,
            fetched=self.events_fetched,
            new=self.events_new,
            booked=self._booked_count(),
        )

    def _waiting_words(self):
        """Why a queued run has not started, when it cannot start by itself."""
        if self.state != "queued" or self.job_uuids:
            return False
        cron = self.env.ref(
            "account_amazon_refund.ir_cron_amazon_sp_queued", raise_if_not_found=False
        )
        if cron and cron.sudo().active:
            return False
        return self.env._(
            'This import waits for the scheduled action "Amazon: imports asked for by users", '
            "which is switched off: ask your administrator to activate it (Settings > Technical > "
            "Scheduled Actions)."
        )

    def _end(self):
        """The run ended (done, more to do or failed): say what it did in plain words and tell
        the user who asked."""
        for run in self:
            run.write({"phase": "end", "summary": run._summary_words()})
        self._notify_requester()

    def _summary_words(self):
        _ = self.env._
        if self.state == "failed":
            return _("The import failed: %(error)s", error=self.error or "")
        if self.kind == "reports":
            return _(
                "%(count)s new settlement report(s) downloaded and compared.",
                count=self.settlements_read,
            )
        parts = []
        if self.kind != "settlements":
            parts.append(
                _(
                    "%(pages)s page(s) read from Amazon: %(fetched)s event(s), %(new)s new.",
                    pages=self.pages,
                    fetched=self.events_fetched,
                    new=self.events_new,
                )
            )
            parts.append(
                _(
                    "%(posted)s posted, %(draft)s left draft, %(review)s to review, %(error)s in "
                    "error, %(nothing)s with nothing to book.",
                    posted=self.events_posted,
                    draft=self.events_draft,
                    review=self.events_to_review,
                    error=self.events_error,
                    nothing=self.events_nothing,
                )
            )
        parts.append(
            _(
                "%(read)s settlement(s) read, %(reconciled)s reconciled.",
                read=self.settlements_read,
                reconciled=self.settlements_reconciled,
            )
        )
        if self.state == "partial":
            parts.append(_("There is more to read: the import goes on at its next run."))
        return " ".join(parts)

    def _notify_requester(self):
        """Tell the user who asked for the run how it ended (a notification in their browser)."""
        for run in self.filtered("requested_by_id"):
            failed = run.state == "failed"
            run.requested_by_id.partner_id._bus_send(
                "simple_notification",
                {
                    "type": "danger" if failed else "success",
                    "title": run.env._("Amazon import of %(account)s", account=run.account_id.name),
                    "message": run.summary or run.error or "",
                    "sticky": failed,
                },
            )

    def _fold_tallies(self):
        """Add the figures of the run's post jobs to the run."""
        self.ensure_one()
        tallies = self.tally_ids
        if tallies:
            self._add(**{fname: sum(tallies.mapped(fname)) for fname in TALLY_FIELDS})
            tallies.sudo().unlink()

    # queue_job's jobs (see services/jobs.py): methods of the run, so that a job shows its run.

    def _amazon_sp_job_fetch(self):
        """Read the next pages from Amazon."""
        return self.env["amazon.sp.service.jobs"]._fetch(self)

    def _amazon_sp_job_post(self, event_ids):
        """Book a batch of events."""
        return self.env["amazon.sp.service.jobs"]._post(self, event_ids)

    def _amazon_sp_job_finish(self):
        """Book what is left, read the settlements, end the import."""
        return self.env["amazon.sp.service.jobs"]._finish(self)

    def action_view_jobs(self):
        """The background jobs of the run (when queue_job is installed)."""
        self.ensure_one()
        uuids = (self.job_uuids or "").split(",")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Jobs"),
            "res_model": "queue.job",
            "view_mode": "list,form",
            "domain": [("uuid", "in", [u for u in uuids if u])],
        }

    def _add(self, **counts):
        """Add figures to the run (one write). In a post job (context key
        ``amazon_sp_run_tally``) the figures go to a tally of their own, folded in at the end:
        jobs running side by side never update the run's row."""
        self.ensure_one()
        if self.env.context.get("amazon_sp_run_tally"):
            vals = {key: value for key, value in counts.items() if key in TALLY_FIELDS and value}
            if vals:
                self.env["amazon.sp.import.run.tally"].sudo().create(dict(vals, run_id=self.id))
            return
        self.write({key: self[key] + value for key, value in counts.items() if value})

    def _set_client_stats(self, stats):
        self.ensure_one()
        if stats is None:
            return
        data = stats.as_dict() if hasattr(stats, "as_dict") else dict(stats)
        vals = {}
        for key, fname in STAT_FIELDS.items():
            if key in data and data[key] is not None:
                # Added: a run carried out in several steps (background, jobs) has one client each.
                vals[fname] = self[fname] + data[key]
        if vals:
            self.write(vals)

    def action_view_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_event_action"
        )
        action["domain"] = [("import_run_id", "=", self.id)]
        action["context"] = {}
        return action


class AmazonSpImportRunTally(models.Model):
    """The figures of one post job of a run (queue_job), folded into the run when it ends."""

    _name = "amazon.sp.import.run.tally"
    _description = "Amazon Import Run Figures of a Job"

    run_id = fields.Many2one("amazon.sp.import.run", required=True, ondelete="cascade", index=True)
    events_posted = fields.Integer()
    events_draft = fields.Integer()
    events_to_review = fields.Integer()
    events_error = fields.Integer()
    events_nothing = fields.Integer()
