import re
from datetime import timedelta

from odoo.tests import tagged

from .common_import import AmazonImportCommon

NBSP = "\N{NO-BREAK SPACE}"
MINUS = "\N{MINUS SIGN}"
# A float as Python prints it ("141.2", "100.0"): one decimal, not followed by another digit.
FLOAT_TEXT = re.compile(r"\b\d+\.\d(?!\d)")


@tagged("post_install", "-at_install")
class TestPlainAmounts(AmazonImportCommon):
    """Amounts put in a text read as the currency writes them: its decimals (none in yen),
    its symbol, a true minus sign; never a float such as "141.2" or "100.0"."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us)
        cls.usd = cls.env.ref("base.USD")
        cls.jpy = cls.env.ref("base.JPY")
        cls.eur = cls.env.ref("base.EUR")
        (cls.usd | cls.jpy | cls.eur).active = True

    def test_amount_text_follows_the_currency(self):
        self.assertEqual(self.usd._amazon_sp_amount_text(141.2), f"${NBSP}141.20")
        self.assertEqual(self.usd._amazon_sp_amount_text(-314.955), f"${NBSP}{MINUS}314.96")
        self.assertEqual(self.jpy._amazon_sp_amount_text(1200.0), f"¥{NBSP}1,200")
        self.assertEqual(self.jpy._amazon_sp_amount_text(-4900.4), f"¥{NBSP}{MINUS}4,900")
        self.assertEqual(self.eur._amazon_sp_amount_text(0), f"0.00{NBSP}€")

    def test_threshold_message_shows_plain_amounts(self):
        us = self.marketplace_us.with_company(self.company)
        us.amazon_sp_review_threshold = 100.0
        big = self.dataset.add_refund(
            "US",
            posted=self.now - timedelta(days=1),
            items=[self.us_item("SKU-BIG", "138.60", "11.09", "0.00")],
        )
        self._sync(self.account)
        event = self.env["amazon.sp.event"].search(
            [("account_id", "=", self.account.id), ("amazon_order_id", "=", big.order_id)]
        )
        self.assertEqual(event.review_reason, "threshold")
        net = self.usd._amazon_sp_amount_text(abs(event.amount_total))
        self.assertEqual(
            event.review_message,
            f"Net amount {net} is above the review threshold ${NBSP}100.00: the documents "
            "wait as drafts.",
        )
        self.assertFalse(FLOAT_TEXT.search(event.review_message), event.review_message)
        self.assertNotIn("USD", event.review_message)

    def test_reconciliation_pdf_has_no_decimals_in_yen(self):
        review = self.env["amazon.sp.reconciliation"].create(
            {
                "account_id": self.account.id,
                "currency_id": self.jpy.id,
                "line_ids": [
                    (0, 0, {"amount_type": "Charge/Principal", "amazon_amount": -4900.0}),
                ],
            }
        )
        review.write({"amazon_total": -4900.0, "odoo_total": -4800.0, "difference": -100.0})
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("account_amazon_refund.report_amazon_sp_reconciliation", review.ids)[
                0
            ]
            .decode()
        )
        self.assertIn("4,900", html)
        self.assertNotIn("4900.00", html)
        self.assertNotIn("4,900.00", html)
        self.assertNotIn("-100.00", html)
        self.assertIn("¥", html)
