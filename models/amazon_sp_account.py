import logging
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError

from ..domain import sources
from .amazon_sp_marketplace import REGION_SELECTION

_logger = logging.getLogger(__name__)

# Public SP-API applications must be re-authorized by the seller every 365 days.
AUTHORIZATION_VALIDITY = timedelta(days=365)
# Amazon asks to rotate the LWA client secret of an application every 180 days.
CLIENT_SECRET_VALIDITY = timedelta(days=180)
# The first import starts this long before the account was created, unless told otherwise.
DEFAULT_HISTORY = timedelta(days=30)


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
    lwa_client_secret_date = fields.Datetime(
        string="Client Secret Set On",
        copy=False,
        tracking=True,
        help="When the client secret was last changed (Odoo fills it in).",
    )
    lwa_client_secret_expiry = fields.Datetime(
        string="Client Secret Rotation Due",
        compute="_compute_lwa_client_secret_expiry",
        store=True,
        help="Amazon refuses the application's calls once its client secret is 180 days old.",
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
            ("reauth", "Re-authorization Needed"),
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
    last_outcome = fields.Char(string="Last Import", readonly=True, copy=False)
    last_outcome_date = fields.Datetime(string="Last Import On", readonly=True, copy=False)
    finances_last_success = fields.Datetime(readonly=True, copy=False)
    finances_last_failure = fields.Datetime(readonly=True, copy=False)
    reports_last_success = fields.Datetime(readonly=True, copy=False)
    reports_last_failure = fields.Datetime(readonly=True, copy=False)
    sellers_last_success = fields.Datetime(readonly=True, copy=False)
    sellers_last_failure = fields.Datetime(readonly=True, copy=False)
    # The deadlines already reminded (one activity each).
    authorization_reminded = fields.Datetime(readonly=True, copy=False)
    lwa_client_secret_reminded = fields.Datetime(readonly=True, copy=False)
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

    @api.depends("lwa_client_secret_date")
    def _compute_lwa_client_secret_expiry(self):
        for account in self:
            set_on = account.lwa_client_secret_date
            account.lwa_client_secret_expiry = set_on and set_on + CLIENT_SECRET_VALIDITY

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
            if vals.get("lwa_client_secret"):
                vals.setdefault("lwa_client_secret_date", now)
            if vals.get("refresh_token"):
                vals.setdefault("state", "linked")
                if not vals.get("authorization_date"):
                    vals["authorization_date"] = now
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("lwa_client_secret") and "lwa_client_secret_date" not in vals:
            vals = dict(vals, lwa_client_secret_date=fields.Datetime.now())
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

    def _get_spapi_client(self, require_refresh_token=True, interactive=False):
        """Build the SP-API client of this account (see ``amazon.sp.service.connection``).

        The only method that reads the LWA client secret and the refresh token: it does so as
        superuser, so callers need no access to the secret fields, and it never returns them.
        Only Amazon's hosts, unless the system parameter allows others.

        :param bool require_refresh_token: False to get a client whose ``auth`` can exchange an
            authorization code (OAuth) before the account has a refresh token.
        :param bool interactive: a person waits: short reads, few retries
        :rtype: spapi.SpApiClient
        """
        return self.env["amazon.sp.service.connection"]._client(
            self, require_refresh_token=require_refresh_token, interactive=interactive
        )

    def _amazon_sp_client_options(self):
        """Extra keyword arguments of SpApiClient (retries, backoff, clock, sleep...).

        A hook for extensions and tests; the default client settings otherwise.
        """
        return {}

    def _amazon_sp_error_message(self, error):
        """A translated, secret-free explanation of an SP-API failure, for the user."""
        return self.env["amazon.sp.service.connection"]._error_message(self, error)

    # ------------------------------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------------------------------

    def action_test_connection(self):
        """Get an access token and list the seller's marketplaces (changes nothing for a user
        who may not change the account)."""
        self.ensure_one()
        names = self.env["amazon.sp.service.connection"]._test(self)
        return self._amazon_sp_notification(
            self.env._("Connection to Amazon works"),
            self.env._("Marketplaces: %(names)s", names=", ".join(names) or self.env._("none")),
        )

    def action_fetch_marketplaces(self):
        """Enable the marketplaces the seller participates in (those known to Odoo)."""
        self.ensure_one()
        participations = self.env["amazon.sp.service.connection"]._participations(self)
        found = self.env["amazon.sp.marketplace"]
        for _marketplace, record in participations:
            if record and (record.region == self.region or self.api_url):
                found |= record
        added = found - self.marketplace_ids
        self.write({"marketplace_ids": [Command.link(m.id) for m in added]})
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
        that match: queued as an import run, carried out in the background."""
        Import = self.env["amazon.sp.service.import"]
        return Import._queued_notification(Import._queue(self, kind="settlements"))

    def action_amazon_sp_fetch_settlement_reports(self):
        """Download the new V2 settlement reports and compare them with their settlements, in
        the background."""
        Import = self.env["amazon.sp.service.import"]
        return Import._queued_notification(Import._queue(self, kind="reports"))

    @api.model
    def _cron_amazon_sp_daily_check(self, days=None):
        """Scheduled action: check the last days (up to yesterday) of every linked account and
        enabled marketplace, see ``amazon.sp.service.check``."""
        self.env["amazon.sp.service.check"]._check_accounts(days=days)
        return True

    @api.model
    def _cron_amazon_sp_health(self):
        """Scheduled action: remind, with an activity, to renew an authorization or rotate a
        client secret 30 days before Amazon's deadline."""
        return self.env["amazon.sp.service.connection"]._remind()

    # ------------------------------------------------------------------------------------------
    # Import: actions and scheduled action (the flow lives in services/importer.py)
    # ------------------------------------------------------------------------------------------

    def action_sync(self):
        """Import every enabled marketplace of the accounts (from ``sync_from`` on the first
        run) in the background: queue a run and return at once with a notification."""
        Import = self.env["amazon.sp.service.import"]
        return Import._queued_notification(Import._queue(self))

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
        Import = self.env["amazon.sp.service.import"]
        if Import._run_queued() | Import._sync_scheduled(accounts):
            cron = self.env.ref(
                "account_amazon_refund.ir_cron_amazon_sp_sync", raise_if_not_found=False
            )
            if cron:
                cron._trigger()
        return True

    @api.model
    def _cron_amazon_sp_run_queued(self):
        """Scheduled action: carry out the imports users asked for (without queue_job); it
        triggers itself again while some wait."""
        if self.env["amazon.sp.service.import"]._run_queued():
            self.env.ref("account_amazon_refund.ir_cron_amazon_sp_queued")._trigger()
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
