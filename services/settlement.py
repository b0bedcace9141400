import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from odoo import api, fields, models
from odoo.tools import SQL, split_every

from ..domain import settle
from ..domain.sources import get_source
from ..spapi.exceptions import SpApiError
from ..spapi.prefetch import Prefetch
from .common import to_decimal, to_naive_utc

_logger = logging.getLogger(__name__)

# Amazon answers group ranges wider than 180 days with an empty list: read in shorter windows.
GROUP_WINDOW = timedelta(days=179)
# FinancialEventGroupStartedBefore must be more than 2 minutes before the request.
GROUP_LATEST_DELAY = timedelta(minutes=3)
GROUP_PAGE_SIZE = 100
# Events linked to their settlement per write (then dropped from the cache).
LINK_CHUNK = 1000
# An event that still waits for a document: none of its documents posted, and not ignored,
# with nothing to book or deferred by Amazon (``_facts``).
_WAITING = SQL("NOT posted AND state NOT IN ('ignored', 'nothing', 'deferred')")


class AmazonSpSettlementService(models.AbstractModel):
    """Settlements (financial event groups): read them from Amazon, stage the events of the
    closed ones, check them against Odoo's posted documents, post the payout of those that
    match and reconcile it with the clearing lines and the bank statement line (the payout
    and the bank line: ``settlement_payout.py``).

    Hook for extensions: :meth:`_prepare_payout_vals` (the values of one payout entry).
    """

    _name = "amazon.sp.service.settlement"
    _description = "Amazon SP-API: settlements, payouts and bank matching"

    # ------------------------------------------------------------------------------------------
    # Reading the settlements from Amazon
    # ------------------------------------------------------------------------------------------

    @api.model
    def _sync_settlements(self, account, run, client):
        """Upsert the account's settlements; stage the events of the closed, unreconciled ones
        (by group: nothing twice, v0 events learn their group); process; check and pay out;
        download the settlement reports. Returns the settlements read."""
        account.ensure_one()
        Import = self.env["amazon.sp.service.import"]
        settlements = self.env["amazon.sp.settlement"]
        failures = []
        for start, end in self._group_windows(account):
            for page in client.list_financial_event_groups(
                started_after=start, started_before=end, max_results=GROUP_PAGE_SIZE
            ):
                raw_groups = (page.payload or {}).get("FinancialEventGroupList") or []
                found, bad = self._upsert(account, raw_groups)
                settlements |= found
                failures += bad
                run._add(settlements_read=len(raw_groups))
        for _raw, message in failures:
            _logger.warning(
                "Amazon financial event group of account %s not read: %s", account.id, message
            )
        if failures:
            run.write(
                {
                    "error": "\n".join(
                        [run.error or ""] + [message for _raw, message in failures]
                    ).strip()
                }
            )
        Import._commit()
        closed = settlements.filtered(
            lambda s: s.processing_status == "closed" and s.state != "reconciled"
        )
        for settlement in closed:
            self._pull_group(account, run, client, settlement)
        self._link_events(closed)
        Import._process_pending(account, run)
        self._check(settlements)
        try:
            self.env["amazon.sp.service.settlement.report"]._fetch(account, client)
        except SpApiError as error:
            # e.g. a seller whose app lacks the reports role: the settlements stand without it
            _logger.warning(
                "Amazon settlement reports of account %s not read: %s", account.id, error
            )
            message = account._amazon_sp_error_message(error)
            run.write({"error": "\n".join(p for p in (run.error, message) if p)})
        reconciled = settlements.filtered(lambda s: s.state == "reconciled")
        run._add(settlements_reconciled=len(reconciled))
        Import._commit()
        return settlements

    @api.model
    def _group_windows(self, account):
        """[start, end) windows of listFinancialEventGroups, from the account's start to now."""
        Import = self.env["amazon.sp.service.import"]
        start = Import._start(account)
        end = (Import._now() - GROUP_LATEST_DELAY).replace(microsecond=0)
        while start < end:
            stop = min(start + GROUP_WINDOW, end)
            yield start, stop
            start = stop

    @api.model
    def _pull_group(self, account, run, client, settlement):
        """Stage every event of one group through the import's staging."""
        Import = self.env["amazon.sp.service.import"]
        source = get_source(account.finances_api)
        end = settlement.end_date or settlement.start_date
        group_end = end.replace(tzinfo=UTC) if end else None
        seen = {}
        # Read ahead by a thread while the pages already read are staged (as the import's).
        with Prefetch(source.group_pages(client, settlement.group_id)) as pages:
            for page in pages:
                Import._stage_page(
                    account,
                    run,
                    source,
                    page,
                    group_id=settlement.group_id,
                    group_end=group_end,
                    seen=seen,
                )
                Import._commit()

    @api.model
    def _upsert(self, account, raw_groups, now=None):
        """Create or refresh the settlements of ``account`` from v0 ``FinancialEventGroup``
        dicts (one search, one create); returns (settlements, failures as (raw, message))."""
        Settlement = self.env["amazon.sp.settlement"]
        Currency = self.env["res.currency"].with_context(active_test=False).sudo()
        parsed, failures = [], []
        for raw in raw_groups:
            try:
                parsed.append(settle.parse_group(raw))
            except settle.GroupError as exc:
                failures.append((raw, str(exc)))
        if not parsed:
            return Settlement, failures
        existing = Settlement.search(
            [("account_id", "=", account.id), ("group_id", "in", [g.group_id for g in parsed])]
        )
        by_group = {rec.group_id: rec for rec in existing}
        codes = {g.currency for g in parsed} | {g.converted_currency for g in parsed}
        currencies = {c.name: c for c in Currency.search([("name", "in", list(codes - {None}))])}
        stamp = fields.Datetime.to_string(now or fields.Datetime.now())
        vals_list, touched = [], Settlement
        for group in parsed:
            raw_text, _sha = settle.raw_digest(group.raw)
            currency = currencies.get(group.currency)
            converted_currency = currencies.get(group.converted_currency)
            vals = {
                "processing_status": group.processing_status or False,
                "fund_transfer_status": group.fund_transfer_status or False,
                "fund_transfer_date": to_naive_utc(group.fund_transfer_date),
                "start_date": to_naive_utc(group.start),
                "end_date": to_naive_utc(group.end),
                "currency_id": currency.id if currency else False,
                "original_total": float(group.original_total or 0),
                "beginning_balance": float(group.beginning_balance or 0),
                "converted_currency_id": converted_currency.id if converted_currency else False,
                "converted_total": float(group.converted_total or 0),
                "trace_id": group.trace_id or False,
                "account_tail": group.account_tail or False,
                "raw_json": raw_text,
                "raw_sha256": group.raw_sha256,
                "last_refresh": stamp,
            }
            rec = by_group.get(group.group_id)
            if rec:
                touched |= rec
                if rec.state == "reconciled" or rec.raw_sha256 == group.raw_sha256:
                    rec.last_refresh = stamp
                    continue
                rec.write(vals)
            else:
                vals.update(account_id=account.id, group_id=group.group_id)
                vals_list.append(vals)
        created = Settlement.create(vals_list) if vals_list else Settlement
        settlements = touched | created
        self._link_events(settlements)
        return settlements, failures

    @api.model
    def _link_events(self, settlements):
        """Events know their settlement: by group id (the events are grouped by PostgreSQL,
        then written a thousand at a time)."""
        if not settlements:
            return
        Event = self.env["amazon.sp.event"]
        by_key = {(s.account_id.id, s.group_id): s for s in settlements}
        groups = Event._read_group(
            [
                ("account_id", "in", settlements.account_id.ids),
                ("group_id", "in", settlements.mapped("group_id")),
            ],
            ["account_id", "group_id", "settlement_id"],
            ["id:array_agg"],
        )
        todo = {}
        for account, group_id, current, ids in groups:
            settlement = by_key.get((account.id, group_id))
            if settlement and current != settlement:
                todo.setdefault(settlement, []).extend(ids)
        for settlement, linked in todo.items():
            # A thousand at a time, dropped from the cache after (memory does not grow with the
            # group)
            for chunk in split_every(LINK_CHUNK, linked):
                events = Event.browse(chunk)
                events.write({"settlement_id": settlement.id})
                events.flush_recordset()
                events.invalidate_recordset()
        for settlement in settlements.filtered(lambda s: not s.marketplace_id):
            marketplaces = self._event_marketplaces(settlement)
            if len(marketplaces) == 1:
                settlement.marketplace_id = marketplaces

    @api.model
    def _event_marketplaces(self, settlement):
        """The marketplaces of the settlement's events (grouped by PostgreSQL)."""
        groups = self.env["amazon.sp.event"]._read_group(
            [("settlement_id", "=", settlement.id), ("marketplace_id", "!=", False)],
            ["marketplace_id"],
        )
        return self.env["amazon.sp.marketplace"].union(*(row[0] for row in groups))

    @api.model
    def _event_count(self, settlement):
        return self.env["amazon.sp.event"].search_count([("settlement_id", "=", settlement.id)])

    # ------------------------------------------------------------------------------------------
    # Odoo's figures and the check
    # ------------------------------------------------------------------------------------------

    @api.model
    def _group(self, settlement):
        settlement.ensure_one()
        return settle.parse_group(json.loads(settlement.raw_json or "{}"))

    @api.model
    def _posted_links(self, settlement):
        """``(ids of the posted documents of the settlement's events, its payout excluded; ids
        of its events that have a posted document)``, read table by table: the events by their
        settlement, their links, the documents' state. Each query reads one table by a list or
        an index; a join of the three would rest on PostgreSQL's statistics, and rows not
        committed yet (a settlement booked from its report, a test) make it expect one row in
        each table and read them all again for every row."""
        settlement.ensure_one()
        self.env["amazon.sp.event"].flush_model(["settlement_id", "move_ids"])
        self.env["account.move"].flush_model(["state"])
        cr = self.env.cr
        cr.execute(SQL("SELECT id FROM amazon_sp_event WHERE settlement_id = %s", settlement.id))
        event_ids = [row[0] for row in cr.fetchall()]
        links = []
        if event_ids:
            cr.execute(
                SQL(
                    """SELECT event_id, move_id FROM account_move_amazon_sp_event_rel
                        WHERE event_id = ANY(%s)""",
                    event_ids,
                )
            )
            links = cr.fetchall()
        posted = set()
        if links:
            cr.execute(
                SQL(
                    "SELECT id FROM account_move WHERE id = ANY(%s) AND state = 'posted'",
                    sorted({move_id for _event_id, move_id in links}),
                )
            )
            posted = {row[0] for row in cr.fetchall()}
        events = {event_id for event_id, move_id in links if move_id in posted}
        return posted - {settlement.payout_move_id.id}, events

    @api.model
    def _posted_move_ids(self, settlement):
        return sorted(self._posted_links(settlement)[0])

    @api.model
    def _clearing_lines(self, settlement):
        """Clearing lines of the posted documents of the settlement's events (payout excluded)."""
        settlement.ensure_one()
        clearing = settlement.company_id.amazon_sp_clearing_account_id
        return self.env["account.move.line"].search(
            [
                ("move_id", "in", self._posted_move_ids(settlement)),
                ("account_id", "=", clearing.id),
            ]
        )

    @api.model
    def _facts(self, settlement):
        """Odoo's side of the settlement, counted and summed by PostgreSQL: the events are not
        loaded, so the check takes the same memory for ten events or ten thousand."""
        settlement.ensure_one()
        clearing = settlement.company_id.amazon_sp_clearing_account_id
        self.env["account.move.line"].flush_model(["move_id", "account_id", "amount_currency"])
        self.env["amazon.sp.event"].flush_model(["state", "amount_total", "upstream_sha256"])
        cr = self.env.cr
        moves, posted_events = self._posted_links(settlement)
        cr.execute(
            SQL(
                """SELECT COALESCE(SUM(amount_currency), 0)
                     FROM account_move_line
                    WHERE account_id = %s AND move_id = ANY(%s)""",
                clearing.id,
                sorted(moves),
            )
        )
        posted_total = cr.fetchone()[0]
        cr.execute(
            SQL(
                """WITH event AS (
                    SELECT state, amount_total, upstream_sha256, id = ANY(%s) AS posted
                      FROM amazon_sp_event
                     WHERE settlement_id = %s
                )
                SELECT COUNT(*) FILTER (WHERE posted),
                       COUNT(*) FILTER (WHERE %s),
                       COALESCE(SUM(amount_total) FILTER (WHERE %s), 0),
                       COUNT(*) FILTER (WHERE state = 'ignored'),
                       COUNT(*) FILTER (WHERE COALESCE(upstream_sha256, '') != ''),
                       COUNT(*) FILTER (WHERE state = 'deferred')
                  FROM event""",
                sorted(posted_events),
                settlement.id,
                _WAITING,
                _WAITING,
            )
        )
        # (Odoo's cursor reads numeric sums as floats: their shortest text is the sum)
        posted, waiting, waiting_total, ignored, changed, deferred = cr.fetchone()
        return settle.OdooFacts(
            posted_total=to_decimal(posted_total),
            posted_count=posted,
            waiting_count=waiting,
            waiting_total=to_decimal(waiting_total),
            ignored_count=ignored,
            changed_count=changed,
            deferred_count=deferred,
        )

    @api.model
    def _check(self, settlements):
        """Check every settlement; pay out (and reconcile) those that match Amazon.

        Open groups stay open; closed ones wait for their funds, or go to review naming the
        difference; nothing is posted for a group that does not match. One settlement whose
        check fails (in its own savepoint) goes to review naming the failure; the others are
        checked all the same."""
        self.env["amazon.sp.service.sales"]._book_settlements(settlements)
        todo = settlements.filtered(lambda s: s.state != "reconciled")
        # Oldest first: a later group may pay an earlier one's failed transfer.
        todo = todo.sorted(lambda s: (s.start_date or datetime.min, s.id))
        for settlement in todo:
            service = self.with_company(settlement.company_id)
            settlement = settlement.with_company(settlement.company_id)
            try:
                with self.env.cr.savepoint():
                    service._check_one(settlement)
            except Exception as exc:
                _logger.warning(
                    "Amazon settlement %s not checked: %s", settlement.id, exc, exc_info=True
                )
                service._set_review(
                    settlement,
                    self.env._(
                        "The check of this settlement failed: %(error)s. The other settlements "
                        "were checked; fix the cause, then import again.",
                        error=str(exc),
                    ),
                )

    @api.model
    def _check_one(self, settlement):
        """Check one settlement (in its company); pay it out when it matches."""
        group = self._group(settlement)
        currency = settlement.currency_id
        quantum = Decimal(1).scaleb(-currency.decimal_places) if currency else Decimal("0.01")
        check = settle.check_group(group, self._facts(settlement), quantum)
        if check.status == "open":
            settlement.write({"state": "open", "review_message": False})
        elif check.status == "waiting_transfer":
            settlement.write({"state": "to_reconcile", "review_message": False})
        elif check.status == "transfer_failed":
            self._set_transfer_failed(settlement)
        elif check.status != "match":
            self._set_review(settlement, "\n".join(check.reasons))
        else:
            self._set_carried(settlement, check.carried)
            self._pay_out(settlement)

    @api.model
    def _set_transfer_failed(self, settlement):
        """Amazon's transfer failed: no payout; the money stays on the clearing account until
        a later group pays it (its beginning balance), whose payout then settles this one."""
        settlement.ensure_one()
        if settlement.state == "transfer_failed":
            return
        message = self.env._(
            "Amazon reports the transfer of %(amount)s as %(status)s: no payout is "
            "booked and the money stays on the Amazon clearing account. Amazon pays it again "
            "with a later settlement (its beginning balance); that settlement's payout then "
            "settles this one. Check the bank account in Seller Central.",
            amount=settlement.currency_id._amazon_sp_amount_text(settlement.original_total),
            status=settlement.fund_transfer_status,
        )
        settlement.write({"state": "transfer_failed", "review_message": message})
        settlement.message_post(body=message)

    @api.model
    def _failed_before(self, settlement):
        """The account's earlier settlements in the same currency whose transfer failed and
        that no later group paid yet."""
        return self.env["amazon.sp.settlement"].search(
            [
                ("account_id", "=", settlement.account_id.id),
                ("currency_id", "=", settlement.currency_id.id),
                ("state", "=", "transfer_failed"),
                ("id", "!=", settlement.id),
                ("start_date", "<", settlement.start_date or fields.Datetime.now()),
            ],
            order="start_date desc, id desc",
        )

    @api.model
    def _set_carried(self, settlement, carried):
        """Record the beginning balance the payout books (``carried``, a Decimal) and where
        it comes from (domain.settle.carried_kind)."""
        kind = False
        if carried:
            failed = self._failed_before(settlement)
            totals = tuple(to_decimal(total) for total in failed.mapped("original_total"))
            kind = settle.carried_kind(carried, totals)
        vals = {"carried_balance": float(carried), "carried_kind": kind}
        if any(settlement[name] != value for name, value in vals.items()):
            settlement.write(vals)

    @api.model
    def _carried_account(self, settlement):
        """The account a carried beginning balance comes from: the clearing account (a failed
        transfer's group still on it), the reserve, or the transfers account (a charge)."""
        company = settlement.company_id
        if settlement.carried_kind == settle.CARRIED_FAILED:
            return company.amazon_sp_clearing_account_id
        if settlement.carried_kind == settle.CARRIED_RESERVE:
            return company._amazon_sp_account("reserve")
        return company._amazon_sp_account("transfers")

    @api.model
    def _set_review(self, settlement, message):
        settlement.ensure_one()
        if settlement.state != "to_review" or settlement.review_message != message:
            settlement.write({"state": "to_review", "review_message": message})
            settlement.message_post(body=message)
