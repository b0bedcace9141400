from datetime import datetime, time, timedelta
from itertools import count

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .common import AmazonSpTestMixin

TODAY = datetime(2026, 11, 30, 12, 0).date()
KEYS = count(1)


@tagged("post_install", "-at_install")
class TestAnomalies(AmazonSpTestMixin, AccountTestInvoicingCommon):
    """Each anomaly rule fires on its seeded case and stays silent on the normal data; re-runs
    update; dismiss; a refund without its item becomes a claim after 45 days and closes when
    Amazon reimburses the order's SKU."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_amazon_sp()
        cls.env.user.groups_id += cls.env.ref("account_amazon_refund.group_amazon_sp_manager")
        cls.account = cls._create_account(
            refresh_token="test-refresh-token", region="eu", accountant_id=cls.amazon_user.id
        )
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.Service = cls.env["amazon.sp.service.anomalies"]
        cls.Anomaly = cls.env["amazon.sp.anomaly"]
        cls.Claim = cls.env["amazon.sp.claim"]
        cls._seed_normal()

    @classmethod
    def _event(cls, kind, order, day, lines, marketplace=None, account=None):
        """One staged event: ``lines`` are (amount type, amount, SKU)."""
        posted = datetime.combine(day, time(10, 0))
        return (
            cls.env["amazon.sp.event"]
            ._amazon_sp_flow()
            .create(
                {
                    "account_id": (account or cls.account).id,
                    "marketplace_id": (marketplace or cls.marketplace_de).id,
                    "source_api": "v0",
                    "key": f"test-{next(KEYS)}",
                    "event_type": kind,
                    "amazon_order_id": order,
                    "posted_date": posted,
                    "date": day,
                    "currency_id": cls.eur.id,
                    "amount_total": sum(amount for _t, amount, _s in lines),
                    "state": "posted",
                    "line_ids": [
                        Command.create({"amount_type": t, "amount": amount, "sku": sku})
                        for t, amount, sku in lines
                    ],
                }
            )
        )

    @classmethod
    def _refund(cls, order, day, sku="SKU-1", principal=20.0, kind="refund", **kw):
        lines = [
            ("Charge/Principal", -principal, sku),
            ("Charge/Tax", -round(principal * 0.19, 2), sku),
            ("Fee/Commission", round(principal * 0.15, 2), sku),
        ]
        return cls._event(kind, order, day, lines, **kw)

    @classmethod
    def _seed_normal(cls):
        """Twelve weeks of a calm seller: one or two refunds a day on two products, every
        order refunded once, a single A-to-z claim, within the return window."""
        n = 0
        for back in range(84):
            day = TODAY - timedelta(days=back)
            for sku in ("SKU-1", "SKU-2"):
                if (back + (sku == "SKU-2")) % 4:
                    continue
                n += 1
                cls._refund(f"302-NORMAL-{n}", day, sku=sku)
        cls._refund("302-CLAIM-0", TODAY, sku="SKU-3", kind="guarantee_claim")

    def _run(self, today=TODAY):
        return self.Service._run(self.account, today=today)[self.account.id]

    def _hits(self, rule):
        return self.Anomaly.search([("account_id", "=", self.account.id), ("rule", "=", rule)])

    def test_normal_data_is_silent(self):
        anomalies, claims = self._run()
        self.assertFalse(anomalies)
        self.assertFalse(claims)
        self.assertFalse(self.Anomaly.search([("account_id", "=", self.account.id)]))

    def test_daily_volume_hit_is_updated_not_duplicated(self):
        day = TODAY - timedelta(days=3)
        events = self.env["amazon.sp.event"]
        for i in range(10):
            events |= self._refund(f"302-DAY-{i}", day, sku=f"SKU-D{i}")
        self._run()
        # 10 new + the normal refund of that day = 11 > 10
        hit = self._hits("daily_volume")
        self.assertEqual(len(hit), 1)
        self.assertEqual(hit.count, 11)
        self.assertEqual(hit.marketplace_id, self.marketplace_de)
        self.assertTrue(events <= hit.event_ids)
        self.assertIn("11", hit.figures)
        activity = hit.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.amazon_user)
        self._refund("302-DAY-X", day, sku="SKU-DX")
        self._run()
        again = self._hits("daily_volume")
        self.assertEqual(again, hit)
        self.assertEqual(again.count, 12)
        self.assertEqual(len(again.activity_ids), 1, "a re-run schedules no second activity")

    def test_marketplace_setting_raises_the_threshold(self):
        for i in range(10):
            self._refund(f"302-SET-{i}", TODAY, sku=f"SKU-S{i}")
        self.env["amazon.sp.anomaly.setting"].create(
            {"marketplace_id": self.marketplace_de.id, "refunds_per_day": 20}
        )
        self._run()
        self.assertFalse(self._hits("daily_volume"))

    def test_product_refunded_more_than_usual(self):
        for i in range(3):
            self._refund(f"302-SPIKE-{i}", TODAY - timedelta(days=i), sku="SKU-NEW")
        self._run()
        hit = self._hits("sku_spike")
        self.assertEqual(len(hit), 1)
        self.assertEqual(hit.sku, "SKU-NEW")
        self.assertEqual(hit.count, 3)

    def test_order_refunded_twice(self):
        self._refund("302-TWICE", TODAY - timedelta(days=3))
        self._refund("302-TWICE", TODAY)
        self._run()
        hit = self._hits("repeat_refund")
        self.assertEqual(len(hit), 1)
        self.assertEqual(hit.amazon_order_id, "302-TWICE")
        self.assertEqual(len(hit.event_ids), 2)
        self.assertEqual(hit.amount, 47.6)  # twice 20.00 + 3.80 tax

    def test_refunded_more_than_the_sale(self):
        types = dict(self.env["amazon.sp.event"]._fields["event_type"].selection)
        if "sale" not in types:
            self.skipTest("sale events are not staged yet (issue 10): nothing to compare with")
        self._event(
            "sale", "302-OVER", TODAY - timedelta(days=9), [("Charge/Principal", 10.0, "S")]
        )
        self._refund("302-OVER", TODAY, sku="S")
        self._run()
        hit = self._hits("over_refund")
        self.assertEqual(hit.amazon_order_id, "302-OVER")

    def test_claims_on_one_product_and_one_buyer(self):
        buyer = self.env["res.partner"].create({"name": "Repeat Claimer"})
        for i in range(3):
            order = f"302-ATOZ-{i}"
            invoice = self.init_invoice("out_invoice", partner=buyer, amounts=[23.8])
            invoice.ref = order
            invoice.action_post()
            kind = "chargeback" if i == 2 else "guarantee_claim"
            self._refund(order, TODAY - timedelta(days=10 * i), sku="SKU-Z", kind=kind)
        self._run()
        by_sku = self._hits("claims_sku")
        self.assertEqual(len(by_sku), 1)
        self.assertEqual(by_sku.sku, "SKU-Z")
        self.assertIn("2 A-to-z claims and 1 chargebacks", by_sku.figures)
        by_buyer = self._hits("claims_buyer")
        self.assertEqual(by_buyer.partner_id, buyer)
        self.assertEqual(len(by_buyer.event_ids), 3)

    def test_dismiss_keeps_the_hit_dismissed(self):
        self._refund("302-DISMISS", TODAY - timedelta(days=1))
        self._refund("302-DISMISS", TODAY)
        self._run()
        hit = self._hits("repeat_refund")
        wizard = (
            self.env["amazon.sp.anomaly.dismiss"]
            .with_user(self.amazon_user)
            .create({"anomaly_ids": [Command.set(hit.ids)], "reason": "Two items, one SKU"})
        )
        wizard.action_confirm()
        self.assertEqual(hit.state, "dismissed")
        self.assertEqual(hit.dismiss_reason, "Two items, one SKU")
        self.assertEqual(hit.dismissed_by, self.amazon_user)
        self.assertFalse(hit.activity_ids)
        self._refund("302-DISMISS", TODAY)
        self._run()
        self.assertEqual(self._hits("repeat_refund"), hit)
        self.assertEqual(hit.state, "dismissed")
        self.assertEqual(hit.count, 3)

    def _return(self, order, sku, day, refunds, **values):
        return (
            self.env["amazon.sp.return"]
            ._amazon_sp_flow()
            .create(
                {
                    "account_id": self.account.id,
                    "marketplace_id": self.marketplace_de.id,
                    "source": "fba",
                    "amazon_order_id": order,
                    "sku": sku,
                    "quantity": 1,
                    "return_date": datetime.combine(day, time(8, 0)),
                    "fulfillment_center": "LEJ1",
                    "disposition": "SELLABLE",
                    "key": f"return-{next(KEYS)}",
                    "event_ids": [Command.set(refunds.ids)],
                    **values,
                }
            )
        )

    def _reimbursement(self, order, sku, amount, **values):
        return (
            self.env["amazon.sp.reimbursement"]
            ._amazon_sp_flow()
            .create(
                {
                    "account_id": self.account.id,
                    "marketplace_id": self.marketplace_de.id,
                    "reimbursement_id": f"R-{next(KEYS)}",
                    "approval_date": datetime.combine(TODAY, time(9, 0)),
                    "amazon_order_id": order,
                    "sku": sku,
                    "currency_id": self.eur.id,
                    "amount_total": amount,
                    "quantity_cash": 1,
                    "quantity_total": 1,
                    "key": f"reimbursement-{next(KEYS)}",
                    **values,
                }
            )
        )

    def test_return_received_in_another_country(self):
        home = self._refund("302-HOME", TODAY - timedelta(days=3), sku="SKU-R")
        self._return("302-HOME", "SKU-R", TODAY, home)
        self._run()
        self.assertFalse(self._hits("return_country"), "returned in the marketplace's country")
        refund = self._refund("302-ABROAD", TODAY - timedelta(days=3), sku="SKU-R")
        returned = self._return("302-ABROAD", "SKU-R", TODAY, refund, fulfillment_center="WRO5")
        self._return("302-NOWHERE", "SKU-R", TODAY, refund, fulfillment_center="ZZZ9")
        self._run()
        hit = self._hits("return_country")
        self.assertEqual(len(hit), 1, "an unknown fulfillment center gives no hit")
        self.assertEqual(hit.return_id, returned)
        self.assertEqual(hit.fulfillment_center, "WRO5")
        self.assertEqual(hit.event_ids, refund)
        self.assertIn("PL", hit.figures)

    def test_damaged_return_and_short_reimbursement_become_claims(self):
        damaged = self._refund("302-DAMAGED", TODAY - timedelta(days=10), sku="SKU-X")
        returned = self._return(
            "302-DAMAGED",
            "SKU-X",
            TODAY - timedelta(days=2),
            damaged,
            fnsku="X00ABC",
            disposition="CARRIER_DAMAGED",
            license_plate="LPNRR0123456",
        )
        short = self._refund("302-SHORT", TODAY - timedelta(days=20), sku="SKU-Y", principal=40.0)
        low = self._reimbursement("302-SHORT", "SKU-Y", 25.0)
        self._run()
        claim = self.Claim.search([("amazon_order_id", "=", "302-DAMAGED")])
        self.assertEqual((claim.kind, claim.state), ("damaged", "open"))
        self.assertEqual(claim.return_ids, returned)
        self.assertEqual(claim.event_ids, damaged)
        self.assertEqual((claim.fnsku, claim.license_plate), ("X00ABC", "LPNRR0123456"))
        self.assertIn("License plate number: LPNRR0123456", claim.evidence)
        self.assertEqual(claim.claim_amount, 20.0)
        gap = self.Claim.search([("amazon_order_id", "=", "302-SHORT")])
        self.assertEqual((gap.kind, gap.claim_amount), ("short", 15.0))
        self.assertEqual((gap.refund_amount, gap.reimbursed_amount), (40.0, 25.0))
        self.assertEqual(gap.reimbursement_ids, low)
        self.assertEqual(gap.event_ids, short)
        # Amazon pays the rest, and reimburses the damaged unit: both close
        self._reimbursement("302-SHORT", "SKU-Y", 15.0)
        paid = self._reimbursement("302-DAMAGED", "SKU-X", 20.0)
        self._run()
        self.assertEqual((gap.state, gap.closed_reason), ("closed", "reimbursed"))
        self.assertEqual((claim.state, claim.closed_reason), ("closed", "reimbursed"))
        self.assertEqual(claim.closed_by_id, paid)

    def test_refund_without_return_becomes_a_claim_and_closes_when_reimbursed(self):
        refund_day = TODAY - timedelta(days=50)
        # The sale's FBA fulfillment fee says Amazon shipped the order.
        self._event(
            "refund",
            "302-LOST",
            refund_day,
            [
                ("Charge/Principal", -30.0, "SKU-L"),
                ("Charge/Tax", -5.7, "SKU-L"),
                ("Fee/FBAPerUnitFulfillmentFee", 0.0, "SKU-L"),
            ],
        )
        with freeze_time(datetime.combine(refund_day + timedelta(days=44), time(12))):
            self.Service._run(self.account)
        self.assertFalse(self.Claim.search([("amazon_order_id", "=", "302-LOST")]))
        with freeze_time(datetime.combine(refund_day + timedelta(days=45), time(12))):
            self.Service._run(self.account)
        claim = self.Claim.search([("amazon_order_id", "=", "302-LOST")])
        self.assertEqual(len(claim), 1)
        self.assertEqual((claim.kind, claim.state, claim.sku), ("not_returned", "open", "SKU-L"))
        self.assertEqual(claim.claim_amount, 30.0)
        self.assertEqual(claim.due_date, refund_day + timedelta(days=45))
        self.assertIn("Order ID: 302-LOST", claim.evidence)
        self.assertEqual(claim.activity_ids.user_id, self.amazon_user)
        # a re-run keeps the one candidate
        self._run()
        self.assertEqual(self.Claim.search([("amazon_order_id", "=", "302-LOST")]), claim)
        # Amazon reimburses the order's SKU
        reimbursement = self._event(
            "adjustment",
            "302-LOST",
            TODAY,
            [("Adjustment/FBAInventoryReimbursement", 27.5, "SKU-L")],
        )
        self._run()
        self.assertEqual(claim.state, "closed")
        self.assertEqual(claim.closed_reason, "reimbursed")
        self.assertEqual(claim.closed_by_event_id, reimbursement)
        self.assertFalse(claim.activity_ids)

    def test_claim_closes_when_the_reimbursements_report_lists_the_order(self):
        self._event(
            "refund",
            "302-REPORT",
            TODAY - timedelta(days=46),
            [("Charge/Principal", -18.0, "SKU-P"), ("Fee/FBAPerUnitFulfillmentFee", 0.0, "SKU-P")],
        )
        self._run()
        claim = self.Claim.search([("amazon_order_id", "=", "302-REPORT")])
        self.assertEqual((claim.kind, claim.state), ("not_returned", "open"))
        # the item came back late: the candidate closes as returned
        self._return("302-REPORT", "SKU-P", TODAY, self.env["amazon.sp.event"])
        self._run()
        self.assertEqual((claim.state, claim.closed_reason), ("closed", "returned"))

    def test_lost_item_reimbursed_through_the_report(self):
        self._event(
            "refund",
            "302-LOST-R",
            TODAY - timedelta(days=46),
            [("Charge/Principal", -18.0, "SKU-P"), ("Fee/FBAPerUnitFulfillmentFee", 0.0, "SKU-P")],
        )
        self._run()
        claim = self.Claim.search([("amazon_order_id", "=", "302-LOST-R")])
        self.assertEqual(claim.state, "open")
        row = self._reimbursement("302-LOST-R", "SKU-P", 18.0)
        self._run()
        self.assertEqual((claim.state, claim.closed_reason), ("closed", "reimbursed"))
        self.assertEqual(claim.closed_by_id, row)

    def test_claim_export(self):
        self._event(
            "refund",
            "302-EXPORT",
            TODAY - timedelta(days=60),
            [("Charge/Principal", -12.0, "=CMD()"), ("Fee/FBAPerUnitFulfillmentFee", 0.0, None)],
        )
        self._run()
        claim = self.Claim.search([("amazon_order_id", "=", "302-EXPORT")])
        self.assertEqual(len(claim), 1)
        action = claim.action_export_csv()
        attachment = self.env["ir.attachment"].browse(
            int(action["url"].split("/")[3].split("?")[0])
        )
        text = attachment.raw.decode()
        self.assertIn("302-EXPORT", text)
        self.assertIn("'=CMD()", text, "a text starting with = is not a formula")
        action = claim.action_export_xlsx()
        self.assertTrue(action["url"].startswith("/web/content/"))

    def test_user_runs_the_rules_but_writes_no_hit_by_hand(self):
        self._refund("302-USER", TODAY - timedelta(days=2))
        self._refund("302-USER", TODAY)
        Anomaly = self.Anomaly.with_user(self.amazon_user)
        with freeze_time(datetime.combine(TODAY, time(12))):
            Anomaly.action_run()
        hit = Anomaly.search([("rule", "=", "repeat_refund")])
        self.assertEqual(hit.amazon_order_id, "302-USER")
        with self.assertRaises(AccessError):
            Anomaly.create(
                {"account_id": self.account.id, "rule": "repeat_refund", "key": "by-hand"}
            )
        with self.assertRaises(AccessError):
            hit.write({"count": 1})

    def test_scheduled_action_runs_every_account(self):
        cron = self.env.ref("account_amazon_refund.ir_cron_amazon_sp_anomalies")
        self.assertTrue(cron.active)
        self._refund("302-CRON", TODAY - timedelta(days=2))
        self._refund("302-CRON", TODAY)
        with freeze_time(datetime.combine(TODAY, time(12))):
            self.Anomaly._cron_amazon_sp_anomalies()
        self.assertEqual(self._hits("repeat_refund").amazon_order_id, "302-CRON")

    def test_open_claim_older_than_the_days_read_stays_open(self):
        self._event(
            "refund",
            "302-OLD",
            TODAY - timedelta(days=60),
            [("Charge/Principal", -9.0, "SKU-O"), ("Fee/FBAPerUnitFulfillmentFee", 0.0, "SKU-O")],
        )
        self._run()
        claim = self.Claim.search([("amazon_order_id", "=", "302-OLD")])
        self.assertEqual(claim.state, "open")
        # 200 days later the refund is no longer read: nothing is known, the claim stays open
        self._run(today=TODAY + timedelta(days=200))
        self.assertEqual(claim.state, "open")
