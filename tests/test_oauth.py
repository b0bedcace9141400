import json
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from freezegun import freeze_time
from jose import jws

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import MANAGER_GROUPS, AmazonSpEmulatorMixin

CALLBACK = "/amazon_sp/oauth/callback"


@tagged("post_install", "-at_install")
class TestOAuth(AmazonSpEmulatorMixin, HttpCase):
    """The website authorization workflow against the emulator's consent page and LWA."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_amazon_sp()
        cls._start_emulator()
        cls.account = cls._create_emulator_account()

    def setUp(self):
        super().setUp()
        self.authenticate("amz_manager", "amz_manager_pw")

    # ------------------------------------------------------------------------------------------
    # Helpers: the steps a browser would take
    # ------------------------------------------------------------------------------------------

    def _start_link(self, user=None):
        """Run the wizard as ``user``; return the consent URL it sends the browser to."""
        wizard = (
            self.env["amazon.sp.account.link"]
            .with_user(user or self.amazon_manager)
            .create({"account_id": self.account.id})
        )
        action = wizard.action_link()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.env.flush_all()
        return action["url"]

    def _consent(self, consent_url):
        """Seller Central (the emulator) answers the consent page: the callback URL."""
        response = requests.get(consent_url, allow_redirects=False, timeout=10)
        self.assertIn(response.status_code, (302, 303))
        location = response.headers["Location"]
        self.assertTrue(location.startswith(self.base_url() + CALLBACK), location)
        return location

    def _callback(self, location):
        self.env.flush_all()
        response = self.url_open(location, allow_redirects=False)
        self.env.invalidate_all()
        return response

    def _snapshot(self):
        account = self.account.sudo()
        account.invalidate_recordset()
        return {
            "state": account.state,
            "seller_id": account.seller_id,
            "refresh_token": account.refresh_token,
            "authorization_date": account.authorization_date,
            "last_error": account.last_error,
            "message_count": len(account.message_ids),
        }

    def _assert_rejected(self, response, text):
        self.assertEqual(response.status_code, 400)
        self.assertIn("text/html", response.headers["Content-Type"])
        self.assertIn("The Amazon seller account was not linked", response.text)
        self.assertIn(text, response.text)
        self.assertNotIn("Traceback", response.text)

    def _callback_query(self, location):
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    # ------------------------------------------------------------------------------------------
    # Tests
    # ------------------------------------------------------------------------------------------

    def test_happy_path(self):
        before = fields.Datetime.now()
        location = self._consent(self._start_link())
        query = self._callback_query(location)
        self.assertEqual(query["selling_partner_id"], self.emu.dataset.seller_id)
        self.assertIn("spapi_oauth_code", query)
        response = self._callback(location)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(
            response.headers["Location"].endswith(
                f"/odoo/action-account_amazon_refund.amazon_sp_account_action/{self.account.id}"
            )
        )
        account = self.account.sudo()
        self.assertRecordValues(
            account,
            [{"state": "linked", "seller_id": self.emu.dataset.seller_id, "last_error": False}],
        )
        self.assertTrue(account.refresh_token)
        self.assertGreaterEqual(account.authorization_date, before.replace(microsecond=0))
        self.assertEqual(
            account.authorization_expiry, account.authorization_date + timedelta(days=365)
        )
        # The new refresh token works.
        self.assertTrue(account._get_spapi_client().get_marketplace_participations())
        # The chatter says who linked it, never the token nor the code.
        bodies = account.message_ids.mapped("body")
        linked = [body for body in bodies if "Linked with Amazon" in body]
        self.assertEqual(len(linked), 1)
        self.assertIn(self.amazon_manager.name, linked[0])
        for body in bodies:
            self.assertNotIn(account.refresh_token, body)
            self.assertNotIn(query["spapi_oauth_code"], body)
        state = self.env["amazon.sp.oauth.state"].search([("account_id", "=", self.account.id)])
        self.assertTrue(state.used)

    def test_forged_state(self):
        location = self._consent(self._start_link())
        query = self._callback_query(location)
        header, payload, signature = query["state"].split(".")
        forged = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
        query["state"] = f"{header}.{payload}.{forged}"
        before = self._snapshot()
        with mute_logger("odoo.addons.account_amazon_refund.controllers.main"):
            response = self._callback(f"{CALLBACK}?{urlencode(query)}")
        self._assert_rejected(response, "signature")
        self.assertEqual(self._snapshot(), before)

    def test_expired_state(self):
        with freeze_time(fields.Datetime.now() - timedelta(minutes=11)):
            consent_url = self._start_link()
        location = self._consent(consent_url)
        before = self._snapshot()
        with mute_logger("odoo.addons.account_amazon_refund.controllers.main"):
            response = self._callback(location)
        self._assert_rejected(response, "expired")
        self.assertEqual(self._snapshot(), before)

    def test_replayed_state(self):
        location = self._consent(self._start_link())
        self.assertEqual(self._callback(location).status_code, 303)
        linked = self._snapshot()
        self.assertEqual(linked["state"], "linked")
        with mute_logger("odoo.addons.account_amazon_refund.controllers.main"):
            response = self._callback(location)
        self._assert_rejected(response, "already used")
        self.assertEqual(self._snapshot(), linked)

    def test_state_of_another_database(self):
        location = self._consent(self._start_link())
        query = self._callback_query(location)
        claims = jws.get_unverified_claims(query["state"])
        claims = json.loads(claims)
        claims["db"] = "another_database"
        query["state"] = jws.sign(
            claims,
            self.env["amazon.sp.service.oauth"]._signing_key(),
            algorithm="HS256",
        )
        before = self._snapshot()
        with mute_logger("odoo.addons.account_amazon_refund.controllers.main"):
            response = self._callback(f"{CALLBACK}?{urlencode(query)}")
        self._assert_rejected(response, "another Odoo database")
        self.assertEqual(self._snapshot(), before)

    def test_state_of_another_user(self):
        other = new_test_user(
            self.env, login="amz_manager2", password="amz_manager2_pw", groups=MANAGER_GROUPS
        )
        location = self._consent(self._start_link(user=other))
        before = self._snapshot()
        with mute_logger("odoo.addons.account_amazon_refund.controllers.main"):
            response = self._callback(location)
        self._assert_rejected(response, "another user")
        self.assertEqual(self._snapshot(), before)

    def test_no_code(self):
        location = self._consent(self._start_link())
        query = self._callback_query(location)
        del query["spapi_oauth_code"]
        before = self._snapshot()
        with mute_logger("odoo.addons.account_amazon_refund.controllers.main"):
            response = self._callback(f"{CALLBACK}?{urlencode(query)}")
        self._assert_rejected(response, "did not send an authorization code")
        self.assertEqual(self._snapshot(), before)

    def test_code_refused_by_amazon(self):
        location = self._consent(self._start_link())
        query = self._callback_query(location)
        query["spapi_oauth_code"] = "not-a-code"
        with mute_logger(
            "odoo.addons.account_amazon_refund.controllers.main",
            "odoo.addons.account_amazon_refund.models.amazon_sp_account",
            "odoo.addons.account_amazon_refund.services.oauth",
            "odoo.addons.account_amazon_refund.spapi.auth",
        ):
            response = self._callback(f"{CALLBACK}?{urlencode(query)}")
        self.assertEqual(response.status_code, 502)
        self.assertIn("The Amazon seller account was not linked", response.text)
        self.assertNotIn("Traceback", response.text)
        snapshot = self._snapshot()
        self.assertEqual(snapshot["state"], "draft")
        self.assertFalse(snapshot["refresh_token"])
        self.assertTrue(snapshot["last_error"])

    def test_not_logged_in(self):
        location = self._consent(self._start_link())
        self.authenticate(None, None)
        response = self._callback(location)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])
        self.assertEqual(self._snapshot()["state"], "draft")

    def test_state_expires_after_ten_minutes(self):
        """The claim itself: issued now, valid until now + 10 minutes."""
        start = time.time()
        consent_url = self._start_link()
        state = parse_qs(urlsplit(consent_url).query)["state"][0]
        exp = json.loads(jws.get_unverified_claims(state))["exp"]
        self.assertAlmostEqual(exp, start + 600, delta=5)

    def test_another_selling_partner_is_refused(self):
        """The seller who consented is not the account's seller: nothing changes, and the code
        is not even exchanged."""
        self.account.seller_id = "A1THEACCOUNTSSELLER"
        location = self._consent(self._start_link())
        self.assertNotEqual(
            self._callback_query(location)["selling_partner_id"], "A1THEACCOUNTSSELLER"
        )
        before = self._snapshot()
        lwa_calls = self.emu.count("lwaToken")
        with mute_logger(
            "odoo.addons.account_amazon_refund.controllers.main",
            "odoo.addons.account_amazon_refund.services.oauth",
        ):
            response = self._callback(location)
        self._assert_rejected(response, "nothing was changed")
        self.assertIn("A1THEACCOUNTSSELLER", response.text)
        after = self._snapshot()
        self.assertEqual(
            {k: v for k, v in after.items() if k != "message_count"},
            {k: v for k, v in before.items() if k != "message_count"},
        )
        [note] = [b for b in self.account.message_ids.mapped("body") if "nothing was" in b]
        self.assertIn(self.emu.dataset.seller_id, note)
        self.assertEqual(self.emu.count("lwaToken"), lwa_calls)

    def test_consent_page_must_be_amazons_without_the_parameter(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "account_amazon_refund.allow_custom_hosts", False
        )
        with self.assertRaisesRegex(UserError, "not one of Amazon's addresses"):
            self._start_link()
