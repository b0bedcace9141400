from datetime import timedelta
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.account_amazon_refund.services import import_pull

from .common_import import AmazonImportCommon


@tagged("post_install", "-at_install")
class TestImportAccountWide(AmazonImportCommon):
    """2024-06-19 read once per account for every marketplace (issue 14): fewer calls, the
    per-marketplace cursors carried over, marketplaces not enabled said, pages read ahead."""

    page_size = 3

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Cursor = cls.env["amazon.sp.sync.cursor"]

    def _calls(self, since):
        return [call for call in self.emu.calls[since:] if call.operation == "listTransactions"]

    def _cursors(self, account):
        return self.Cursor.search([("account_id", "=", account.id)])

    def test_one_read_for_every_enabled_marketplace(self):
        account = self._import_account("eu", self.marketplace_uk | self.marketplace_de)
        refunds = [self._refund(code, days_ago=days) for code in ("UK", "DE") for days in (2, 3)]
        since = len(self.emu.calls)
        run = self._sync(account)
        self.assertEqual(run.state, "done", run.error)
        calls = self._calls(since)
        self.assertTrue(calls)
        self.assertFalse([call for call in calls if "marketplaceId" in call.params])
        # 4 events at 3 a page: 2 pages for the account, where each marketplace had its own.
        self.assertEqual(len(calls), 2)
        events = self._events(account)
        self.assertEqual(
            set(events.mapped("amazon_order_id")), {refund.order_id for refund in refunds}
        )
        self.assertEqual(events.marketplace_id, self.marketplace_uk | self.marketplace_de)
        self.assertEqual(set(events.mapped("state")), {"posted"})
        cursor = self._cursors(account)
        self.assertRecordValues(cursor, [{"marketplace_id": False, "next_token": False}])
        self.assertTrue(cursor.done_until)

    def test_marketplace_not_enabled_is_left_out_and_said(self):
        account = self._import_account("na", self.marketplace_us)
        us = self._refund("US", days_ago=2, items=[self.us_item()])
        jp = self._refund("JP", days_ago=2)
        run = self._sync(account)
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(self._events(account).mapped("amazon_order_id"), [us.order_id])
        self.assertNotIn(jp.order_id, self._events(account).mapped("amazon_order_id"))
        bodies = " ".join(run.message_ids.mapped("body"))
        self.assertIn("not enabled on this seller account were left out", bodies)
        self.assertIn(f"{self.marketplace_jp.name} (1)", bodies)

    def test_marketplace_odoo_does_not_know_waits_for_review(self):
        account = self._import_account("na", self.marketplace_us)
        posted = self.now - timedelta(days=2)
        self.dataset.add_raw_transaction(
            {
                "sellingPartnerMetadata": {"marketplaceId": "A1NEWMARKET9X"},
                "relatedIdentifiers": [
                    {"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": "900-1-1"}
                ],
                "transactionType": "Refund",
                "transactionId": "TXN-NEW-MARKET-1",
                "transactionStatus": "RELEASED",
                "description": "Refund Order",
                "postedDate": posted.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "totalAmount": {"currencyAmount": -5, "currencyCode": "USD"},
                "marketplaceDetails": {
                    "marketplaceId": "A1NEWMARKET9X",
                    "marketplaceName": "Amazon.new",
                },
                "items": [],
                "breakdowns": [
                    {
                        "breakdownType": "Product Charges",
                        "breakdownAmount": {"currencyAmount": -5, "currencyCode": "USD"},
                    }
                ],
            },
            posted=posted,
            currency="USD",
        )
        run = self._sync(account)
        self.assertEqual(run.state, "done", run.error)
        event = self._events(account)
        self.assertEqual(len(event), 1)
        self.assertRecordValues(event, [{"state": "to_review", "marketplace_id": False}])
        self.assertIn("Amazon.new", event.review_message)
        self.assertIn("A1NEWMARKET9X", event.review_message)
        self.assertFalse(event.move_ids)

    def test_marketplace_cursors_carry_over_from_the_oldest(self):
        account = self._import_account(
            "eu", self.marketplace_uk | self.marketplace_de, overlap_days=0
        )
        # The account was read per marketplace: UK up to 2 days ago, Germany up to 6.
        uk_until = (self.now - timedelta(days=2)).replace(tzinfo=None)
        de_until = (self.now - timedelta(days=6)).replace(tzinfo=None)
        self.Cursor._amazon_sp_flow().create(
            [
                {
                    "account_id": account.id,
                    "marketplace_id": marketplace.id,
                    "finances_api": "2024-06-19",
                    "done_until": until,
                }
                for marketplace, until in (
                    (self.marketplace_uk, uk_until),
                    (self.marketplace_de, de_until),
                )
            ]
        )
        early = self._refund("DE", days_ago=8)  # before every cursor: already read then
        missed = [self._refund("UK", days_ago=4), self._refund("DE", days_ago=5)]
        recent = self._refund("UK", days_ago=1)
        run = self._sync(account)
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.window_start, de_until)
        orders = set(self._events(account).mapped("amazon_order_id"))
        self.assertEqual(orders, {ref.order_id for ref in [*missed, recent]})
        self.assertNotIn(early.order_id, orders)
        wide = self._cursors(account).filtered(lambda cursor: not cursor.marketplace_id)
        self.assertEqual(len(wide), 1)
        self.assertGreater(wide.done_until, uk_until)
        # Read again from the cursor: everything is known, nothing twice.
        again = self._sync(account)
        self.assertRecordValues(again, [{"state": "done", "events_new": 0}])

    def test_a_marketplace_never_read_starts_at_the_account_start(self):
        account = self._import_account("eu", self.marketplace_uk | self.marketplace_de)
        self.Cursor._amazon_sp_flow().create(
            {
                "account_id": account.id,
                "marketplace_id": self.marketplace_uk.id,
                "finances_api": "2024-06-19",
                "done_until": (self.now - timedelta(days=1)).replace(tzinfo=None),
            }
        )
        old_de = self._refund("DE", days_ago=7)
        run = self._sync(account)
        self.assertEqual(run.state, "done", run.error)
        self.assertIn(old_de.order_id, self._events(account).mapped("amazon_order_id"))

    def test_fetch_error_fails_the_run_and_the_next_import_resumes(self):
        account = self._import_account("na", self.marketplace_us)
        refunds = [
            self._refund("US", days_ago=1 + i / 10, items=[self.us_item()]) for i in range(8)
        ]
        # The third page fails on every attempt: the pages before it are saved with the cursor.
        self.emu.inject("server_error", count=None, operation="listTransactions", after=2)
        run = self._sync(account, trigger="cron")
        self.assertEqual(run.state, "failed")
        self.assertTrue(run.error)
        cursor = self._cursors(account)
        self.assertTrue(cursor.next_token, "the cursor holds the page that failed")
        staged = self._events(account)
        self.assertEqual(len(staged), 6)
        self.emu.reset_faults()
        resumed = self._sync(account)
        self.assertEqual(resumed.state, "done", resumed.error)
        events = self._events(account)
        self.assertEqual(
            sorted(events.mapped("amazon_order_id")), sorted(r.order_id for r in refunds)
        )
        self.assertEqual(set(events.mapped("state")), {"posted"})
        self.assertFalse(cursor.next_token)

    def test_fetch_error_of_a_user_run_says_the_same(self):
        account = self._import_account("na", self.marketplace_us)
        self._refund("US", days_ago=1, items=[self.us_item()])
        self.emu.inject("server_error", count=None, operation="listTransactions")
        with self.assertRaisesRegex(Exception, "The Amazon import failed"):
            self._sync(account)
        run = self.env["amazon.sp.import.run"].search([("account_id", "=", account.id)])
        self.assertEqual(run.state, "failed")

    def test_batches_are_posted_while_the_next_pages_are_read(self):
        account = self._import_account("na", self.marketplace_us)
        for i in range(9):
            self._refund("US", days_ago=1 + i / 10, items=[self.us_item(f"SKU-W{i}")])
        calls = []
        Importer = type(self.env["amazon.sp.service.import"])
        original = Importer._process_pending

        def recording(importer, account, run, max_batches=None):
            calls.append((run.pages, max_batches))
            return original(importer, account, run, max_batches=max_batches)

        with (
            patch.object(import_pull, "PROCESS_BATCH", 3),
            patch.object(Importer, "_process_pending", recording),
        ):
            run = self._sync(account, max_batches=2)
        # A batch as soon as 3 events were staged, twice (the run's batch budget): the pages
        # after them were still to read; what is left waits for the next run.
        self.assertEqual(calls[:2], [(1, 1), (2, 1)])
        self.assertEqual(calls[2:], [(3, 0)])
        self.assertEqual(run.state, "partial")
        events = self._events(account)
        self.assertEqual(len(events), 9)
        self.assertEqual(len(events.filtered(lambda ev: ev.state == "posted")), 6)
        self.assertEqual(self._sync(account).state, "done")
        self.assertEqual(set(self._events(account).mapped("state")), {"posted"})
