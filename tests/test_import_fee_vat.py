from decimal import Decimal

from odoo import Command
from odoo.tests import tagged

from odoo.addons.account_amazon_refund.domain.fee_tax import split_by_factors
from odoo.addons.account_amazon_refund.domain.plan_rules import ACCOUNT_REFS
from odoo.addons.account_amazon_refund.models.res_company import AMAZON_ACCOUNT_DEFAULTS

from .common_import import AmazonImportCommon, D


@tagged("post_install", "-at_install")
class TestImportFeeVat(AmazonImportCommon):
    """The VAT Amazon charges on its fees (2024-06-19 ``AmazonFees/<Fee>/Tax``): part of the fee
    where the company is not registered, else its input VAT, exactly Amazon's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        country = cls.company.account_fiscal_country_id
        cls.input_vat_account = cls.env["account.account"].create(
            {"name": "Input VAT", "code": "AMZIVAT", "account_type": "asset_current"}
        )
        cls.tags = {
            name: cls.env["account.account.tag"].create(
                {"name": name, "applicability": "taxes", "country_id": country.id}
            )
            for name in ("base", "vat", "refund base", "refund vat")
        }

        def repartition(base, vat):
            return [
                Command.create(
                    {"repartition_type": "base", "tag_ids": [Command.set(cls.tags[base].ids)]}
                ),
                Command.create(
                    {
                        "repartition_type": "tax",
                        "account_id": cls.input_vat_account.id,
                        "tag_ids": [Command.set(cls.tags[vat].ids)],
                    }
                ),
            ]

        cls.input_vat = cls.env["account.tax"].create(
            {
                "name": "Input VAT 19%",
                "type_tax_use": "purchase",
                "amount_type": "percent",
                "amount": 19.0,
                "country_id": country.id,
                "invoice_repartition_line_ids": repartition("base", "vat"),
                "refund_repartition_line_ids": repartition("refund base", "refund vat"),
            }
        )
        cls.fees = cls.company._amazon_sp_account("fees")

    def _de_refund(self, commission="8.93", commission_vat="1.43"):
        """A DE refund whose fees carry Amazon's VAT: the commission given back and the refund
        commission charged (Amazon's Base and Tax of each)."""
        return self._refund(
            "DE",
            days_ago=2,
            items=[
                {
                    "sku": "SKU-DE-FEE",
                    "quantity": 1,
                    "charges": {"Principal": -D("50.00"), "Tax": -D("9.50")},
                    "fees": {"Commission": D(commission), "RefundCommission": -D("1.79")},
                    "fee_taxes": {"Commission": D(commission_vat), "RefundCommission": -D("0.29")},
                }
            ],
        )

    def _import(self, refund):
        account = self._import_account("eu", self.marketplace_de)
        run = self._sync(account)
        self.assertEqual(run.state, "done", run.error)
        event = self._events(account).filtered(lambda ev: ev.amazon_order_id == refund.order_id)
        types = set(event.line_ids.mapped("amount_type"))
        self.assertTrue({"FeeTax/Commission", "FeeTax/RefundCommission"} <= types, types)
        return event

    def _fee_entry(self, event):
        return event.move_ids.filtered(lambda m: m.move_type == "entry")

    def test_not_registered_the_vat_is_part_of_the_fee(self):
        event = self._import(self._de_refund())
        self.assertEqual(event.state, "posted", event.review_message)
        entry = self._fee_entry(event)
        fee_lines = entry.line_ids.filtered(lambda ln: ln.account_id == self.fees)
        # The fees whole, as v0 sends them: Amazon's VAT folded into its fee.
        self.assertEqual(sorted(fee_lines.mapped("amount_currency")), [-8.93, 1.79])
        self.assertFalse([name for name in fee_lines.mapped("name") if "Tax" in name])
        self.assertFalse(entry.line_ids.tax_ids)
        self.assertFalse(entry.line_ids.tax_line_id)
        self.assertEveryCent(event)

    def test_registered_books_amazons_vat_as_input_vat(self):
        self.marketplace_de.with_company(self.company).amazon_sp_fee_tax_id = self.input_vat
        event = self._import(self._de_refund())
        self.assertEqual(event.state, "posted", event.review_message)
        entry = self._fee_entry(event)
        self.assertEqual(entry.state, "posted")
        base_lines = entry.line_ids.filtered(lambda ln: ln.tax_ids)
        tax_lines = entry.line_ids.filtered("tax_repartition_line_id")
        given_back = self.input_vat.refund_repartition_line_ids
        charged = self.input_vat.invoice_repartition_line_ids
        self.assertRecordValues(
            base_lines.sorted("amount_currency"),
            [
                {
                    "account_id": self.fees.id,
                    "amount_currency": -7.50,
                    "tax_ids": self.input_vat.ids,
                    "tax_tag_ids": self.tags["refund base"].ids,
                },
                {
                    "account_id": self.fees.id,
                    "amount_currency": 1.50,
                    "tax_ids": self.input_vat.ids,
                    "tax_tag_ids": self.tags["base"].ids,
                },
            ],
        )
        self.assertRecordValues(
            tax_lines.sorted("amount_currency"),
            [
                {
                    "account_id": self.input_vat_account.id,
                    "amount_currency": -1.43,
                    "tax_line_id": self.input_vat.id,
                    "tax_repartition_line_id": given_back.filtered(
                        lambda r: r.repartition_type == "tax"
                    ).id,
                    "tax_tag_ids": self.tags["refund vat"].ids,
                    "tax_base_amount": 7.50,
                    "display_type": "tax",
                },
                {
                    "account_id": self.input_vat_account.id,
                    "amount_currency": 0.29,
                    "tax_line_id": self.input_vat.id,
                    "tax_repartition_line_id": charged.filtered(
                        lambda r: r.repartition_type == "tax"
                    ).id,
                    "tax_tag_ids": self.tags["vat"].ids,
                    "tax_base_amount": 1.50,
                    "display_type": "tax",
                },
            ],
        )
        # Odoo computes the same taxes from the lines (what its tax report reads).
        base_values, _tax_values = entry._get_rounded_base_and_tax_lines(round_from_tax_lines=False)
        computed = sorted(
            round(data["tax_amount_currency"], 2)
            for base in base_values
            for data in base["tax_details"]["taxes_data"]
        )
        self.assertEqual(computed, [-1.43, 0.29])
        self.assertEveryCent(event)

    def test_amazons_vat_is_kept_when_odoo_rounds_a_cent_apart(self):
        """19 % of 2.53 is 0.48; Amazon says 0.47: the tax line is Amazon's, and Odoo does not
        compute it again, neither at creation nor when a line's label changes."""
        self.marketplace_de.with_company(self.company).amazon_sp_fee_tax_id = self.input_vat
        event = self._import(self._de_refund(commission="3.00", commission_vat="0.47"))
        self.assertEqual(event.state, "posted", event.review_message)
        entry = self._fee_entry(event)
        commission_tax = entry.line_ids.filtered(
            lambda ln: ln.tax_repartition_line_id and ln.amount_currency < 0
        )
        self.assertEqual(commission_tax.amount_currency, -0.47)
        self.assertEqual(
            entry.line_ids.filtered(lambda ln: ln.tax_ids and ln.amount_currency < 0).balance,
            -2.53,
        )
        entry.button_draft()
        entry.line_ids.filtered("tax_ids")[0].name = "Commission (checked)"
        entry.action_post()
        self.assertEqual(commission_tax.amount_currency, -0.47)
        self.assertEveryCent(event)

    def test_vat_far_from_the_tax_waits_for_review(self):
        self.marketplace_de.with_company(self.company).amazon_sp_fee_tax_id = self.input_vat
        event = self._import(self._de_refund(commission="3.00", commission_vat="0.10"))
        self.assertRecordValues(event, [{"state": "to_review", "review_reason": "tax"}])
        self.assertFalse(event.move_ids)
        self.assertIn(
            "Amazon's VAT on its fee is \N{MINUS SIGN}0.10\N{NO-BREAK SPACE}€ on "
            "\N{MINUS SIGN}2.90\N{NO-BREAK SPACE}€",
            event.review_message,
        )
        self.assertIn(
            "Input VAT 19% gives \N{MINUS SIGN}0.55\N{NO-BREAK SPACE}€", event.review_message
        )
        # Not registered after all: the VAT is part of the fee, the event posts.
        self.marketplace_de.with_company(self.company).amazon_sp_fee_tax_id = False
        event.action_retry()
        self.assertEqual(event.state, "posted", event.review_message)
        self.assertEveryCent(event)

    def test_vat_shared_among_repartition_lines(self):
        cent = Decimal("0.01")
        self.assertEqual(
            split_by_factors(D("1.43"), [D("0.4"), D("0.6")], cent), [D("0.57"), D("0.86")]
        )
        self.assertEqual(
            split_by_factors(D("1.43"), [D("1"), D("-1")], cent), [D("1.43"), -D("1.43")]
        )
        self.assertEqual(split_by_factors(D("1.43"), [], cent), [])


@tagged("post_install", "-at_install")
class TestImportAccountDefaults(AmazonImportCommon):
    """Every account the default rules name exists in a company set up for Amazon."""

    def test_every_account_ref_has_a_default_account(self):
        self.company._amazon_sp_ensure_setup()
        self.assertFalse(set(ACCOUNT_REFS) - set(AMAZON_ACCOUNT_DEFAULTS))
        for ref in ACCOUNT_REFS:
            prefix, name, account_type, _reconcile = AMAZON_ACCOUNT_DEFAULTS[ref]
            account = self.company._amazon_sp_account(ref)
            self.assertRecordValues(account, [{"code": prefix, "account_type": account_type}])
            self.assertEqual(account.name, name)
        self.assertEqual(self.company._amazon_sp_account("advertising").name, "Amazon advertising")
        rules = self.env["amazon.sp.amount.mapping"].search(
            [
                ("company_id", "=", self.company.id),
                ("amount_type", "in", ("Fee/CostOfAdvertising", "Fee/DealParticipationFee")),
            ]
        )
        self.assertEqual(len(rules), 2)
        self.assertEqual(rules.account_id.code, "AMZADV")
