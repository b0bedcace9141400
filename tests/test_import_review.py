from datetime import timedelta

from odoo import Command
from odoo.tests import tagged

from .common_import import AmazonImportCommon, D


@tagged("post_install", "-at_install")
class TestImportReview(AmazonImportCommon):
    """What waits for a person: unknown types, malformed data, changes, high amounts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us)
        cls.normal = cls.dataset.add_refund(
            "US", posted=cls.now - timedelta(days=2), items=[cls.us_item("SKU-A")]
        )

    def _event(self, refund):
        return self.env["amazon.sp.event"].search(
            [("account_id", "=", self.account.id), ("amazon_order_id", "=", refund.order_id)]
        )

    def test_unknown_fee_type_waits_then_posts_once_mapped(self):
        item = self.us_item("SKU-B")
        item["fees"]["BrandNewFee"] = D("-1.25")
        odd = self.dataset.add_refund("US", posted=self.now - timedelta(days=1), items=[item])
        run = self._sync(self.account)
        self.assertEqual((run.events_posted, run.events_to_review), (1, 1))
        self.assertEqual(self._event(self.normal).state, "posted")
        event = self._event(odd)
        self.assertRecordValues(
            event, [{"state": "to_review", "review_reason": "unmapped", "move_ids": []}]
        )
        self.assertIn("Fee/BrandNewFee (-1.25)", event.review_message)
        unmapped = self.env["amazon.sp.unmapped.type"].search([])
        self.assertRecordValues(
            unmapped, [{"amount_type": "Fee/BrandNewFee", "event_count": 1, "amount_total": -1.25}]
        )
        # A manager maps it from the list: the waiting event posts.
        action = unmapped.action_create_mapping()
        self.assertEqual(action["context"]["default_amount_type"], "Fee/BrandNewFee")
        self.env["amazon.sp.amount.mapping"].with_context(**action["context"]).create(
            {"role": "fee", "account_id": self.company._amazon_sp_account("fees").id}
        )
        self.assertEqual(event.state, "posted")
        self.assertFalse(self.env["amazon.sp.unmapped.type"].search([]))
        self.assertEveryCent(event)

    def test_malformed_event_goes_to_error(self):
        self.dataset.add_raw_transaction(
            {
                "transactionType": "Refund",
                "transactionId": "TXNMALFORMED0001",
                "description": "Refund Order",
                "postedDate": "yesterday afternoon",
                "totalAmount": {"currencyCode": "USD", "currencyAmount": -5},
                "marketplaceDetails": {"marketplaceId": "ATVPDKIKX0DER"},
            },
            posted=self.now - timedelta(days=1),
            currency="USD",
            marketplace="US",
        )
        run = self._sync(self.account)
        self.assertEqual((run.events_posted, run.events_error), (1, 1))
        bad = self.env["amazon.sp.event"].search(
            [("account_id", "=", self.account.id), ("state", "=", "error")]
        )
        self.assertEqual(len(bad), 1)
        self.assertIn("postedDate", bad.review_message)
        self.assertIn("TXNMALFORMED0001", bad.raw_json)
        self.assertEqual(self._event(self.normal).state, "posted")
        # Read again: known, not duplicated.
        again = self._sync(self.account)
        self.assertEqual((again.events_new, again.events_error), (0, 0))

    def test_changed_upstream_goes_to_review(self):
        self._sync(self.account)
        event = self._event(self.normal)
        self.assertEqual(event.state, "posted")
        moves = event.move_ids
        self.normal.items[0].charges["Principal"] = D("-25.00")
        run = self._sync(self.account)
        self.assertEqual((run.events_new, run.events_changed), (0, 1))
        self.assertRecordValues(event, [{"state": "to_review", "review_reason": "changed"}])
        self.assertEqual(event.move_ids, moves, "documents are kept, not overwritten")
        self.assertEqual(set(moves.mapped("state")), {"posted"})
        self.assertTrue(event.upstream_raw_json)
        # Dismissing the change keeps the posted documents.
        event.action_ignore("Checked with Amazon: the first amount stands")
        self.assertRecordValues(event, [{"state": "posted", "review_reason": False}])
        self.assertEqual(event.move_ids, moves)

    def test_threshold_and_draft_policy(self):
        us = self.marketplace_us.with_company(self.company)
        us.amazon_sp_review_threshold = 100.0
        big = self.dataset.add_refund(
            "US",
            posted=self.now - timedelta(days=1),
            items=[self.us_item("SKU-C", "250.00", "20.00")],
        )
        self._sync(self.account)
        event = self._event(big)
        self.assertRecordValues(event, [{"state": "to_review", "review_reason": "threshold"}])
        self.assertEqual(set(event.move_ids.mapped("state")), {"draft"})
        self.assertEqual(self._event(self.normal).state, "posted")
        event.action_post()
        self.assertEqual(event.state, "posted")
        self.assertEqual(set(event.move_ids.mapped("state")), {"posted"})
        self.assertEveryCent(event)

        us.amazon_sp_post_policy = "draft"
        later = self.dataset.add_refund(
            "US", posted=self.now - timedelta(hours=5), items=[self.us_item("SKU-D")]
        )
        self._sync(self.account)
        event = self._event(later)
        self.assertEqual(event.state, "ready")
        self.assertEqual(set(event.move_ids.mapped("state")), {"draft"})

    def test_refund_reverses_the_odoo_invoice(self):
        product = self.env["product.product"].create(
            {"name": "Widget", "default_code": "SKU-INV", "lst_price": 20.0}
        )
        customer = self.env["res.partner"].create({"name": "Amazon buyer"})
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": customer.id,
                "invoice_date": (self.now - timedelta(days=20)).date(),
                "amazon_order_id": "111-0000000-0000001",
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": product.id, "price_unit": 20.0, "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )
        invoice.action_post()
        self.dataset.add_refund(
            "US",
            order_id="111-0000000-0000001",
            posted=self.now - timedelta(days=1),
            items=[self.us_item("SKU-INV")],
        )
        self._sync(self.account)
        credited = self.env["account.move"].search(
            [("amazon_order_id", "=", "111-0000000-0000001"), ("move_type", "=", "out_refund")]
        )
        self.assertRecordValues(
            credited,
            [{"partner_id": customer.id, "reversed_entry_id": invoice.id, "state": "posted"}],
        )
        self.assertEqual(credited.invoice_line_ids.product_id, product)
        # Without an Odoo invoice: the marketplace's default customer.
        default = self.env["res.partner"].create({"name": "Amazon US customers"})
        self.marketplace_us.with_company(self.company).amazon_sp_partner_id = default
        other = self.dataset.add_refund(
            "US", posted=self.now - timedelta(hours=4), items=[self.us_item("SKU-X")]
        )
        self._sync(self.account)
        note = self._event(other).move_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertRecordValues(note, [{"partner_id": default.id, "reversed_entry_id": False}])
        self.assertEqual(note.invoice_line_ids.product_id, self.company.amazon_sp_refund_product_id)

    def test_vat_that_odoo_cannot_reproduce_waits(self):
        uk = self.marketplace_uk.with_company(self.company)
        uk.write({"amazon_sp_seller_tax": "tax", "amazon_sp_tax_id": self.vat_19.id})
        account = self._import_account("eu", self.marketplace_uk)
        refund = self.dataset.add_refund(
            "UK",
            posted=self.now - timedelta(days=1),
            items=[
                {
                    "sku": "SKU-UK",
                    "quantity": 1,
                    "charges": {"Principal": D("-20.00"), "Tax": D("-4.00")},
                    "fees": {"Commission": D("3.60")},
                }
            ],
        )
        self._sync(account)
        event = self.env["amazon.sp.event"].search(
            [("account_id", "=", account.id), ("amazon_order_id", "=", refund.order_id)]
        )
        self.assertRecordValues(
            event, [{"state": "to_review", "review_reason": "tax", "move_ids": []}]
        )
        self.assertIn("difference", event.review_message)
        uk.amazon_sp_tax_id = self.vat_20
        event.action_retry()
        self.assertEqual(event.state, "posted")
        self.assertEqual(
            event.move_ids.filtered(lambda m: m.move_type == "out_refund").amount_tax, 4.0
        )

    def test_locked_period_moves_to_first_open_date(self):
        posted = self.now - timedelta(days=2)
        self.company.fiscalyear_lock_date = (self.now - timedelta(days=1)).date()
        self._sync(self.account)
        event = self._event(self.normal)
        self.assertEqual(event.state, "posted")
        self.assertEqual(event.date, posted.date())
        for move in event.move_ids:
            self.assertGreater(move.date, self.company.fiscalyear_lock_date)
            self.assertIn("locked period", move.message_ids[:1].body)

    def test_accountant_with_user_group_imports_and_reviews(self):
        """An Amazon user (invoicing rights) runs the import and works the review queue."""
        item = self.us_item("SKU-U")
        item["fees"]["UserUnknownFee"] = D("-0.50")
        odd = self.dataset.add_refund("US", posted=self.now - timedelta(days=1), items=[item])
        account = self.account.with_user(self.amazon_user)
        run = self._sync(account)
        self.assertEqual((run.events_posted, run.events_to_review), (1, 1))
        event = self._event(odd).with_user(self.amazon_user)
        self.assertEqual(event.review_reason, "unmapped")
        event.action_ignore("Known test fee, booked by hand")
        self.assertEqual(event.state, "ignored")
        self.assertTrue(self.env["amazon.sp.import.run"].with_user(self.amazon_user).search([]))

    def test_draft_posted_from_the_invoice_posts_the_event(self):
        self.marketplace_us.with_company(self.company).amazon_sp_post_policy = "draft"
        self._sync(self.account)
        event = self._event(self.normal)
        self.assertEqual(event.state, "ready")
        event.move_ids.action_post()
        self.assertEqual(event.state, "posted")

    def test_not_registered_keeps_the_tax_in_the_price(self):
        self.marketplace_uk.with_company(self.company).amazon_sp_seller_tax = "none"
        account = self._import_account("eu", self.marketplace_uk)
        refund = self.dataset.add_refund(
            "UK",
            posted=self.now - timedelta(days=1),
            items=[
                {
                    "sku": "SKU-UK2",
                    "quantity": 1,
                    "charges": {"Principal": D("-20.00"), "Tax": D("-4.00")},
                }
            ],
        )
        self._sync(account)
        event = self.env["amazon.sp.event"].search(
            [("account_id", "=", account.id), ("amazon_order_id", "=", refund.order_id)]
        )
        self.assertEqual(event.state, "posted", event.review_message)
        note = event.move_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertRecordValues(note, [{"amount_tax": 0.0, "amount_total": 24.0}])
        self.assertEveryCent(event)
