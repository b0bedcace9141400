from datetime import timedelta

from odoo.tests import tagged

from .common_import import AmazonImportCommon


@tagged("post_install", "-at_install")
class TestImportRefunds(AmazonImportCommon):
    """A multi-marketplace seller imports into posted credit notes, to the cent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Realistic generated items: US facilitator tax, UK/DE VAT included, JP consumption tax.
        for code, kinds in (
            ("US", ("refund", "refund", "guarantee_claim", "chargeback")),
            ("UK", ("refund", "refund", "chargeback")),
            ("DE", ("refund", "guarantee_claim")),
            ("JP", ("refund", "refund")),
        ):
            for index, kind in enumerate(kinds):
                cls.dataset.add_refund(code, kind=kind, posted=cls.now - timedelta(days=2 + index))
        cls.worked = cls.dataset.add_refund(
            "US",
            posted=cls.now - timedelta(days=1),
            items=[cls.us_item()],
        )
        cls.account_na = cls._import_account("na", cls.marketplace_us)
        cls.account_eu = cls._import_account("eu", cls.marketplace_uk | cls.marketplace_de)
        cls.account_fe = cls._import_account("fe", cls.marketplace_jp)

    def test_multi_marketplace_posts_to_the_cent(self):
        accounts = self.account_na | self.account_eu | self.account_fe
        Import = self.env["amazon.sp.service.import"]
        runs = self.env["amazon.sp.import.run"]
        for account in accounts:
            runs |= Import._sync(account)
        self.assertEqual(runs.account_id, accounts)
        self.assertEqual(set(runs.mapped("state")), {"done"})
        events = self.env["amazon.sp.event"].search([("account_id", "in", accounts.ids)])
        self.assertEqual(len(events), 4 + 3 + 2 + 2 + 1)
        self.assertEqual(
            set(events.mapped("state")),
            {"posted"},
            "\n".join(f"{e.name}: {e.state} {e.review_message}" for e in events),
        )
        self.assertEqual(set(events.mapped("currency_id.name")), {"USD", "GBP", "EUR", "JPY"})
        self.assertEveryCent(events)
        credit_notes = events.move_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(len(credit_notes), len(events))
        for event in events:
            note = event.move_ids.filtered(lambda m: m.move_type == "out_refund")
            self.assertRecordValues(
                note,
                [
                    {
                        "state": "posted",
                        "amazon_order_id": event.amazon_order_id,
                        "amazon_marketplace_id": event.marketplace_id.id,
                        "amazon_event_type": event.event_type,
                        "currency_id": event.currency_id.id,
                        "journal_id": self.company.amazon_sp_journal_id.id,
                        "invoice_date": event.date,
                    }
                ],
            )
            self.assertEqual(note.amazon_event_ids, event)
        # VAT marketplaces: the credit note carries the seller's VAT, equal to Amazon's.
        uk_notes = credit_notes.filtered(lambda m: m.amazon_marketplace_id == self.marketplace_uk)
        self.assertTrue(uk_notes)
        for note in uk_notes:
            event = note.amazon_event_ids
            amazon_tax = -sum(
                event.line_ids.filtered(lambda ln: ln.amount_type.endswith("Tax")).mapped("amount")
            )
            self.assertAlmostEqual(note.amount_tax, amazon_tax, places=2)
            self.assertTrue(note.amount_tax)
            self.assertEqual(
                set(note.invoice_line_ids.tax_ids.mapped("amount")),
                {20.0},
                note.invoice_line_ids.tax_ids.mapped("name"),
            )
        # US: marketplace facilitator tax stays out of the seller's tax.
        us_notes = credit_notes.filtered(lambda m: m.amazon_marketplace_id == self.marketplace_us)
        self.assertFalse(us_notes.invoice_line_ids.tax_ids)
        # The run records what happened.
        run = runs.filtered(lambda r: r.account_id == self.account_na)
        self.assertRecordValues(
            run,
            [
                {
                    "events_fetched": 5,
                    "events_new": 5,
                    "events_known": 0,
                    "events_posted": 5,
                    "events_to_review": 0,
                    "events_error": 0,
                    "throttled": 0,
                }
            ],
        )
        self.assertGreaterEqual(run.pages, 2)
        self.assertGreaterEqual(run.api_calls, run.pages)

    def test_worked_example(self):
        """accounting.md: credit note 20.00 on clearing, fee entry +2.40 → clearing −17.60."""
        self._sync(self.account_na)
        event = self.env["amazon.sp.event"].search([("amazon_order_id", "=", self.worked.order_id)])
        self.assertEqual(event.state, "posted")
        self.assertEqual(event.amount_total, -17.60)
        note = event.move_ids.filtered(lambda m: m.move_type == "out_refund")
        fee = event.move_ids.filtered(lambda m: m.move_type == "entry")
        self.assertEqual(note.amount_total, 20.00)
        self.assertEqual(note.partner_id, self.company.amazon_sp_partner_id)
        self.assertEqual(note.invoice_line_ids.product_id, self.company.amazon_sp_refund_product_id)
        fees_account = self.company._amazon_sp_account("fees")
        self.assertAlmostEqual(
            sum(fee.line_ids.filtered(lambda ln: ln.account_id == fees_account).mapped("balance")),
            -2.40,
        )
        self.assertEqual(self._clearing_moved(event), -17.60)
