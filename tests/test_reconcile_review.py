import base64
import io
from datetime import timedelta
from unittest.mock import patch

import openpyxl

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common_import import CLIENT_KWARGS, AmazonImportCommon, D


@tagged("post_install", "-at_install")
class TestReconcileReview(AmazonImportCommon):
    """The reconciliation review and the daily check find and name an event missing, an amount
    Amazon changed after posting and an unmapped type; actions fix them, acceptance is logged."""

    marketplace_codes = ("US",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Clients of the test: no real sleeping, buckets scaled like the emulator's.
        cls.startClassPatcher(
            patch.object(
                type(cls.env["amazon.sp.account"]),
                "_amazon_sp_client_options",
                return_value=CLIENT_KWARGS,
            )
        )
        cls.env.company.partner_id.tz = "UTC"
        cls.day = (cls.now - timedelta(days=3)).date()
        cls.noon = cls.now.replace(hour=12, minute=0, second=0) - timedelta(days=3)
        cls.dataset.add_refund("US", posted=cls.noon, items=[cls.us_item()])
        cls.dataset.add_adjustment(
            "US",
            "WAREHOUSE_DAMAGE",
            posted=cls.noon + timedelta(hours=1),
            items=[{"sku": "SKU-DMG", "quantity": 2, "per_unit": D("6.50")}],
        )
        cls.account = cls._import_account(
            "na", cls.marketplace_us, sync_from=(cls.now - timedelta(days=10)).replace(tzinfo=None)
        )

    def _start(self, **values):
        wizard = self.env["amazon.sp.reconcile.review"].create(
            {
                "scope": "range",
                "account_id": self.account.id,
                "marketplace_id": self.marketplace_us.id,
                "date_from": self.day,
                "date_to": self.day,
                **values,
            }
        )
        action = wizard.action_start()
        return self.env["amazon.sp.reconciliation"].browse(action["res_id"])

    def _seed_mismatches(self):
        """After an import: one event Amazon adds, one it changes, one waiting for a mapping."""
        changed = self.dataset.add_refund(
            "US", posted=self.noon + timedelta(hours=2), items=[self.us_item(sku="SKU-CHG")]
        )
        unmapped = self.dataset.add_refund(
            "US",
            posted=self.noon + timedelta(hours=3),
            items=[{**self.us_item(sku="SKU-NEW"), "fees": {"NewFee2026": -D("1.11")}}],
        )
        self.env["amazon.sp.service.import"]._sync(
            self.account, date_from=self.noon - timedelta(hours=1)
        )
        self.dataset.change_amount(changed, "charges", "Principal", -D("22.00"))
        missing = self.dataset.add_refund(
            "US", posted=self.noon + timedelta(hours=4), items=[self.us_item(sku="SKU-MISS")]
        )
        return changed, unmapped, missing

    def test_review_names_each_difference_and_logs_resolutions(self):
        self.env["amazon.sp.service.import"]._sync(self.account)
        review = self._start()
        self.assertEqual(review.state, "balanced", review.difference_ids.mapped("message"))
        self.assertAlmostEqual(review.amazon_total, review.odoo_total)
        self.assertIn("Adjustment/WAREHOUSE_DAMAGE", review.line_ids.mapped("amount_type"))

        _changed, unmapped, missing = self._seed_mismatches()
        review.action_refresh()
        by_kind = {d.kind: d for d in review.difference_ids}
        self.assertEqual(set(by_kind), {"not_imported", "changed", "unmapped"})
        self.assertEqual(review.state, "differences")
        self.assertEqual(by_kind["not_imported"].amazon_order_id, missing.order_id)
        self.assertAlmostEqual(by_kind["not_imported"].amount, float(missing.net))
        self.assertAlmostEqual(by_kind["changed"].amount, -2.00)
        self.assertIn("Amazon changed it after import", by_kind["changed"].message)
        self.assertIn("Fee/NewFee2026", by_kind["unmapped"].message)
        self.assertAlmostEqual(review.amazon_total - review.odoo_total, review.difference, places=2)
        self.assertAlmostEqual(
            review.difference,
            float(missing.net + D("-2.00") + unmapped.net),
            places=2,
        )
        principal = review.line_ids.filtered(lambda line: line.amount_type == "Charge/Principal")
        self.assertAlmostEqual(principal.amazon_amount - principal.odoo_amount, -2.0 - 20.0 - 20.0)

        # accept the changed amount with a note: who, when, and the chatter
        accept = self.env["amazon.sp.reconciliation.accept"].create(
            {
                "reconciliation_id": review.id,
                "difference_ids": [(6, 0, by_kind["changed"].ids)],
                "note": "Amazon corrected the refund; credit note 2 follows next month.",
            }
        )
        accept.action_accept()
        self.assertEqual(by_kind["changed"].state, "accepted")
        self.assertEqual(by_kind["changed"].resolved_by, self.env.user)
        self.assertTrue(by_kind["changed"].resolved_date)
        body = review.message_ids[:1].body
        self.assertIn("credit note 2 follows next month", body)
        self.assertIn(self.env.user.name, body)

        # import what is missing, post what waits: only the accepted difference is left
        review.action_import_missing()
        self.assertEqual(by_kind["not_imported"].state, "resolved")
        self.env["amazon.sp.amount.mapping"].create(
            {
                "company_id": self.env.company.id,
                "amount_type": "Fee/NewFee2026",
                "role": "fee",
                "account_id": self.env.company._amazon_sp_account("fees").id,
            }
        )
        unmapped_event = by_kind["unmapped"].event_id
        self.assertEqual(unmapped_event.state, "posted")  # the new rule retried it
        review.action_post_waiting()
        self.assertEqual(by_kind["unmapped"].state, "resolved")
        self.assertEqual(review.state, "accepted")
        # an accepted difference stays accepted on the next run
        review.action_refresh()
        self.assertEqual(by_kind["changed"].state, "accepted")

        # the exports hold the figures shown on screen
        action = review.action_export_xlsx()
        attachment = self.env["ir.attachment"].browse(
            int(action["url"].split("/")[3].split("?")[0])
        )
        book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(attachment.datas)))
        summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
        self.assertAlmostEqual(summary["Amazon total"], review.amazon_total)
        self.assertAlmostEqual(summary["Odoo posted total"], review.odoo_total)
        self.assertAlmostEqual(summary["Difference"], review.difference)
        types = list(book["Amount types"].iter_rows(values_only=True))[1:]
        self.assertEqual(
            [(t, round(a, 2), round(o, 2)) for t, a, o, _d in types],
            [
                (line.amount_type, round(line.amazon_amount, 2), round(line.odoo_amount, 2))
                for line in review.line_ids
            ],
        )
        diffs = list(book["Differences"].iter_rows(values_only=True))[1:]
        self.assertEqual(len(diffs), len(review.difference_ids))
        self.assertIn(
            "Amazon corrected the refund; credit note 2 follows next month.",
            [row[4] for row in diffs],
        )
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("account_amazon_refund.report_amazon_sp_reconciliation", review.ids)[
                0
            ]
            .decode()
            .replace("-\N{ZERO WIDTH NO-BREAK SPACE}", "-")  # the monetary widget's minus
        )
        self.assertIn(f"{review.difference:.2f}", html)
        for line in review.line_ids:
            self.assertIn(line.amount_type, html)
            self.assertIn(f"{line.amazon_amount:.2f}", html)
        self.assertIn("credit note 2 follows next month", html)

    def test_daily_check_opens_one_activity_with_the_figures(self):
        self.env["amazon.sp.service.import"]._sync(self.account)
        check = self.env["amazon.sp.service.check"]._daily_check(
            self.account, self.day, self.marketplace_us
        )
        self.assertEqual(check.state, "ok", check.summary)
        self.assertFalse(check.activity_ids)
        self.assertAlmostEqual(check.amazon_refund_total, -17.60)
        self.assertAlmostEqual(check.amazon_adjustment_total, 13.00)

        _changed, _unmapped, missing = self._seed_mismatches()
        check = self.env["amazon.sp.service.check"]._daily_check(
            self.account, self.day, self.marketplace_us
        )
        self.assertEqual(check.state, "differs")
        # refunds: the missing one, the changed amount and the one waiting for a mapping
        expected = missing.net + D("-2.00") + _unmapped.net
        self.assertAlmostEqual(check.refund_difference, float(expected), places=2)
        self.assertAlmostEqual(check.adjustment_difference, 0.0)
        self.assertEqual(len(check.activity_ids), 1)
        activity = check.activity_ids
        self.assertEqual(activity.user_id, self.account.accountant_id)
        self.assertIn(f"{abs(check.refund_difference):.2f}", activity.note)
        self.assertIn("Refunds: Amazon", activity.note)
        self.assertIn(f"Event not imported: Refund {missing.order_id}", check.differences)
        self.assertIn("Document changed after posting", check.differences)
        self.assertIn("Unmapped amount type", check.differences)
        self.assertIn(missing.order_id, activity.note)
        # the scheduled check runs again: still one check and one activity for that day
        self.env["amazon.sp.account"]._cron_amazon_sp_daily_check(days=3)
        checks = self.env["amazon.sp.daily.check"].search(
            [("account_id", "=", self.account.id), ("day", "=", self.day)]
        )
        self.assertEqual(checks, check)
        self.assertEqual(len(check.activity_ids), 1)
        self.assertEqual(
            self.env["amazon.sp.daily.check"].search_count([("account_id", "=", self.account.id)]),
            3,
        )

    def test_post_waiting_never_writes_into_a_locked_period(self):
        self.marketplace_us.with_company(self.env.company).amazon_sp_post_policy = "draft"
        self.env["amazon.sp.service.import"]._sync(self.account)
        events = self._events(self.account)
        self.assertEqual(set(events.mapped("state")), {"ready"})
        review = self._start()
        self.assertEqual(set(review.difference_ids.mapped("kind")), {"not_posted"})
        self.assertEqual(len(review.difference_ids), len(events))
        self.env.company.fiscalyear_lock_date = self.day
        review.action_post_waiting()
        self.assertEqual(set(events.mapped("state")), {"posted"})
        moves = events.move_ids
        self.assertTrue(moves)
        self.assertTrue(all(move.date > self.day for move in moves), moves.mapped("date"))
        self.assertEqual(review.state, "balanced")
        self.assertEqual(set(review.difference_ids.mapped("state")), {"resolved"})

    def test_post_waiting_posts_events_above_the_threshold(self):
        """An accountant's explicit *Post waiting* posts the events held by the review threshold
        (Retry would hold them again), and says so on each event."""
        self.marketplace_us.with_company(self.env.company).amazon_sp_review_threshold = 1.0
        self.env["amazon.sp.service.import"]._sync(self.account)
        events = self._events(self.account)
        self.assertEqual(set(events.mapped("review_reason")), {"threshold"})
        review = self._start()
        self.assertEqual(set(review.difference_ids.mapped("kind")), {"not_posted"})
        review.action_post_waiting()
        self.assertEqual(set(events.mapped("state")), {"posted"})
        self.assertEqual(set(events.move_ids.mapped("state")), {"posted"})
        for event in events:
            self.assertEveryCent(event)
            self.assertIn("above the review threshold", event.message_ids[:1].body)
            self.assertIn(self.env.user.name, event.message_ids[:1].body)
        self.assertEqual(review.state, "balanced")

    def test_review_explains_why_amazon_could_not_be_read(self):
        self.env["amazon.sp.service.import"]._sync(self.account)
        review = self._start()
        self.assertEqual(review.state, "balanced")
        self.emu.inject("server_error", count=None, operation="listTransactions")
        with self.assertRaises(UserError) as caught:
            review.action_refresh()
        message = str(caught.exception.args[0])
        self.assertIn("Amazon could not be read", message)
        self.assertIn("Amazon's service failed; try again later.", message)
        self.assertIn("HTTP status 500", message)
        self.assertEqual(review.state, "balanced", "the last figures stay")

    def test_daily_check_reads_the_v0_api_too(self):
        account = self._import_account(
            "na",
            self.marketplace_us,
            finances_api="v0",
            name="Seller v0",
            sync_from=(self.now - timedelta(days=10)).replace(tzinfo=None),
        )
        self.env["amazon.sp.service.import"]._sync(account)
        check = self.env["amazon.sp.service.check"]._daily_check(
            account, self.day, self.marketplace_us
        )
        self.assertEqual(check.state, "ok", check.summary)
        self.assertAlmostEqual(check.amazon_refund_total, -17.60)
        self.assertAlmostEqual(check.amazon_adjustment_total, 13.00)
        self.assertEqual(check.amazon_count, 2)
        self.assertEqual(check.odoo_count, 2)

    def test_daily_check_leaves_a_failing_account_at_its_first_failure(self):
        """An account Amazon does not answer is tried once per scheduled check, not once per
        marketplace and day (an unreachable account must not hold the scheduled action)."""
        self.account.marketplace_ids |= self.env.ref(
            "account_amazon_refund.amazon_sp_marketplace_ca"
        )
        self.emu.inject("server_error", count=None, operation="listTransactions")
        Check = type(self.env["amazon.sp.service.check"])
        original = Check._daily_check
        calls = []

        def counting(service, account, day, marketplace, client=None):
            calls.append((account.id, day, marketplace.id))
            return original(service, account, day, marketplace, client=client)

        with patch.object(Check, "_daily_check", counting):
            self.env["amazon.sp.account"]._cron_amazon_sp_daily_check(days=3)
        tried = [call for call in calls if call[0] == self.account.id]
        self.assertEqual(len(tried), 1, tried)
        self.assertFalse(
            self.env["amazon.sp.daily.check"].search([("account_id", "=", self.account.id)])
        )
