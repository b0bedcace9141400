import logging
from datetime import timedelta

import psycopg2
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..domain import sources
from ..spapi import LwaAuth, SpApiClient, const, exceptions
from .amazon_sp_marketplace import REGION_SELECTION

_logger = logging.getLogger(__name__)

# Public SP-API applications must be re-authorized by the seller every 365 days.
AUTHORIZATION_VALIDITY = timedelta(days=365)
# The first import starts this long before the account was created, unless told otherwise.
DEFAULT_HISTORY = timedelta(days=30)
# HTTP timeouts in seconds. Numbers rather than (connect, read) tuples: Odoo's test request guard
# compares the timeout with an int.
LWA_TIMEOUT = 30
API_TIMEOUT = 60


def _default_sync_from(model):
    return fields.Datetime.now() - DEFAULT_HISTORY


class AmazonSpAccount(models.Model):
    """An Amazon seller (selling partner) of one SP-API region, and how Odoo reaches it."""

    _name = "amazon.sp.account"
    _description = "Amazon SP-API Seller Account"
    _inherit = ["mail.thread", "mail.activity.mixin"]  # noqa: RUF012
    _order = "name, id"

    # ------------------------------------------------------------------------------------------
    # Fields
    # ------------------------------------------------------------------------------------------

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        tracking=True,
    )
    region = fields.Selection(
        REGION_SELECTION,
        required=True,
        default="na",
        tracking=True,
        help="SP-API region of the seller's marketplaces. A seller selling in several regions "
        "needs one account per region.",
    )
    environment = fields.Selection(
        [("production", "Production"), ("sandbox", "Sandbox")],
        required=True,
        default="production",
        tracking=True,
        help="Sandbox calls Amazon's static sandbox, which only proves authorization and wiring.",
    )
    seller_id = fields.Char(
        string="Seller ID",
        tracking=True,
        help="Selling partner ID (merchant token) of the seller, sent by Amazon when the seller "
        "authorizes the application.",
    )
    application_id = fields.Char(
        string="Application ID",
        help="SP-API application ID (amzn1.sellerapps.app...), needed to send the seller to the "
        "consent page.",
    )
    draft_app = fields.Boolean(
        help="Tick while the application is not published: the consent URL then asks for the "
        "beta version of the app.",
    )
    lwa_client_id = fields.Char(
        string="LWA Client ID",
        help="Login with Amazon client identifier of the application.",
    )
    lwa_client_secret = fields.Char(
        string="LWA Client Secret",
        groups="account_amazon_refund.group_amazon_sp_manager",
        copy=False,
        help="Login with Amazon client secret of the application. Amazon asks to rotate it "
        "every 180 days.",
    )
    refresh_token = fields.Char(
        groups="account_amazon_refund.group_amazon_sp_manager",
        copy=False,
        help="LWA refresh token of the seller's authorization. Linking with Amazon fills it in; "
        "for a private app you can paste the token from Seller Central (self-authorization).",
    )
    api_url = fields.Char(
        string="API URL",
        help="Replaces Amazon's regional SP-API endpoint (emulator, proxy). Leave empty for "
        "Amazon.",
    )
    lwa_url = fields.Char(
        string="LWA Token URL",
        help="Replaces Amazon's LWA token endpoint (full URL). Leave empty for Amazon.",
    )
    consent_url = fields.Char(
        string="Consent URL",
        help="Replaces the Seller Central consent page (full URL, e.g. an emulator's). Leave "
        "empty for Amazon.",
    )
    marketplace_ids = fields.Many2many(
        "amazon.sp.marketplace",
        string="Marketplaces",
        domain="[('region', '=', region)]",
        help="Marketplaces of this seller that Odoo imports.",
    )
    sync_from = fields.Datetime(
        string="Import From",
        default=_default_sync_from,
        help="Where the first import starts.",
    )
    state = fields.Selection(
        [
            ("draft", "Not Linked"),
            ("linked", "Linked"),
            ("error", "Error"),
            ("revoked", "Revoked"),
        ],
        required=True,
        default="draft",
        readonly=True,
        copy=False,
        tracking=True,
    )
    authorization_date = fields.Datetime(
        copy=False,
        tracking=True,
        help="When the seller authorized the application.",
    )
    authorization_expiry = fields.Datetime(
        compute="_compute_authorization_expiry",
        store=True,
        help="Public applications must be re-authorized by the seller before this date.",
    )
    last_error = fields.Text(readonly=True, copy=False)
    accountant_id = fields.Many2one(
        "res.users",
        default=lambda self: self.env.user,
        help="Receives the activities of the daily consistency check.",
    )
    amazon_settlement_count = fields.Integer(compute="_compute_amazon_settlement_count")
    finances_api = fields.Selection(
        sources.selection(),
        string="Finances API",
        default=sources.DEFAULT_SOURCE,
        required=True,
        help="listTransactions (2024-06-19) is Amazon's current API; v0 is deprecated but keeps "
        "A-to-z claims and chargebacks apart.",
    )
    overlap_days = fields.Integer(
        default=2,
        help="Each pull re-reads this many days before the last one, because Amazon posts late.",
    )
    sync_cursor_ids = fields.One2many("amazon.sp.sync.cursor", "account_id", string="Cursors")
    import_run_ids = fields.One2many("amazon.sp.import.run", "account_id", string="Import Runs")
    amazon_event_count = fields.Integer(compute="_compute_amazon_event_count")
    amazon_event_review_count = fields.Integer(compute="_compute_amazon_event_count")

    # ------------------------------------------------------------------------------------------
    # Compute and constraints
    # ------------------------------------------------------------------------------------------

    @api.depends("authorization_date")
    def _compute_authorization_expiry(self):
        for account in self:
            account.authorization_expiry = (
                account.authorization_date and account.authorization_date + AUTHORIZATION_VALIDITY
            )

    def _compute_amazon_settlement_count(self):
        counts = dict(
            self.env["amazon.sp.settlement"]._read_group(
                [("account_id", "in", self.ids)], ["account_id"], ["__count"]
            )
        )
        for account in self:
            account.amazon_settlement_count = counts.get(account, 0)

    def _compute_amazon_event_count(self):
        Event = self.env["amazon.sp.event"]
        counts = dict.fromkeys(self.ids, 0)
        review = dict.fromkeys(self.ids, 0)
        for account, count in Event._read_group(
            [("account_id", "in", self.ids)], ["account_id"], ["__count"]
        ):
            counts[account.id] = count
        for account, count in Event._read_group(
            [("account_id", "in", self.ids), ("state", "in", ("to_review", "error"))],
            ["account_id"],
            ["__count"],
        ):
            review[account.id] = count
        for account in self:
            account.amazon_event_count = counts.get(account.id, 0)
            account.amazon_event_review_count = review.get(account.id, 0)

    @api.constrains("seller_id", "region", "active")
    def _check_seller_once(self):
        self.env["amazon.sp.service.staging"]._check_seller_once(self)

    @api.constrains("region", "marketplace_ids", "api_url")
    def _check_marketplace_region(self):
        # Amazon's regional endpoints serve their own marketplaces; an api_url may serve any.
        for account in self.filtered(lambda a: not a.api_url):
            other = account.marketplace_ids.filtered(lambda m, a=account: m.region != a.region)
            if other:
                raise ValidationError(
                    self.env._(
                        "Marketplaces %(marketplaces)s are not in the region of account "
                        "%(account)s.",
                        marketplaces=", ".join(other.mapped("display_name")),
                        account=account.name,
                    )
                )

    @api.onchange("region")
    def _onchange_region(self):
        if not self.api_url:
            self.marketplace_ids = self.marketplace_ids.filtered(lambda m: m.region == self.region)

    # ------------------------------------------------------------------------------------------
    # CRUD: an account saved with a refresh token is linked
    # ------------------------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        now = fields.Datetime.now()
        for vals in vals_list:
            if vals.get("refresh_token"):
                vals.setdefault("state", "linked")
                if not vals.get("authorization_date"):
                    vals["authorization_date"] = now
        return super().create(vals_list)

    def write(self, vals):
        if "refresh_token" not in vals:
            return super().write(vals)
        vals = dict(vals)
        if not vals["refresh_token"]:
            # No token, no authorization.
            vals.setdefault("state", "draft")
            vals.setdefault("authorization_date", False)
            return super().write(vals)
        vals.setdefault("state", "linked")
        if "authorization_date" in vals:
            return super().write(vals)
        undated = self.filtered(lambda account: not account.authorization_date)
        if undated:
            super(AmazonSpAccount, undated).write(
                dict(vals, authorization_date=fields.Datetime.now())
            )
        if self - undated:
            super(AmazonSpAccount, self - undated).write(vals)
        return True

    # ------------------------------------------------------------------------------------------
    # SP-API client (the one place that reads the secrets)
    # ------------------------------------------------------------------------------------------

    def _get_spapi_client(self, require_refresh_token=True):
        """Build the SP-API client of this account.

        The only method that reads the LWA client secret and the refresh token: it does so as
        superuser, so callers need no access to the secret fields, and it never returns them.

        :param bool require_refresh_token: False to get a client whose ``auth`` can exchange an
            authorization code (OAuth) before the account has a refresh token.
        :rtype: spapi.SpApiClient
        """
        self.ensure_one()
        account = self.sudo()
        if not account.lwa_client_id or not account.lwa_client_secret:
            raise UserError(
                self.env._(
                    "Set the LWA client ID and client secret of your SP-API application on "
                    "account %(account)s first.",
                    account=account.name,
                )
            )
        if require_refresh_token and not account.refresh_token:
            raise UserError(
                self.env._(
                    "Account %(account)s is not linked to Amazon yet: use Link with Amazon, or "
                    "paste a refresh token.",
                    account=account.name,
                )
            )
        auth = LwaAuth(
            account.lwa_client_id,
            account.lwa_client_secret,
            refresh_token=account.refresh_token or None,
            token_url=account.lwa_url or const.LWA_TOKEN_URL,
            timeout=LWA_TIMEOUT,
        )
        return SpApiClient(
            auth,
            region=account.region,
            environment=account.environment,
            api_url=account.api_url or None,
            timeout=API_TIMEOUT,
            **self._amazon_sp_client_options(),
        )

    def _amazon_sp_client_options(self):
        """Extra keyword arguments of SpApiClient (retries, backoff, clock, sleep...).

        A hook for extensions and tests; the default client settings otherwise.
        """
        return {}

    def _amazon_sp_error_message(self, error):
        """A translated, secret-free explanation of an SP-API failure, for the user."""
        self.ensure_one()
        if isinstance(error, exceptions.AuthError):
            message = self.env._(
                "Amazon refused the credentials of account %(account)s. Check the LWA client ID "
                "and secret, and link the account again if the seller revoked the authorization.",
                account=self.name,
            )
        elif isinstance(error, exceptions.ThrottledError):
            message = self.env._("Amazon is throttling the requests; try again in a few minutes.")
        elif isinstance(error, exceptions.TransportError):
            message = self.env._(
                "Odoo could not reach Amazon (%(endpoint)s). Check the network and the API URL.",
                endpoint=self.api_url or self.region,
            )
        elif isinstance(error, exceptions.ServerError):
            message = self.env._("Amazon's service failed; try again later.")
        else:
            message = self.env._("Amazon answered with an error.")
        details = [str(error.message or "").strip()] if getattr(error, "message", None) else []
        if getattr(error, "status_code", None):
            details.append(self.env._("HTTP status %(status)s", status=error.status_code))
        if getattr(error, "request_id", None):
            details.append(self.env._("request ID %(request_id)s", request_id=error.request_id))
        if details:
            message = f"{message}\n({'; '.join(details)})"
        return message

    def _amazon_sp_record_failure(self, message):
        """Store the failure on the account (state, last error, chatter) for good.

        The caller raises a UserError right after, which rolls its own transaction back: the
        failure is written through a separate cursor so that it stays visible.
        """
        self.ensure_one()
        try:
            with self.env.registry.cursor() as cr:
                # Don't wait on a lock held by the caller's own transaction.
                cr.execute(
                    SQL(
                        "SELECT id FROM amazon_sp_account WHERE id = %s FOR UPDATE NOWAIT", self.id
                    ),
                    log_exceptions=False,
                )
                if not cr.fetchone():
                    return
                account = self.with_env(self.env(cr=cr)).sudo()
                account.write({"state": "error", "last_error": message})
                account.message_post(
                    body=Markup("%s<br/>%s") % (self.env._("Amazon connection failed:"), message),
                    subtype_xmlid="mail.mt_note",
                )
        except psycopg2.Error:
            _logger.warning(
                "Could not record the failure of Amazon account %s", self.id, exc_info=True
            )

    def _amazon_sp_call(self, operation, *args, **kwargs):
        """Call ``operation`` of the account's client for a user; failures become UserErrors.

        :param str operation: name of a SpApiClient method
        """
        self.ensure_one()
        client = self._get_spapi_client()
        try:
            return getattr(client, operation)(*args, **kwargs)
        except exceptions.SpApiError as error:
            _logger.warning(
                "SP-API %s failed for Amazon account %s: %s (status %s, request id %s)",
                operation,
                self.id,
                type(error).__name__,
                getattr(error, "status_code", None),
                getattr(error, "request_id", None),
            )
            message = self._amazon_sp_error_message(error)
            self._amazon_sp_record_failure(message)
            raise UserError(message) from error

    def _amazon_sp_participations(self):
        """Marketplaces the seller participates in: list of (marketplace dict, record or None)."""
        self.ensure_one()
        answer = self._amazon_sp_call("get_marketplace_participations")
        marketplace_by_id = {
            m.marketplace_id: m for m in self.env["amazon.sp.marketplace"].search([])
        }
        result = []
        for item in answer or []:
            marketplace = item.get("marketplace") or {}
            participation = item.get("participation") or {}
            if not participation.get("isParticipating", True):
                continue
            result.append((marketplace, marketplace_by_id.get(marketplace.get("id"))))
        return result

    # ------------------------------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------------------------------

    def action_test_connection(self):
        """Get an access token and list the seller's marketplaces."""
        self.ensure_one()
        participations = self._amazon_sp_participations()
        if self.state != "linked" or self.last_error:
            self.write({"state": "linked", "last_error": False})
        names = [f"{m.get('name') or '?'} ({m.get('id') or '?'})" for m, _record in participations]
        body = Markup("%s<ul>%s</ul>") % (
            self.env._("Connection test succeeded. The seller participates in:"),
            Markup().join(Markup("<li>%s</li>") % name for name in names),
        )
        self.message_post(body=body, subtype_xmlid="mail.mt_note")
        return self._amazon_sp_notification(
            self.env._("Connection to Amazon works"),
            self.env._("Marketplaces: %(names)s", names=", ".join(names) or self.env._("none")),
        )

    def action_fetch_marketplaces(self):
        """Enable the marketplaces the seller participates in (those known to Odoo)."""
        self.ensure_one()
        participations = self._amazon_sp_participations()
        found = self.env["amazon.sp.marketplace"]
        for _marketplace, record in participations:
            if record and (record.region == self.region or self.api_url):
                found |= record
        added = found - self.marketplace_ids
        values = {"marketplace_ids": [Command.link(m.id) for m in added]}
        if self.state != "linked" or self.last_error:
            values.update(state="linked", last_error=False)
        self.write(values)
        if added:
            message = self.env._(
                "Marketplaces enabled from Amazon: %(names)s",
                names=", ".join(added.mapped("display_name")),
            )
            self.message_post(body=message, subtype_xmlid="mail.mt_note")
        else:
            message = self.env._("No new marketplace: the enabled ones already match Amazon.")
        return self._amazon_sp_notification(self.env._("Marketplaces fetched"), message)

    def action_revoke(self):
        """Forget the seller's authorization (the refresh token)."""
        for account in self:
            account.write({"refresh_token": False, "state": "revoked"})
            account.message_post(
                body=self.env._("Authorization removed by %(user)s.", user=self.env.user.name),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def action_open_link_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Link with Amazon"),
            "res_model": "amazon.sp.account.link",
            "view_mode": "form",
            "target": "new",
            "context": {"default_account_id": self.id},
        }

    def _amazon_sp_notification(self, title, message, notification_type="success"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": notification_type,
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------------------------------------
    # Settlements, settlement reports, daily check (the flows live in services/)
    # ------------------------------------------------------------------------------------------

    def action_view_amazon_settlements(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_settlement_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        return action

    def action_amazon_sp_refresh_settlements(self):
        """Read the financial event groups, the events of the closed ones, and pay out those
        that match. Runs as an import run (trigger: button)."""
        Import = self.env["amazon.sp.service.import"]
        for account in self:
            Import._sync(account, trigger="manual", settlements_only=True)
        return True

    def action_amazon_sp_fetch_settlement_reports(self):
        """Download the new V2 settlement reports and compare them with their settlements."""
        Reports = self.env["amazon.sp.service.settlement.report"]
        for account in self:
            try:
                Reports._fetch(account)
            except exceptions.SpApiError as error:
                raise UserError(
                    self.env._(
                        "Amazon's settlement reports could not be read: %(error)s",
                        error=account._amazon_sp_error_message(error),
                    )
                ) from error
        return True

    @api.model
    def _cron_amazon_sp_daily_check(self, days=None):
        """Scheduled action: check the last days (up to yesterday) of every linked account and
        enabled marketplace, see ``amazon.sp.service.check``."""
        self.env["amazon.sp.service.check"]._check_accounts(days=days)
        return True

    # ------------------------------------------------------------------------------------------
    # Import: actions and scheduled action (the flow lives in services/importer.py)
    # ------------------------------------------------------------------------------------------

    def action_sync(self):
        """Pull and process every enabled marketplace of the accounts now (from ``sync_from``
        on the first run); returns an action showing the import runs."""
        importer = self.env["amazon.sp.service.import"]
        runs = self.env["amazon.sp.import.run"]
        for account in self:
            runs |= importer._sync(account, trigger="manual")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_import_run_action"
        )
        if len(runs) == 1:
            action.update(view_mode="form", views=[(False, "form")], res_id=runs.id)
        else:
            action["domain"] = [("id", "in", runs.ids)]
        return action

    def action_view_amazon_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_event_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        return action

    def action_view_import_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_import_run_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        return action

    @api.model
    def _cron_amazon_sp_sync(self):
        """Scheduled action: pull and process every linked account, in bounded batches; when
        one had more to do, the scheduled action is triggered again."""
        accounts = self.search(self._amazon_sp_syncable_domain())
        if self.env["amazon.sp.service.import"]._sync_scheduled(accounts):
            cron = self.env.ref(
                "account_amazon_refund.ir_cron_amazon_sp_sync", raise_if_not_found=False
            )
            if cron:
                cron._trigger()
        return True

    @api.model
    def _amazon_sp_syncable_domain(self):
        """The accounts the scheduled actions work on."""
        domain = [("refresh_token", "!=", False)]
        if "state" in self._fields:
            domain.append(("state", "=", "linked"))
        return domain

    def _amazon_sp_enabled_marketplaces(self):
        """The marketplaces whose events the account imports (a hook)."""
        self.ensure_one()
        return self.marketplace_ids
