from datetime import timedelta
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.account_amazon_refund.emulator.common import iso

from .common_import import AmazonImportCommon


@tagged("post_install", "-at_install")
class TestImportNothingToBook(AmazonImportCommon):
    """Events whose amounts are zero or cancel out need no document: they are done, saying
    why, and the import never loops on them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.normal = cls.dataset.add_refund(
            "US", posted=cls.now - timedelta(days=4), items=[cls.us_item("SKU-N")]
        )
        # An all-zero retrocharge, in both APIs.
        cls.zero = cls.dataset.add_retrocharge(
            "US", posted=cls.now - timedelta(days=3), base_tax="0.00", quirks=()
        )
        posted = cls.now - timedelta(days=2)
        # A marketplace facilitator retrocharge: v0 names the tax Amazon withheld...
        cls._facilitator_retrocharge_v0("112-0000000-0000013", posted)
        # ... 2024-06-19 sends two bare Tax breakdowns that cancel out (R13's shape).
        cls.dataset.add_raw_transaction(
            {
                "sellingPartnerMetadata": {
                    "sellingPartnerId": cls.dataset.seller_id,
                    "marketplaceId": "ATVPDKIKX0DER",
                    "accountType": "Standard Orders",
                },
                "transactionType": "Retrocharge",
                "transactionId": "TXNRETROCHARGEREFUND0000000000000000000013",
                "transactionStatus": "Released",
                "relatedIdentifiers": [
                    {
                        "relatedIdentifierName": "ORDER_ID",
                        "relatedIdentifierValue": "112-0000000-0000013",
                    }
                ],
                "totalAmount": {"currencyAmount": 0, "currencyCode": "USD"},
                "description": "RetroChargeRefund",
                "postedDate": iso(posted),
                "marketplaceDetails": {
                    "marketplaceId": "ATVPDKIKX0DER",
                    "marketplaceName": "Amazon.com",
                },
                "breakdowns": [
                    {
                        "breakdownType": "Tax",
                        "breakdownAmount": {"currencyAmount": 2.81, "currencyCode": "USD"},
                    },
                    {
                        "breakdownType": "Tax",
                        "breakdownAmount": {"currencyAmount": -2.81, "currencyCode": "USD"},
                    },
                ],
            },
            marketplace="US",
        )

    @classmethod
    def _facilitator_retrocharge_v0(cls, order_id, posted):
        cls.dataset.add_raw_v0(
            "RetrochargeEventList",
            {
                "RetrochargeEventType": "Retrocharge",
                "AmazonOrderId": order_id,
                "PostedDate": iso(posted),
                "BaseTax": {"CurrencyCode": "USD", "CurrencyAmount": 2.46},
                "ShippingTax": {"CurrencyCode": "USD", "CurrencyAmount": 0.35},
                "RetrochargeTaxWithheldList": [
                    {
                        "TaxCollectionModel": "MarketplaceFacilitator",
                        "TaxesWithheld": [
                            {
                                "ChargeType": "MarketplaceFacilitatorTax-Principal",
                                "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": -2.46},
                            },
                            {
                                "ChargeType": "MarketplaceFacilitatorTax-Shipping",
                                "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": -0.35},
                            },
                        ],
                    }
                ],
                "MarketplaceName": "Amazon.com",
            },
            marketplace="US",
        )

    def _retrocharges(self, account):
        return self.env["amazon.sp.event"].search(
            [("account_id", "=", account.id), ("event_type", "=", "retrocharge")],
            order="posted_date",
        )

    def test_nothing_to_book_in_both_apis(self):
        for api in ("v0", "2024-06-19"):
            with self.subTest(api=api):
                account = self._import_account(finances_api=api)
                run = self._sync(account)
                self.assertEqual(run.state, "done", run.error)
                events = self._events(account)
                self.assertEqual(len(events), 3)
                zero, facilitator = self._retrocharges(account)
                self.assertRecordValues(
                    zero | facilitator,
                    [
                        {"state": "nothing", "amount_total": 0.0, "move_ids": []},
                        {"state": "nothing", "amount_total": 0.0, "move_ids": []},
                    ],
                )
                self.assertEqual(
                    zero.nothing_reason,
                    "All of this event's amounts are zero: there is nothing to book.",
                )
                if api == "v0":
                    self.assertIn("The tax Amazon withheld offsets", facilitator.nothing_reason)
                    self.assertIn(
                        "TaxWithheld/MarketplaceFacilitatorTax-Principal "
                        "$\N{NO-BREAK SPACE}\N{MINUS SIGN}2.46",
                        facilitator.nothing_reason,
                    )
                else:
                    self.assertEqual(
                        facilitator.nothing_reason,
                        "The event's amounts cancel each other out (Retrocharge/Tax "
                        "$\N{NO-BREAK SPACE}2.81, Retrocharge/Tax $\N{NO-BREAK SPACE}"
                        "\N{MINUS SIGN}2.81): there is nothing to book.",
                    )
                self.assertRecordValues(
                    run,
                    [{"events_new": 3, "events_posted": 1, "events_nothing": 2, "events_error": 0}],
                )
                self.assertEqual(
                    (zero | facilitator).mapped("processed_run_id"), run, "done by this run"
                )
                # Nothing moved on the clearing account, which every check reads as 0.
                self.assertEveryCent(events)
                clearing = facilitator._amazon_sp_posted_clearing()
                self.assertEqual(clearing[facilitator.id], 0)
                # Read again: known, and nothing to do.
                again = self._sync(account)
                self.assertEqual((again.events_new, again.events_nothing), (0, 0))

    def test_retry_plans_again(self):
        account = self._import_account()
        self._sync(account)
        zero = self._retrocharges(account)[0]
        zero.action_retry()
        self.assertEqual(zero.state, "nothing")
        self.assertTrue(zero.nothing_reason)

    def test_the_import_loop_always_ends(self):
        """An event the processing leaves new is not fetched again: it goes to error."""
        account = self._import_account()
        Event = type(self.env["amazon.sp.event"])
        calls = []

        def leave_them_new(events, run=None):
            calls.append(events.ids)
            return {}

        with patch.object(Event, "_amazon_sp_process", leave_them_new):
            run = self._sync(account)
        self.assertEqual(run.state, "done", run.error)
        events = self._events(account)
        self.assertEqual(len(events), 3)
        # Fetched once by the pull, then no new event left for the settlements' pass.
        self.assertEqual(calls, [events.sorted(lambda ev: (ev.posted_date, ev.id)).ids])
        self.assertEqual(set(events.mapped("state")), {"error"})
        self.assertIn("made nothing of it", events[0].review_message)
        self.assertEqual(run.events_error, 3)

    def test_a_settlement_with_nothing_to_book_closes(self):
        """A closed group whose only event needs no document: the import ends, the group is
        paid out (nothing) and reconciled."""
        settled = self.now - timedelta(days=30)
        self._facilitator_retrocharge_v0("112-0000000-0000031", settled)
        group = self.dataset.group_for("USD", settled)
        self.assertLess(group.end, self.now)
        account = self._import_account(
            finances_api="v0", sync_from=(self.now - timedelta(days=45)).replace(tzinfo=None)
        )
        run = self._sync(account)
        self.assertEqual(run.state, "done", run.error)
        event = self._events(account).filtered(
            lambda ev: ev.amazon_order_id == "112-0000000-0000031"
        )
        self.assertEqual(event.state, "nothing")
        settlement = self.env["amazon.sp.settlement"].search(
            [("account_id", "=", account.id), ("group_id", "=", group.group_id)]
        )
        self.assertEqual(settlement.event_ids, event)
        self.assertEqual(settlement.state, "reconciled", settlement.review_message)
        facts = self.env["amazon.sp.service.settlement"]._facts(settlement)
        self.assertEqual((facts.posted_count, facts.waiting_count), (0, 0))
