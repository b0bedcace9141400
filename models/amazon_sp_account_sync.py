import logging
import time
from datetime import UTC, datetime, timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..domain import normalize_transactions, normalize_v0_events
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


def _can_commit(env):
    """Like account.move._can_commit(): never commit under tests."""
    return env["account.move"]._can_commit()


class AmazonSpAccount(models.Model):
    _inherit = "amazon.sp.account"

    finances_api = fields.Selection(
        [("2024-06-19", "2024-06-19 (listTransactions)"), ("v0", "v0 (listFinancialEvents)")],
        string="Finances API",
        default="2024-06-19",
        required=True,
        help="listTransactions (2024-06-19) is Amazon's current API; v0 is deprecated but keeps "
        "A-to-z claims and chargebacks apart.",
    )
    overlap_days = fields.Integer(
        default=2,
        help="Each pull re-reads this many days before the last one, because Amazon posts late.",
    )
    sync_cursor_ids = fields.One2many("amazon.sp.sync.cursor", "account_id", string="Cursors")
    import_run_ids = fields.One2many("amazon.sp.import.run", "account_id", string="Import Runs")
    amazon_event_count = fields.Integer(compute="_compute_amazon_event_count")
    amazon_event_review_count = fields.Integer(compute="_compute_amazon_event_count")

    def _compute_amazon_event_count(self):
        Event = self.env["amazon.sp.event"]
        counts = dict.fromkeys(self.ids, 0)
        review = dict.fromkeys(self.ids, 0)
        for account, count in Event._read_group(
            [("account_id", "in", self.ids)], ["account_id"], ["__count"]
        ):
            counts[account.id] = count
        for account, count in Event._read_group(
            [("account_id", "in", self.ids), ("state", "in", ("to_review", "error"))],
            ["account_id"],
            ["__count"],
        ):
            review[account.id] = count
        for account in self:
            account.amazon_event_count = counts.get(account.id, 0)
            account.amazon_event_review_count = review.get(account.id, 0)

    # ------------------------------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------------------------------

    def action_sync(self):
        """Pull and process every enabled marketplace of the accounts now (from ``sync_from``
        on the first run); returns an action showing the import runs."""
        runs = self.env["amazon.sp.import.run"]
        for account in self:
            runs |= account._amazon_sp_sync(trigger="manual")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_import_run_action"
        )
        if len(runs) == 1:
            action.update(view_mode="form", views=[(False, "form")], res_id=runs.id)
        else:
            action["domain"] = [("id", "in", runs.ids)]
        return action

    def action_view_amazon_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_event_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        return action

    def action_view_import_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_import_run_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        return action

    @api.model
    def _cron_amazon_sp_sync(self):
        """Scheduled action: pull and process every linked account, in bounded batches.

        Each account reads at most CRON_MAX_PAGES pages and processes at most
        CRON_MAX_BATCHES batches; when one had more to do, the cron is triggered again.
        """
        accounts = self.search(self._amazon_sp_syncable_domain())
        more = False
        for account in accounts:
            try:
                run = account._amazon_sp_sync(
                    trigger="cron", max_pages=CRON_MAX_PAGES, max_batches=CRON_MAX_BATCHES
                )
            except Exception:
                _logger.exception("Amazon import of account %s failed", account.id)
                if _can_commit(self.env):
                    self.env.cr.rollback()
                continue
            more = more or run.state == "partial"
        if more:
            cron = self.env.ref(
                "account_amazon_refund.ir_cron_amazon_sp_sync", raise_if_not_found=False
            )
            if cron:
                cron._trigger()
        return True

    @api.model
    def _amazon_sp_syncable_domain(self):
        domain = [("refresh_token", "!=", False)]
        if "state" in self._fields:
            domain.append(("state", "=", "linked"))
        return domain

    # ------------------------------------------------------------------------------------------
    # The pull
    # ------------------------------------------------------------------------------------------

    def _amazon_sp_now(self):
        """Now, as an aware UTC datetime (a hook for tests and the benchmark)."""
        now = self.env.context.get("amazon_sp_now")
        if now:
            return now if now.tzinfo else now.replace(tzinfo=UTC)
        return datetime.now(UTC)

    def _amazon_sp_client(self):
        """The account's client; ``amazon_sp_client_kwargs`` in the context overrides its
        settings (tests and the benchmark: no real sleeping, scaled rate limits)."""
        client = self._get_spapi_client()
        for name, value in (self.env.context.get("amazon_sp_client_kwargs") or {}).items():
            if not hasattr(client, name):
                raise ValueError(f"SpApiClient has no setting {name!r}")
            setattr(client, name, value)
        return client

    def _amazon_sp_enabled_marketplaces(self):
        self.ensure_one()
        return self.marketplace_ids

    def _amazon_sp_sync(
        self,
        trigger="manual",
        date_from=None,
        date_to=None,
        order_id=None,
        max_pages=None,
        max_batches=None,
        settlements_only=False,
    ):
        """Pull (from the cursors, a date range or one order), stage, then process; after a
        complete pull from the cursors, refresh the settlements (``settlements_only``: only that).

        Returns the import run. Scheduled runs record a failure on the run and return; runs
        started by a user record it and raise a UserError.
        """
        self.ensure_one()
        if self.env.company != self.company_id:
            # The scheduled action runs in its user's company: work in the account's.
            return self.with_company(self.company_id)._amazon_sp_sync(
                trigger=trigger,
                date_from=date_from,
                date_to=date_to,
                order_id=order_id,
                max_pages=max_pages,
                max_batches=max_batches,
                settlements_only=settlements_only,
            )
        self.company_id._amazon_sp_ensure_setup()
        Run = self.env["amazon.sp.import.run"]
        marketplaces = self._amazon_sp_enabled_marketplaces()
        run = Run.create(
            {
                "account_id": self.id,
                "trigger": trigger,
                "finances_api": self.finances_api,
                "amazon_order_id": order_id,
                "marketplace_names": ", ".join(marketplaces.mapped("name")),
            }
        )
        self._amazon_sp_commit()
        started = time.monotonic()
        client = None
        more = False
        try:
            client = self._amazon_sp_client()
            budget = {"pages": max_pages}
            if settlements_only:
                pass
            elif order_id:
                self._amazon_sp_pull_order(run, client, order_id)
            elif date_from:
                self._amazon_sp_pull_range(run, client, date_from, date_to, budget)
            else:
                more = self._amazon_sp_pull_cursors(run, client, budget)
            more = self._amazon_sp_process_pending(run, max_batches=max_batches) or more
            if settlements_only or not (order_id or date_from or more):
                self._amazon_sp_sync_settlements(run, client)
        except (SpApiError, UserError) as exc:
            _logger.warning("Amazon import run %s of account %s failed: %s", run.id, self.id, exc)
            if _can_commit(self.env):
                self.env.cr.rollback()
            run._set_client_stats(getattr(client, "stats", None))
            run.write(
                {
                    "state": "failed",
                    "error": str(exc),
                    "date_end": fields.Datetime.now(),
                    "duration": time.monotonic() - started,
                }
            )
            self._amazon_sp_commit()
            if trigger != "cron":
                raise UserError(
                    self.env._("The Amazon import failed: %(error)s", error=str(exc))
                ) from exc
            return run
        run._set_client_stats(getattr(client, "stats", None))
        run.write(
            {
                "state": "partial" if more else "done",
                "date_end": fields.Datetime.now(),
                "duration": time.monotonic() - started,
            }
        )
        self._amazon_sp_commit()
        return run

    def _amazon_sp_commit(self):
        if _can_commit(self.env):
            # a page and its cursor are committed together
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _amazon_sp_units(self):
        """(marketplace or empty, API) pairs read by the cursors of this account."""
        self.ensure_one()
        if self.finances_api == "v0":
            # v0 lists every marketplace of the account together: one cursor.
            return [(self.env["amazon.sp.marketplace"], "v0")]
        return [(mp, "2024-06-19") for mp in self._amazon_sp_enabled_marketplaces()]

    def _amazon_sp_cursor(self, marketplace, api_name):
        Cursor = self.env["amazon.sp.sync.cursor"]
        cursor = Cursor.search(
            [
                ("account_id", "=", self.id),
                ("marketplace_id", "=", marketplace.id or False),
                ("finances_api", "=", api_name),
            ],
            limit=1,
        )
        if not cursor:
            cursor = Cursor.create(
                {
                    "account_id": self.id,
                    "marketplace_id": marketplace.id or False,
                    "finances_api": api_name,
                }
            )
        return cursor

    def _amazon_sp_latest(self):
        return (self._amazon_sp_now() - LATEST_DELAY).replace(microsecond=0)

    def _amazon_sp_start(self):
        if self.sync_from:
            start = fields.Datetime.to_datetime(self.sync_from)
            return start.replace(tzinfo=UTC) if start.tzinfo is None else start
        return self._amazon_sp_now() - DEFAULT_HISTORY

    @staticmethod
    def _amazon_sp_chunks(start, end):
        """[start, end) cut in CHUNK windows; a remainder shorter than MIN_WINDOW waits for the
        next run (Amazon refuses empty ranges; the overlap reads it again anyway)."""
        while end - start >= MIN_WINDOW:
            stop = min(start + CHUNK, end)
            yield start, stop
            start = stop

    def _amazon_sp_pull_cursors(self, run, client, budget):
        """Read every unit from its cursor. Returns True when the page budget ran out."""
        latest = self._amazon_sp_latest()
        overlap = timedelta(days=max(self.overlap_days, 0))
        run_start = run_end = None
        for marketplace, api_name in self._amazon_sp_units():
            cursor = self._amazon_sp_cursor(marketplace, api_name)
            windows = []
            if cursor.next_token and cursor.window_start and cursor.window_end:
                windows.append(
                    (
                        cursor.window_start.replace(tzinfo=UTC),
                        cursor.window_end.replace(tzinfo=UTC),
                        cursor.next_token,
                    )
                )
                start = cursor.window_end.replace(tzinfo=UTC)
            elif cursor.done_until:
                start = cursor.done_until.replace(tzinfo=UTC) - overlap
            else:
                start = self._amazon_sp_start()
            windows += [(a, b, None) for a, b in self._amazon_sp_chunks(start, latest)]
            for win_start, win_end, token in windows:
                run_start = min(run_start or win_start, win_start)
                run_end = max(run_end or win_end, win_end)
                run.write(
                    {
                        "window_start": run_start.replace(tzinfo=None),
                        "window_end": run_end.replace(tzinfo=None),
                    }
                )
                finished = self._amazon_sp_pull_window(
                    run, client, marketplace, api_name, win_start, win_end, token, cursor, budget
                )
                if not finished:
                    return True
        return False

    def _amazon_sp_pull_range(self, run, client, date_from, date_to, budget):
        """Wizard: read a date range (cut in chunks) without touching the cursors."""
        latest = self._amazon_sp_latest()
        start = date_from if date_from.tzinfo else date_from.replace(tzinfo=UTC)
        end = date_to if date_to and date_to.tzinfo else (date_to or latest).replace(tzinfo=UTC)
        end = min(end, latest)
        run.write(
            {"window_start": start.replace(tzinfo=None), "window_end": end.replace(tzinfo=None)}
        )
        for marketplace, api_name in self._amazon_sp_units():
            for win_start, win_end in self._amazon_sp_chunks(start, end):
                self._amazon_sp_pull_window(
                    run, client, marketplace, api_name, win_start, win_end, None, None, budget
                )

    def _amazon_sp_pages(self, client, marketplace, api_name, start, end, token):
        if api_name == "v0":
            return client.list_financial_events(
                posted_after=start, posted_before=end, start_token=token
            )
        return client.list_transactions(
            posted_after=start,
            posted_before=end,
            marketplace_id=marketplace._amazon_sp_code() if marketplace else None,
            start_token=token,
        )

    def _amazon_sp_pull_window(
        self, run, client, marketplace, api_name, start, end, token, cursor, budget
    ):
        """Read one window page by page; each page and the cursor are committed together.

        Returns False when the page budget ran out before the window was read.
        """
        pages = self._amazon_sp_pages(client, marketplace, api_name, start, end, token)
        for page in pages:
            self._amazon_sp_stage_page(run, api_name, page)
            if cursor:
                cursor.write(
                    {
                        "window_start": start.replace(tzinfo=None),
                        "window_end": end.replace(tzinfo=None),
                        "next_token": page.next_token or False,
                        "last_run_id": run.id,
                    }
                )
            self._amazon_sp_commit()
            if budget.get("pages") is not None:
                budget["pages"] -= 1
                if budget["pages"] <= 0 and page.next_token:
                    return False
        if cursor:
            cursor.write(
                {
                    "done_until": max(
                        end.replace(tzinfo=None), cursor.done_until or end.replace(tzinfo=None)
                    ),
                    "window_start": False,
                    "window_end": False,
                    "next_token": False,
                    "last_run_id": run.id,
                }
            )
            self._amazon_sp_commit()
        return True

    def _amazon_sp_pull_order(self, run, client, order_id):
        """Wizard: read the events of one Amazon order (ByOrderId / ORDER_ID filter)."""
        if self.finances_api == "v0":
            pages = client.list_financial_events_by_order_id(order_id)
        else:
            pages = client.list_transactions(
                related_identifier_name="ORDER_ID", related_identifier_value=order_id
            )
        for page in pages:
            self._amazon_sp_stage_page(run, self.finances_api, page)
            self._amazon_sp_commit()

    def _amazon_sp_marketplace_resolver(self):
        """v0 gives only MarketplaceName (and none on some events): name, else currency."""
        # Names: every marketplace Odoo knows (events of marketplaces not enabled are then
        # recognised and left out); currencies: only the enabled ones, where one is unambiguous.
        by_name = {}
        by_currency = {}
        for mp in self.env["amazon.sp.marketplace"].search([]):
            for name in mp._amazon_sp_names():
                by_name[name.lower()] = mp._amazon_sp_code()
        for mp in self._amazon_sp_enabled_marketplaces():
            currency = mp._amazon_sp_currency_code()
            if currency:
                by_currency.setdefault(currency, []).append(mp._amazon_sp_code())

        def resolve(marketplace_name, currency):
            if marketplace_name and marketplace_name.lower() in by_name:
                return by_name[marketplace_name.lower()]
            codes = by_currency.get(currency) or []
            return codes[0] if len(codes) == 1 else None

        return resolve

    def _amazon_sp_stage_page(self, run, api_name, page, group_id=None, group_end=None):
        """Stage one page. ``group_id``: the page lists one financial event group (its known
        events that did not know their group learn it); ``group_end`` (aware) dates its v0
        events Amazon sends without PostedDate (service fees)."""
        payload = page.payload or {}
        if api_name == "v0":
            events, failures = normalize_v0_events(
                payload.get("FinancialEvents") or {},
                marketplace_resolver=self._amazon_sp_marketplace_resolver(),
                group_id=group_id,
                posted_date_fallback=group_end,
            )
            # Undated v0 events (service fees) cannot be placed in a window: they are staged
            # when their group closes and is read by group, dated at its end (a stable key).
            undated = [f for f in failures if f.missing_posted_date]
            if undated:
                _logger.info(
                    "Amazon account %s: %s undated v0 event(s) left for their settlement",
                    self.id,
                    len(undated),
                )
                failures = [f for f in failures if not f.missing_posted_date]
        else:
            events, failures = normalize_transactions(payload.get("transactions") or [])
        marketplaces = self._amazon_sp_enabled_marketplaces()
        by_code = {mp._amazon_sp_code(): mp for mp in marketplaces}
        if api_name == "v0":
            # v0 lists every marketplace: keep those enabled on the account (and unresolved ones).
            events = [ev for ev in events if not ev.marketplace_id or ev.marketplace_id in by_code]
        counts, _created = self.env["amazon.sp.event"]._amazon_sp_stage(
            self, run, events, failures, by_code
        )
        counts["pages"] = 1
        run._add(**counts)
        if group_id and events:
            self.env["amazon.sp.event"].with_context(active_test=False).search(
                [
                    ("account_id", "=", self.id),
                    ("group_id", "=", False),
                    "|",
                    ("key", "in", [ev.key for ev in events]),
                    ("fingerprint", "in", [ev.fingerprint for ev in events if ev.fingerprint]),
                ]
            ).write({"group_id": group_id})

    # ------------------------------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------------------------------

    def _amazon_sp_process_pending(self, run, max_batches=None):
        """Plan and post the account's new events in batches. True when some are left."""
        Event = self.env["amazon.sp.event"]
        done = 0
        while max_batches is None or done < max_batches:
            events = Event.search(
                [("account_id", "=", self.id), ("state", "=", "new")],
                order="posted_date, id",
                limit=PROCESS_BATCH,
            )
            if not events:
                return False
            events._amazon_sp_process(run=run)
            self._amazon_sp_commit()
            done += 1
        return bool(
            Event.search_count([("account_id", "=", self.id), ("state", "=", "new")], limit=1)
        )
