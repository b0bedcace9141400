from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import AmazonSpEmulatorMixin

MODEL_LOGGER = "odoo.addons.account_amazon_refund.models.amazon_sp_account"
CLIENT_LOGGERS = (
    MODEL_LOGGER,
    "odoo.addons.account_amazon_refund.spapi.auth",
    "odoo.addons.account_amazon_refund.spapi.client",
)
PARTICIPATIONS = "getMarketplaceParticipations"


# HttpCase for its test-mode registry: a failed test writes the error through a second cursor
# (the UserError rolls the caller's transaction back), which then shares the test transaction.
@tagged("post_install", "-at_install")
class TestConnection(AmazonSpEmulatorMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_amazon_sp()
        cls._start_emulator()
        cls.account = cls._create_emulator_account(
            refresh_token=cls.emu.refresh_token,
            seller_id=cls.emu.dataset.seller_id,
        )

    def _participating_marketplaces(self):
        """What the emulator's seller participates in, known to Odoo (from the API itself)."""
        client = self.account._get_spapi_client()
        ids = [
            item["marketplace"]["id"]
            for item in client.get_marketplace_participations()
            if item.get("participation", {}).get("isParticipating", True)
        ]
        return self.env["amazon.sp.marketplace"].search([("marketplace_id", "in", ids)])

    def _run_failing(self, method):
        """Call ``method``; return the UserError (the failure is kept, unlike assertRaises)."""
        try:
            with mute_logger(*CLIENT_LOGGERS):
                method()
        except UserError as error:
            self.env.invalidate_all()
            return error
        self.fail("UserError not raised")

    def test_connection_succeeds(self):
        account = self.account.with_user(self.amazon_manager)
        action = account.action_test_connection()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(action["params"]["type"], "success")
        self.assertRecordValues(self.account, [{"state": "linked", "last_error": False}])
        expected = self._participating_marketplaces()
        self.assertTrue(expected)
        [note] = [b for b in self.account.message_ids.mapped("body") if "test succeeded" in b]
        for marketplace in expected:
            self.assertIn(marketplace.marketplace_id, note)
            self.assertIn(marketplace.marketplace_id, action["params"]["message"])

    def test_fetch_marketplaces(self):
        self.assertFalse(self.account.marketplace_ids)
        account = self.account.with_user(self.amazon_manager)
        account.action_fetch_marketplaces()
        expected = self._participating_marketplaces()
        self.assertTrue(expected)
        self.assertEqual(self.account.marketplace_ids, expected)
        # Running it again changes nothing.
        account.action_fetch_marketplaces()
        self.assertEqual(self.account.marketplace_ids, expected)

    def test_connection_fails_with_a_wrong_refresh_token(self):
        self.account.refresh_token = "test-wrong-refresh-token"
        account = self.account.with_user(self.amazon_manager)
        error = self._run_failing(account.action_test_connection)
        message = str(error.args[0])
        self.assertIn("no longer accepts the authorization", message)
        self.assertNotIn("wrong-refresh-token", message)
        self.assertNotIn(self.emu.client_secret, message)
        # LWA rejected the refresh token (invalid_grant): only the seller can fix it.
        self.assertRecordValues(self.account, [{"state": "reauth"}])
        self.assertIn("no longer accepts the authorization", self.account.last_error)
        [note] = [b for b in self.account.message_ids.mapped("body") if "rejected" in b]
        self.assertIn("scheduled imports are stopped", note)
        self.assertNotIn("wrong-refresh-token", note)
        self.assertEqual(self.account.activity_ids.summary, "Re-authorize the Amazon account")
        # The state change is tracked too.
        self.assertIn(
            "Re-authorization Needed",
            self.account.message_ids.tracking_value_ids.mapped("new_value_char"),
        )
        # Fixed token: linked again, and the test clears the error.
        self.account.refresh_token = self.emu.refresh_token
        account.action_test_connection()
        self.assertRecordValues(self.account, [{"state": "linked", "last_error": False}])

    def test_connection_fails_when_amazon_is_down(self):
        self.emu.inject("unavailable", count=3, operation=PARTICIPATIONS)
        self.addCleanup(self.emu.reset_faults)
        calls_before = self.emu.count(PARTICIPATIONS)
        sleeps = []
        options = {"sleep": sleeps.append, "max_attempts": 3}
        account = self.account.with_user(self.amazon_manager)
        with patch.object(type(account), "_amazon_sp_client_options", return_value=options):
            error = self._run_failing(account.action_test_connection)
        self.assertIn("Amazon's service failed", str(error.args[0]))
        self.assertIn("503", str(error.args[0]))
        self.assertEqual(self.emu.count(PARTICIPATIONS) - calls_before, 3)
        self.assertEqual(len(sleeps), 2, "retried with backoff, without sleeping for real")
        # A passing failure: the account stays linked, its last error shown.
        self.assertRecordValues(self.account, [{"state": "linked"}])
        self.assertIn("Amazon's service failed", self.account.last_error)
        self.assertTrue(self.account.sellers_last_failure)

    def test_read_only_user_changes_nothing(self):
        user_account = self.account.with_user(self.amazon_user)
        messages = len(self.account.message_ids)
        user_account.action_test_connection()
        self.account.refresh_token = "test-wrong-refresh-token"
        self.addCleanup(setattr, self.account, "refresh_token", self.emu.refresh_token)
        self.env.flush_all()
        error = self._run_failing(user_account.action_test_connection)
        self.assertIn("no longer accepts the authorization", str(error.args[0]))
        self.assertRecordValues(self.account, [{"state": "linked", "last_error": False}])
        self.assertFalse(self.account.sellers_last_failure)
        self.assertFalse(self.account.activity_ids)
        self.assertEqual(len(self.account.message_ids), messages)

    def test_interactive_calls_are_bounded(self):
        client = self.account._get_spapi_client(interactive=True)
        self.assertEqual(client.timeout.connect, 5)
        self.assertLessEqual(client.timeout.read, 20)
        self.assertEqual(client.total_timeout, 30)
        self.assertEqual(client.auth.timeout.connect, 5)

    def test_connection_needs_a_refresh_token(self):
        account = self._create_emulator_account()
        with self.assertRaisesRegex(UserError, "not linked"):
            account.with_user(self.amazon_manager).action_test_connection()
        self.assertRecordValues(account, [{"state": "draft"}])
