import logging

from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.http import request

from ..services.oauth import (
    OAUTH_CALLBACK_PATH,
    AmazonSpOAuthSellerError,
    AmazonSpOAuthStateError,
)

_logger = logging.getLogger(__name__)

ACCOUNT_FORM_URL = "/odoo/action-account_amazon_refund.amazon_sp_account_action/%s"


class AmazonSpOAuthController(http.Controller):
    @http.route(OAUTH_CALLBACK_PATH, type="http", auth="user", methods=["GET"], readonly=False)
    def amazon_sp_oauth_callback(
        self, state=None, selling_partner_id=None, spapi_oauth_code=None, **kwargs
    ):
        """Where Seller Central sends the seller back after the consent page.

        Checks the signed ``state`` (this database, this user, not expired, used once),
        exchanges the authorization code for a refresh token and opens the account.
        """
        _ = request.env._
        if not state:
            return self._error_page(_("Amazon did not send back the state of the request."))
        OAuth = request.env["amazon.sp.service.oauth"]
        try:
            account = OAuth._consume(state)
        except AmazonSpOAuthStateError as error:
            _logger.warning(
                "Refused an Amazon OAuth callback for user %s: %s", request.env.uid, error.reason
            )
            return self._error_page(error.message)
        except AccessError:
            _logger.warning(
                "Refused an Amazon OAuth callback for user %s: no write access", request.env.uid
            )
            return self._error_page(_("You are not allowed to link this seller account."))
        if not spapi_oauth_code or not selling_partner_id:
            _logger.warning(
                "Amazon OAuth callback for account %s without code or selling partner", account.id
            )
            return self._error_page(
                _(
                    "Amazon did not send an authorization code: the authorization was refused "
                    "or cancelled."
                ),
                account=account,
            )
        try:
            OAuth._link_with_code(
                account,
                spapi_oauth_code,
                selling_partner_id,
                redirect_uri=OAuth._redirect_uri(account),
            )
        except AmazonSpOAuthSellerError as error:
            return self._error_page(str(error.args[0]), account=account, status=400)
        except UserError as error:
            return self._error_page(str(error.args[0]), account=account, status=502)
        return request.redirect(ACCOUNT_FORM_URL % account.id)

    def _error_page(self, message, account=None, status=400):
        """A plain page that says why the authorization failed (the message is escaped)."""
        values = {
            "message": message,
            "back_url": ACCOUNT_FORM_URL % account.id if account else "/odoo",
        }
        return request.render(
            "account_amazon_refund.amazon_sp_oauth_error_page", values, status=status
        )
