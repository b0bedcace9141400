import json
import socket
from datetime import date, datetime

import requests
from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.account_amazon_refund.services.connection import ALLOW_CUSTOM_HOSTS_PARAM

from .common_import import CLIENT_KWARGS, AmazonImportCommon, client_options

LOGGERS = (
    "odoo.addons.account_amazon_refund.services.importer",
    "odoo.addons.account_amazon_refund.services.connection",
    "odoo.addons.account_amazon_refund.spapi.auth",
    "odoo.addons.account_amazon_refund.spapi.client",
)
# What Amazon answers when the application lacks the role of an operation (docs "Errors").
DENIED = {
    "errors": [
        {
            "code": "Unauthorized",
            "message": "Access to requested resource is denied.",
            "details": "",
        }
    ]
}


class FinancesDeniedSession(requests.Session):
    """Amazon as it answers an application without the Finance and Accounting role: 403 on
    the Finances API, the other APIs answered."""

    def request(self, method, url, **kwargs):
        if "/finances/" not in url:
            return super().request(method, url, **kwargs)
        response = requests.Response()
        response.status_code = 403
        response._content = json.dumps(DENIED).encode()
        response.headers["x-amzn-RequestId"] = "rid-denied"
        response.headers["Content-Type"] = "application/json"
        response.url = url
        return response


