import base64
import hashlib
import time
from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..models import amazon_sp_account_returns
from .common_import import AmazonImportCommon, D

FBA_RETURNS = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"
MERCHANT_RETURNS = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
REIMBURSEMENTS = "GET_FBA_REIMBURSEMENTS_DATA"


@tagged("post_install", "-at_install")
class TestReturns(AmazonImportCommon):
    """Amazon's returns and reimbursements reports of the emulated seller: imported once,
    linked to their refunds and credit note lines, malformed rows named, reimbursements linked
    to the adjustment that paid them."""

    marketplace_codes = ("US",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.env["product.product"].create(
            {"name": "Blue widget", "default_code": "WIDGET-BLUE", "type": "consu"}
        )
        ds = cls.dataset
        cls.refund = ds.add_refund(
            "US",
            order_id="114-1000001-0000001",
            posted=cls.now - timedelta(days=3),
            items=[cls.us_item(sku="WIDGET-BLUE")],
        )
        cls.other = ds.add_refund(
            "US",
            order_id="114-1000002-0000002",
            posted=cls.now - timedelta(days=2),
            items=[cls.us_item(sku="SKU-US-1")],
        )
        cls.disputed = ds.add_refund(
            "US",
            order_id="114-1000003-0000003",
            posted=cls.now - timedelta(days=4),
            items=[cls.us_item(sku="SKU-US-2")],
        )
        ds.add_refund(
            "US",
            order_id="114-1000003-0000003",
            kind="chargeback",
            posted=cls.now - timedelta(days=2),
            items=[cls.us_item(sku="SKU-US-2")],
        )
        cls.adjustment = ds.add_adjustment(
            "US",
            "WAREHOUSE_DAMAGE",
            posted=cls.now - timedelta(days=2),
            items=[{"sku": "MUG-SET-4", "quantity": 2, "per_unit": D("8.25")}],
        )
        cls.account = cls._import_account("na", cls.marketplace_us)
        cls.env["amazon.sp.service.import"]._sync(cls.account)

    def _import(self, **kwargs):
        return self.env["amazon.sp.service.returns"]._import(self.account, **kwargs)

    def _returns(self):
        return self.env["amazon.sp.return"].search([("account_id", "=", self.account.id)])

    def test_returns_import_once_and_link_to_their_refunds(self):
        result = self._import()
        self.assertFalse(result["problems"])
        returns = self._returns()
        self.assertEqual(returns, result["returns"])
        self.assertEqual(
            sorted(returns.mapped("amazon_order_id")),
            ["114-1000001-0000001", "114-1000002-0000002", "114-1000003-0000003"],
        )
        events = self.env["amazon.sp.event"].search([("account_id", "=", self.account.id)])
        for ret in returns:
            self.assertEqual(ret.source, "fba")
            self.assertEqual(ret.marketplace_id, self.marketplace_us)
            self.assertTrue(ret.license_plate.startswith("LPN"))
            self.assertTrue(ret.reason and ret.reason_code and ret.disposition)
            self.assertEqual(
                ret.raw_sha256, hashlib.sha256(ret.raw_json.encode()).hexdigest(), ret.name
            )
            order_events = events.filtered(
                lambda e, ret=ret: e.amazon_order_id == ret.amazon_order_id
            )
            self.assertEqual(ret.event_ids, order_events, ret.name)
            self.assertTrue(ret.refunded)
        disputed = returns.filtered(lambda r: r.amazon_order_id == "114-1000003-0000003")
        self.assertEqual(disputed.reason, "chargeback")
        self.assertEqual(set(disputed.event_ids.mapped("event_type")), {"refund", "chargeback"})
        # the file is kept with its SHA-256
        files = result["files"].filtered(lambda f: f.report_type == FBA_RETURNS)
        self.assertEqual(len(files), 1)
        content = base64.b64decode(files.attachment_id.datas)
        self.assertEqual(files.sha256, hashlib.sha256(content).hexdigest())
        self.assertEqual((files.state, files.created_count, files.error_count), ("done", 3, 0))
        # a second run (a new range asked, the same file and rows again) creates nothing
        self.env["amazon.sp.return.cursor"].search(
            [("account_id", "=", self.account.id)]
        )._amazon_sp_flow().write({"done_until": False})
        again = self._import()
        self.assertFalse(again["returns"] or again["reimbursements"] or again["files"])
        self.assertEqual(self._returns(), returns)
        # another file listing the same returns (and one more row): no return twice
        self.dataset.returns_report_extra_lines = {FBA_RETURNS: ["\t".join(["x"] * 3)]}
        self.addCleanup(setattr, self.dataset, "returns_report_extra_lines", {})
        self.env["amazon.sp.return.cursor"].search(
            [("account_id", "=", self.account.id)]
        )._amazon_sp_flow().write({"done_until": False})
        third = self._import(report_types=[FBA_RETURNS])
        self.assertEqual(len(third["files"]), 1)
        self.assertEqual((third["files"].created_count, third["files"].error_count), (0, 1))
        self.assertEqual(self._returns(), returns)

    def test_credit_note_line_shows_the_reason(self):
        self._import()
        ret = self._returns().filtered(lambda r: r.sku == "WIDGET-BLUE")
        note = ret.credit_note_ids
        self.assertEqual(len(note), 1)
        self.assertEqual(note.move_type, "out_refund")
        line = note.invoice_line_ids.filtered(lambda ln: ln.product_id == self.product)
        self.assertEqual(len(line), 1)
        self.assertEqual(line.amazon_return_ids, ret)
        reason = dict(ret._fields["reason"]._description_selection(self.env))[ret.reason]
        self.assertEqual(line.amazon_return_reason, f"{reason} / {ret.disposition}")
        # an accountant without Amazon rights sees it too
        accountant = new_test_user(
            self.env, login="plain_accountant", groups="account.group_account_invoice"
        )
        self.assertEqual(line.with_user(accountant).amazon_return_reason, line.amazon_return_reason)
        # the other lines (taxes, receivable) show nothing
        self.assertFalse(any((note.line_ids - line).mapped("amazon_return_reason")))
        # shown in the credit note's lines
        arch = self.env["account.move"].get_view(view_type="form")["arch"]
        self.assertIn('name="amazon_return_reason"', arch)

    def test_a_malformed_row_is_named_and_the_others_imported(self):
        lines = {
            FBA_RETURNS: [
                "yesterday\t114-9999999-0000001\tWIDGET-RED\t\t\t\t1\tPHX7\tSELLABLE\t"
                "UNWANTED_ITEM\tUnit returned to inventory\tLPNBROKEN0001\t"
            ]
        }
        self.dataset.returns_report_extra_lines = lines
        self.addCleanup(setattr, self.dataset, "returns_report_extra_lines", {})
        result = self._import(report_types=[FBA_RETURNS])
        self.assertEqual(len(result["returns"]), 3)
        file = result["files"]
        self.assertEqual((file.state, file.error_count, file.created_count), ("partial", 1, 3))
        self.assertEqual(file.message, "Line 5: unreadable date 'yesterday'")
        self.assertEqual(len(result["problems"]), 1)
        self.assertIn("5", result["problems"][0])

    def test_reimbursements_imported_and_linked(self):
        result = self._import(report_types=[REIMBURSEMENTS])
        row = result["reimbursements"]
        self.assertEqual(len(row), 1)
        self.assertRecordValues(
            row,
            [
                {
                    "sku": "MUG-SET-4",
                    "reason": "Damaged_Warehouse",
                    "amount_total": 16.5,
                    "amount_per_unit": 8.25,
                    "quantity_cash": 2,
                    "quantity_total": 2,
                    "currency_id": self.env.ref("base.USD").id,
                    "marketplace_id": self.marketplace_us.id,
                }
            ],
        )
        adjustment = self.env["amazon.sp.event"].search(
            [("account_id", "=", self.account.id), ("event_type", "=", "adjustment")]
        )
        self.assertEqual(len(adjustment), 1)
        self.assertEqual(row.event_ids, adjustment)
        self.assertTrue(row.linked)
        self.assertFalse(self._import(report_types=[REIMBURSEMENTS])["reimbursements"])

    def test_a_return_before_its_refund_is_linked_later(self):
        item = {**self.us_item(sku="KETTLE-1L"), "fulfillment_network": "MFN"}
        order = "114-1000004-0000004"
        self.dataset.add_refund(
            "US", order_id=order, posted=self.now - timedelta(days=1), items=[item]
        )
        first = self._import(report_types=[MERCHANT_RETURNS])
        ret = first["returns"]
        self.assertRecordValues(
            ret,
            [
                {
                    "source": "merchant",
                    "amazon_order_id": order,
                    "sku": "KETTLE-1L",
                    "refunded": False,
                    "atoz_claim": False,
                }
            ],
        )
        self.assertTrue(ret.reason_code.startswith("CR-") and ret.rma_id)
        # the refund is imported afterwards: the next run links the return
        self.env["amazon.sp.service.import"]._sync(self.account, order_id=order)
        second = self._import(report_types=[MERCHANT_RETURNS])
        self.assertFalse(second["returns"])
        self.assertTrue(ret.refunded)
        self.assertEqual(ret.event_ids.amazon_order_id, order)
        notes = ret.event_ids.move_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(len(notes), 1)
        self.assertEqual(ret.credit_note_ids, notes)

    def test_refund_rate_per_sku(self):
        self._import()
        rates = self.env["amazon.sp.return.rate"].search(
            [("account_id", "=", self.account.id), ("sku", "=", "WIDGET-BLUE")]
        )
        self.assertEqual(len(rates), 1)
        self.assertEqual((rates.refunded_orders, rates.returned_units), (1, 1))
        # no sale event of the SKU is imported: no rate
        self.assertEqual((rates.sold_orders, rates.rate), (0, 0.0))

    def test_button_and_protection(self):
        action = self.account.action_amazon_sp_import_returns()
        self.assertEqual(action["res_model"], "amazon.sp.return")
        self.assertEqual(len(self.env["amazon.sp.return"].search(action["domain"])), 3)
        ret = self._returns()[:1]
        with self.assertRaises(AccessError):
            ret.with_user(self.amazon_user).write({"reason": "other"})
        with self.assertRaises(AccessError):
            self.env["amazon.sp.return"].create(
                {"account_id": self.account.id, "source": "fba", "key": "forged"}
            )
        cron = self.env.ref("account_amazon_refund.ir_cron_amazon_sp_returns")
        self.assertTrue(cron.active)

    def test_scheduled_action_imports_linked_accounts(self):
        self.account.state = "linked"
        broken = self._import_account("na", self.marketplace_us, name="No credentials")
        broken.write({"state": "linked", "lwa_client_secret": False})
        self.env["amazon.sp.account"]._cron_amazon_sp_returns()
        self.assertEqual(len(self._returns()), 3)
        self.assertEqual(
            len(self.env["amazon.sp.reimbursement"].search([("account_id", "=", self.account.id)])),
            1,
        )

    def _cursor(self, report_type):
        return self.env["amazon.sp.return.cursor"].search(
            [("account_id", "=", self.account.id), ("report_type", "=", report_type)]
        )

    def test_a_run_stops_before_waiting_past_its_deadline(self):
        # Amazon lets a seller download one report document a minute: a run that would have to
        # wait past its deadline stops before the call, and the report asked for stays on its
        # cursor for the next run, which imports it.
        client = self.account._get_spapi_client()
        bucket = client.bucket("getReportDocument")
        bucket.drain()
        wait = bucket.wait_time()
        self.assertGreater(wait, 0.2)
        first = self._import(
            client=client, report_types=[FBA_RETURNS], deadline=time.monotonic() + wait / 2
        )
        self.assertTrue(first["more"])
        self.assertFalse(first["returns"] or first["files"])
        self.assertTrue(self._cursor(FBA_RETURNS).report_id)
        second = self._import(report_types=[FBA_RETURNS])
        self.assertFalse(second["more"])
        self.assertEqual(len(second["returns"]), 3)
        self.assertFalse(self._cursor(FBA_RETURNS).report_id)

    def test_scheduled_action_out_of_time_runs_again_a_minute_later(self):
        self.account.state = "linked"
        cron = self.env.ref("account_amazon_refund.ir_cron_amazon_sp_returns")
        Trigger = self.env["ir.cron.trigger"].sudo()
        before = Trigger.search([("cron_id", "=", cron.id)])
        with patch.object(amazon_sp_account_returns, "CRON_BUDGET", 0):
            self.env["amazon.sp.account"]._cron_amazon_sp_returns()
        self.assertFalse(self._returns())
        later = Trigger.search([("cron_id", "=", cron.id)]) - before
        self.assertEqual(len(later), 1)
        self.assertGreater(later.call_at, self.env.cr.now())
        # the next run goes on and imports everything
        self.env["amazon.sp.account"]._cron_amazon_sp_returns()
        self.assertEqual(len(self._returns()), 3)

    def test_no_backoff_waits_past_the_deadline(self):
        # A wait the client decides itself (a backoff after a 429, a rate limit Amazon lowered)
        # is cut at the deadline too: the run stops there and the next one goes on.
        client = self.account._get_spapi_client()
        slept = []

        def long_sleep(seconds):
            slept.append(seconds)

        client.sleep = long_sleep
        with patch.object(type(client), "get_report", side_effect=lambda *a: client.sleep(600)):
            first = self._import(
                client=client, report_types=[FBA_RETURNS], deadline=time.monotonic() + 30
            )
        self.assertTrue(first["more"])
        self.assertFalse(slept, "the 600 s wait was not made")
        self.assertIs(client.sleep, long_sleep, "the client's own sleep is given back")
        second = self._import(report_types=[FBA_RETURNS])
        self.assertEqual(len(second["returns"]), 3)
