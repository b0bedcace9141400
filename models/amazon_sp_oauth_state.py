import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from jose import jws
from jose.exceptions import JOSEError
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_datetime

from ..spapi import exceptions

_logger = logging.getLogger(__name__)

# How long the seller has to come back from Seller Central.
STATE_VALIDITY = timedelta(minutes=10)
# Purpose string of the signing key (derived from the database secret).
STATE_KEY_PURPOSE = b"account_amazon_refund.oauth_state"
STATE_ALGORITHM = "HS256"
# Path of the OAuth redirect URI served by controllers/main.py.
OAUTH_CALLBACK_PATH = "/amazon_sp/oauth/callback"
# Path of the consent page on the Seller Central host (website authorization workflow).
CONSENT_PATH = "/apps/authorize/consent"
# Seller Central host of each region when the account has no marketplace enabled yet.
REGION_DEFAULT_MARKETPLACE = {
    "na": "ATVPDKIKX0DER",  # US
    "eu": "A1F83G8C2ARO7P",  # UK (sellercentral-europe.amazon.com)
    "fe": "A1VC38T7YXB528",  # JP
}


class AmazonSpOAuthStateError(Exception):
    """The ``state`` of an OAuth callback is refused.

    ``message`` is the (translated) explanation shown to the user; ``reason`` a short
    untranslated code for the log.
    """

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason
        self.message = message


