from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from freezegun import freeze_time
from jose import jws

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, TransactionCase, tagged

from .common import AmazonSpTestMixin

NOW = datetime(2025, 3, 10, 9, 30, 0)


@tagged("post_install", "-at_install")
class TestAccount(AmazonSpTestMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_amazon_sp()

    @freeze_time(NOW)
    def test_saved_with_refresh_token_is_linked(self):
        account = self._create_account(refresh_token="Atzr|token")
        self.assertRecordValues(
            account,
            [
                {
                    "state": "linked",
                    "authorization_date": NOW,
                    "authorization_expiry": NOW + timedelta(days=365),
                    "sync_from": NOW - timedelta(days=30),
                }
            ],
        )

    @freeze_time(NOW)
    def test_saved_without_refresh_token_is_draft(self):
        account = self._create_account()
        self.assertRecordValues(
            account,
            [{"state": "draft", "authorization_date": False, "authorization_expiry": False}],
        )

    def test_pasting_and_clearing_the_refresh_token(self):
        with freeze_time(NOW):
            account = self._create_account()
            with Form(account.with_user(self.amazon_manager)) as form:
                form.refresh_token = "Atzr|pasted"
        self.assertRecordValues(
            account,
            [
                {
                    "state": "linked",
                    "authorization_date": NOW,
                    "authorization_expiry": NOW + timedelta(days=365),
                }
            ],
        )
        # A new token keeps the date of the authorization (set by the OAuth flow).
        with freeze_time(NOW + timedelta(days=3)):
            account.refresh_token = "Atzr|other"
        self.assertEqual(account.authorization_date, NOW)
        account.refresh_token = False
        self.assertRecordValues(
            account,
            [{"state": "draft", "authorization_date": False, "authorization_expiry": False}],
        )
        with freeze_time(NOW + timedelta(days=10)):
            account.refresh_token = "Atzr|again"
        self.assertRecordValues(
            account,
            [
                {
                    "state": "linked",
                    "authorization_expiry": NOW + timedelta(days=375),
                }
            ],
        )

    def test_revoke(self):
        account = self._create_account(refresh_token="Atzr|token")
        account.with_user(self.amazon_manager).action_revoke()
        self.assertRecordValues(
            account, [{"state": "revoked", "refresh_token": False, "authorization_date": False}]
        )
        self.assertTrue(
            any("Authorization removed" in body for body in account.message_ids.mapped("body"))
        )

    def test_marketplaces_of_the_region(self):
        with self.assertRaises(ValidationError):
            self._create_account(marketplace_ids=[self.marketplace_us.id, self.marketplace_de.id])
        account = self._create_account(marketplace_ids=[self.marketplace_us.id])
        with self.assertRaises(ValidationError):
            account.region = "eu"
        # An overridden endpoint (emulator, proxy) may serve any marketplace.
        account = self._create_account(
            api_url="http://127.0.0.1:1",
            marketplace_ids=[self.marketplace_us.id, self.marketplace_de.id],
        )
        self.assertEqual(len(account.marketplace_ids), 2)

    def test_client_needs_credentials(self):
        account = self._create_account(lwa_client_secret=False, refresh_token="Atzr|token")
        with self.assertRaisesRegex(UserError, "client secret"):
            account._get_spapi_client()
        account = self._create_account()
        with self.assertRaisesRegex(UserError, "not linked"):
            account._get_spapi_client()
        self.assertTrue(account._get_spapi_client(require_refresh_token=False))

    # ------------------------------------------------------------------------------------------
    # Consent URL (the wizard)
    # ------------------------------------------------------------------------------------------

    def _link(self, account):
        wizard = (
            self.env["amazon.sp.account.link"]
            .with_user(self.amazon_manager)
            .with_context(active_model="amazon.sp.account", active_id=account.id)
            .create({})
        )
        self.assertEqual(wizard.account_id, account)
        action = wizard.action_link()
        self.assertEqual(action["type"], "ir.actions.act_url")
        url = urlsplit(action["url"])
        return url, {key: values[0] for key, values in parse_qs(url.query).items()}

    def test_consent_url(self):
        base_url = self.env["ir.config_parameter"].get_param("web.base.url")
        account = self._create_account()
        url, query = self._link(account)
        self.assertEqual(
            (url.scheme, url.netloc, url.path),
            ("https", "sellercentral.amazon.com", "/apps/authorize/consent"),
        )
        self.assertEqual(query["application_id"], "amzn1.sellerapps.app.test")
        self.assertEqual(query["redirect_uri"], base_url + "/amazon_sp/oauth/callback")
        self.assertNotIn("version", query)
        # The state is signed and names this account, database and user.
        claims = jws.get_unverified_claims(query["state"])
        state = self.env["amazon.sp.oauth.state"].search([("account_id", "=", account.id)])
        self.assertEqual(len(state), 1)
        self.assertIn(state.nonce.encode(), claims)
        self.assertFalse(state.used)
        self.assertEqual(state.user_id, self.amazon_manager)

    def test_consent_url_per_region_and_override(self):
        account = self._create_account(region="eu", draft_app=True)
        url, query = self._link(account)
        self.assertEqual(url.netloc, "sellercentral-europe.amazon.com")
        self.assertEqual(query["version"], "beta")
        account = self._create_account(region="fe", marketplace_ids=[self.marketplace_jp.id])
        url, _query = self._link(account)
        self.assertEqual(url.netloc, "sellercentral.amazon.co.jp")
        account = self._create_account(marketplace_ids=[self.marketplace_ca.id])
        url, _query = self._link(account)
        self.assertEqual(url.netloc, "sellercentral.amazon.ca")
        account = self._create_account(consent_url="http://127.0.0.1:8070/apps/authorize/consent")
        url, query = self._link(account)
        self.assertEqual(
            (url.scheme, url.netloc, url.path),
            ("http", "127.0.0.1:8070", "/apps/authorize/consent"),
        )
        self.assertIn("state", query)

    def test_link_needs_application(self):
        account = self._create_account(application_id=False)
        with self.assertRaisesRegex(UserError, "application ID"):
            self._link(account)

    def test_old_oauth_states_are_vacuumed(self):
        account = self._create_account()
        State = self.env["amazon.sp.oauth.state"]
        OAuth = self.env["amazon.sp.service.oauth"].with_user(self.amazon_manager)
        with freeze_time(NOW):
            OAuth._issue(account)
        with freeze_time(NOW + timedelta(hours=2)):
            OAuth._issue(account)
        states = State.search([("account_id", "=", account.id)])
        self.assertEqual(len(states), 2)
        with freeze_time(NOW + timedelta(days=1, hours=1)):
            State._gc_expired()
        self.assertEqual(len(states.exists()), 1)
