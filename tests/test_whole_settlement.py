from datetime import UTC, timedelta
from unittest.mock import patch

from odoo import Command
from odoo.tests import tagged

from odoo.addons.account_amazon_refund.emulator.scenarios import add_whole_settlement

from .common_import import AmazonImportCommon

EUR_RATE = 0.9  # units per USD, the company currency


@tagged("post_install", "-at_install")
class TestWholeSettlement(AmazonImportCommon):
    """Issue 10's "done when": the emulator's whole settlement (sales, a refund, fees, an ad, the
    subscription, a reimbursement; a reserve over two groups, a deferred order released later, a
    failed transfer paid again) ends reconciled in each sales policy, its bank lines matched, and
    a second run changes nothing."""

    marketplace_codes = ("US", "DE")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        eur = cls.env.ref("base.EUR")
        eur.active = True
        Rate = cls.env["res.currency.rate"]
        Rate.search([("currency_id", "=", eur.id)]).unlink()
        Rate.create({"currency_id": eur.id, "name": "2020-01-01", "rate": EUR_RATE})
        cls.whole = add_whole_settlement(cls.dataset, cls.now)
        cls.marketplace_de = cls.env.ref("account_amazon_refund.amazon_sp_marketplace_de")
        cls.marketplaces = cls.marketplace_us | cls.marketplace_de
        cls.bank = cls.company_data["default_journal_bank"]
        cls.bank_eur = cls.env["account.journal"].create(
            {"name": "Bank EUR", "code": "BEUR", "type": "bank", "currency_id": eur.id}
        )
        cls.customer = cls.env["res.partner"].create({"name": "Amazon buyers"})

    # helpers ---------------------------------------------------------------------------------

    def _account(self, policy):
        self.marketplaces.sales_policy = policy
        return self._import_account(
            "na",
            self.marketplaces,
            sync_from=self.whole.main.start.replace(tzinfo=None) - timedelta(days=1),
        )

    def _transfers(self):
        return {t["group_id"]: t for t in self.dataset.fund_transfers()}

    def _bank_line(self, group):
        """The bank line of ``group``'s transfer, waiting in the bank journal."""
        transfer = self._transfers()[group.group_id]
        journal = self.bank_eur if transfer["currency"] == "EUR" else self.bank
        return self.env["account.bank.statement.line"].create(
            {
                "journal_id": journal.id,
                "date": transfer["date"].astimezone(UTC).date(),
                "amount": float(transfer["amount"]),
                "payment_ref": f"AMAZON PAYMENTS {transfer['trace_id']}",
            }
        )

    def _settlement(self, account, group):
        return self.env["amazon.sp.settlement"].search(
            [("account_id", "=", account.id), ("group_id", "=", group.group_id)]
        )

    def _clearing_lines(self, settlements):
        clearing = self.env.company.amazon_sp_clearing_account_id
        moves = settlements.event_ids.move_ids | settlements.payout_move_id
        return moves.line_ids.filtered(lambda line: line.account_id == clearing)

    def _order_events(self, account, *names):
        orders = [self.whole.events[name].order_id for name in names]
        return self._events(account).filtered(lambda ev: ev.amazon_order_id in orders)

    def _explain(self, records):
        return "\n".join(f"{r.display_name}: {r.state} {r.review_message or ''}" for r in records)

    def _run(self, account):
        run = self._sync(account)
        self.assertEqual(run.state, "done", run.error)
        return run

    def assertReconciledWithBank(self, account, groups, bank_lines):
        """Each group's settlement is reconciled: every event posted, its payout posted, its
        clearing lines reconciled to zero, its bank line matched."""
        for group in groups:
            settlement = self._settlement(account, group)
            self.assertEqual(len(settlement), 1, group.group_id)
            events = settlement.event_ids
            self.assertEqual(
                sorted(events.mapped("transaction_id")),
                sorted(ev.transaction_id for ev in self.dataset.group_events(group)),
            )
            self.assertEqual(set(events.mapped("state")), {"posted"}, self._explain(events))
            self.assertEqual(settlement.state, "reconciled", self._explain(settlement))
            self.assertAlmostEqual(
                settlement.original_total, float(self.dataset.group_total(group)), places=2
            )
            self.assertEqual(settlement.payout_move_id.state, "posted")
            lines = self._clearing_lines(settlement)
            self.assertTrue(all(lines.mapped("reconciled")), settlement.name)
            if not group.carried_in:  # else its payout also clears the failed group's money
                self.assertAlmostEqual(sum(lines.mapped("amount_currency")), 0.0, places=2)
            self.assertTrue(bank_lines[group.group_id].is_reconciled, settlement.name)

    def assertSecondRunChangesNothing(self, account):
        moves = self.env["account.move"].search_count([])
        events = self._events(account)
        states = {ev.id: ev.state for ev in events}
        run = self._run(account)
        self.assertEqual((run.events_new, run.events_posted), (0, 0))
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        self.assertEqual(self._events(account), events)
        self.assertEqual({ev.id: ev.state for ev in events}, states)

    def _whole_run(self, policy):
        """The realistic groups imported with their bank lines waiting: reconciled."""
        account = self._account(policy)
        groups = (self.whole.main, self.whole.paid_again, self.whole.eur)
        bank_lines = {g.group_id: self._bank_line(g) for g in groups}
        self._run(account)
        self.assertReconciledWithBank(account, groups, bank_lines)
        # the failed transfer, paid again by the next group: together they leave nothing on
        # the clearing account
        settlements = self._settlement(account, self.whole.released)
        settlements |= self._settlement(account, self.whole.paid_again)
        lines = self._clearing_lines(settlements)
        self.assertTrue(all(lines.mapped("reconciled")), self._explain(settlements))
        self.assertAlmostEqual(sum(lines.mapped("amount_currency")), 0.0, places=2)
        return account

    # tests -----------------------------------------------------------------------------------

    def test_summary_policy_books_one_entry_per_day_and_reconciles(self):
        account = self._whole_run("summary")
        sales = self._order_events(account, "sale_us", "sale_us_2", "sale_de")
        self.assertEqual(set(sales.mapped("event_type")), {"sale"})
        journal = self.env.company.amazon_sp_journal_id
        for sale in sales:
            (entry,) = sale.move_ids
            self.assertEqual(entry.move_type, "entry")
            self.assertEqual(entry.journal_id, journal)
            self.assertEqual(entry.date, sale.date)
        # the advertising charge and the subscription are fees, the damage a reimbursement
        main = self._settlement(account, self.whole.main)
        kinds = set(main.event_ids.mapped("event_type"))
        self.assertTrue({"sale", "refund", "adjustment", "service_fee"} <= kinds, kinds)
        self.assertSecondRunChangesNothing(account)

    def test_invoice_policy_makes_one_invoice_per_order(self):
        account = self._whole_run("invoice")
        sales = self._order_events(account, "sale_us", "sale_us_2", "sale_de")
        for sale in sales:
            invoices = sale.move_ids.filtered(lambda move: move.move_type == "out_invoice")
            self.assertEqual(len(invoices), 1, sale.name)
            self.assertEqual(invoices.state, "posted")
            self.assertIn(sale.amazon_order_id, invoices.ref or invoices.invoice_origin or "")
        self.assertSecondRunChangesNothing(account)

    def test_invoiced_policy_settles_the_invoices_already_in_odoo(self):
        names = ("sale_us", "sale_us_2", "deferred_us", "sale_us_3", "sale_us_4", "sale_de")
        invoices = self.env["account.move"]
        # German VAT is invoiced under the company's German VAT number (common_import's).
        germany = self.env["account.fiscal.position"].search(
            [("company_id", "=", self.company.id), ("country_id", "=", self.env.ref("base.de").id)]
        )
        for name in names:
            event = self.whole.events[name]
            (item,) = event.items
            price = sum(v for k, v in item.charges.items() if k in ("Principal", "ShippingCharge"))
            taxes = self.vat_19 if event.marketplace == "DE" else self.env["account.tax"]
            if taxes:  # the VAT-included price of the German invoice
                price += item.charges["Tax"]
            invoices |= self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "currency_id": self.env.ref(f"base.{event.currency}").id,
                    "invoice_date": event.posted.date(),
                    "ref": event.order_id,
                    "invoice_origin": event.order_id,
                    "fiscal_position_id": germany.id if taxes else False,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": item.sku,
                                "quantity": 1,
                                "price_unit": float(price),
                                "tax_ids": [Command.set(taxes.ids)],
                            }
                        )
                    ],
                }
            )
        invoices.action_post()
        account = self._whole_run("invoiced")
        for invoice in invoices:
            self.assertIn(invoice.payment_state, ("paid", "in_payment"), invoice.ref)
        self.assertSecondRunChangesNothing(account)

    def test_invoiced_policy_without_the_invoice_waits_naming_the_order(self):
        account = self._account("invoiced")
        self._run(account)
        sale = self._order_events(account, "sale_us")
        self.assertEqual(sale.state, "to_review")
        self.assertIn(sale.amazon_order_id, sale.review_message)
        self.assertNotEqual(self._settlement(account, self.whole.main).state, "reconciled")

    def test_reserve_is_carried_over_two_groups(self):
        account = self._whole_run("summary")
        released = self._settlement(account, self.whole.released)
        self.assertAlmostEqual(released.beginning_balance, float(self.whole.reserve), places=2)
        reserve_account = self.env.company._amazon_sp_account("reserve")
        reserve_lines = self.env["account.move.line"].search(
            [("account_id", "=", reserve_account.id), ("parent_state", "=", "posted")]
        )
        self.assertEqual(len(reserve_lines), 2)
        self.assertAlmostEqual(sum(reserve_lines.mapped("balance")), 0.0, places=2)

    def test_failed_transfer_is_paid_by_the_next_group(self):
        account = self._whole_run("summary")
        released = self._settlement(account, self.whole.released)
        self.assertEqual(released.fund_transfer_status, "Failed")
        # no money reached the bank for it: no payout of its own (at most the payout of the
        # group that paid it again)
        paid_again = self._settlement(account, self.whole.paid_again)
        self.assertIn(
            released.payout_move_id, (paid_again.payout_move_id, self.env["account.move"])
        )
        bodies = " ".join(released.message_ids.mapped("body")).lower()
        self.assertIn("fail", bodies, "the chatter says the transfer failed")
        # once the next group paid it again, the money of the three groups left the clearing
        # account to the bank, to the cent
        settlements = released | self._settlement(account, self.whole.main) | paid_again
        lines = self._clearing_lines(settlements)
        self.assertAlmostEqual(sum(lines.mapped("balance")), 0.0, places=2)
        self.assertTrue(all(lines.mapped("reconciled")), self._explain(settlements))

    def test_deferred_order_is_booked_when_released_in_the_group_paying_it(self):
        deferred = self.whole.events["deferred_us"]
        before = self.whole.released.start + timedelta(hours=10)
        self.assertLess(before, deferred.deferred_until)
        account = self._account("summary")
        Import = type(self.env["amazon.sp.service.import"])
        emulator_now = self.emu.now
        self.addCleanup(setattr, self.emu, "now", emulator_now)
        self.emu.now = lambda: before
        with patch.object(Import, "_now", lambda service: before):
            self._run(account)
        (event,) = self._order_events(account, "deferred_us")
        self.assertEqual(event.state, "deferred")
        self.assertFalse(event.move_ids)
        main = self._settlement(account, self.whole.main)
        self.assertNotIn(event, main.event_ids)
        # released: booked in the group that pays it, which reconciles
        self.emu.now = emulator_now
        self._run(account)
        self.assertEqual(event.state, "posted", self._explain(event))
        self.assertEqual(event.group_id, self.whole.released.group_id)
        self.assertEqual(event.settlement_id, self._settlement(account, self.whole.released))
        self.assertTrue(event.move_ids)
