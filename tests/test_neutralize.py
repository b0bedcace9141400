from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import TransactionCase, tagged

from .common import AmazonSpTestMixin


@tagged("post_install", "-at_install")
class TestNeutralize(AmazonSpTestMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_amazon_sp()

    def test_neutralize_clears_secrets(self):
        linked = self._create_account(refresh_token="Atzr|token")
        draft = self._create_account(name="Not linked")
        self.assertEqual(linked.state, "linked")
        queries = list(get_neutralization_queries(["account_amazon_refund"]))
        self.assertEqual(len(queries), 1)
        self.env.flush_all()
        for query in queries:
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertRecordValues(
            linked | draft,
            [
                {"lwa_client_secret": False, "refresh_token": False, "state": "draft"},
                {"lwa_client_secret": False, "refresh_token": False, "state": "draft"},
            ],
        )
        # The rest of the configuration stays.
        self.assertEqual(linked.lwa_client_id, "amzn1.application-oa2-client.test")