class AmazonSpOAuthState(models.Model):
    """One OAuth attempt: the nonce of a signed ``state``, so that each is used once; and the
    website authorization workflow around it (consent page, authorization code)."""

    _name = "amazon.sp.oauth.state"
    _description = "Amazon SP-API OAuth State"
    _order = "id desc"
    _rec_name = "account_id"

    nonce = fields.Char(required=True, readonly=True, index=True, copy=False)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, readonly=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="account_id.company_id")
    user_id = fields.Many2one("res.users", required=True, readonly=True, ondelete="cascade")
    expires_at = fields.Datetime(required=True, readonly=True)
    used = fields.Boolean(readonly=True, copy=False)

    _sql_constraints = [  # noqa: RUF012
        ("nonce_uniq", "unique(nonce)", "An OAuth nonce can only be used once."),
    ]

    # ------------------------------------------------------------------------------------------
    # Signing
    # ------------------------------------------------------------------------------------------

    @api.model
    def _amazon_sp_signing_key(self):
        """HMAC key of the states, derived from this database's secret."""
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        if not secret:
            raise ValueError("database.secret is not set")
        return hmac.new(secret.encode(), STATE_KEY_PURPOSE, hashlib.sha256).digest()

    @api.model
    def _amazon_sp_issue(self, account):
        """Record a new attempt to link ``account`` and return its signed ``state``."""
        account.ensure_one()
        nonce = secrets.token_urlsafe(24)
        expires = int(time.time() + STATE_VALIDITY.total_seconds())
        self.create(
            {
                "nonce": nonce,
                "account_id": account.id,
                "user_id": self.env.uid,
                "expires_at": datetime.fromtimestamp(expires, UTC).replace(tzinfo=None),
            }
        )
        claims = {
            "aid": account.id,
            "db": self.env.cr.dbname,
            "uid": self.env.uid,
            "nonce": nonce,
            "exp": expires,
        }
        return jws.sign(claims, self._amazon_sp_signing_key(), algorithm=STATE_ALGORITHM)

    @api.model
    def _amazon_sp_consume(self, state):
        """Check a callback's ``state`` and mark its nonce used.

        :return: the account (amazon.sp.account) the state was issued for, in this environment
        :raise AmazonSpOAuthStateError: when the state is forged, expired, replayed, made for
            another database or another user
        """
        _ = self.env._
        try:
            payload = jws.verify(state, self._amazon_sp_signing_key(), [STATE_ALGORITHM])
            claims = json.loads(payload)
        except (JOSEError, ValueError, TypeError) as error:
            raise AmazonSpOAuthStateError(
                "bad signature",
                _("This authorization link is invalid: its signature does not match."),
            ) from error
        if not isinstance(claims, dict):
            raise AmazonSpOAuthStateError("bad claims", _("This authorization link is invalid."))
        if claims.get("db") != self.env.cr.dbname:
            raise AmazonSpOAuthStateError(
                "other database",
                _("This authorization link was made for another Odoo database."),
            )
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp < time.time():
            raise AmazonSpOAuthStateError(
                "expired",
                _(
                    "This authorization link has expired (it is valid %(minutes)s minutes). "
                    "Start again from the seller account.",
                    minutes=int(STATE_VALIDITY.total_seconds() // 60),
                ),
            )
        if claims.get("uid") != self.env.uid:
            raise AmazonSpOAuthStateError(
                "other user",
                _("This authorization was started by another user. Sign in as that user."),
            )
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """UPDATE amazon_sp_oauth_state
                      SET used = TRUE, write_uid = %(uid)s, write_date = NOW() AT TIME ZONE 'UTC'
                    WHERE nonce = %(nonce)s AND used IS NOT TRUE
                      AND account_id = %(account)s AND user_id = %(uid)s
                RETURNING id""",
                nonce=str(claims.get("nonce")),
                account=claims.get("aid"),
                uid=self.env.uid,
            )
        )
        row = self.env.cr.fetchone()
        self.invalidate_model(["used"])
        if not row:
            raise AmazonSpOAuthStateError(
                "replayed or unknown nonce",
                _("This authorization link was already used. Start again from the seller account."),
            )
        account = self.browse(row[0]).account_id
        account.check_access("write")
        return account

    # ------------------------------------------------------------------------------------------
    # The consent page and the authorization code
    # ------------------------------------------------------------------------------------------

    @api.model
    def _amazon_sp_redirect_uri(self, account):
        """Redirect URI of the OAuth callback, to register on the SP-API application."""
        account.ensure_one()
        return account.get_base_url().rstrip("/") + OAUTH_CALLBACK_PATH

    @api.model
    def _amazon_sp_consent_base_url(self, account):
        """Seller Central consent page of the account's region (or its override)."""
        account.ensure_one()
        if account.consent_url:
            return account.consent_url
        Marketplace = self.env["amazon.sp.marketplace"]
        marketplace = account.marketplace_ids[:1]
        if not marketplace:
            marketplace = Marketplace.search(
                [("marketplace_id", "=", REGION_DEFAULT_MARKETPLACE[account.region])], limit=1
            ) or Marketplace.search([("region", "=", account.region)], limit=1)
        if not marketplace:
            raise UserError(
                self.env._("No Amazon marketplace is known in region %s.", account.region)
            )
        return f"https://{marketplace.seller_central_host}{CONSENT_PATH}"

    @api.model
    def _amazon_sp_consent_url(self, account, state):
        """Full URL of the consent page that sends the seller back to Odoo with ``state``."""
        account.ensure_one()
        if not account.application_id:
            raise UserError(
                self.env._(
                    "Set the application ID of your SP-API application on account %(account)s "
                    "first.",
                    account=account.name,
                )
            )
        params = {
            "application_id": account.application_id,
            "state": state,
            "redirect_uri": self._amazon_sp_redirect_uri(account),
        }
        if account.draft_app:
            params["version"] = "beta"
        base = self._amazon_sp_consent_base_url(account)
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}{urlencode(params)}"

    @api.model
    def _amazon_sp_link_with_code(self, account, code, selling_partner_id, redirect_uri=None):
        """Exchange an OAuth authorization code for a refresh token and link ``account``.

        :raise UserError: when Amazon refuses the code
        """
        account.ensure_one()
        client = account._get_spapi_client(require_refresh_token=False)
        try:
            tokens = client.auth.exchange_code(
                code, redirect_uri=redirect_uri or self._amazon_sp_redirect_uri(account)
            )
        except exceptions.SpApiError as error:
            _logger.warning(
                "LWA refused the authorization code for Amazon account %s: %s (status %s)",
                account.id,
                type(error).__name__,
                getattr(error, "status_code", None),
            )
            message = account._amazon_sp_error_message(error)
            account.write({"last_error": message})
            account.message_post(
                body=Markup("%s<br/>%s") % (self.env._("Linking with Amazon failed:"), message),
                subtype_xmlid="mail.mt_note",
            )
            raise UserError(message) from error
        refresh_token = tokens.get("refresh_token")
        if not refresh_token:
            raise UserError(self.env._("Amazon did not return a refresh token."))
        previous_seller = account.seller_id
        now = fields.Datetime.now()
        account.write(
            {
                "refresh_token": refresh_token,
                "seller_id": selling_partner_id or previous_seller,
                "state": "linked",
                "authorization_date": now,
                "last_error": False,
            }
        )
        body = self.env._(
            "Linked with Amazon by %(user)s on %(date)s (selling partner %(seller)s).",
            user=self.env.user.name,
            date=format_datetime(self.env, now),
            seller=account.seller_id or "?",
        )
        if previous_seller and selling_partner_id and previous_seller != selling_partner_id:
            body += " " + self.env._(
                "The selling partner changed from %(old)s.",
                old=previous_seller,
            )
        account.message_post(body=body, subtype_xmlid="mail.mt_note")
        _logger.info("Amazon account %s linked by user %s", account.id, self.env.uid)
        return True

    @api.autovacuum
    def _gc_expired(self):
        """Forget attempts that ended more than a day ago."""
        self.sudo().search(
            [("expires_at", "<", fields.Datetime.now() - timedelta(days=1))]
        ).unlink()
