import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from odoo import Command
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.account_amazon_refund.domain.model import NormalizedEvent, NormalizedLine
from odoo.addons.account_amazon_refund.domain.sales import (
    read_sale_transactions,
    read_v0_sales,
)

from .common import AmazonSpTestMixin

# This project's own sale fixture (one US and one DE sale, in both Finances shapes).
FIXTURE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "pure_tests",
    "fixtures",
    "sales",
    "same_sale.json",
)
US_ORDER = "111-0000001-0000001"
DE_ORDER = "302-0000002-0000002"


def D(value):
    return Decimal(str(value))


@tagged("post_install", "-at_install")
class TestSalesInvoice(AmazonSpTestMixin, AccountTestInvoicingCommon):
    """The *invoice* and *already invoiced in Odoo* sales policies: each sale's receivable is
    settled against the Amazon clearing account for exactly the sale's net."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_amazon_sp()
        cls.env.user.groups_id += cls.env.ref("account_amazon_refund.group_amazon_sp_manager")
        with open(FIXTURE, encoding="utf-8") as handle:
            cls.fixture = json.load(handle)
        # Events are staged here directly: the account pulls nothing.
        cls.account = cls._create_account(name="Sales Seller")
        cls.company._amazon_sp_ensure_setup()
        # 1 EUR = 1.25 USD: the DE sales are converted.
        cls.setup_other_currency("EUR", rates=[("2026-01-01", 0.8)])
        # Registered for VAT in Germany: German taxes, posted under the German VAT number.
        germany = cls.env.ref("base.de")
        cls.env["account.fiscal.position"].create(
            {"name": "VAT DE", "country_id": germany.id, "foreign_vat": "DE123456789"}
        )
        cls.vat_19 = cls.env["account.tax"].create(
            {
                "name": "VAT 19%",
                "type_tax_use": "sale",
                "amount_type": "percent",
                "amount": 19.0,
                "sequence": 1,
                "country_id": germany.id,
                "tax_group_id": cls.env["account.tax.group"]
                .create({"name": "VAT 19%", "country_id": germany.id})
                .id,
            }
        )
        cls.mug = cls.env["product.product"].create(
            {"name": "Mug", "default_code": "MUG-01", "taxes_id": [Command.clear()]}
        )
        cls.clearing = cls.company.amazon_sp_clearing_account_id
        cls.fees = cls.company._amazon_sp_account("fees")

    # ------------------------------------------------------------------------------------------

    def _sales(self, market, api="v0"):
        data = self.fixture[market]
        if api == "v0":
            code = (self.marketplace_us if market == "us" else self.marketplace_de).marketplace_id
            events, failures = read_v0_sales(data["v0"], lambda name, currency: code)
        else:
            events, failures = read_sale_transactions(data["2024"])
        self.assertFalse(failures)
        return events

    def _stage(self, events):
        """Stage normalized events as the import does (in its flow)."""
        run = (
            self.env["amazon.sp.import.run"]
            ._amazon_sp_flow()
            .create({"account_id": self.account.id})
        )
        by_code = {mp.marketplace_id: mp for mp in self.marketplace_us | self.marketplace_de}
        _counts, created = run.env["amazon.sp.service.staging"]._stage(
            self.account, run, events, [], by_code
        )
        self.assertEqual(created.mapped("event_type"), ["sale"] * len(events))
        return created

    def _service(self):
        return self.env["amazon.sp.service.sales.invoice"]

    def _moves(self, event):
        invoice = event.move_ids.filtered(lambda m: m.move_type == "out_invoice")
        entry = event.move_ids.filtered(lambda m: m.move_type == "entry")
        return invoice, entry

    def _clearing_moved(self, moves):
        lines = moves.line_ids.filtered(lambda ln: ln.account_id == self.clearing)
        return D(round(sum(lines.mapped("amount_currency")), 2))

    def _hand_invoice(self, amount, **values):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_a.id,
                "invoice_date": "2026-10-03",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.mug.id,
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
                **values,
            }
        )
        invoice.action_post()
        return invoice

    def assertSettled(self, event, invoice, entry):
        """The entry moves the clearing account by the sale's net and its receivable line is
        reconciled with the invoice's."""
        self.assertEqual(event.state, "posted", event.review_message)
        self.assertEqual(self._clearing_moved(entry), D(event.amount_total))
        self.assertEqual(invoice.amount_residual, 0.0)
        terms = invoice.line_ids.filtered(lambda ln: ln.display_type == "payment_term")
        self.assertTrue(terms.full_reconcile_id)
        settled = entry.line_ids.filtered(lambda ln: ln.account_id == terms.account_id)
        self.assertEqual(settled.full_reconcile_id, terms.full_reconcile_id)
        self.assertEqual(entry.state, "posted")

    # ------------------------------------------------------------------------------------------
    # One invoice per order
    # ------------------------------------------------------------------------------------------

    def test_us_sale_becomes_an_invoice_without_the_facilitator_tax(self):
        event = self._stage(self._sales("us"))
        counts = self._service()._book_invoices(event)
        self.assertEqual(counts["events_posted"], 1)
        invoice, entry = self._moves(event)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(
            (invoice.amazon_order_id, invoice.ref, invoice.invoice_origin), (US_ORDER,) * 3
        )
        self.assertEqual(invoice.partner_id, self.company.amazon_sp_partner_id)
        lines = {
            ln.name: (ln.product_id, ln.quantity, ln.price_unit, ln.account_id)
            for ln in invoice.invoice_line_ids
        }
        self.assertEqual(lines[self.mug.display_name][:3], (self.mug, 2.0, 15.0))
        self.assertEqual(lines["Shipping"][2:], (5.0, self.company._amazon_sp_account("shipping")))
        self.assertEqual(
            lines["Promotion"][2:], (-5.0, self.company._amazon_sp_account("promotion"))
        )
        # The marketplace facilitator tax is Amazon's: not on the invoice.
        self.assertEqual((invoice.amount_tax, invoice.amount_total), (0.0, 30.0))
        fees = entry.line_ids.filtered(lambda ln: ln.account_id == self.fees)
        self.assertEqual(sorted(fees.mapped("balance")), [4.5, 6.1])
        self.assertEqual(D(event.amount_total), D("19.40"))
        self.assertSettled(event, invoice, entry)
        # A second call creates nothing.
        before = self.env["account.move"].search_count([])
        counts = self._service()._book_invoices(event)
        self.assertEqual(counts["events_posted"], 0)
        self.assertEqual(self.env["account.move"].search_count([]), before)

    def test_de_sale_invoice_carries_amazons_vat(self):
        event = self._stage(self._sales("de", "2024"))
        self._service()._book_invoices(event)
        invoice, entry = self._moves(event)
        self.assertEqual(event.state, "posted", event.review_message)
        self.assertEqual((invoice.amount_untaxed, invoice.amount_tax), (25.21, 4.79))
        self.assertEqual(invoice.amount_total, 30.0)
        self.assertEqual(invoice.invoice_line_ids.tax_ids, self.vat_19)
        # A SKU without a product: the default product, on the sales account.
        product_line = invoice.invoice_line_ids.filtered("product_id")
        self.assertEqual(product_line.product_id, self.company.amazon_sp_refund_product_id)
        self.assertEqual(product_line.account_id, self.company._amazon_sp_account("sales"))
        self.assertEqual(product_line.name, "LAMP-02")
        self.assertEqual(invoice.currency_id.name, "EUR")
        self.assertEqual(invoice.amount_total_signed, 37.5)
        # The fees with Amazon's VAT on them (no input VAT tax set: part of the fee).
        fees = entry.line_ids.filtered(lambda ln: ln.account_id == self.fees)
        self.assertEqual(D(round(sum(fees.mapped("amount_currency")), 2)), D("8.09"))
        self.assertEqual(D(event.amount_total), D("21.91"))
        self.assertSettled(event, invoice, entry)

    def test_v0_promotion_vat_is_split_as_amazon_charged_it(self):
        event = self._stage(self._sales("de", "v0"))
        self._service()._book_invoices(event)
        invoice, entry = self._moves(event)
        self.assertEqual(event.state, "posted", event.review_message)
        promotion = invoice.invoice_line_ids.filtered(lambda ln: ln.name == "Promotion")
        self.assertEqual((promotion.price_unit, promotion.tax_ids), (-4.2, self.vat_19))
        self.assertEqual((invoice.amount_tax, invoice.amount_total), (4.79, 30.0))
        self.assertSettled(event, invoice, entry)

    def test_above_the_threshold_the_documents_wait_then_settle_once_posted(self):
        self.marketplace_us.amazon_sp_review_threshold = 10.0
        event = self._stage(self._sales("us"))
        self._service()._book_invoices(event)
        self.assertEqual((event.state, event.review_reason), ("to_review", "threshold"))
        invoice, entry = self._moves(event)
        self.assertEqual((invoice | entry).mapped("state"), ["draft", "draft"])
        event.action_post()
        self.assertEqual(entry.state, "posted")
        # the accountant's Post settles the receivable too
        self.assertSettled(event, invoice, entry)

    def test_the_import_books_each_sale_per_its_marketplaces_policy(self):
        self.marketplace_us.sales_policy = "invoiced"
        self.marketplace_de.sales_policy = "invoice"
        found = self._hand_invoice(30.0, amazon_order_id=US_ORDER)
        events = self._stage(self._sales("us") + self._sales("de", "2024"))
        counts = events._amazon_sp_process()
        self.assertEqual(counts["events_posted"], 2)
        us = events.filtered(lambda ev: ev.amazon_order_id == US_ORDER)
        self.assertSettled(us, found, us.move_ids)
        de = events - us
        self.assertSettled(de, *self._moves(de))
        self.assertEqual(self._moves(de)[0].amount_total, 30.0)

    def test_a_later_refund_reverses_the_invoice(self):
        event = self._stage(self._sales("us"))
        self._service()._book_invoices(event)
        invoice, _entry = self._moves(event)
        refund = NormalizedEvent(
            key="txn:REFUND-US-1",
            fingerprint="fp-refund-us-1",
            source_api="2024-06-19",
            event_type="refund",
            amazon_order_id=US_ORDER,
            marketplace_id=self.marketplace_us.marketplace_id,
            marketplace_name="Amazon.com",
            posted_date=datetime(2026, 10, 10, 12, 0, tzinfo=UTC),
            currency="USD",
            total=D("-13.05"),
            lines=(
                NormalizedLine("Charge/Principal", D("-15.00"), sku="MUG-01", quantity=D(1)),
                NormalizedLine("Fee/Commission", D("2.25"), sku="MUG-01"),
                NormalizedLine("Fee/RefundCommission", D("-0.30"), sku="MUG-01"),
            ),
        )
        run = (
            self.env["amazon.sp.import.run"]
            ._amazon_sp_flow()
            .create({"account_id": self.account.id})
        )
        _counts, refund_event = run.env["amazon.sp.service.staging"]._stage(
            self.account,
            run,
            [refund],
            [],
            {self.marketplace_us.marketplace_id: self.marketplace_us},
        )
        refund_event._amazon_sp_process()
        self.assertEqual(refund_event.state, "posted", refund_event.review_message)
        credit_note = refund_event.move_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(credit_note.reversed_entry_id, invoice)
        self.assertEqual(credit_note.invoice_line_ids.product_id, self.mug)

    def test_a_tax_no_sale_tax_gives_waits_naming_it(self):
        (sale,) = self._sales("de", "2024")
        lines = tuple(
            replace(ln, amount=D("4.00")) if ln.amount_type == "Charge/Tax" else ln
            for ln in sale.lines
        )
        total = sum((ln.amount for ln in lines), D(0))
        event = self._stage([replace(sale, key="txn:TAX-GAP", lines=lines, total=total)])
        before = self.env["account.move"].search_count([])
        self._service()._book_invoices(event)
        self.assertEqual((event.state, event.review_reason), ("to_review", "tax"))
        self.assertIn("4.00\N{NO-BREAK SPACE}€ on 25.21\N{NO-BREAK SPACE}€", event.review_message)
        self.assertFalse(event.move_ids)
        self.assertEqual(self.env["account.move"].search_count([]), before)

    def test_an_unmapped_amount_waits_naming_it(self):
        (sale,) = self._sales("us", "2024")
        lines = (*sale.lines, NormalizedLine("Fee/NewAmazonFee", D("-1.00"), sku="MUG-01"))
        event = self._stage(
            [replace(sale, key="txn:NEW-FEE", lines=lines, total=sale.total - 1, fingerprint="x")]
        )
        self._service()._book_invoices(event)
        self.assertEqual((event.state, event.review_reason), ("to_review", "unmapped"))
        self.assertIn("Fee/NewAmazonFee (-1.00)", event.review_message)
        self.assertFalse(event.move_ids)

    def test_a_deferred_sale_waits_until_amazon_releases_it(self):
        (sale,) = self._sales("us", "2024")
        event = self._stage([replace(sale, transaction_status="DEFERRED")])
        self._service()._book_invoices(event)
        self.assertEqual(event.state, "to_review")
        self.assertIn("Deferred by Amazon", event.review_message)
        self.assertFalse(event.move_ids)

    # ------------------------------------------------------------------------------------------
    # Already invoiced in Odoo
    # ------------------------------------------------------------------------------------------

    def test_an_invoice_made_in_odoo_is_settled(self):
        # Found by its source document (no Amazon order id, no reference).
        invoice = self._hand_invoice(30.0, invoice_origin=US_ORDER)
        event = self._stage(self._sales("us", "2024"))
        counts = self._service()._book_invoiced(event)
        self.assertEqual(counts["events_posted"], 1)
        self.assertEqual(event.move_ids.mapped("move_type"), ["entry"])
        entry = event.move_ids
        receivable = entry.line_ids.filtered(lambda ln: ln.partner_id == self.partner_a)
        self.assertEqual(receivable.balance, -30.0)
        self.assertSettled(event, invoice, entry)
        # A second call creates nothing.
        before = self.env["account.move"].search_count([])
        self._service()._book_invoiced(event)
        self.assertEqual(self.env["account.move"].search_count([]), before)

    def test_the_addons_order_id_comes_before_the_reference(self):
        by_ref = self._hand_invoice(30.0, ref=US_ORDER)
        by_order = self._hand_invoice(30.0, amazon_order_id=US_ORDER)
        event = self._stage(self._sales("us"))
        self._service()._book_invoiced(event)
        self.assertSettled(event, by_order, event.move_ids)
        self.assertEqual(by_ref.amount_residual, 30.0)

    def test_one_invoice_is_settled_by_one_sale_only(self):
        invoice = self._hand_invoice(30.0, ref=US_ORDER)
        (sale,) = self._sales("us", "2024")
        twice = [sale, replace(sale, key="txn:AGAIN", fingerprint="again")]
        events = self._stage(twice)
        self._service()._book_invoiced(events)
        self.assertEqual(sorted(events.mapped("state")), ["posted", "to_review"])
        waiting = events.filtered(lambda ev: ev.state == "to_review")
        self.assertIn(f"{invoice.name} of Amazon order {US_ORDER}", waiting.review_message)
        self.assertFalse(waiting.move_ids)
        posted = events - waiting
        self.assertSettled(posted, invoice, posted.move_ids)

    def test_an_order_without_invoice_waits_naming_it(self):
        event = self._stage(self._sales("us"))
        self._service()._book_invoiced(event)
        self.assertEqual(event.state, "to_review")
        self.assertIn(US_ORDER, event.review_message)
        self.assertFalse(event.move_ids)

    def test_an_invoice_of_another_amount_waits_naming_both(self):
        invoice = self._hand_invoice(29.0, payment_reference=US_ORDER)
        event = self._stage(self._sales("us"))
        self._service()._book_invoiced(event)
        self.assertEqual((event.state, event.review_reason), ("to_review", "balance"))
        self.assertIn("29.00", event.review_message)
        self.assertIn("30", event.review_message)
        self.assertIn(invoice.name, event.review_message)
        self.assertFalse(event.move_ids)
        self.assertEqual(invoice.amount_residual, 29.0)
