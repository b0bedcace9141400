import json
import logging
from datetime import UTC, timedelta
from decimal import Decimal

import pytz

from odoo import Command, api, fields, models

from ..domain import settle
from ..domain.sources import get_source
from ..spapi.exceptions import SpApiError
from .common import company_tz, to_decimal, to_naive_utc

_logger = logging.getLogger(__name__)

# Amazon answers group ranges wider than 180 days with an empty list: read in shorter windows.
GROUP_WINDOW = timedelta(days=179)
# FinancialEventGroupStartedBefore must be more than 2 minutes before the request.
GROUP_LATEST_DELAY = timedelta(minutes=3)
GROUP_PAGE_SIZE = 100
# A bank line matches a payout within this many days of the fund transfer.
BANK_MATCH_WINDOW = timedelta(days=3)


class AmazonSpSettlementService(models.AbstractModel):
    """Settlements (financial event groups): read them from Amazon, stage the events of the
    closed ones, check them against Odoo's posted documents, post the payout of those that
    match and reconcile it with the clearing lines and the bank statement line.

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
        for page in source.group_pages(client, settlement.group_id):
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
        """Events know their settlement: by group id, in one write per settlement."""
        if not settlements:
            return
        Event = self.env["amazon.sp.event"]
        events = Event.with_context(active_test=False).search(
            [
                ("account_id", "in", settlements.account_id.ids),
                ("group_id", "in", settlements.mapped("group_id")),
            ]
        )
        by_key = {(s.account_id.id, s.group_id): s for s in settlements}
        todo = {}
        for event in events:
            settlement = by_key.get((event.account_id.id, event.group_id))
            if settlement and event.settlement_id != settlement:
                todo.setdefault(settlement, Event)
                todo[settlement] |= event
        for settlement, linked in todo.items():
            linked.write({"settlement_id": settlement.id})
        for settlement in settlements:
            if not settlement.marketplace_id:
                marketplaces = settlement.event_ids.marketplace_id
                if len(marketplaces) == 1:
                    settlement.marketplace_id = marketplaces

    # ------------------------------------------------------------------------------------------
    # Odoo's figures and the check
    # ------------------------------------------------------------------------------------------

    @api.model
    def _group(self, settlement):
        settlement.ensure_one()
        return settle.parse_group(json.loads(settlement.raw_json or "{}"))

    @api.model
    def _clearing_lines(self, settlement):
        """Clearing lines of the posted documents of the settlement's events (payout excluded)."""
        settlement.ensure_one()
        clearing = settlement.company_id.amazon_sp_clearing_account_id
        moves = settlement.event_ids.move_ids.filtered(lambda m: m.state == "posted")
        moves -= settlement.payout_move_id
        return moves.line_ids.filtered(lambda line: line.account_id == clearing)

    @api.model
    def _facts(self, settlement):
        settlement.ensure_one()
        lines = self._clearing_lines(settlement)
        events = settlement.event_ids
        posted_events = events.filtered(lambda e: any(m.state == "posted" for m in e.move_ids))
        waiting = events.filtered(lambda e: e.state not in ("ignored", "nothing")) - posted_events
        return settle.OdooFacts(
            posted_total=to_decimal(sum(lines.mapped("amount_currency"))),
            posted_count=len(posted_events),
            waiting_count=len(waiting),
            waiting_total=to_decimal(sum(waiting.mapped("amount_total"))),
            ignored_count=len(events.filtered(lambda e: e.state == "ignored")),
            changed_count=len(events.filtered("upstream_sha256")),
        )

    @api.model
    def _check(self, settlements):
        """Check every settlement; pay out (and reconcile) those that match Amazon.

        Open groups stay open; closed ones wait for their funds, or go to review naming the
        difference; nothing is posted for a group that does not match. One settlement whose
        check fails (in its own savepoint) goes to review naming the failure; the others are
        checked all the same."""
        self.env["amazon.sp.service.sales"]._book_settlements(settlements)
        for settlement in settlements.filtered(lambda s: s.state != "reconciled"):
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
        elif check.status != "match":
            self._set_review(settlement, "\n".join(check.reasons))
        else:
            self._pay_out(settlement)

    @api.model
    def _set_review(self, settlement, message):
        settlement.ensure_one()
        if settlement.state != "to_review" or settlement.review_message != message:
            settlement.write({"state": "to_review", "review_message": message})
            settlement.message_post(body=message)

    # ------------------------------------------------------------------------------------------
    # The payout
    # ------------------------------------------------------------------------------------------

    @api.model
    def _payout_journal(self, settlement):
        """The bank journal paid: the one set on the group's marketplaces, else the company's
        bank journal in the payout currency. Returns (journal, problem)."""
        settlement.ensure_one()
        Journal = self.env["account.journal"]
        marketplaces = settlement.event_ids.marketplace_id | settlement.marketplace_id
        journals = marketplaces.mapped("amazon_sp_payout_journal_id")
        if len(journals) > 1:
            return Journal, self.env._(
                "The marketplaces of this settlement (%(marketplaces)s) are paid into different "
                "bank journals: set the same payout journal on them.",
                marketplaces=", ".join(marketplaces.mapped("name")),
            )
        if journals:
            return journals, None
        currency = settlement.converted_currency_id or settlement.currency_id
        company = settlement.company_id
        candidates = Journal.search(
            [("type", "=", "bank"), ("company_id", "=", company.id)], order="sequence, id"
        )
        for journal in candidates:
            if (journal.currency_id or company.currency_id) == currency:
                return journal, None
        return Journal, self.env._(
            "No bank journal in %(currency)s for Amazon payouts: create one or set the payout "
            "journal on the marketplace (%(marketplaces)s).",
            currency=currency.name,
            marketplaces=", ".join(marketplaces.mapped("name")) or "-",
        )

    @api.model
    def _outstanding_account(self, journal):
        """Outstanding receipts of the bank journal, as Odoo's payments choose it."""
        account = journal.inbound_payment_method_line_ids.payment_account_id[:1]
        if account:
            return account
        chart = self.with_context(allowed_company_ids=journal.company_id.root_id.ids).env[
            "account.chart.template"
        ]
        return (
            chart.ref("account_journal_payment_debit_account_id", raise_if_not_found=False)
            or journal.company_id.transfer_account_id
        )

    @api.model
    def _payout_date(self, settlement):
        """The company's day of the fund transfer (else of the group's end)."""
        settlement.ensure_one()
        moment = settlement.fund_transfer_date or settlement.end_date or fields.Datetime.now()
        tz = company_tz(self.env, settlement.company_id)
        return pytz.utc.localize(moment).astimezone(tz).date()

    @api.model
    def _prepare_payout_vals(self, settlement, journal, outstanding, clearing_lines, date):
        """Hook: the values of the payout entry of ``settlement`` (``account.move`` create).

        The entry moves the payout from the clearing account to the bank journal's outstanding
        receipts, with the exchange difference when Amazon paid in another currency.
        Extensions may change or add values (reference, narration, analytic...) around
        ``super()``.

        :param journal: the bank journal paid
        :param outstanding: its outstanding receipts account
        :param clearing_lines: the clearing lines of the group's posted documents
        :param date: the company's day of the transfer
        :rtype: dict
        """
        company = settlement.company_id
        company_currency = company.currency_id
        payout_currency = settlement.converted_currency_id or settlement.currency_id
        bank_balance = payout_currency._convert(
            settlement.converted_total, company_currency, company, date
        )
        clearing_balance = -company_currency.round(sum(clearing_lines.mapped("balance")))
        difference = company_currency.round(bank_balance + clearing_balance)
        label = self.env._("Amazon payout %(group)s", group=settlement.group_id)
        partner = company.amazon_sp_partner_id
        lines = [
            Command.create(
                {
                    "name": label,
                    "account_id": outstanding.id,
                    "partner_id": partner.id,
                    "currency_id": payout_currency.id,
                    "amount_currency": settlement.converted_total,
                    "balance": bank_balance,
                }
            ),
            Command.create(
                {
                    "name": label,
                    "account_id": company.amazon_sp_clearing_account_id.id,
                    "partner_id": partner.id,
                    "currency_id": settlement.currency_id.id,
                    "amount_currency": -settlement.original_total,
                    "balance": clearing_balance,
                }
            ),
        ]
        if not company_currency.is_zero(difference):
            account = (
                company.income_currency_exchange_account_id
                if difference > 0
                else company.expense_currency_exchange_account_id
            )
            lines.append(
                Command.create(
                    {
                        "name": self.env._("Payout conversion difference"),
                        "account_id": account.id,
                        "partner_id": partner.id,
                        "currency_id": company_currency.id,
                        "amount_currency": -difference,
                        "balance": -difference,
                    }
                )
            )
        return {
            "move_type": "entry",
            "journal_id": journal.id,
            "date": date,
            "ref": " ".join(p for p in (label, settlement.trace_id) if p),
            "amazon_marketplace_id": settlement.marketplace_id.id,
            "amazon_event_type": False,
            "line_ids": lines,
        }

    @api.model
    def _pay_out(self, settlement):
        """Post the payout entry (bank outstanding receipts ↔ clearing, exchange difference),
        reconcile the clearing lines of the group, then look for the bank line. Returns the
        payout entry, or False when the settlement went to review."""
        settlement.ensure_one()
        journal, problem = self._payout_journal(settlement)
        if problem:
            self._set_review(settlement, problem)
            return False
        outstanding = self._outstanding_account(journal)
        if not outstanding:
            self._set_review(
                settlement,
                self.env._(
                    "The bank journal %(journal)s has no outstanding receipts account.",
                    journal=journal.display_name,
                ),
            )
            return False
        clearing = settlement.company_id.amazon_sp_clearing_account_id
        clearing_lines = self._clearing_lines(settlement)
        date = self._payout_date(settlement)
        move = self.env["account.move"].create(
            self._prepare_payout_vals(settlement, journal, outstanding, clearing_lines, date)
        )
        move.action_post()
        if move.date != date:
            move.message_post(
                body=self.env._(
                    "Amazon transferred the funds on %(date)s, in a locked period: the payout "
                    "is dated %(moved)s, the first open date.",
                    date=date,
                    moved=move.date,
                )
            )
        payout_clearing = move.line_ids.filtered(lambda line: line.account_id == clearing)
        # Zero lines (a group whose events need nothing booked) are reconciled already.
        to_reconcile = (clearing_lines | payout_clearing).filtered(lambda line: not line.reconciled)
        if to_reconcile:
            to_reconcile.reconcile()
        settlement.write(
            {"payout_move_id": move.id, "state": "reconciled", "review_message": False}
        )
        payout_currency = settlement.converted_currency_id or settlement.currency_id
        settlement.message_post(
            body=self.env._(
                "Payout %(move)s posted: %(amount)s %(currency)s; the clearing lines of %(count)s "
                "event(s) are reconciled with it.",
                move=move.display_name,
                amount=settlement.converted_total,
                currency=payout_currency.name,
                count=len(settlement.event_ids),
            )
        )
        self._match_bank_lines(settlement)
        return move

    # ------------------------------------------------------------------------------------------
    # The bank statement line
    # ------------------------------------------------------------------------------------------

    @api.model
    def _payout_line(self, settlement):
        """The payout entry's line on the bank journal's outstanding receipts."""
        settlement.ensure_one()
        journal = settlement.payout_move_id.journal_id
        clearing = settlement.company_id.amazon_sp_clearing_account_id
        return settlement.payout_move_id.line_ids.filtered(
            lambda line: (
                line.account_id.reconcile
                and line.account_id != clearing
                and line.journal_id == journal
            )
        )[:1]

    @api.model
    def _match_bank_lines(self, settlements):
        """Reconcile each payout with its bank statement line: same journal, same amount, and
        the trace id in the label or a date within BANK_MATCH_WINDOW of the transfer.
        Returns the settlements matched."""
        matched = settlements.browse()
        for settlement in settlements.filtered("payout_move_id"):
            payout_line = self._payout_line(settlement)
            if not payout_line or payout_line.reconciled:
                continue
            move = settlement.payout_move_id
            date = self._payout_date(settlement)
            st_lines = self.env["account.bank.statement.line"].search(
                [
                    ("journal_id", "=", move.journal_id.id),
                    ("is_reconciled", "=", False),
                    ("date", ">=", date - BANK_MATCH_WINDOW),
                    ("date", "<=", date + BANK_MATCH_WINDOW),
                ],
                order="date, id",
            )
            st_line = self._find_bank_line(settlement, st_lines, payout_line)
            if not st_line:
                continue
            _liquidity, suspense, _other = st_line.with_context(
                skip_account_move_synchronization=True
            )._seek_for_lines()
            suspense.account_id = payout_line.account_id
            (suspense | payout_line).reconcile()
            settlement.message_post(
                body=self.env._(
                    "Payout matched with the bank line %(line)s of %(date)s.",
                    line=st_line.display_name,
                    date=st_line.date,
                )
            )
            matched |= settlement
        return matched

    @api.model
    def _find_bank_line(self, settlement, st_lines, payout_line):
        """The statement line paying ``payout_line``: same amount; the trace id in its label
        first."""
        amount = payout_line.amount_currency
        currency = payout_line.currency_id

        def same_amount(st):
            paid = st.amount_currency if st.foreign_currency_id == currency else st.amount
            return currency.is_zero(paid - amount)

        candidates = st_lines.filtered(same_amount)
        trace = settlement.trace_id
        by_trace = candidates.filtered(lambda st: trace and trace in (st.payment_ref or ""))
        return (by_trace or candidates)[:1]
