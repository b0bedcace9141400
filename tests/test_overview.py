import importlib.util
import json
import os
import re
from datetime import date, datetime

import lxml.html

from odoo import Command
from odoo.tests import TransactionCase, tagged
from odoo.tools.safe_eval import safe_eval

from .common import AmazonSpTestMixin

MINUS = "\N{MINUS SIGN}"
NBSP = "\N{NO-BREAK SPACE}"


@tagged("post_install", "-at_install")
class TestOverview(AmazonSpTestMixin, TransactionCase):
    """The overview (graph and pivot views over the events and their amounts), the settlement
    summary, and the plain names of settlements and events."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_amazon_sp()
        cls.account = cls._create_account()
        cls.usd = cls.env.ref("base.USD")
        cls.eur = cls.env.ref("base.EUR")
        cls.jpy = cls.env.ref("base.JPY")
        (cls.usd | cls.eur | cls.jpy).active = True
        cls.company.currency_id = cls.usd
        cls.company._amazon_sp_ensure_setup()
        cls.env["res.currency.rate"].create(
            {
                "currency_id": cls.eur.id,
                "company_id": cls.company.id,
                "name": "2026-11-01",
                "rate": 2.0,
            }
        )
        cls.settlement = cls._settlement(
            "GROUP-NOV",
            cls.marketplace_us,
            cls.usd,
            33.00,
            datetime(2026, 11, 6, 7),
            datetime(2026, 11, 20, 7),
        )
        cls.refund = cls._event(
            "refund",
            [("Charge/Principal", -20.00), ("Fee/Commission", 3.00)],
            order="111-1234567-1234567",
        )
        cls.storage = cls._event("service_fee", [("Fee/FBAStorageFee", -10.00)])
        cls.ads = cls._event("service_fee", [("Fee/CostOfAdvertising", -5.00)])
        cls.reimbursement = cls._event(
            "adjustment", [("Adjustment/FBAInventoryReimbursement", 15.00)], day=date(2026, 11, 20)
        )
        cls.sale = cls._event("sale", [("Charge/Principal", 50.00)], order="111-7654321-7654321")
        cls.claim_eur = cls._event(
            "guarantee_claim",
            [("Charge/Principal", -10.00)],
            order="302-1111111-1111111",
            currency=cls.eur,
            marketplace=cls.marketplace_de,
            settlement=False,
            state="to_review",
        )
        cls.fee_entry = cls._entry(cls.storage, 10.00)

    @classmethod
    def _settlement(cls, group, marketplace, currency, total, start, end):
        return (
            cls.env["amazon.sp.settlement"]
            ._amazon_sp_flow()
            .create(
                {
                    "account_id": cls.account.id,
                    "group_id": group,
                    "marketplace_id": marketplace.id,
                    "currency_id": currency.id,
                    "original_total": total,
                    "converted_currency_id": currency.id,
                    "converted_total": total,
                    "start_date": start,
                    "end_date": end,
                    "processing_status": "closed",
                    "state": "to_reconcile",
                }
            )
        )

    @classmethod
    def _event(
        cls,
        event_type,
        lines,
        order=None,
        currency=None,
        marketplace=None,
        settlement=None,
        state="posted",
        day=date(2026, 11, 10),
    ):
        settlement = cls.settlement if settlement is None else settlement
        return (
            cls.env["amazon.sp.event"]
            ._amazon_sp_flow()
            .create(
                {
                    "account_id": cls.account.id,
                    "key": f"txn:{event_type}:{order or len(lines)}:{lines[0][0]}",
                    "source_api": "2024-06-19",
                    "event_type": event_type,
                    "amazon_order_id": order,
                    "marketplace_id": (marketplace or cls.marketplace_us).id,
                    "currency_id": (currency or cls.usd).id,
                    "amount_total": sum(amount for _type, amount in lines),
                    "posted_date": datetime.combine(day, datetime.min.time()),
                    "date": day,
                    "state": state,
                    "review_reason": "threshold" if state == "to_review" else False,
                    "settlement_id": settlement.id if settlement else False,
                    "group_id": settlement.group_id if settlement else False,
                    "raw_json": json.dumps({"transactionId": "TXN17ZUF5WOX", "lines": lines}),
                    "line_ids": [
                        Command.create(
                            {
                                "amount_type": amount_type,
                                "category": amount_type.split("/")[0],
                                "amount": amount,
                            }
                        )
                        for amount_type, amount in lines
                    ],
                }
            )
        )

    @classmethod
    def _entry(cls, event, amount):
        company = cls.company
        expense = cls.env["account.account"].search(
            [("company_ids", "in", company.id), ("account_type", "=", "expense")], limit=1
        )
        move = cls.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": company.amazon_sp_journal_id.id,
                "date": event.date,
                "ref": "Amazon Service Fee, fees",
                "line_ids": [
                    Command.create({"account_id": expense.id, "debit": amount, "name": "Storage"}),
                    Command.create(
                        {
                            "account_id": company.amazon_sp_clearing_account_id.id,
                            "credit": amount,
                            "name": "Storage",
                        }
                    ),
                ],
            }
        )
        move.action_post()
        event._amazon_sp_flow().move_ids = move
        return move

    # ------------------------------------------------------------------------------------------
    # Plain names
    # ------------------------------------------------------------------------------------------

    def test_settlement_named_by_marketplace_period_and_total(self):
        self.assertEqual(
            self.settlement.name, f"Amazon.com · 06\N{EN DASH}20 Nov 2026 · ${NBSP}33.00"
        )
        yen = self._settlement(
            "GROUP-JP",
            self.marketplace_jp,
            self.jpy,
            -1200,
            datetime(2026, 10, 28),
            datetime(2026, 11, 10),
        )
        # no two decimals in yen, a true minus sign, a period over two months
        self.assertEqual(
            yen.name, f"Amazon.co.jp · 28 Oct \N{EN DASH} 10 Nov 2026 · ¥{NBSP}{MINUS}1,200"
        )
        self.assertNotIn("GROUP-JP", yen.name)

    def test_event_names_have_no_technical_keys(self):
        self.assertEqual(self.refund.name, "Refund 111-1234567-1234567")
        self.assertEqual(self.reimbursement.name, "Adjustment of 20 Nov 2026")
        events = self.env["amazon.sp.event"].search([("account_id", "=", self.account.id)])
        for event in events:
            self.assertNotIn("txn:", event.name)
            self.assertNotIn("txn:", event.display_name)

    def test_migration_names_existing_records_again(self):
        """18.0.1.2.0's post-names: records imported before the plain names kept their
        technical ones (stored); the migration computes them again."""
        path = os.path.join(
            os.path.dirname(__file__), "..", "migrations", "18.0.1.2.0", "post-names.py"
        )
        spec = importlib.util.spec_from_file_location("aar_post_names", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        review = self.env["amazon.sp.reconciliation"].create(
            {
                "account_id": self.account.id,
                "scope": "settlement",
                "settlement_id": self.settlement.id,
            }
        )
        names = {
            rec: rec.name for rec in (self.settlement, self.refund, self.reimbursement, review)
        }
        # As a database of the previous version has them.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE amazon_sp_settlement SET name = group_id WHERE id = %s", [self.settlement.id]
        )
        self.env.cr.execute(
            "UPDATE amazon_sp_event SET name = 'Refund (to_review) txn:TXN17ZUF5WOX' "
            "WHERE id IN %s",
            [(self.refund.id, self.reimbursement.id)],
        )
        self.env.cr.execute(
            "UPDATE amazon_sp_reconciliation SET name = 'Review GROUP-NOV' WHERE id = %s",
            [review.id],
        )
        self.env.invalidate_all()
        self.assertEqual(self.settlement.name, "GROUP-NOV")
        self.assertEqual(self.refund.name, "Refund (to_review) txn:TXN17ZUF5WOX")

        counts = migration.recompute_names(self.env)

        self.assertGreaterEqual(counts["amazon.sp.event"], 2)
        for record, name in names.items():
            self.assertEqual(record.name, name)
        self.assertEqual(
            self.settlement.name, f"Amazon.com · 06\N{EN DASH}20 Nov 2026 · ${NBSP}33.00"
        )
        self.assertEqual(self.refund.name, "Refund 111-1234567-1234567")
        self.assertEqual(review.name, f"Review {self.settlement.name}")

    def test_raw_json_is_shown_indented_and_stored_as_received(self):
        raw = self.refund.raw_json
        self.assertNotIn("\n", raw)
        pretty = self.refund.raw_json_pretty
        self.assertIn('\n  "transactionId": "TXN17ZUF5WOX"', pretty)
        self.assertEqual(json.loads(pretty), json.loads(raw))
        self.assertEqual(self.refund.raw_json, raw)
        self.assertEqual(
            self.env["amazon.sp.event"]._fields["content_sha256"].string, "Content SHA-256"
        )
        self.assertEqual(self.env["amazon.sp.event"]._fields["source_api"].string, "Finances API")

    # ------------------------------------------------------------------------------------------
    # The overview
    # ------------------------------------------------------------------------------------------

    def test_refunds_and_claims_per_marketplace_in_company_currency(self):
        Report = self.env["amazon.sp.event.report"]
        action = self.env.ref("account_amazon_refund.amazon_sp_event_report_action_refunds")
        domain = [*safe_eval(action.domain), ("account_id", "=", self.account.id)]
        groups = Report._read_group(
            domain,
            ["marketplace_id", "date:month"],
            ["event_count:sum", "amount_company:sum", "amount_total:sum"],
        )
        by_marketplace = {mp: (count, company, own) for mp, _month, count, company, own in groups}
        self.assertEqual(by_marketplace[self.marketplace_us], (1, -20.0 + 3.0, -17.0))
        # 10 EUR at 2 EUR for 1 USD: 5 USD
        self.assertEqual(by_marketplace[self.marketplace_de], (1, -5.0, -10.0))
        self.assertEqual(set(Report.search(domain).mapped("company_currency_id")), {self.usd})

    def test_review_backlog_by_reason(self):
        action = self.env.ref("account_amazon_refund.amazon_sp_event_report_action_review")
        domain = [*safe_eval(action.domain), ("account_id", "=", self.account.id)]
        groups = self.env["amazon.sp.event.report"]._read_group(
            domain, ["review_reason"], ["__count"]
        )
        self.assertEqual(groups, [("threshold", 1)])

    def test_fees_and_reimbursements_by_type(self):
        Lines = self.env["amazon.sp.event.line.report"]
        account = [("account_id", "=", self.account.id)]
        fees = self.env.ref("account_amazon_refund.amazon_sp_event_line_report_action_fees")
        by_type = dict(
            Lines._read_group(
                [*safe_eval(fees.domain), *account], ["amount_type"], ["amount_company:sum"]
            )
        )
        self.assertEqual(
            by_type,
            {"Fee/Commission": 3.0, "Fee/FBAStorageFee": -10.0, "Fee/CostOfAdvertising": -5.0},
        )
        reimbursements = self.env.ref(
            "account_amazon_refund.amazon_sp_event_line_report_action_reimbursements"
        )
        by_type = dict(
            Lines._read_group(
                [*safe_eval(reimbursements.domain), *account], ["amount_type"], ["amount:sum"]
            )
        )
        self.assertEqual(by_type, {"Adjustment/FBAInventoryReimbursement": 15.0})
        kinds = dict(
            Lines._read_group(
                [("settlement_id", "=", self.settlement.id)], ["kind"], ["amount:sum"]
            )
        )
        self.assertEqual(
            kinds,
            {
                "sale": 50.0,
                "refund": -20.0,
                "fee": -7.0,
                "advertising": -5.0,
                "reimbursement": 15.0,
            },
        )

    def test_overview_menu_opens_graph_and_pivot_views(self):
        menu = self.env.ref("account_amazon_refund.amazon_sp_menu_overview")
        self.assertEqual(menu.parent_id, self.env.ref("account_amazon_refund.amazon_sp_menu_root"))
        actions = menu.child_id.mapped("action")
        self.assertEqual(len(actions), 6)
        for action in actions:
            self.assertIn(action.view_mode.split(",")[:2], (["graph", "pivot"], ["pivot", "graph"]))
            Model = self.env[action.res_model].with_user(self.amazon_user)
            views = Model.get_views([(False, "graph"), (False, "pivot"), (False, "list")])
            self.assertEqual(set(views["views"]), {"graph", "pivot", "list"})
            # the user of the Amazon group reads what the overview shows
            Model.search_count([])

    # ------------------------------------------------------------------------------------------
    # Settlement summary
    # ------------------------------------------------------------------------------------------

    def test_settlement_summary_shows_the_figures_and_the_documents(self):
        self.maxDiff = None
        report = self.env.ref("account_amazon_refund.action_report_amazon_sp_settlement_summary")
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(report, self.settlement.ids)
        html = html.decode()
        self.assertIn("Settlement Summary", html)
        self.assertIn("Amazon.com", html)
        figures = {
            row[0]: row[1:]
            for row in self._table_rows(html, "o_amazon_summary_figures")
            if len(row) == 3
        }
        self.assertEqual(
            figures,
            {
                "Sales": ["1", f"${NBSP}50.00"],
                "Refunds": ["1", f"${NBSP}-20.00"],
                "Fees": ["2", f"${NBSP}-7.00"],
                "Advertising": ["1", f"${NBSP}-5.00"],
                "Reimbursements": ["1", f"${NBSP}15.00"],
                "Amazon's total": ["", f"${NBSP}33.00"],
            },
        )
        payout = dict(row for row in self._table_rows(html, "o_amazon_summary_payout"))
        self.assertEqual(payout["Paid to the bank"], f"${NBSP}33.00")
        self.assertIn("33.00", html)
        self.assertIn(self.fee_entry.name, html)
        self.assertIn("Amazon Service Fee, fees", html)
        self.assertNotIn("Not explained", html)

    def _table_rows(self, html, css_class):
        """The text of the cells of each row of the report's table ``css_class``."""
        tree = lxml.html.fromstring(html)
        table = tree.xpath(f"//table[contains(@class, '{css_class}')]")[0]
        return [
            [
                re.sub(r"[ \t\n]+", " ", cell.text_content()).replace("\ufeff", "").strip()
                for cell in row.xpath("./th|./td")
            ]
            for row in table.xpath(".//tr[not(ancestor::thead)]")
        ]

    def test_summary_names_what_the_events_do_not_explain(self):
        self.settlement._amazon_sp_flow().original_total = 40.00
        values = self.settlement._summary_values()
        self.assertAlmostEqual(values["unexplained"], 7.00)
        self.assertEqual(values["documents"][0][1], self.fee_entry)

    def test_summary_button_opens_the_pdf_or_the_html_page(self):
        action = self.settlement.action_summary()
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() == "ok":
            self.assertEqual(action["type"], "ir.actions.report")
        else:
            self.assertEqual(action["type"], "ir.actions.act_url")
            self.assertEqual(
                action["url"],
                f"/report/html/account_amazon_refund.report_amazon_sp_settlement_summary/{self.settlement.id}",
            )

    def test_no_two_fields_share_a_label(self):
        """Odoo warns when two fields of a model have the same label (filters, exports and
        the list's optional columns could not tell them apart): none of the addon's fields
        shares its label with another field of its model."""
        clashes = []
        for model in self.env.registry.values():
            by_label = {}
            for field in model._fields.values():
                other = by_label.setdefault(field.string, field)
                if other is not field and "account_amazon_refund" in (field._module, other._module):
                    clashes.append(f"{model._name}: {other.name}, {field.name} ({field.string})")
        self.assertEqual(clashes, [])

    def test_grouped_lists_know_the_currency_of_each_group(self):
        """A group of a grouped list says the currency of its amounts (the list shows its
        totals with it), and that there is none where its records mix currencies."""
        domain = [("account_id", "=", self.account.id)]
        Event = self.env["amazon.sp.event"]
        by_marketplace = {
            group["marketplace_id"][0]: group
            for group in Event.web_read_group(domain, ["amount_total:sum"], ["marketplace_id"])[
                "groups"
            ]
        }
        self.assertEqual(
            by_marketplace[self.marketplace_us.id]["__amazon_sp_currency"],
            {"currency_id": self.usd.id},
        )
        self.assertEqual(
            by_marketplace[self.marketplace_de.id]["__amazon_sp_currency"],
            {"currency_id": self.eur.id},
        )
        (month,) = Event.web_read_group(domain, ["amount_total:sum"], ["date:month"])["groups"]
        self.assertEqual(month["__amazon_sp_currency"], {"currency_id": False})
        self.assertNotIn("__amz_min_currency_id", month)
        # Both amounts of a settlement, each with its own currency field.
        (group,) = self.env["amazon.sp.settlement"].web_read_group(
            [("id", "=", self.settlement.id)],
            ["original_total:sum", "converted_total:sum"],
            ["account_id"],
        )["groups"]
        self.assertEqual(group["__amazon_sp_currency"]["currency_id"], self.usd.id)
        self.assertIn("converted_currency_id", group["__amazon_sp_currency"])
        # Other models are left as Odoo makes them.
        (partners,) = self.env["res.partner"].web_read_group(
            [("id", "=", self.company.partner_id.id)], ["id:count"], ["company_id"]
        )["groups"]
        self.assertNotIn("__amazon_sp_currency", partners)
