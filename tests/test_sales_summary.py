from datetime import UTC, timedelta
from unittest.mock import patch

from odoo import Command
from odoo.tests import tagged

from odoo.addons.account_amazon_refund.services import sales as sales_service
from odoo.addons.account_amazon_refund.services import settlement as settlement_service

from .common_import import AmazonImportCommon, D

GBP_RATE = 0.8  # GBP per USD, the company currency


@tagged("post_install", "-at_install")
class TestSalesSummary(AmazonImportCommon):
    """Sales of the summary policy: staged at import, booked when their settlement closes, one
    entry per day (Amazon's VAT as Odoo tax lines with their tags, fees, fee VAT), so that the
    settlement pays out; what cannot be placed waits for review by name."""

    marketplace_codes = ("US", "UK")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        gbp = cls.env.ref("base.GBP")
        gbp.active = True
        Rate = cls.env["res.currency.rate"]
        Rate.search([("currency_id", "=", gbp.id)]).unlink()
        Rate.create({"currency_id": gbp.id, "name": "2020-01-01", "rate": GBP_RATE})
        ds = cls.dataset

        def closed(currency):
            group = ds.group_for(currency, cls.now - timedelta(hours=1))
            return ds.group_for(currency, group.start - timedelta(seconds=1))

        cls.g_gbp, cls.g_usd = closed("GBP"), closed("USD")
        cls.g_usd_open = ds.group_for("USD", cls.now - timedelta(hours=1))
        # A seller VAT-registered in the UK (common_import's UK fiscal position): Amazon's UK VAT
        # on its fees is UK input VAT; the UK tax report's tags.
        uk = cls.env.ref("base.uk")
        cls.tag_base, cls.tag_tax, cls.tag_fee_base, cls.tag_fee_tax = cls.env[
            "account.account.tag"
        ].create(
            [
                {
                    "name": name,
                    "applicability": "taxes",
                    "country_id": uk.id,
                }
                for name in ("+Sales base", "+Sales VAT", "+Fees base", "+Fees VAT")
            ]
        )
        cls._tag_tax(cls.vat_20, cls.tag_base, cls.tag_tax)
        cls.fee_vat = cls.env["account.tax"].create(
            {
                "name": "Input VAT 20%",
                "type_tax_use": "purchase",
                "amount": 20.0,
                "country_id": uk.id,
                "tax_group_id": cls.vat_20.tax_group_id.id,
            }
        )
        cls._tag_tax(cls.fee_vat, cls.tag_fee_base, cls.tag_fee_tax)
        cls.marketplace_uk.with_company(cls.env.company).write(
            {
                "amazon_sp_seller_tax": "tax",
                "amazon_sp_tax_id": cls.vat_20.id,
                "amazon_sp_fee_tax_id": cls.fee_vat.id,
            }
        )
        cls.bank_gbp = cls.env["account.journal"].create(
            {"name": "Bank GBP", "code": "BGBP", "type": "bank", "currency_id": gbp.id}
        )
        cls.account = cls._import_account(
            "eu",
            cls.marketplace_us | cls.marketplace_uk,
            sync_from=min(cls.g_gbp.start, cls.g_usd.start).replace(tzinfo=None),
        )

    @classmethod
    def _tag_tax(cls, tax, base_tag, tax_tag):
        for repartition in (tax.invoice_repartition_line_ids, tax.refund_repartition_line_ids):
            repartition.filtered(lambda r: r.repartition_type == "base").tag_ids = base_tag
            repartition.filtered(lambda r: r.repartition_type == "tax").tag_ids = tax_tag

    # helpers ---------------------------------------------------------------------------------

    def _at(self, group, hours):
        return group.start + timedelta(hours=hours)

    def _uk_sale(self, hours, principal, tax, promotion=None):
        item = {
            "sku": "SKU-UK-MUG",
            "quantity": 1,
            "charges": {"Principal": D(principal), "Tax": D(tax)},
            "fees": {"Commission": -D("6.00"), "FBAPerUnitFulfillmentFee": -D("3.00")},
            "fee_taxes": {"Commission": -D("1.00"), "FBAPerUnitFulfillmentFee": -D("0.50")},
        }
        if promotion:
            item["promotions"] = {"PromotionMetaDataDefinitionValue": -D(promotion)}
            item["promotion_base"] = "Principal"
        return self.dataset.add_order("UK", posted=self._at(self.g_gbp, hours), items=[item])

    def _sync_account(self):
        run = self._sync(self.account)
        self.assertEqual(run.state, "done", run.error)
        return run

    def _settlement(self, group):
        return self.env["amazon.sp.settlement"].search(
            [("account_id", "=", self.account.id), ("group_id", "=", group.group_id)]
        )

    def _sales(self):
        return self._events(self.account).filtered(lambda ev: ev.event_type == "sale")

    def _bank_line(self, group, journal):
        (transfer,) = [t for t in self.dataset.fund_transfers() if t["group_id"] == group.group_id]
        return self.env["account.bank.statement.line"].create(
            {
                "journal_id": journal.id,
                "date": transfer["date"].astimezone(UTC).date(),
                "amount": float(transfer["amount"]),
                "payment_ref": f"AMAZON PAYMENTS {transfer['trace_id']}",
            }
        )

    def _review(self, events):
        return "\n".join(f"{e.name}: {e.state} {e.review_message}" for e in events)

    # tests -----------------------------------------------------------------------------------

    def test_vat_group_with_sales_and_a_refund_reconciles_and_pays_out(self):
        self._uk_sale(5, "50.00", "10.00", promotion="6.00")
        self._uk_sale(6, "25.00", "5.00")
        self.dataset.add_refund(
            "UK",
            posted=self._at(self.g_gbp, 30),
            items=[
                {
                    "sku": "SKU-UK-MUG",
                    "quantity": 1,
                    "charges": {"Principal": -D("25.00"), "Tax": -D("5.00")},
                    "fees": {"Commission": D("2.00"), "RefundCommission": -D("0.40")},
                }
            ],
        )
        bank_line = self._bank_line(self.g_gbp, self.bank_gbp)
        self._sync_account()
        events = self._events(self.account)
        self.assertEqual(set(events.mapped("state")), {"posted"}, self._review(events))
        sales = self._sales()
        self.assertEqual(len(sales), 2)
        entry = sales.move_ids
        self.assertEqual(len(entry), 1, "both sales of the day in one entry")
        self.assertEqual(entry.state, "posted")
        self.assertEqual(entry.journal_id, self.env.company.amazon_sp_journal_id)
        self.assertEqual(entry.amazon_event_ids, sales)
        self.assertEqual(entry.date, sales[0].date)
        clearing = self.env.company.amazon_sp_clearing_account_id
        moved = entry.line_ids.filtered(lambda ln: ln.account_id == clearing)
        self.assertAlmostEqual(
            sum(moved.mapped("amount_currency")), sum(sales.mapped("amount_total"))
        )
        # The review and the daily check count the shared entry once: each sale its own net.
        posted = sales._amazon_sp_posted_clearing()
        for sale in sales:
            self.assertAlmostEqual(float(posted[sale.id]), sale.amount_total)
        facts = self.env["amazon.sp.service.settlement"]._facts(self._settlement(self.g_gbp))
        self.assertEqual(facts.waiting_count, 0)
        # Amazon's VAT, less the VAT included in the promotion (6.00 at 20%: 1.00), is the tax
        # line of the 20% tax, with its tag, on a base of the income lines.
        tax_lines = entry.line_ids.filtered(lambda ln: ln.tax_line_id == self.vat_20)
        self.assertEqual(
            len(tax_lines),
            1,
            [
                (
                    ln.name,
                    ln.account_id.code,
                    ln.amount_currency,
                    ln.tax_ids.name,
                    ln.tax_line_id.name,
                )
                for ln in entry.line_ids
            ],
        )
        self.assertAlmostEqual(tax_lines.amount_currency, -14.00)
        self.assertEqual(tax_lines.tax_tag_ids, self.tag_tax)
        base_lines = entry.line_ids.filtered(lambda ln: self.vat_20 in ln.tax_ids)
        self.assertAlmostEqual(sum(base_lines.mapped("amount_currency")), -70.00)
        self.assertEqual(base_lines.tax_tag_ids, self.tag_base)
        # Amazon's VAT on its fees is input VAT (2 × 1.50) on the fee tax.
        fee_tax_lines = entry.line_ids.filtered(lambda ln: ln.tax_line_id == self.fee_vat)
        self.assertAlmostEqual(sum(fee_tax_lines.mapped("amount_currency")), 3.00)
        self.assertEqual(fee_tax_lines.tax_tag_ids, self.tag_fee_tax)
        fee_lines = entry.line_ids.filtered(lambda ln: self.fee_vat in ln.tax_ids)
        self.assertAlmostEqual(sum(fee_lines.mapped("amount_currency")), 15.00)
        self.assertEqual(fee_lines.tax_tag_ids, self.tag_fee_base)
        # The tax report reads the tags: the VAT is reported, in the company currency.
        tagged = self.env["account.move.line"].search(
            [("tax_tag_ids", "in", self.tag_tax.ids), ("move_id", "=", entry.id)]
        )
        self.assertAlmostEqual(sum(tagged.mapped("balance")), -14.00 / GBP_RATE, places=2)
        # UK taxes: posted under the company's UK VAT number
        self.assertEqual(entry.fiscal_position_id.country_id, self.env.ref("base.uk"))
        self.assertEqual(entry.tax_country_id, self.env.ref("base.uk"))
        # The settlement pays out; the bank line is matched.
        settlement = self._settlement(self.g_gbp)
        self.assertEqual(settlement.state, "reconciled", settlement.review_message)
        self.assertTrue(bank_line.is_reconciled)
        self.assertTrue(all(moved.mapped("reconciled")))
        # Amazon's settlement report, a second witness, compares the sales too (its Order
        # rows with the sale events' lines): it agrees.
        report = settlement.report_ids
        self.assertEqual(report.state, "match", report.message)
        principal = report.line_ids.filtered(lambda ln: ln.amount_type == "Charge/Principal")
        self.assertAlmostEqual(principal.report_amount, 50.00)  # 50 + 25 sold, 25 refunded
        self.assertAlmostEqual(principal.events_amount, 50.00)
        self.assertNotIn("sales", report.message or "")
        # A second run creates nothing.
        moves_before = self.env["account.move"].search_count([])
        self._sync_account()
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(self._sales().move_ids, entry)

    def test_summary_entry_reset_and_posted_again_is_checked_whole(self):
        self._uk_sale(5, "50.00", "10.00")
        self._uk_sale(7, "25.00", "5.00")
        self._sync_account()
        sales = self._sales()
        entry = sales.move_ids
        self.assertEqual(len(entry), 1)
        entry.button_draft()
        self.assertEqual(set(sales.mapped("review_reason")), {"document"})
        entry.action_post()
        self.assertEqual(set(sales.mapped("state")), {"posted"}, self._review(sales))
        # Changed by hand, the entry no longer moves what its sales do: both wait.
        entry.button_draft()
        clearing = self.env.company.amazon_sp_clearing_account_id
        fee = entry.line_ids.filtered(lambda ln: ln.name == "Commission")
        line = entry.line_ids.filtered(lambda ln: ln.account_id == clearing)
        entry.write(
            {
                "line_ids": [
                    Command.update(fee.id, {"amount_currency": fee.amount_currency + 1.25}),
                    Command.update(line.id, {"amount_currency": line.amount_currency - 1.25}),
                ]
            }
        )
        entry.action_post()
        self.assertEqual(set(sales.mapped("state")), {"to_review"}, self._review(sales))

    def test_us_sale_with_facilitator_tax_nets_it_out(self):
        self.dataset.add_order(
            "US",
            posted=self._at(self.g_usd, 10),
            items=[
                {
                    "sku": "SKU-US-1",
                    "quantity": 2,
                    "charges": {"Principal": D("40.00"), "Tax": D("3.20")},
                    "withheld": {"MarketplaceFacilitatorTax-Principal": -D("3.20")},
                    "fees": {"Commission": -D("6.00")},
                }
            ],
        )
        v0_account = self._import_account(
            "na",
            self.marketplace_us,
            finances_api="v0",
            sync_from=self.g_usd.start.replace(tzinfo=None),
        )
        sales_account = self.env.company._amazon_sp_account("sales")
        for account in (self.account, v0_account):
            with self.subTest(api=account.finances_api):
                run = self._sync(account)
                self.assertEqual(run.state, "done", run.error)
                (sale,) = self._events(account).filtered(lambda ev: ev.event_type == "sale")
                self.assertEqual(sale.state, "posted", sale.review_message)
                self.assertAlmostEqual(sale.amount_total, 34.00)
                entry = sale.move_ids
                self.assertFalse(
                    entry.line_ids.filtered("tax_line_id"), "Amazon's tax, not the seller's"
                )
                income = entry.line_ids.filtered(lambda ln: ln.account_id == sales_account)
                self.assertAlmostEqual(income.balance, -40.00)
                self.assertEqual(income.quantity, 2)
                settlement = self.env["amazon.sp.settlement"].search(
                    [("account_id", "=", account.id), ("group_id", "=", self.g_usd.group_id)]
                )
                self.assertEqual(settlement.state, "reconciled", settlement.review_message)

    def test_sale_of_an_unmapped_type_waits_naming_it(self):
        self.dataset.add_order(
            "US",
            posted=self._at(self.g_usd, 12),
            items=[
                {
                    "sku": "SKU-US-2",
                    "quantity": 1,
                    "charges": {"Principal": D("15.00"), "MysteryCharge": D("1.25")},
                    "fees": {"Commission": -D("2.25")},
                }
            ],
        )
        self._sync_account()
        (sale,) = self._sales()
        self.assertEqual(sale.state, "to_review")
        self.assertEqual(sale.review_reason, "unmapped")
        self.assertIn("Charge/MysteryCharge", sale.review_message)
        self.assertFalse(sale.move_ids)
        unmapped = sale.line_ids.filtered("is_unmapped")
        self.assertEqual(unmapped.mapped("amount_type"), ["Charge/MysteryCharge"])
        settlement = self._settlement(self.g_usd)
        self.assertEqual(settlement.state, "to_review")
        # Mapped, the sale is booked in its settlement's summary.
        self.env["amazon.sp.amount.mapping"].create(
            {
                "company_id": self.env.company.id,
                "amount_type": "Charge/MysteryCharge",
                "role": "credit_note",
                "account_id": self.env.company._amazon_sp_account("other_income").id,
            }
        )
        self.assertEqual(sale.state, "posted", sale.review_message)
        self.assertEveryCent(sale)

    def test_sale_in_an_open_group_waits_and_the_import_ends(self):
        self.dataset.add_order("US", posted=self.now - timedelta(hours=3))
        run = self._sync_account()
        (sale,) = self._sales()
        self.assertEqual(sale.state, "new")
        self.assertFalse(sale.move_ids)
        self.assertEqual(sale.group_id, self.g_usd_open.group_id)
        self.assertEqual(run.events_error, 0)
        self.assertEqual(self._settlement(self.g_usd_open).state, "open")
        # The import does not fetch it again: a second run ends too, booking nothing.
        self._sync_account()
        self.assertEqual(sale.state, "new")

    def test_sales_read_in_chunks_give_the_same_entries(self):
        """The summary reads a settlement's sales a chunk at a time, and the settlement links its
        events a chunk at a time (memory flat in the settlement's size): two at a time, five
        sales over two days give the entries and the every-cent result of reading them at
        once, every sale linked to its settlement."""
        for hours, principal in ((3, "10.00"), (4, "11.00"), (5, "12.00"), (30, "13.00")):
            self.dataset.add_order(
                "US",
                posted=self._at(self.g_usd, hours),
                items=[{"sku": "SKU-US-1", "quantity": 1, "charges": {"Principal": D(principal)}}],
            )
        self.dataset.add_order(
            "US",
            posted=self._at(self.g_usd, 31),
            items=[{"sku": "SKU-US-2", "quantity": 1, "charges": {"Principal": D("14.00")}}],
        )
        with (
            patch.object(sales_service, "READ_CHUNK", 2),
            patch.object(settlement_service, "LINK_CHUNK", 2),
        ):
            self._sync_account()
        sales = self._sales()
        self.assertEqual(len(sales), 5)
        self.assertEqual(sales.settlement_id, self._settlement(self.g_usd))
        self.assertEqual(set(sales.mapped("state")), {"posted"}, self._review(sales))
        entries = sales.move_ids
        self.assertEqual(len(entries), len(set(sales.mapped("date"))))
        for entry in entries:
            own = sales.filtered(lambda ev, e=entry: ev.move_ids == e)
            self.assertEqual(entry.amazon_event_ids, own)
            income = entry.line_ids.filtered(lambda ln: ln.name == "Sales")
            self.assertAlmostEqual(
                -sum(income.mapped("amount_currency")), sum(own.mapped("amount_total"))
            )
        self.assertAlmostEqual(
            -sum(
                entries.line_ids.filtered(lambda ln: ln.name == "Sales").mapped("amount_currency")
            ),
            60.00,
        )
        self.assertEqual(self._settlement(self.g_usd).state, "reconciled")
