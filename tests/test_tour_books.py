from odoo.tests import HttpCase, new_test_user, tagged

from .test_books_community import BooksCommunityCommon


@tagged("post_install", "-at_install")
class TestTourBooks(BooksCommunityCommon, HttpCase):
    """In a browser, an accountant of the Amazon Refunds User group (no full accounting
    features) opens a fee entry, a payout and a credit note and reads their journal items.
    Without Chromium, Odoo skips the test and says so."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tour_user = new_test_user(
            cls.env,
            login="amz_tour",
            password="amz_tour_pw",
            groups="account_amazon_refund.group_amazon_sp_user",
            company_id=cls.company.id,
        )

    def test_user_reads_journal_items_in_the_browser(self):
        self.assertFalse(self.tour_user.has_group("account.group_account_user"))
        self.assertEqual(self.settlement.state, "reconciled", self.settlement.review_message)
        documents = {
            "fee entry": self._documents("service_fee"),
            "payout": self.settlement.payout_move_id,
            "credit note": self._documents("refund").filtered(
                lambda m: m.move_type == "out_refund"
            ),
        }
        for what, move in documents.items():
            self.assertEqual(len(move), 1, what)
            with self.subTest(document=what):
                self.start_tour(
                    f"/odoo/account.move/{move.id}",
                    "account_amazon_refund_books",
                    login="amz_tour",
                    timeout=120,
                )
