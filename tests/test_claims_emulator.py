from datetime import timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .common_import import AmazonImportCommon


@tagged("post_install", "-at_install")
class TestClaimsEmulator(AmazonImportCommon):
    """Issue 13's "Done when", against the emulator's reports: a refund whose item never came
    back becomes a claim candidate after the return window, and closes when Amazon's
    reimbursements report later lists its order and SKU."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account(
            "na",
            cls.marketplace_us,
            sync_from=(cls.now - timedelta(days=60)).replace(tzinfo=None),
        )
        # Every refund of this seller is of an order Amazon shipped (FBA).
        cls.env["amazon.sp.anomaly.setting"].create(
            {"company_id": cls.company.id, "fba_refunds": "all"}
        )

    def _import(self):
        self._sync(self.account)
        self.env["amazon.sp.service.returns"]._import(self.account)
        self.env["amazon.sp.service.anomalies"]._run(self.account)

    def _claims(self, refund):
        return self.env["amazon.sp.claim"].search(
            [("amazon_order_id", "=", refund.order_id), ("kind", "=", "not_returned")]
        )

    def test_unreturned_refund_is_claimed_then_closed_by_the_reimbursements_report(self):
        posted = self.now - timedelta(days=50)
        lost = self.dataset.add_refund("US", posted=posted, items=[self.us_item("SKU-LOST")])
        lost.returned = False  # the buyer never sent it back: no row in the returns report
        back = self.dataset.add_refund("US", posted=posted, items=[self.us_item("SKU-BACK")])
        self._import()
        returns = self.env["amazon.sp.return"].search([("account_id", "=", self.account.id)])
        self.assertIn(back.order_id, returns.mapped("amazon_order_id"))
        self.assertNotIn(lost.order_id, returns.mapped("amazon_order_id"))
        claim = self._claims(lost)
        self.assertEqual(len(claim), 1)
        self.assertEqual((claim.state, claim.sku), ("open", "SKU-LOST"))
        self.assertIn(lost.order_id, claim.evidence)
        self.assertFalse(self._claims(back), "a returned item is no claim")

        # Amazon reimburses the lost unit: its reimbursements report names the order and SKU.
        reimbursement = self.dataset.add_adjustment(
            "US",
            "FBAInventoryReimbursement",
            posted=self.now - timedelta(hours=6),
            items=[{"sku": "SKU-LOST", "quantity": 1, "per_unit": "20.00"}],
        )
        reimbursement.reimbursed_order_id = lost.order_id
        # the next scheduled run, a day later, reads the new reports
        with freeze_time(self.now + timedelta(days=1), tick=True):
            self._import()
        self.assertEqual(claim.state, "closed")
        self.assertEqual(claim.closed_reason, "reimbursed")
        # closed by the report's row, which alone names the order
        self.assertEqual(claim.closed_by_id.amazon_order_id, lost.order_id)
        self.assertEqual(claim.closed_by_id.sku, "SKU-LOST")
        # a further run keeps it closed and adds no candidate
        with freeze_time(self.now + timedelta(days=2), tick=True):
            self._import()
        self.assertEqual(self._claims(lost), claim)
        self.assertEqual(claim.state, "closed")
