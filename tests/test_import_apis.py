from datetime import timedelta

from odoo.tests import tagged

from .common_import import AmazonImportCommon


@tagged("post_install", "-at_install")
class TestImportBothApis(AmazonImportCommon):
    """Finances v0 and 2024-06-19 give the same documents for the same Amazon events."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("US", "UK", "DE"):
            for index, kind in enumerate(("refund", "guarantee_claim", "chargeback", "refund")):
                cls.dataset.add_refund(
                    code, kind=kind, posted=cls.now - timedelta(days=1 + index, hours=3)
                )

    def _documents(self, account):
        """{(order id, event type): (credit note figures, fee entry figures)}"""
        result = {}
        for event in self._events(account):
            note = event.move_ids.filtered(lambda m: m.move_type == "out_refund")
            entry = event.move_ids.filtered(lambda m: m.move_type == "entry")
            note_lines = sorted(
                (
                    line.product_id.id,
                    line.account_id.id,
                    line.quantity,
                    line.price_unit,
                    tuple(line.tax_ids.ids),
                )
                for line in note.invoice_line_ids
            )
            entry_lines = sorted(
                (line.account_id.id, line.amount_currency) for line in entry.line_ids
            )
            result[(event.amazon_order_id, event.event_type)] = (
                event.marketplace_id.id,
                event.currency_id.name,
                event.date,
                note.amount_total,
                note.amount_tax,
                note_lines,
                entry_lines,
            )
        return result

    def test_same_documents(self):
        markets = {"na": self.marketplace_us, "eu": self.marketplace_uk | self.marketplace_de}
        documents = {}
        for api in ("v0", "2024-06-19"):
            for region, marketplaces in markets.items():
                account = self._import_account(region, marketplaces, finances_api=api)
                run = self._sync(account)
                self.assertEqual(run.state, "done", run.error)
                events = self._events(account)
                self.assertEqual(len(events), 4 * len(marketplaces))
                self.assertEqual(set(events.mapped("state")), {"posted"})
                self.assertEveryCent(events)
                documents.setdefault(api, {}).update(self._documents(account))
        self.assertEqual(len(documents["v0"]), 12)
        self.assertEqual(
            {event_type for _order, event_type in documents["v0"]},
            {"refund", "guarantee_claim", "chargeback"},
        )
        self.assertEqual(documents["v0"], documents["2024-06-19"])
