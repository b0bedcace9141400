import logging
from datetime import timedelta

import pytz

from odoo import Command, api, fields, models

from ..domain import settle
from .common import company_tz

_logger = logging.getLogger(__name__)

# A bank line matches a payout within this many days of the fund transfer.
BANK_MATCH_WINDOW = timedelta(days=3)


class AmazonSpSettlementPayout(models.AbstractModel):
    """The payout of a settlement that matches Amazon (a charge when its total is negative),
    the beginning balance it carries, and the bank statement line that pays it.

    Hook for extensions: :meth:`_prepare_payout_vals` (the values of one payout entry).
    """

    _inherit = "amazon.sp.service.settlement"

    # ------------------------------------------------------------------------------------------
    # The payout
    # ------------------------------------------------------------------------------------------

    @api.model
    def _payout_journal(self, settlement):
        """The bank journal paid: the one set on the group's marketplaces, else the company's
        bank journal in the payout currency. Returns (journal, problem)."""
        settlement.ensure_one()
        Journal = self.env["account.journal"]
        marketplaces = self._event_marketplaces(settlement) | settlement.marketplace_id
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
    def _outstanding_account(self, journal, outbound=False):
        """Outstanding receipts of the bank journal (``outbound``: its outstanding payments,
        for a charge of the seller), as Odoo's payments choose it."""
        lines = (
            journal.outbound_payment_method_line_ids
            if outbound
            else journal.inbound_payment_method_line_ids
        )
        account = lines.payment_account_id[:1]
        if account:
            return account
        chart = self.with_context(allowed_company_ids=journal.company_id.root_id.ids).env[
            "account.chart.template"
        ]
        ref = (
            "account_journal_payment_credit_account_id"
            if outbound
            else "account_journal_payment_debit_account_id"
        )
        return chart.ref(ref, raise_if_not_found=False) or journal.company_id.transfer_account_id

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
        receipts (outstanding payments for a charge: a negative total), with the exchange
        difference when Amazon paid in another currency. A beginning balance Amazon's total
        holds without an event (``settlement.carried_balance``) comes from its own account: the
        reserve, the clearing account (a failed transfer paid again) or the transfers account.
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
        carried = settlement.carried_balance
        carried_balance = company_currency.round(
            settlement.currency_id._convert(carried, company_currency, company, date)
        )
        difference = company_currency.round(bank_balance + clearing_balance - carried_balance)
        if settlement.original_total < 0:
            label = self.env._("Amazon charge %(group)s", group=settlement.group_id)
        else:
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
                    "amount_currency": -(settlement.original_total - carried),
                    "balance": clearing_balance,
                }
            ),
        ]
        if carried:
            lines.append(
                Command.create(
                    {
                        "name": self.env._("Beginning balance carried from an earlier settlement"),
                        "account_id": self._carried_account(settlement).id,
                        "partner_id": partner.id,
                        "currency_id": settlement.currency_id.id,
                        "amount_currency": -carried,
                        "balance": -carried_balance,
                    }
                )
            )
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
        outstanding = self._outstanding_account(journal, outbound=settlement.original_total < 0)
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
            moved = self.env._(
                "Amazon transferred the funds on %(date)s, in a locked period: the payout "
                "is dated %(moved)s, the first open date.",
                date=date,
                moved=move.date,
            )
            move.message_post(body=moved)
            settlement.message_post(body=moved)
        payout_clearing = move.line_ids.filtered(lambda line: line.account_id == clearing)
        paid = self._failed_paid(settlement)
        if paid:
            clearing_lines |= paid.mapped(self._clearing_lines)
        # Zero lines (a group whose events need nothing booked) are reconciled already.
        to_reconcile = (clearing_lines | payout_clearing).filtered(lambda line: not line.reconciled)
        if to_reconcile:
            to_reconcile.reconcile()
        settlement.write(
            {"payout_move_id": move.id, "state": "reconciled", "review_message": False}
        )
        self._post_payout_message(settlement, move)
        if paid:
            paid.write(
                {
                    "payout_move_id": move.id,
                    "paid_by_id": settlement.id,
                    "state": "reconciled",
                    "review_message": False,
                }
            )
            for failed in paid:
                failed.message_post(
                    body=self.env._(
                        "Amazon paid this settlement's failed transfer with settlement "
                        "%(settlement)s: its payout %(move)s settles both.",
                        settlement=settlement.display_name,
                        move=move.display_name,
                    )
                )
        self._match_bank_lines(settlement)
        return move

    @api.model
    def _failed_paid(self, settlement):
        """The failed-transfer settlement whose total ``settlement`` carries (the latest one
        of that total), or none."""
        if settlement.carried_kind != settle.CARRIED_FAILED:
            return self.env["amazon.sp.settlement"]
        currency = settlement.currency_id
        return self._failed_before(settlement).filtered(
            lambda s: currency.is_zero(s.original_total - settlement.carried_balance)
        )[:1]

    @api.model
    def _post_payout_message(self, settlement, move):
        """Say in the settlement's chatter what the payout did: paid, charged, carried."""
        payout_currency = settlement.converted_currency_id or settlement.currency_id
        if settlement.original_total < 0:
            body = self.env._(
                "Amazon charge %(move)s posted: the group's total is negative, so Amazon "
                "charges %(amount)s to the seller's card or bank account on file "
                "(money paid to Amazon); the clearing lines of %(count)s event(s) are reconciled "
                "with it.",
                move=move.display_name,
                amount=payout_currency._amazon_sp_amount_text(-settlement.converted_total),
                count=self._event_count(settlement),
            )
        else:
            body = self.env._(
                "Payout %(move)s posted: %(amount)s; the clearing lines of %(count)s "
                "event(s) are reconciled with it.",
                move=move.display_name,
                amount=payout_currency._amazon_sp_amount_text(settlement.converted_total),
                count=self._event_count(settlement),
            )
        settlement.message_post(body=body)
        if settlement.carried_kind:
            kinds = {
                settle.CARRIED_RESERVE: self.env._(
                    "the reserve Amazon held at the end of the previous settlement, released "
                    "now: booked from the reserve account"
                ),
                settle.CARRIED_FAILED: self.env._(
                    "the total of an earlier settlement whose transfer failed, paid now: its "
                    "clearing lines are reconciled with this payout"
                ),
                settle.CARRIED_CHARGE: self.env._(
                    "a balance owed to Amazon, charged to the seller: booked from the account of "
                    "Amazon transfers and card charges"
                ),
            }
            settlement.message_post(
                body=self.env._(
                    "Amazon's total includes a beginning balance of %(amount)s that "
                    "none of this settlement's events holds: %(what)s.",
                    amount=settlement.currency_id._amazon_sp_amount_text(
                        settlement.carried_balance
                    ),
                    what=kinds[settlement.carried_kind],
                )
            )

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
        """Reconcile each payout with its bank statement line when the line carries the
        settlement's trace id (same journal and amount, a date within BANK_MATCH_WINDOW of the
        transfer). A line of the same amount and date without the trace id is only proposed
        (``bank_proposal_line_id``), for the accountant to confirm or reject. Returns the
        settlements matched."""
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
            by_trace, by_amount = self._find_bank_line(settlement, st_lines, payout_line)
            if by_trace:
                self._reconcile_bank_line(settlement, by_trace, payout_line)
                matched |= settlement
            elif by_amount and by_amount != settlement.bank_proposal_line_id:
                self._propose_bank_line(settlement, by_amount)
        return matched

    @api.model
    def _find_bank_line(self, settlement, st_lines, payout_line):
        """(the statement line paying ``payout_line`` with the settlement's trace id in its
        label, the first other one of the same amount not rejected before): each may be empty."""
        amount = payout_line.amount_currency
        currency = payout_line.currency_id

        def same_amount(st):
            paid = st.amount_currency if st.foreign_currency_id == currency else st.amount
            return currency.is_zero(paid - amount)

        candidates = st_lines.filtered(same_amount)
        trace = settlement.trace_id
        by_trace = candidates.filtered(lambda st: trace and trace in (st.payment_ref or ""))
        others = candidates - settlement.bank_rejected_line_ids
        return by_trace[:1], others[:1]

    @api.model
    def _reconcile_bank_line(self, settlement, st_line, payout_line):
        """Reconcile the payout line of ``settlement`` with the statement line ``st_line``."""
        _liquidity, suspense, _other = st_line.with_context(
            skip_account_move_synchronization=True
        )._seek_for_lines()
        suspense.account_id = payout_line.account_id
        (suspense | payout_line).reconcile()
        settlement.bank_proposal_line_id = False
        settlement.message_post(
            body=self.env._(
                "Payout matched with the bank line %(line)s of %(date)s.",
                line=st_line.display_name,
                date=st_line.date,
            )
        )

    @api.model
    def _propose_bank_line(self, settlement, st_line):
        """Keep ``st_line`` (same amount and date, no trace id) as the proposed bank line of
        ``settlement``: nothing is reconciled until the accountant confirms it."""
        settlement.bank_proposal_line_id = st_line
        settlement.message_post(
            body=self.env._(
                "The bank line %(line)s of %(date)s has the amount of the payout but not its "
                "trace id %(trace)s: confirm the bank match if it is this payout, or reject it.",
                line=st_line.display_name,
                date=st_line.date,
                trace=settlement.trace_id or "-",
            )
        )

    @api.model
    def _confirm_bank_match(self, settlement):
        """The accountant confirms the proposed bank line of ``settlement``: reconcile it, when
        it and the payout are still open and of the same amount. True when reconciled."""
        settlement.ensure_one()
        st_line = settlement.bank_proposal_line_id
        payout_line = self._payout_line(settlement) if settlement.payout_move_id else None
        if not st_line or not payout_line:
            return False
        _trace, still = self._find_bank_line(settlement, st_line, payout_line)
        if payout_line.reconciled or st_line.is_reconciled or not still:
            settlement.bank_proposal_line_id = False
            settlement.message_post(
                body=self.env._(
                    "The proposed bank line %(line)s is no longer open or no longer has the "
                    "payout's amount: nothing was matched.",
                    line=st_line.display_name,
                )
            )
            return False
        self._reconcile_bank_line(settlement, st_line, payout_line)
        settlement.message_post(
            body=self.env._(
                "%(user)s confirmed the bank match without a trace id.", user=self.env.user.name
            )
        )
        return True

    @api.model
    def _reject_bank_match(self, settlement):
        """The accountant rejects the proposed bank line of ``settlement``: it is not proposed
        again for this settlement."""
        settlement.ensure_one()
        st_line = settlement.bank_proposal_line_id
        if not st_line:
            return
        settlement.write(
            {
                "bank_proposal_line_id": False,
                "bank_rejected_line_ids": [Command.link(st_line.id)],
            }
        )
        settlement.message_post(
            body=self.env._(
                "%(user)s rejected the bank line %(line)s of %(date)s: it is not this payout.",
                user=self.env.user.name,
                line=st_line.display_name,
                date=st_line.date,
            )
        )
