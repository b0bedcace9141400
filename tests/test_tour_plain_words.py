from datetime import timedelta

from odoo.tests import HttpCase, new_test_user, tagged

from .test_books_community import BooksCommunityCommon


@tagged("post_install", "-at_install")
class TestTourPlainWords(BooksCommunityCommon, HttpCase):
    """In a browser, an accountant of the Amazon Refunds User group opens the events, the
    review queue, a settlement and an import run: no page shows a technical name (state
    codes, Amazon keys, field names, midnight times, floats), and grouped lists show their
    totals with their currency. Without Chromium, Odoo skips the test and says so."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tour_user = new_test_user(
            cls.env,
            login="amz_words",
            password="amz_words_pw",
            groups="account_amazon_refund.group_amazon_sp_user",
            company_id=cls.company.id,
        )
        # One refund above the review threshold: the review queue has something to show.
        cls.marketplace_us.with_company(cls.company).amazon_sp_review_threshold = 100.0
        cls.big = cls.dataset.add_refund(
            "US",
            posted=cls.now - timedelta(hours=2),
            items=[cls.us_item("SKU-BIG", "138.60", "11.09")],
        )
        cls.import_run = cls.env["amazon.sp.service.import"]._sync(cls.account)
        assert cls.import_run.state == "done", cls.import_run.error

    def _tour(self, url, tour="account_amazon_refund_plain_words"):
        self.start_tour(url, tour, login="amz_words", timeout=120)

    def test_pages_show_no_technical_names(self):
        event = self._event(self.big)
        self.assertEqual(event.review_reason, "threshold")
        pages = {
            "events": "/odoo/action-account_amazon_refund.amazon_sp_event_action",
            "review queue": "/odoo/action-account_amazon_refund.amazon_sp_event_action_review",
            "event to review": f"/odoo/amazon.sp.event/{event.id}",
            "settlement": f"/odoo/amazon.sp.settlement/{self.settlement.id}",
            "import run": f"/odoo/amazon.sp.import.run/{self.import_run.id}",
        }
        for what, url in pages.items():
            with self.subTest(page=what):
                self._tour(url)

    def test_grouped_totals_show_their_currency(self):
        self._tour(
            "/odoo/action-account_amazon_refund.amazon_sp_event_action_review",
            "account_amazon_refund_group_currency",
        )
