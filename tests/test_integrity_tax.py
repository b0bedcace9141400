from odoo.tests import tagged

from .common_import import AmazonImportCommon, D


@tagged("post_install", "-at_install")
class TestIntegrityTax(AmazonImportCommon):
    """The seller tax of a refund is a tax of the marketplace's country, posted under the
    company's VAT number there (issue 11)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("eu", cls.marketplace_de)

    def _de_refund(self, principal, tax):
        return self._refund(
            "DE",
            days_ago=2,
            items=[
                {
                    "sku": "SKU-DE-TAX",
                    "quantity": 1,
                    "charges": {"Principal": -D(principal), "Tax": -D(tax)},
                    "fees": {"Commission": D("7.50")},
                }
            ],
        )

    def _event(self, refund):
        return self._events(self.account).filtered(lambda ev: ev.amazon_order_id == refund.order_id)

    def test_another_countrys_rate_is_never_picked(self):
        """20 % gives Amazon's tax to the cent, but it is the UK's: the German refund waits."""
        refund = self._de_refund("50.00", "10.00")
        self._sync(self.account)
        event = self._event(refund)
        self.assertRecordValues(
            event, [{"state": "to_review", "review_reason": "tax", "move_ids": []}]
        )
        self.assertIn("no sale tax of the company gives that amount", event.review_message)

    def test_foreign_taxes_post_under_the_companys_vat_number_there(self):
        position = self.env["account.fiscal.position"].search(
            [("company_id", "=", self.company.id), ("country_id", "=", self.env.ref("base.de").id)]
        )
        self.assertTrue(position.foreign_vat)
        position.active = False
        refund = self._de_refund("50.00", "9.50")
        self._sync(self.account)
        event = self._event(refund)
        self.assertRecordValues(event, [{"state": "to_review", "review_reason": "tax"}])
        self.assertIn("fiscal position with the company's VAT number", event.review_message)
        self.assertFalse(event.move_ids)

        position.active = True
        event.action_retry()
        self.assertEqual(event.state, "posted", event.review_message)
        note = event.move_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(note.invoice_line_ids.tax_ids, self.vat_19)
        self.assertEqual(note.fiscal_position_id, position)
        self.assertEqual(note.tax_country_id, self.env.ref("base.de"))
        self.assertEveryCent(event)
        # the fee entry has no German tax: no fiscal position
        self.assertFalse((event.move_ids - note).fiscal_position_id)