@tagged("post_install", "-at_install")
class TestAccountHealth(AmazonImportCommon):
    """An account that says what happened, stops only when Amazon rejects its authorization,
    reaches only Amazon, and reminds before its deadlines."""

    def _run(self, account, **kwargs):
        with mute_logger(*LOGGERS):
            return self._sync(account, **kwargs)

    def test_rejected_authorization_stops_that_account_only(self):
        Account = self.env["amazon.sp.account"]
        Run = self.env["amazon.sp.import.run"]
        revoked = self._import_account(name="Revoked", accountant_id=self.amazon_manager.id)
        healthy = self._import_account(name="Healthy")
        # The seller removed the authorization: LWA answers invalid_grant to its refresh token.
        revoked.refresh_token = "test-refresh-removed-by-the-seller"
        with mute_logger(*LOGGERS):
            Account._cron_amazon_sp_sync()
        [failed] = Run.search([("account_id", "=", revoked.id)])
        [done] = Run.search([("account_id", "=", healthy.id)])
        self.assertEqual((failed.state, done.state), ("failed", "done"))
        self.assertEqual(revoked.state, "reauth")
        self.assertIn("no longer accepts the authorization", revoked.last_error)
        self.assertIn("no longer accepts the authorization", failed.error)
        self.assertTrue(revoked.last_outcome.startswith("Failed"))
        [activity] = revoked.activity_ids
        self.assertEqual(activity.user_id, self.amazon_manager)
        self.assertEqual(activity.summary, "Re-authorize the Amazon account")
        self.assertEqual(healthy.state, "linked")
        self.assertFalse(healthy.last_error)
        self.assertTrue(healthy.last_outcome.startswith("Done"))
        self.assertTrue(healthy.finances_last_success)
        # The next scheduled run leaves the revoked account alone and imports the other.
        with mute_logger(*LOGGERS):
            Account._cron_amazon_sp_sync()
        self.assertEqual(Run.search_count([("account_id", "=", revoked.id)]), 1)
        self.assertEqual(Run.search_count([("account_id", "=", healthy.id)]), 2)
        self.assertEqual(len(revoked.activity_ids), 1, "one activity, not one per run")
        # Authorized again: linked, and the scheduled import takes it again.
        revoked.refresh_token = self.emu.refresh_token
        self.assertEqual(revoked.state, "linked")
        self.assertIn(revoked, Account.search(Account._amazon_sp_syncable_domain()))

    def test_transient_failure_leaves_the_account_linked_with_its_error(self):
        account = self._import_account()
        self.emu.inject("unavailable", count=50, operation="listTransactions")
        with client_options(self.env, **dict(CLIENT_KWARGS, max_attempts=2)):
            run = self._run(account, trigger="cron")
        self.assertEqual(run.state, "failed")
        self.assertEqual(account.state, "linked")
        self.assertIn("Amazon's service failed", account.last_error)
        self.assertTrue(account.last_outcome.startswith("Failed: Amazon's service failed"))
        self.assertTrue(account.finances_last_failure)
        Account = self.env["amazon.sp.account"]
        self.assertIn(account, Account.search(Account._amazon_sp_syncable_domain()))
        # A person pressing Import now gets the same plain message.
        with (
            client_options(self.env, **dict(CLIENT_KWARGS, max_attempts=2)),
            self.assertRaisesRegex(UserError, "Amazon's service failed"),
        ):
            self._run(account, trigger="manual")
        # Amazon is back: the next import succeeds and the error goes away.
        self.emu.reset_faults()
        run = self._run(account, trigger="cron")
        self.assertEqual(run.state, "done", run.error)
        self.assertRecordValues(account, [{"state": "linked", "last_error": False}])
        self.assertGreaterEqual(account.finances_last_success, account.finances_last_failure)

    def test_unreachable_host_fails_fast_in_plain_words(self):
        with socket.socket() as sock:  # a port nobody listens on
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        account = self._import_account(api_url=url, lwa_url=url + "/auth/o2/token")
        with client_options(self.env, **dict(CLIENT_KWARGS, max_attempts=1)):
            run = self._run(account, trigger="cron")
        self.assertEqual(account.state, "linked")
        self.assertIn("Odoo could not reach Amazon", account.last_error)
        for text in (account.last_error, run.error):
            self.assertNotIn("HTTPConnectionPool", text)
            self.assertNotIn("NewConnectionError", text)
            self.assertNotIn(str(port), text)

    def test_missing_role_is_named_on_403(self):
        account = self._import_account()
        options = dict(CLIENT_KWARGS, session=FinancesDeniedSession())
        with client_options(self.env, **options):
            run = self._run(account, trigger="cron")
        self.assertEqual(run.state, "failed")
        self.assertEqual(account.state, "linked", "a missing role is not a rejected authorization")
        self.assertIn("Finance and Accounting", account.last_error)
        self.assertIn("HTTP status 403", account.last_error)
        self.assertIn("rid-denied", account.last_error)
        # The emulator is not Amazon: what it said is never stored.
        self.assertNotIn("Access to requested resource", account.last_error)
        self.assertNotIn("Access to requested resource", run.error)
        self.assertTrue(account.finances_last_failure)
        self.assertFalse(account.finances_last_success)

    def test_custom_hosts_need_the_system_parameter(self):
        account = self._import_account()
        self.env["ir.config_parameter"].sudo().set_param(ALLOW_CUSTOM_HOSTS_PARAM, False)
        calls = len(self.emu.calls)
        with self.assertRaisesRegex(UserError, "not one of Amazon's addresses"):
            account._get_spapi_client()
        run = self._run(account, trigger="cron")
        self.assertEqual(run.state, "failed")
        self.assertIn("not one of Amazon's addresses", account.last_error)
        self.assertEqual(len(self.emu.calls), calls, "the host was never called")
        # Amazon's own hosts need no parameter.
        account.write({"api_url": False, "lwa_url": False})
        client = account._get_spapi_client()
        self.assertEqual(client.base_url, "https://sellingpartnerapi-na.amazon.com")
        self.assertEqual(client.auth.token_url, "https://api.amazon.com/auth/o2/token")
        self.assertEqual(client.timeout.connect, 5)
        # Allowed again (the demo, the tests): the emulator is reached.
        self.env["ir.config_parameter"].sudo().set_param(ALLOW_CUSTOM_HOSTS_PARAM, "1")
        account.write({"api_url": self.emu.url, "lwa_url": self.emu.lwa_url})
        self.assertEqual(account._get_spapi_client().base_url, self.emu.url)

    def test_expiry_reminders(self):
        Account = self.env["amazon.sp.account"]
        with freeze_time("2026-01-10 09:00:00"):
            account = self._import_account(accountant_id=self.amazon_manager.id)
        self.assertEqual(account.authorization_expiry, datetime(2027, 1, 10, 9, 0))
        self.assertEqual(account.lwa_client_secret_expiry, datetime(2026, 7, 9, 9, 0))
        with freeze_time("2026-06-01 08:00:00"):
            Account._cron_amazon_sp_health()
        self.assertFalse(account.activity_ids, "38 days before: too early")
        with freeze_time("2026-06-10 08:00:00"):
            Account._cron_amazon_sp_health()
            Account._cron_amazon_sp_health()
        [rotate] = account.activity_ids
        self.assertEqual(rotate.summary, "Rotate the LWA client secret")
        self.assertEqual(rotate.user_id, self.amazon_manager)
        self.assertEqual(rotate.date_deadline, date(2026, 7, 9))
        # A new client secret: a new deadline, 180 days later.
        with freeze_time("2026-06-20 10:00:00"):
            account.lwa_client_secret = "test-client-secret-rotated"
        self.assertEqual(account.lwa_client_secret_expiry, datetime(2026, 12, 17, 10, 0))
        with freeze_time("2026-12-12 08:00:00"):
            Account._cron_amazon_sp_health()
        summaries = sorted(account.activity_ids.mapped("summary"))
        self.assertEqual(
            summaries,
            [
                "Renew the Amazon authorization",
                "Rotate the LWA client secret",
                "Rotate the LWA client secret",
            ],
        )
        renew = account.activity_ids.filtered(lambda a: a.summary.startswith("Renew"))
        self.assertEqual(renew.date_deadline, date(2027, 1, 10))
        self.assertEqual(renew.user_id, self.amazon_manager)
