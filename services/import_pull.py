import logging
from datetime import UTC, timedelta

from odoo import fields, models

from ..domain.identity import number_across_pages
from ..domain.sources import get_source
from ..spapi.exceptions import InvalidInputError
from ..spapi.prefetch import Prefetch
from .importer import PROCESS_BATCH

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
            vals = {
                "account_id": account.id,
                "marketplace_id": marketplace.id or False,
                "finances_api": source.name,
            }
            if not marketplace:
                vals["done_until"] = self._done_until_of_marketplace_cursors(account, source)
            cursor = Cursor.create(vals)
        return cursor

    def _done_until_of_marketplace_cursors(self, account, source):
        """Where a new account-wide cursor of ``source`` starts when the account was read per
        marketplace before (2024-06-19 was, until it read every marketplace in one call): the
        oldest point any enabled marketplace had reached, so nothing is missed (staging knows
        the events read again). False when there is no such cursor (a first pull)."""
        old = self.env["amazon.sp.sync.cursor"].search(
            [
                ("account_id", "=", account.id),
                ("finances_api", "=", source.name),
                ("marketplace_id", "!=", False),
            ]
        )
        if not old:
            return False
        by_marketplace = {cursor.marketplace_id: cursor for cursor in old}
        points = []
        for marketplace in account._amazon_sp_enabled_marketplaces():
            cursor = by_marketplace.get(marketplace)
            if not cursor or not cursor.done_until:
                # Never read to the end of a window: from the account's start.
                return False
            points.append(cursor.done_until)
        return min(points) if points else False

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
        """:meth:`_pull_window` from the window's token as given.

        The pages are read ahead by a background thread (HTTP only, :class:`Prefetch`) while
        this one stages them and, once a batch of new events is staged, plans and posts it: the
        rate limits' waits pass while Odoo works. A page and its cursor are still committed
        together, in Amazon's order; an error of the reading thread is raised here, after the
        pages read before it were saved."""
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
        left_out = {}  # marketplace name -> events of marketplaces the account leaves out
        limit = budget.get("pages")
        # What was left out is said on the run when the window stops or ends (a failing run
        # says only its failure: its pages are read again by the next one).
        with Prefetch(pages, limit=None if limit is None else max(limit, 1)) as prefetched:
            for page in prefetched:
                new = self._stage_page(account, run, source, page, seen=seen, left_out=left_out)
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
                self._process_while_pulling(account, run, budget, new)
                if budget.get("pages") is not None:
                    budget["pages"] -= 1
                    if budget["pages"] <= 0 and page.next_token:
                        self._note_left_out(account, run, left_out)
                        return False
        self._note_left_out(account, run, left_out)
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

    def _process_while_pulling(self, account, run, budget, new):
        """Plan and post a batch as soon as a whole one is staged (the next pages are read
        meanwhile). ``budget["batches"]``: the batches the run may still process (None: no
        limit; absent: none during the pull, all after it)."""
        budget["staged"] = budget.get("staged", 0) + new
        if budget["staged"] < PROCESS_BATCH:
            return
        batches = budget.get("batches", 0)
        if batches is not None and batches <= 0:
            return
        budget["staged"] -= PROCESS_BATCH
        self._process_pending(account, run, max_batches=1)
        if batches is not None:
            budget["batches"] = batches - 1

    def _note_left_out(self, account, run, left_out):
        """Say on the run which events were left out because their marketplace is not enabled
        on the account (never silently)."""
        if not left_out:
            return
        names = [f"{name} ({number})" for name, number in sorted(left_out.items())]
        _logger.info("Amazon account %s: left out %s", account.id, ", ".join(names))
        run.message_post(
            body=self.env._(
                "Events of marketplaces not enabled on this seller account were left out: "
                "%(marketplaces)s. To book them, enable the marketplace and import these dates "
                "again.",
                marketplaces=", ".join(names),
            )
        )

    def _pull_order(self, account, run, client, order_id):
        """Wizard: read the events of one Amazon order."""
        source = get_source(account.finances_api)
        left_out = {}
        for page in source.order_pages(client, order_id):
            self._stage_page(account, run, source, page, left_out=left_out)
            self._commit()
        self._note_left_out(account, run, left_out)

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

    def _stage_page(
        self, account, run, source, page, group_id=None, group_end=None, seen=None, left_out=None
    ):
        """Stage one page read from ``source`` (a :class:`~..domain.sources.FinancesSource`).

        ``group_id``: the page lists one financial event group (its known events that did not
        know their group learn it); ``group_end`` (aware) dates the events Amazon sends
        without a date (v0 service fees). ``seen``: the keys met on the earlier pages of the
        same window or group (identical events on two pages are numbered apart).
        ``left_out``: {marketplace name: count}, what this page left out (see
        :meth:`_keep_enabled`), said by the caller (None: said on the run for this page).
        Returns the number of new events staged.
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
        unknown = {}
        if source.lists_all_marketplaces:
            # A caller keeping no count (a settlement read by group) gets the page's message.
            counted = {} if left_out is None else left_out
            events, unknown = self._keep_enabled(events, by_code, counted)
            if left_out is None:
                self._note_left_out(account, run, counted)
        Staging = self.env["amazon.sp.service.staging"]
        counts, created = Staging._stage(account, run, events, failures, by_code)
        counts["pages"] = 1
        new = created.filtered(lambda event: event.state == "new")
        waiting = new.filtered(lambda event: event.key in unknown)
        for event in waiting:
            name, code = unknown[event.key]
            event._amazon_sp_set_review(
                "plan",
                self.env._(
                    "Amazon lists this event in the marketplace %(name)s (%(code)s), which Odoo "
                    "does not know: add that marketplace to the seller account, then retry the "
                    "event, or ignore it.",
                    name=name or code,
                    code=code,
                ),
            )
        if waiting:
            counts["events_to_review"] = counts.get("events_to_review", 0) + len(waiting)
        run._add(**counts)
        if group_id and events:
            self._set_group_of_known(account, events, group_id)
        return len(new) - len(waiting)

    def _keep_enabled(self, events, by_code, left_out):
        """For sources listing every marketplace: the events of the enabled marketplaces
        (``by_code``) and those without a marketplace are kept; those of a marketplace Odoo
        knows but the account does not enable are left out and counted in ``left_out``; those
        of a marketplace Odoo does not know are kept, to wait for review naming it. Returns
        (kept, {key: (marketplace name, Amazon id)} of the unknown ones)."""
        foreign = {ev.marketplace_id for ev in events if ev.marketplace_id} - set(by_code)
        if not foreign:
            return events, {}
        known = {
            mp._amazon_sp_code(): mp
            for mp in self.env["amazon.sp.marketplace"]
            .with_context(active_test=False)
            .search([("marketplace_id", "in", sorted(foreign))])
        }
        kept, unknown = [], {}
        for ev in events:
            if not ev.marketplace_id or ev.marketplace_id in by_code:
                kept.append(ev)
            elif ev.marketplace_id in known:
                name = known[ev.marketplace_id].name
                left_out[name] = left_out.get(name, 0) + 1
            else:
                kept.append(ev)
                unknown[ev.key] = (ev.marketplace_name, ev.marketplace_id)
        return kept, unknown

    def _set_group_of_known(self, account, events, group_id):
        """The known events of ``events`` that did not know their group learn it."""
        if events:
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
            self.env["amazon.sp.service.staging"]._set_group(known, group_id)
