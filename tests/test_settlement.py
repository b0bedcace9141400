import base64
import hashlib
from datetime import UTC, timedelta
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common_import import CLIENT_KWARGS, AmazonImportCommon, D

# Rates of the test (units per USD, the company currency)
EUR_RATE = 0.9
GBP_RATE = 0.8
EUR_TO_GBP = D("0.8573")


@tagged("post_install", "-at_install")
class TestSettlement(AmazonImportCommon):
    """Settlements (USD with a reserve carried over, EUR paid out in GBP, GBP) end reconciled:
    payouts posted, clearing lines reconciled, bank lines matched; mismatches wait for review."""

    marketplace_codes = ("US", "UK", "DE")

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
        ds = cls.dataset
        now = cls.now
        eur, gbp = cls.env.ref("base.EUR"), cls.env.ref("base.GBP")
        (eur | gbp).active = True
        Rate = cls.env["res.currency.rate"]
        Rate.search([("currency_id", "in", (eur | gbp).ids)]).unlink()
        Rate.create(
            [
                {"currency_id": eur.id, "name": "2020-01-01", "rate": EUR_RATE},
                {"currency_id": gbp.id, "name": "2020-01-01", "rate": GBP_RATE},
            ]
        )

        def closed(currency, back=1):
            group = ds.group_for(currency, now - timedelta(hours=1))
            for _i in range(back):
                group = ds.group_for(currency, group.start - timedelta(seconds=1))
            return group

        cls.g_usd1, cls.g_usd2 = closed("USD", 2), closed("USD", 1)
        cls.g_eur, cls.g_gbp = closed("EUR"), closed("GBP")
        cls.g_eur.converted_currency = "GBP"
        cls.g_eur.conversion_rate = EUR_TO_GBP

        def at(group, hours):
            return group.start + timedelta(hours=hours)

        # USD, first period: refunds, the main reimbursement types, a reserve held at its end
        for hours in (5, 30):
            ds.add_refund("US", posted=at(cls.g_usd1, hours), items=[cls.us_item()])
        cls.reimbursements = {}
        for hours, (kind, per_unit) in enumerate(
            (
                ("FBAInventoryReimbursement", "11.00"),
                ("CustomerReturn", "12.50"),
                ("WAREHOUSE_DAMAGE", "8.25"),
                ("WAREHOUSE_LOST", "9.10"),
                ("MISSING_FROM_INBOUND", "7.40"),
                ("REVERSAL_REIMBURSEMENT", "-12.50"),
            ),
            start=40,
        ):
            cls.reimbursements[kind] = ds.add_adjustment(
                "US",
                kind,
                posted=at(cls.g_usd1, hours),
                items=[{"sku": f"SKU-{kind}", "quantity": 2, "per_unit": D(per_unit)}],
            )
        cls.reserve = D("120.00")
        ds.add_adjustment(
            "US", "ReserveEvent", posted=cls.g_usd1.end - timedelta(minutes=5), amount=-cls.reserve
        )
        # USD, second period: the reserve released (carried over), a refund, a subscription fee
        ds.add_adjustment(
            "US", "ReserveEvent", posted=cls.g_usd2.start + timedelta(minutes=5), amount=cls.reserve
        )
        cls.g_usd2.beginning_balance = cls.reserve
        ds.add_refund("US", posted=at(cls.g_usd2, 20), items=[cls.us_item(principal="35.00")])
        ds.add_service_fee(
            "US",
            fees={"Subscription": -D("39.99")},
            posted=at(cls.g_usd2, 50),
            fee_reason="Subscription Fee",
            fee_description="Subscription Fee",
        )
        # EUR (paid in GBP) and GBP periods
        for hours, principal in ((10, "49.90"), (60, "19.99")):
            ds.add_refund("DE", posted=at(cls.g_eur, hours), items=[cls.eu_item(principal)])
        ds.add_adjustment(
            "DE",
            "WAREHOUSE_LOST",
            posted=at(cls.g_eur, 80),
            items=[{"sku": "SKU-DE-LOST", "quantity": 1, "per_unit": D("23.45")}],
        )
        ds.add_refund("UK", posted=at(cls.g_gbp, 15), items=[cls.eu_item("29.99")])
        ds.add_adjustment(
            "UK",
            "WAREHOUSE_DAMAGE",
            posted=at(cls.g_gbp, 70),
            items=[{"sku": "SKU-UK-DMG", "quantity": 3, "per_unit": D("4.10")}],
        )
        cls.groups = (cls.g_usd1, cls.g_usd2, cls.g_eur, cls.g_gbp)
        cls.sync_from = min(g.start for g in cls.groups)
        cls.bank_usd = cls.company_data["default_journal_bank"]
        cls.bank_gbp = cls.env["account.journal"].create(
            {"name": "Bank GBP", "code": "BGBP", "type": "bank", "currency_id": gbp.id}
        )
        cls.account = cls._import_account(
            "na",
            cls.marketplace_us | cls.marketplace_uk | cls.marketplace_de,
            sync_from=cls.sync_from.replace(tzinfo=None),
        )

    @staticmethod
    def eu_item(principal, sku="SKU-EU-1"):
        return {
            "sku": sku,
            "quantity": 1,
            "charges": {"Principal": -D(principal)},
            "fees": {"Commission": D("2.00"), "RefundCommission": -D("0.40")},
        }

    # helpers ---------------------------------------------------------------------------------

    def _transfers(self):
        return {t["group_id"]: t for t in self.dataset.fund_transfers()}

    def _bank_line(self, transfer):
        journal = self.bank_gbp if transfer["currency"] == "GBP" else self.bank_usd
        return self.env["account.bank.statement.line"].create(
            {
                "journal_id": journal.id,
                "date": transfer["date"].astimezone(UTC).date(),
                "amount": float(transfer["amount"]),
                "payment_ref": f"AMAZON PAYMENTS {transfer['trace_id']}",
            }
        )

    def _settlements(self):
        return self.env["amazon.sp.settlement"].search([("account_id", "=", self.account.id)])

    def _settlement(self, group):
        return self._settlements().filtered(lambda s: s.group_id == group.group_id)

    def _clearing_lines(self, settlement):
        clearing = self.env.company.amazon_sp_clearing_account_id
        moves = settlement.event_ids.move_ids | settlement.payout_move_id
        return moves.line_ids.filtered(lambda line: line.account_id == clearing)

    def _accounts_of(self, event):
        clearing = self.env.company.amazon_sp_clearing_account_id
        return (event.move_ids.line_ids.account_id - clearing).mapped("code")

    # tests -----------------------------------------------------------------------------------

    def test_settlements_end_reconciled_with_zero_difference(self):
        transfers = self._transfers()
        bank_lines = {
            g.group_id: self._bank_line(transfers[g.group_id])
            for g in (self.g_usd1, self.g_eur, self.g_gbp)
        }
        run = self.env["amazon.sp.service.import"]._sync(self.account)
        self.assertEqual(run.state, "done", run.error)
        events = self._events(self.account)
        self.assertEqual(
            set(events.mapped("state")),
            {"posted"},
            "\n".join(f"{e.name}: {e.state} {e.review_message}" for e in events),
        )
        self.assertEveryCent(events)
        for group in self.groups:
            settlement = self._settlement(group)
            self.assertEqual(len(settlement), 1, group.group_id)
            self.assertEqual(
                settlement.state, "reconciled", f"{settlement.name}: {settlement.review_message}"
            )
            self.assertEqual(set(settlement.event_ids.mapped("group_id")), {group.group_id})
            self.assertEqual(
                sorted(settlement.event_ids.mapped("transaction_id")),
                sorted(ev.transaction_id for ev in self.dataset.group_events(group)),
            )
            self.assertAlmostEqual(
                settlement.original_total, float(self.dataset.group_total(group)), places=2
            )
            payout = settlement.payout_move_id
            self.assertEqual(payout.state, "posted")
            self.assertLessEqual(abs((payout.date - group.end.date()).days), 1)
            lines = self._clearing_lines(settlement)
            self.assertTrue(all(lines.mapped("reconciled")), settlement.name)
            self.assertTrue(lines.full_reconcile_id and len(lines.full_reconcile_id) == 1)
            self.assertAlmostEqual(sum(lines.mapped("balance")), 0.0, places=2)
            self.assertAlmostEqual(sum(lines.mapped("amount_currency")), 0.0, places=2)
        # the reserve carried over: the second USD settlement's beginning balance
        usd2 = self._settlement(self.g_usd2)
        self.assertAlmostEqual(usd2.beginning_balance, float(self.reserve), places=2)
        reserve_account = self.env.company._amazon_sp_account("reserve")
        reserve_lines = self.env["account.move.line"].search(
            [("account_id", "=", reserve_account.id), ("parent_state", "=", "posted")]
        )
        self.assertEqual(len(reserve_lines), 2)
        self.assertAlmostEqual(sum(reserve_lines.mapped("balance")), 0.0, places=2)
        # EUR paid in GBP: the payout is in GBP, the conversion difference on the exchange account
        eur = self._settlement(self.g_eur)
        self.assertEqual(eur.converted_currency_id.name, "GBP")
        payout = eur.payout_move_id
        self.assertEqual(payout.journal_id, self.bank_gbp)
        bank = payout.line_ids.filtered(lambda line: line.currency_id.name == "GBP")
        self.assertAlmostEqual(
            bank.amount_currency, float(transfers[self.g_eur.group_id]["amount"])
        )
        exchange = payout.line_ids - bank - self._clearing_lines(eur)
        company = self.env.company
        self.assertEqual(len(exchange), 1)
        self.assertIn(
            exchange.account_id,
            company.expense_currency_exchange_account_id
            | company.income_currency_exchange_account_id,
        )
        self.assertNotAlmostEqual(exchange.balance, 0.0, places=2)
        self.assertAlmostEqual(sum(payout.line_ids.mapped("balance")), 0.0, places=2)
        # GBP and USD: same currency, no exchange line
        for group in (self.g_usd1, self.g_gbp):
            self.assertEqual(len(self._settlement(group).payout_move_id.line_ids), 2)
        # bank lines created from the emulator's fund transfers are matched with the payouts
        for group_id, st_line in bank_lines.items():
            self.assertTrue(st_line.is_reconciled, group_id)
        # the last one arrives later: the button matches it
        late = self._bank_line(transfers[self.g_usd2.group_id])
        self.assertFalse(late.is_reconciled)
        usd2.action_match_bank_lines()
        self.assertTrue(late.is_reconciled)
        # reimbursements of each main type land on their own accounts
        by_type = {
            e.line_ids[:1].amount_type.split("/", 1)[1]: e
            for e in events.filtered(lambda e: e.event_type == "adjustment")
            if e.marketplace_id == self.marketplace_us
        }
        expected = {
            "FBAInventoryReimbursement": ["AMZRMB"],
            "CustomerReturn": ["AMZRMR"],
            "REVERSAL_REIMBURSEMENT": ["AMZRMR"],
            "WAREHOUSE_DAMAGE": ["AMZRMD"],
            "WAREHOUSE_LOST": ["AMZRMD"],
            "MISSING_FROM_INBOUND": ["AMZRMD"],
        }
        for kind, codes in expected.items():
            self.assertEqual(self._accounts_of(by_type[kind]), codes, kind)
        # the V2 settlement reports, a second witness, agree with the events of each settlement
        for group in self.groups:
            settlement = self._settlement(group)
            report = settlement.report_ids
            self.assertEqual(len(report), 1, group.group_id)
            self.assertEqual(report.state, "match", report.message)
            self.assertEqual(settlement.witness_state, "match")
            self.assertNotEqual(report.amazon_settlement_id, group.group_id)
            self.assertAlmostEqual(report.total_amount, settlement.original_total, places=2)
            self.assertEqual(len(report.attachment_id), 1)
            # kept as it came, its words not listed for search (files of tens of megabytes)
            self.assertEqual(report.attachment_id.index_content, "text")
            self.assertEqual(report.attachment_id.mimetype, "text/tab-separated-values")
            by_type = {}
            for line in settlement.event_ids.line_ids:
                by_type[line.amount_type] = by_type.get(line.amount_type, 0.0) + line.amount
            self.assertEqual(set(report.line_ids.mapped("amount_type")), set(by_type))
            # Amazon's V2 file writes a fee with its VAT (Fee/X), the 2024-06-19 events split it
            # (Fee/X + FeeTax/X): such lines may differ only when the report names them as a
            # naming difference, and their family's sums agree.
            pools = {}
            for line in report.line_ids:
                self.assertAlmostEqual(line.events_amount, by_type[line.amount_type], places=2)
                if abs(line.difference) < 0.005:
                    continue
                self.assertIn(line.amount_type, report.message or "", "unexplained difference")
                family = line.amount_type.split("/", 1)[0].replace("FeeTax", "Fee")
                pools[family] = pools.get(family, 0.0) + line.difference
            for family, difference in pools.items():
                self.assertAlmostEqual(difference, 0.0, places=2, msg=family)
        # the reconciliation review of a settlement: balanced, the reserve and the conversion
        # named as explanations
        for settlement, kinds in ((usd2, {"reserve"}), (eur, {"conversion"})):
            wizard = self.env["amazon.sp.reconcile.review"].create(
                {"scope": "settlement", "settlement_id": settlement.id}
            )
            review = self.env["amazon.sp.reconciliation"].browse(wizard.action_start()["res_id"])
            self.assertEqual(review.state, "balanced", review.difference_ids.mapped("message"))
            self.assertEqual(set(review.difference_ids.mapped("kind")), kinds)
            self.assertAlmostEqual(review.amazon_total, settlement.original_total, places=2)
            self.assertAlmostEqual(review.odoo_total, settlement.original_total, places=2)
        # idempotent: a second run imports, posts and pays nothing twice
        moves = self.env["account.move"].search_count([])
        run = self.env["amazon.sp.service.import"]._sync(self.account)
        self.assertEqual((run.events_new, run.events_posted), (0, 0))
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        self.assertEqual(len(self._settlements().filtered(lambda s: s.group_id in transfers)), 4)
        reports = self.env["amazon.sp.settlement.report"].search(
            [("account_id", "=", self.account.id)]
        )
        self.assertEqual(len(reports), len(transfers))  # every closed group, downloaded once

    def test_mismatch_goes_to_review_and_posts_nothing(self):
        ds = self.dataset
        # GBP: a refund with a fee type nobody mapped waits for review, so Odoo lacks its amount
        unmapped = ds.add_refund(
            "UK",
            posted=self.g_gbp.start + timedelta(hours=90),
            items=[{**self.eu_item("10.00"), "fees": {"NewFee2026": -D("1.11")}}],
        )
        # EUR: an amount Amazon changes after Odoo posted it
        changed = ds.add_refund(
            "DE", posted=self.g_eur.start + timedelta(hours=90), items=[self.eu_item("15.00")]
        )
        # GBP: the settlement report disagrees with the events (a row and the total)
        ds.report_total_delta[self.g_gbp.group_id] = D("5.00")
        ds.report_extra_rows[self.g_gbp.group_id] = [
            {
                "transaction-type": "other-transaction",
                "amount-type": "Mystery",
                "amount-description": "NewThing",
                "amount": "5.00",
            }
        ]
        self.addCleanup(ds.report_total_delta.clear)
        self.addCleanup(ds.report_extra_rows.clear)
        date_from = self.sync_from.replace(tzinfo=None)
        # no settlements yet
        self.env["amazon.sp.service.import"]._sync(self.account, date_from=date_from)
        self.assertFalse(self._settlements())
        ds.change_amount(changed, "charges", "Principal", -D("17.00"))
        self.env["amazon.sp.service.import"]._sync(self.account, settlements_only=True)
        gbp, eur = self._settlement(self.g_gbp), self._settlement(self.g_eur)
        self.assertEqual(gbp.state, "to_review")
        self.assertFalse(gbp.payout_move_id)
        self.assertIn("1 event(s) of the group not posted", gbp.review_message)
        self.assertIn("differs from the", gbp.review_message)
        self.assertEqual(eur.state, "to_review")
        self.assertFalse(eur.payout_move_id)
        self.assertIn("changed by Amazon after posting", eur.review_message)
        self.assertIn("by -2.00", eur.review_message)
        self.assertNotIn("not explained", eur.review_message)
        clearing = self.env.company.amazon_sp_clearing_account_id
        self.assertFalse(
            self._clearing_lines(gbp).filtered("reconciled"), "nothing reconciled in review"
        )
        self.assertTrue(clearing)
        report = gbp.report_ids
        self.assertEqual(report.state, "differs")
        self.assertEqual(gbp.witness_state, "differs")
        self.assertIn("differs from the events'", report.message)
        self.assertIn("by 5.00", report.message)
        self.assertIn("Report/Mystery/NewThing", report.message)
        # the USD settlements are unaffected
        self.assertEqual(self._settlement(self.g_usd1).state, "reconciled")
        # once the fee type is mapped, the event posts and the next refresh pays the GBP group out
        self.env["amazon.sp.amount.mapping"].create(
            {
                "company_id": self.env.company.id,
                "amount_type": "Fee/NewFee2026",
                "role": "fee",
                "account_id": self.env.company._amazon_sp_account("fees").id,
            }
        )
        event = self._events(self.account).filtered(
            lambda e: e.amazon_order_id == unmapped.order_id
        )
        event.action_retry()
        self.assertEqual(event.state, "posted", event.review_message)
        self.env["amazon.sp.service.import"]._sync(self.account, settlements_only=True)
        self.assertEqual(gbp.state, "reconciled", gbp.review_message)
        self.assertEqual(eur.state, "to_review")

    def test_payout_in_a_locked_period_moves_to_the_first_open_date(self):
        lock = self.g_usd1.end.date() + timedelta(days=1)
        self.env.company.fiscalyear_lock_date = lock
        self.env["amazon.sp.service.import"]._sync(self.account)
        settlement = self._settlement(self.g_usd1)
        self.assertEqual(settlement.state, "reconciled", settlement.review_message)
        self.assertGreater(settlement.payout_move_id.date, lock)
        self.assertIn(
            "locked period", " ".join(settlement.payout_move_id.message_ids.mapped("body"))
        )
        self.assertTrue(all(self._clearing_lines(settlement).mapped("reconciled")))

    def test_v0_events_learn_their_group_and_settlements_reconcile(self):
        account = self._import_account(
            "na",
            self.marketplace_us | self.marketplace_uk | self.marketplace_de,
            finances_api="v0",
            name="Seller v0",
            sync_from=self.sync_from.replace(tzinfo=None),
        )
        run = self.env["amazon.sp.service.import"]._sync(account)
        self.assertEqual(run.state, "done", run.error)
        events = self._events(account)
        self.assertEqual(
            set(events.mapped("state")),
            {"posted"},
            "\n".join(f"{e.name}: {e.state} {e.review_message}" for e in events),
        )
        settlements = self.env["amazon.sp.settlement"].search([("account_id", "=", account.id)])
        for group in self.groups:
            settlement = settlements.filtered(lambda s, g=group: s.group_id == g.group_id)
            self.assertEqual(settlement.state, "reconciled", settlement.review_message)
            # listFinancialEvents gives no group: listFinancialEventsByGroupId taught them
            self.assertEqual(len(settlement.event_ids), len(self.dataset.group_events(group)))
        self.assertEveryCent(events)
        self.assertEqual(len(events), len(self.dataset.events))  # nothing twice

    def test_payout_values_hook_changes_the_payout(self):
        Service = type(self.env["amazon.sp.service.settlement"])
        prepare = Service._prepare_payout_vals
        calls = []

        def prepare_with_ref(service, settlement, *args, **kwargs):
            calls.append(settlement.group_id)
            vals = prepare(service, settlement, *args, **kwargs)
            vals["ref"] = f"EXTENDED {settlement.group_id}"
            return vals

        with patch.object(Service, "_prepare_payout_vals", prepare_with_ref):
            run = self.env["amazon.sp.service.import"]._sync(self.account)
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(sorted(calls), sorted(g.group_id for g in self.groups))
        for group in self.groups:
            settlement = self._settlement(group)
            self.assertEqual(settlement.state, "reconciled", settlement.review_message)
            self.assertEqual(settlement.payout_move_id.ref, f"EXTENDED {group.group_id}")
            self.assertEqual(settlement.payout_move_id.state, "posted")

    def test_settlement_reports_failure_is_explained(self):
        # Amazon fails on the report list: the button says why in the user's words
        self.emu.inject("server_error", count=None, operation="getReports")
        with self.assertRaises(UserError) as caught:
            self.env["amazon.sp.service.import"]._fetch_settlement_reports(self.account)
        message = str(caught.exception.args[0])
        self.assertIn("Amazon's settlement reports could not be read", message)
        self.assertIn("Amazon's service failed; try again later.", message)
        self.assertIn("HTTP status 500", message)
        # during an import the settlements stand without the reports; the run names the failure
        run = self.env["amazon.sp.service.import"]._sync(self.account)
        self.assertEqual(run.state, "done", run.error)
        self.assertIn("Amazon's service failed; try again later.", run.error)
        self.assertEqual(self._settlement(self.g_usd1).state, "reconciled")
        self.assertFalse(
            self.env["amazon.sp.settlement.report"].search([("account_id", "=", self.account.id)])
        )

    def test_a_report_file_cut_off_keeps_nothing_and_comes_again_whole(self):
        """A settlement report whose download stops halfway (its gzip cut off) is an error the
        run names in plain words; nothing of it is kept; the next import downloads it whole,
        once, and it agrees with its settlement."""
        Report = self.env["amazon.sp.settlement.report"]
        self.emu.inject("cut_document", operation="downloadReportDocument")
        run = self.env["amazon.sp.service.import"]._sync(self.account)
        self.assertEqual(run.state, "done", run.error)
        self.assertIn("report file arrived cut off or damaged", run.error)
        self.assertEqual(self._settlement(self.g_usd1).state, "reconciled")
        cut = self.emu.count("downloadReportDocument")
        self.assertGreaterEqual(cut, 1)
        # the newest report is downloaded first: the cut one stopped the run's downloads
        self.assertFalse(Report.search([("account_id", "=", self.account.id)]))
        self.assertFalse(
            self.env["ir.attachment"].search(
                [("res_model", "=", Report._name), ("name", "like", "settlement-%")]
            )
        )
        run = self.env["amazon.sp.service.import"]._sync(self.account)
        self.assertEqual(run.state, "done", run.error)
        self.assertFalse(run.error)
        reports = Report.search([("account_id", "=", self.account.id)])
        self.assertTrue(reports)
        # each document once
        self.assertEqual(len(reports), len(set(reports.mapped("report_document_id"))))
        for report in reports:
            content = base64.b64decode(report.attachment_id.datas)
            self.assertEqual(report.sha256, hashlib.sha256(content).hexdigest())
        usd = reports.filtered(lambda r: r.settlement_id == self._settlement(self.g_usd1))
        self.assertEqual(usd.state, "match", usd.message)
        self.env["amazon.sp.service.import"]._sync(self.account)  # nothing more to download
        self.assertEqual(Report.search([("account_id", "=", self.account.id)]), reports)
