import logging
from datetime import UTC, timedelta

from odoo import fields, models

from ..domain.identity import number_across_pages
from ..domain.sources import get_source
from ..spapi.exceptions import InvalidInputError

_logger = logging.getLogger(__name__)


class AmazonSpServiceImportPull(models.AbstractModel):
    """The pull of an import: the Finances pages read from the cursors, a date range or one
    order, and staged page by page (see :class:`.importer.AmazonSpServiceImport`)."""

    _inherit = "amazon.sp.service.import"

    # ------------------------------------------------------------------------------------------
    # The pull
    # ------------------------------------------------------------------------------------------

    def _units(self, account):
        """(marketplace or empty, source) pairs read by the cursors of the account: one per
        enabled marketplace, or one for all of them when the API lists them together."""
        source = get_source(account.finances_api)
        if not source.per_marketplace:
            return [(self.env["amazon.sp.marketplace"], source)]
        return [(mp, source) for mp in account._amazon_sp_enabled_marketplaces()]

    def _cursor(self, account, marketplace, source):
        Cursor = self.env["amazon.sp.sync.cursor"]
        cursor = Cursor.search(
            [
                ("account_id", "=", account.id),
                ("marketplace_id", "=", marketplace.id or False),
                ("finances_api", "=", source.name),
            ],
            limit=1,
        )
        if not cursor:
            cursor = Cursor.create(
                {
                    "account_id": account.id,
                    "marketplace_id": marketplace.id or False,
                    "finances_api": source.name,
                }
            )
        return cursor

    def _pull_cursors(self, account, run, client, budget):
        """Read every unit from its cursor. Returns True when the page budget ran out."""
        latest = self._latest()
        overlap = timedelta(days=max(account.overlap_days, 0))
        run_start = run_end = None
        for marketplace, source in self._units(account):
            cursor = self._cursor(account, marketplace, source)
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
                start = self._start(account)
            windows += [(a, b, None) for a, b in self._chunks(start, latest)]
            for win_start, win_end, token in windows:
                run_start = min(run_start or win_start, win_start)
                run_end = max(run_end or win_end, win_end)
                run.write(
                    {
                        "window_start": run_start.replace(tzinfo=None),
                        "window_end": run_end.replace(tzinfo=None),
                    }
                )
                finished = self._pull_window(
                    account,
                    run,
                    client,
                    (marketplace, source),
                    (win_start, win_end, token),
                    cursor,
                    budget,
                )
                if not finished:
                    return True
        return False

    def _pull_range(self, account, run, client, date_from, date_to, budget):
        """Wizard: read a date range (cut in chunks) without touching the cursors."""
        latest = self._latest()
        start = date_from if date_from.tzinfo else date_from.replace(tzinfo=UTC)
        end = date_to if date_to and date_to.tzinfo else (date_to or latest).replace(tzinfo=UTC)
        end = min(end, latest)
        run.write(
            {"window_start": start.replace(tzinfo=None), "window_end": end.replace(tzinfo=None)}
        )
        for unit in self._units(account):
            for win_start, win_end in self._chunks(start, end):
                self._pull_window(
                    account, run, client, unit, (win_start, win_end, None), None, budget
                )

    def _pull_window(self, account, run, client, unit, window, cursor, budget):
        """Read one window (``(start, end, token)``) of one unit (``(marketplace, source)``) page
        by page; each page and the cursor are committed together.

        A next token Amazon no longer takes (v0 tokens last three minutes: a run that stopped
        mid-window saved one) restarts the window from its start, once; staging knows the
        events read again. Returns False when the page budget ran out before the window was
        read.
        """
        try:
            return self._pull_window_pages(account, run, client, unit, window, cursor, budget)
        except InvalidInputError as exc:
            start, end, _token = window
            if "token" not in f"{exc.message} {exc.code}".lower():
                raise
            _logger.info("Amazon account %s: %s: window read again", account.id, exc)
            run.message_post(
                body=self.env._(
                    "Amazon no longer takes the next token of the window %(start)s – %(end)s "
                    "(%(error)s): the window was read again from its start (the events already "
                    "imported are recognised).",
                    start=fields.Datetime.to_string(start.replace(tzinfo=None)),
                    end=fields.Datetime.to_string(end.replace(tzinfo=None)),
                    error=exc.public_message or exc.code or exc.status_code,
                )
            )
            return self._pull_window_pages(
                account, run, client, unit, (start, end, None), cursor, budget
            )

    def _pull_window_pages(self, account, run, client, unit, window, cursor, budget):
        """:meth:`_pull_window` from the window's token as given."""
        marketplace, source = unit
        start, end, token = window
        pages = source.window_pages(
            client,
            start,
            end,
            marketplace_code=marketplace._amazon_sp_code() if marketplace else None,
            token=token,
        )
        seen = {}  # the repeats of the window's pages read so far (numbered apart)
        for page in pages:
            self._stage_page(account, run, source, page, seen=seen)
            if cursor:
                cursor.write(
                    {
                        "window_start": start.replace(tzinfo=None),
                        "window_end": end.replace(tzinfo=None),
                        "next_token": page.next_token or False,
                        "last_run_id": run.id,
                    }
                )
            self._commit()
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
            self._commit()
        return True

    def _pull_order(self, account, run, client, order_id):
        """Wizard: read the events of one Amazon order."""
        source = get_source(account.finances_api)
        for page in source.order_pages(client, order_id):
            self._stage_page(account, run, source, page)
            self._commit()

    def _marketplace_resolver(self, account):
        """For sources whose events name their marketplace only (or not at all):
        ``resolve(marketplace_name, currency) -> Amazon marketplace id or None`` by name, else
        by currency."""
        # Names: every marketplace Odoo knows (events of marketplaces not enabled are then
        # recognised and left out); currencies: only the enabled ones, where one is unambiguous.
        by_name = {}
        by_currency = {}
        for mp in self.env["amazon.sp.marketplace"].search([]):
            for name in mp._amazon_sp_names():
                by_name[name.lower()] = mp._amazon_sp_code()
        for mp in account._amazon_sp_enabled_marketplaces():
            currency = mp._amazon_sp_currency_code()
            if currency:
                by_currency.setdefault(currency, []).append(mp._amazon_sp_code())

        def resolve(marketplace_name, currency):
            if marketplace_name and marketplace_name.lower() in by_name:
                return by_name[marketplace_name.lower()]
            codes = by_currency.get(currency) or []
            return codes[0] if len(codes) == 1 else None

        return resolve

    def _stage_page(self, account, run, source, page, group_id=None, group_end=None, seen=None):
        """Stage one page read from ``source`` (a :class:`~..domain.sources.FinancesSource`).

        ``group_id``: the page lists one financial event group (its known events that did not
        know their group learn it); ``group_end`` (aware) dates the events Amazon sends
        without a date (v0 service fees). ``seen``: the keys met on the earlier pages of the
        same window or group (identical events on two pages are numbered apart).
        """
        resolver = (
            self._marketplace_resolver(account) if source.needs_marketplace_resolver else None
        )
        events, failures = source.normalize(
            page.payload or {},
            marketplace_resolver=resolver,
            group_id=group_id,
            posted_date_fallback=group_end,
        )
        # Undated events (v0 service fees) cannot be placed in a window: they are staged when
        # their group closes and is read by group, dated at its end (a stable key).
        undated = [f for f in failures if f.missing_posted_date]
        if undated:
            _logger.info(
                "Amazon account %s: %s undated event(s) left for their settlement",
                account.id,
                len(undated),
            )
            failures = [f for f in failures if not f.missing_posted_date]
        if seen is not None:
            events = number_across_pages(events, seen)
        marketplaces = account._amazon_sp_enabled_marketplaces()
        by_code = {mp._amazon_sp_code(): mp for mp in marketplaces}
        if source.lists_all_marketplaces:
            # Keep the marketplaces enabled on the account (and the unresolved events).
            events = [ev for ev in events if not ev.marketplace_id or ev.marketplace_id in by_code]
        Staging = self.env["amazon.sp.service.staging"]
        counts, _created = Staging._stage(account, run, events, failures, by_code)
        counts["pages"] = 1
        run._add(**counts)
        if group_id and events:
            Event = self.env["amazon.sp.event"].with_context(active_test=False)
            known = Event.search(
                [
                    ("account_id", "=", account.id),
                    ("group_id", "=", False),
                    "|",
                    ("key", "in", [ev.key for ev in events]),
                    ("fingerprint", "in", [ev.fingerprint for ev in events if ev.fingerprint]),
                ]
            )
            Staging._set_group(known, group_id)
