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

from odoo import fields, models
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


class AmazonSpOAuthSellerError(UserError):
    """The seller who authorized is not the account's seller: nothing was linked."""


class AmazonSpServiceOAuth(models.AbstractModel):
    """The website authorization workflow of a seller account: a signed ``state`` (HS256 with
    a key derived from the database secret; this database, this user, ten minutes, its nonce
    used once, recorded as ``amazon.sp.oauth.state``), Seller Central's consent page, and the
    exchange of the authorization code for a refresh token.

    The link wizard issues the state and opens the consent page; the controller of
    :data:`OAUTH_CALLBACK_PATH` consumes the state, then links the account with the code. No
    hook: the checks are security, keep them whole.
    """

    _name = "amazon.sp.service.oauth"
    _description = "Amazon SP-API OAuth Service"

    # ------------------------------------------------------------------------------------------
    # The signed state
    # ------------------------------------------------------------------------------------------

    def _signing_key(self):
        """HMAC key of the states, derived from this database's secret."""
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        if not secret:
            raise ValueError("database.secret is not set")
        return hmac.new(secret.encode(), STATE_KEY_PURPOSE, hashlib.sha256).digest()

    def _issue(self, account):
        """Record a new attempt to link ``account`` and return its signed ``state``."""
        account.ensure_one()
        nonce = secrets.token_urlsafe(24)
        expires = int(time.time() + STATE_VALIDITY.total_seconds())
        self.env["amazon.sp.oauth.state"].create(
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
        return jws.sign(claims, self._signing_key(), algorithm=STATE_ALGORITHM)

    def _consume(self, state):
        """Check a callback's ``state`` and mark its nonce used.

        :return: the account (amazon.sp.account) the state was issued for, in this environment
        :raise AmazonSpOAuthStateError: when the state is forged, expired, replayed, made for
            another database or another user
        :raise AccessError: when the user may not write on the account
        """
        _ = self.env._
        try:
            payload = jws.verify(state, self._signing_key(), [STATE_ALGORITHM])
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
        State = self.env["amazon.sp.oauth.state"]
        State.flush_model()
        # Checked and marked used in one UPDATE: a state passes once.
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
        State.invalidate_model(["used"])
        if not row:
            raise AmazonSpOAuthStateError(
                "replayed or unknown nonce",
                _("This authorization link was already used. Start again from the seller account."),
            )
        account = State.browse(row[0]).account_id
        account.check_access("write")
        return account

    # ------------------------------------------------------------------------------------------
    # The consent page and the authorization code
    # ------------------------------------------------------------------------------------------

    def _redirect_uri(self, account):
        """Redirect URI of the OAuth callback, to register on the SP-API application."""
        account.ensure_one()
        return account.get_base_url().rstrip("/") + OAUTH_CALLBACK_PATH

    def _consent_base_url(self, account):
        """Seller Central consent page of the account's region (or its override)."""
        account.ensure_one()
        if account.consent_url:
            self.env["amazon.sp.service.connection"]._check_hosts(account)
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

    def _consent_url(self, account, state):
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
            "redirect_uri": self._redirect_uri(account),
        }
        if account.draft_app:
            params["version"] = "beta"
        base = self._consent_base_url(account)
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}{urlencode(params)}"

    def _link_with_code(self, account, code, selling_partner_id, redirect_uri=None):
        """Exchange an OAuth authorization code for a refresh token and link ``account``.

        :raise AmazonSpOAuthSellerError: when ``selling_partner_id`` is not the account's seller
            (the code is not exchanged)
        :raise UserError: when Amazon refuses the code
        """
        account.ensure_one()
        if account.seller_id and selling_partner_id and selling_partner_id != account.seller_id:
            _logger.warning(
                "Amazon OAuth callback for account %s refused: another selling partner",
                account.id,
            )
            message = self.env._(
                "Amazon sent back the authorization of seller %(other)s, but account "
                "%(account)s is the one of seller %(seller)s: nothing was changed. Sign in to "
                "Seller Central as seller %(seller)s and authorize again, or create another "
                "account for seller %(other)s.",
                other=selling_partner_id,
                account=account.name,
                seller=account.seller_id,
            )
            account.message_post(body=message, subtype_xmlid="mail.mt_note")
            raise AmazonSpOAuthSellerError(message)
        client = account._get_spapi_client(require_refresh_token=False, interactive=True)
        try:
            tokens = client.auth.exchange_code(
                code, redirect_uri=redirect_uri or self._redirect_uri(account)
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
        account.message_post(body=body, subtype_xmlid="mail.mt_note")
        _logger.info("Amazon account %s linked by user %s", account.id, self.env.uid)
        return True
