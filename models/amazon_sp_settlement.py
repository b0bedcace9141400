import json
from datetime import UTC, timedelta
from decimal import Decimal

import pytz

from odoo import Command, api, fields, models

from ..domain import settle

# A bank line matches a payout within this many days of the fund transfer.
BANK_MATCH_WINDOW = timedelta(days=3)

PROCESSING_STATUS_SELECTION = [("open", "Open"), ("closed", "Closed")]
SETTLEMENT_STATE_SELECTION = [
    ("open", "Open"),  # Amazon still adds events to the group
    ("to_reconcile", "To Reconcile"),  # closed; waits for its funds, its events or its payout
    ("to_review", "To Review"),  # closed, paid, but Odoo's figures differ from Amazon's
    ("reconciled", "Reconciled"),  # payout posted, clearing lines reconciled
]


class AmazonSpSettlement(models.Model):
    """A financial event group (settlement period) of a seller account, as Amazon reports it,
    and what Odoo made of it: its events, its payout entry, its reconciliation."""

    _name = "amazon.sp.settlement"
    _description = "Amazon Settlement"
    _inherit = ["mail.thread", "mail.activity.mixin"]  # noqa: RUF012
    _order = "start_date desc, id desc"
    _rec_name = "name"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    group_id = fields.Char(
        string="Event Group",
        required=True,
        readonly=True,
        index=True,
        help="Amazon's FinancialEventGroupId.",
    )
    marketplace_id = fields.Many2one(
        "amazon.sp.marketplace",
        index=True,
        help="The marketplace of the group's events (empty while it has none).",
    )
    processing_status = fields.Selection(PROCESSING_STATUS_SELECTION, readonly=True, index=True)
    fund_transfer_status = fields.Char(readonly=True)
    fund_transfer_date = fields.Datetime(readonly=True)
    start_date = fields.Datetime(string="Start", readonly=True)
    end_date = fields.Datetime(string="End", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True, help="OriginalTotal's currency.")
    original_total = fields.Monetary(currency_field="currency_id", readonly=True)
    beginning_balance = fields.Monetary(currency_field="currency_id", readonly=True)
    converted_currency_id = fields.Many2one("res.currency", readonly=True, string="Payout Currency")
    converted_total = fields.Monetary(
        currency_field="converted_currency_id", readonly=True, string="Payout Amount"
    )
    trace_id = fields.Char(readonly=True)
    account_tail = fields.Char(readonly=True, help="Last digits of the bank account paid.")
    raw_json = fields.Text(string="Raw JSON", readonly=True)
    raw_sha256 = fields.Char(string="SHA-256", readonly=True)
    event_ids = fields.One2many("amazon.sp.event", "settlement_id", string="Events")
    state = fields.Selection(
        SETTLEMENT_STATE_SELECTION, default="open", required=True, index=True, tracking=True
    )
    review_message = fields.Text()
    payout_move_id = fields.Many2one("account.move", readonly=True, copy=False, string="Payout")
    last_refresh = fields.Datetime(readonly=True)

    _sql_constraints = [  # noqa: RUF012
        (
            "group_unique",
            "unique(account_id, group_id)",
            "A financial event group is stored once per seller account.",
        ),
    ]

    @api.depends("group_id", "start_date", "currency_id")
    def _compute_name(self):
        for settlement in self:
            start = fields.Date.to_string(settlement.start_date) if settlement.start_date else ""
            currency = settlement.currency_id.name or ""
            settlement.name = " ".join(p for p in (start, currency, settlement.group_id) if p)

    # ------------------------------------------------------------------------------------------
    # Upsert from Amazon
    # ------------------------------------------------------------------------------------------

    @api.model
    def _amazon_sp_upsert(self, account, raw_groups, now=None):
        """Create or refresh the settlements of ``account`` from v0 ``FinancialEventGroup``
        dicts (one search, one create); returns (settlements, failures as (raw, message))."""
        Currency = self.env["res.currency"].with_context(active_test=False).sudo()
        parsed, failures = [], []
        for raw in raw_groups:
            try:
                parsed.append(settle.parse_group(raw))
            except settle.GroupError as exc:
                failures.append((raw, str(exc)))
        if not parsed:
            return self.browse(), failures
        existing = self.search(
            [("account_id", "=", account.id), ("group_id", "in", [g.group_id for g in parsed])]
        )
        by_group = {rec.group_id: rec for rec in existing}
        codes = {g.currency for g in parsed} | {g.converted_currency for g in parsed}
        currencies = {c.name: c for c in Currency.search([("name", "in", list(codes - {None}))])}
        stamp = fields.Datetime.to_string(now or fields.Datetime.now())
        vals_list, touched = [], self.browse()
        for group in parsed:
            raw_text, _sha = settle.raw_digest(group.raw)
            vals = {
                "processing_status": group.processing_status or False,
                "fund_transfer_status": group.fund_transfer_status or False,
                "fund_transfer_date": _naive(group.fund_transfer_date),
                "start_date": _naive(group.start),
                "end_date": _naive(group.end),
                "currency_id": currencies[group.currency].id
                if group.currency in currencies
                else False,
                "original_total": float(group.original_total or 0),
                "beginning_balance": float(group.beginning_balance or 0),
                "converted_currency_id": currencies[group.converted_currency].id
                if group.converted_currency in currencies
                else False,
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
        created = self.create(vals_list) if vals_list else self.browse()
        settlements = touched | created
        settlements._amazon_sp_link_events()
        return settlements, failures

    def _amazon_sp_link_events(self):
        """Events know their settlement: by group id, in one write per settlement."""
        if not self:
            return
        Event = self.env["amazon.sp.event"]
        events = Event.with_context(active_test=False).search(
            [
                ("account_id", "in", self.account_id.ids),
                ("group_id", "in", self.mapped("group_id")),
            ]
        )
        by_key = {(s.account_id.id, s.group_id): s for s in self}
        todo = {}
        for event in events:
            settlement = by_key.get((event.account_id.id, event.group_id))
            if settlement and event.settlement_id != settlement:
                todo.setdefault(settlement, Event)
                todo[settlement] |= event
        for settlement, linked in todo.items():
            linked.write({"settlement_id": settlement.id})
        for settlement in self:
            if not settlement.marketplace_id:
                marketplaces = settlement.event_ids.marketplace_id
                if len(marketplaces) == 1:
                    settlement.marketplace_id = marketplaces

    # ------------------------------------------------------------------------------------------
    # Odoo's figures, the check, the payout
    # ------------------------------------------------------------------------------------------

    def _amazon_sp_group(self):
        self.ensure_one()
        return settle.parse_group(json.loads(self.raw_json or "{}"))

    def _amazon_sp_clearing_lines(self):
        """Clearing lines of the posted documents of the settlement's events (payout excluded)."""
        self.ensure_one()
        clearing = self.company_id.amazon_sp_clearing_account_id
        moves = self.event_ids.move_ids.filtered(lambda m: m.state == "posted")
        moves -= self.payout_move_id
        return moves.line_ids.filtered(lambda line: line.account_id == clearing)

    def _amazon_sp_facts(self):
        self.ensure_one()
        lines = self._amazon_sp_clearing_lines()
        events = self.event_ids
        posted_events = events.filtered(lambda e: any(m.state == "posted" for m in e.move_ids))
        waiting = events.filtered(lambda e: e.state != "ignored") - posted_events
        return settle.OdooFacts(
            posted_total=_dec(sum(lines.mapped("amount_currency"))),
            posted_count=len(posted_events),
            waiting_count=len(waiting),
            waiting_total=_dec(sum(waiting.mapped("amount_total"))),
            ignored_count=len(events.filtered(lambda e: e.state == "ignored")),
            changed_count=len(events.filtered("upstream_sha256")),
        )

    def _amazon_sp_check(self):
        """Check every settlement; pay out (and reconcile) those that match Amazon.

        Open groups stay open; closed ones wait for their funds, or go to review naming the
        difference; nothing is posted for a group that does not match."""
        for settlement in self.filtered(lambda s: s.state != "reconciled"):
            settlement = settlement.with_company(settlement.company_id)
            group = settlement._amazon_sp_group()
            currency = settlement.currency_id
            quantum = Decimal(1).scaleb(-currency.decimal_places) if currency else Decimal("0.01")
            check = settle.check_group(group, settlement._amazon_sp_facts(), quantum)
            if check.status == "open":
                settlement.write({"state": "open", "review_message": False})
            elif check.status == "waiting_transfer":
                settlement.write({"state": "to_reconcile", "review_message": False})
            elif check.status != "match":
                settlement._amazon_sp_set_review("\n".join(check.reasons))
            else:
                settlement._amazon_sp_pay_out()

    def _amazon_sp_set_review(self, message):
        self.ensure_one()
        if self.state != "to_review" or self.review_message != message:
            self.write({"state": "to_review", "review_message": message})
            self.message_post(body=message)

    def _amazon_sp_payout_journal(self):
        """The bank journal paid: the one set on the group's marketplaces, else the company's
        bank journal in the payout currency. Returns (journal, problem)."""
        self.ensure_one()
        marketplaces = self.event_ids.marketplace_id | self.marketplace_id
        journals = marketplaces.mapped("amazon_sp_payout_journal_id")
        if len(journals) > 1:
            return journals.browse(), self.env._(
                "The marketplaces of this settlement (%(marketplaces)s) are paid into different "
                "bank journals: set the same payout journal on them.",
                marketplaces=", ".join(marketplaces.mapped("name")),
            )
        if journals:
            return journals, None
        currency = self.converted_currency_id or self.currency_id
        company = self.company_id
        candidates = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", company.id)], order="sequence, id"
        )
        for journal in candidates:
            if (journal.currency_id or company.currency_id) == currency:
                return journal, None
        return journals.browse(), self.env._(
            "No bank journal in %(currency)s for Amazon payouts: create one or set the payout "
            "journal on the marketplace (%(marketplaces)s).",
            currency=currency.name,
            marketplaces=", ".join(marketplaces.mapped("name")) or "-",
        )

    def _amazon_sp_outstanding_account(self, journal):
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

    def _amazon_sp_payout_date(self):
        self.ensure_one()
        moment = self.fund_transfer_date or self.end_date or fields.Datetime.now()
        tz = pytz.timezone(self.company_id.partner_id.tz or self.env.user.tz or "UTC")
        return pytz.utc.localize(moment).astimezone(tz).date()

    def _amazon_sp_pay_out(self):
        """Post the payout entry (bank outstanding receipts ↔ clearing, exchange difference),
        reconcile the clearing lines of the group, then look for the bank line."""
        self.ensure_one()
        journal, problem = self._amazon_sp_payout_journal()
        if problem:
            self._amazon_sp_set_review(problem)
            return False
        company = self.company_id
        outstanding = self._amazon_sp_outstanding_account(journal)
        if not outstanding:
            self._amazon_sp_set_review(
                self.env._(
                    "The bank journal %(journal)s has no outstanding receipts account.",
                    journal=journal.display_name,
                )
            )
            return False
        clearing_lines = self._amazon_sp_clearing_lines()
        date = self._amazon_sp_payout_date()
        company_currency = company.currency_id
        payout_currency = self.converted_currency_id or self.currency_id
        bank_balance = payout_currency._convert(
            self.converted_total, company_currency, company, date
        )
        clearing_balance = -company_currency.round(sum(clearing_lines.mapped("balance")))
        difference = company_currency.round(bank_balance + clearing_balance)
        label = self.env._("Amazon payout %(group)s", group=self.group_id)
        partner = company.amazon_sp_partner_id
        lines = [
            Command.create(
                {
                    "name": label,
                    "account_id": outstanding.id,
                    "partner_id": partner.id,
                    "currency_id": payout_currency.id,
                    "amount_currency": self.converted_total,
                    "balance": bank_balance,
                }
            ),
            Command.create(
                {
                    "name": label,
                    "account_id": company.amazon_sp_clearing_account_id.id,
                    "partner_id": partner.id,
                    "currency_id": self.currency_id.id,
                    "amount_currency": -self.original_total,
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
        move = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": journal.id,
                "date": date,
                "ref": " ".join(p for p in (label, self.trace_id) if p),
                "amazon_marketplace_id": self.marketplace_id.id,
                "amazon_event_type": False,
                "line_ids": lines,
            }
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
        payout_clearing = move.line_ids.filtered(
            lambda line: line.account_id == company.amazon_sp_clearing_account_id
        )
        (clearing_lines.filtered(lambda line: not line.reconciled) | payout_clearing).reconcile()
        self.write({"payout_move_id": move.id, "state": "reconciled", "review_message": False})
        self.message_post(
            body=self.env._(
                "Payout %(move)s posted: %(amount)s %(currency)s; the clearing lines of %(count)s "
                "event(s) are reconciled with it.",
                move=move.display_name,
                amount=self.converted_total,
                currency=payout_currency.name,
                count=len(self.event_ids),
            )
        )
        self._amazon_sp_match_bank_lines()
        return move

    def _amazon_sp_payout_line(self):
        self.ensure_one()
        journal = self.payout_move_id.journal_id
        return self.payout_move_id.line_ids.filtered(
            lambda line: (
                line.account_id.reconcile
                and line.account_id != self.company_id.amazon_sp_clearing_account_id
                and line.journal_id == journal
            )
        )[:1]

    def _amazon_sp_match_bank_lines(self):
        """Reconcile each payout with its bank statement line: same journal, same amount, and
        the trace id in the label or a date within BANK_MATCH_DAYS of the transfer."""
        matched = self.browse()
        for settlement in self.filtered("payout_move_id"):
            payout_line = settlement._amazon_sp_payout_line()
            if not payout_line or payout_line.reconciled:
                continue
            move = settlement.payout_move_id
            date = settlement._amazon_sp_payout_date()
            st_lines = self.env["account.bank.statement.line"].search(
                [
                    ("journal_id", "=", move.journal_id.id),
                    ("is_reconciled", "=", False),
                    ("date", ">=", date - BANK_MATCH_WINDOW),
                    ("date", "<=", date + BANK_MATCH_WINDOW),
                ],
                order="date, id",
            )
            st_line = settlement._amazon_sp_find_bank_line(st_lines, payout_line)
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

    def _amazon_sp_find_bank_line(self, st_lines, payout_line):
        """The statement line paying ``payout_line``: same amount; the trace id in its label
        first."""
        self.ensure_one()
        amount = payout_line.amount_currency
        currency = payout_line.currency_id

        def same_amount(st):
            paid = st.amount_currency if st.foreign_currency_id == currency else st.amount
            return currency.is_zero(paid - amount)

        candidates = st_lines.filtered(same_amount)
        trace = self.trace_id
        by_trace = candidates.filtered(lambda st: trace and trace in (st.payment_ref or ""))
        return (by_trace or candidates)[:1]

    # ------------------------------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------------------------------

    def action_refresh(self):
        """Read the groups again from Amazon (their events too, once closed) and re-check."""
        for account in self.account_id:
            account.action_amazon_sp_refresh_settlements()
        return True

    def action_check(self):
        self._amazon_sp_link_events()
        self._amazon_sp_check()
        return True

    def action_match_bank_lines(self):
        matched = self._amazon_sp_match_bank_lines()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if matched else "warning",
                "message": self.env._(
                    "%(count)s payout(s) matched with a bank line.", count=len(matched)
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_view_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_event_action"
        )
        action["domain"] = [("settlement_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_view_payout(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.payout_move_id.id,
            "view_mode": "form",
        }


def _naive(moment):
    return moment.astimezone(UTC).replace(tzinfo=None) if moment else False


def _dec(value):
    return Decimal(str(value or 0))
