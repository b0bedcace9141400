import logging
from datetime import timedelta

import psycopg2
from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_datetime

from ..spapi import LwaAuth, SpApiClient, const, exceptions, hosts

_logger = logging.getLogger(__name__)

# The system parameter that lets accounts reach hosts that are not Amazon's (the emulator, a
# proxy). Off by default: production accounts reach Amazon's SP-API and LWA hosts only.
ALLOW_CUSTOM_HOSTS_PARAM = "account_amazon_refund.allow_custom_hosts"
# Timeouts (connect, read) in seconds: an unreachable host fails in 5 s.
LWA_TIMEOUT = hosts.Timeout(5, 30)
API_TIMEOUT = hosts.Timeout(5, 60)
# A person waiting (Test connection, Fetch marketplaces): shorter reads, few retries, and at
# most this many seconds of retrying per call.
INTERACTIVE_TIMEOUT = hosts.Timeout(5, 20)
INTERACTIVE_TOTAL = 30
INTERACTIVE_ATTEMPTS = 3
# Public applications are re-authorized every 365 days (see amazon.sp.account); Amazon asks to
# rotate the LWA client secret every 180 days ("Rotate your Application's LWA Credentials").
CLIENT_SECRET_VALIDITY = timedelta(days=180)
# Activities are scheduled this long before either deadline.
REMINDER_DELAY = timedelta(days=30)
# The account's fields of the last success and failure per API family.
FAMILY_FIELDS = {
    const.FAMILY_FINANCES: ("finances_last_success", "finances_last_failure"),
    const.FAMILY_REPORTS: ("reports_last_success", "reports_last_failure"),
    const.FAMILY_SELLERS: ("sellers_last_success", "sellers_last_failure"),
}


def _naive(moment):
    return moment.replace(tzinfo=None) if moment else moment


class AmazonSpServiceConnection(models.AbstractModel):
    """How an account reaches Amazon, and what it says about it: the client (Amazon's hosts
    only, unless a system parameter allows others), errors in plain words (a 403 names the role
    the application probably lacks), the health fields (last outcome, last success and failure
    per API family), *Re-authorization needed* when LWA rejects the refresh token, and the
    reminders before the authorization and the client secret expire."""

    _name = "amazon.sp.service.connection"
    _description = "Amazon SP-API Connection Service"

    # ------------------------------------------------------------------------------------------
    # The client
    # ------------------------------------------------------------------------------------------

    def _allow_custom_hosts(self):
        value = self.env["ir.config_parameter"].sudo().get_param(ALLOW_CUSTOM_HOSTS_PARAM)
        return str(value or "").strip().lower() not in ("", "0", "false", "no", "off")

    def _check_hosts(self, account):
        """UserError when an URL of ``account`` is not Amazon's and other hosts are not
        allowed."""
        if self._allow_custom_hosts():
            return
        for field_name, kind in (
            ("api_url", hosts.API),
            ("lwa_url", hosts.LWA),
            ("consent_url", hosts.CONSENT),
        ):
            url = account[field_name]
            if url and not hosts.is_amazon(url, kind):
                raise UserError(
                    self.env._(
                        "The %(field)s of account %(account)s is not one of Amazon's addresses "
                        "over https. Clear it to use Amazon's; an administrator can allow other "
                        "addresses (an emulator, a proxy) in the system parameters.",
                        field=account._fields[field_name].get_description(self.env)["string"],
                        account=account.name,
                    )
                )

    def _client(self, account, require_refresh_token=True, interactive=False):
        """The SP-API client of ``account`` (reads the secrets as superuser, never returns
        them). ``interactive``: a person waits, so reads and retries are short."""
        account.ensure_one()
        self._check_hosts(account)
        secrets = account.sudo()
        if not secrets.lwa_client_id or not secrets.lwa_client_secret:
            raise UserError(
                self.env._(
                    "Set the LWA client ID and client secret of your SP-API application on "
                    "account %(account)s first.",
                    account=account.name,
                )
            )
        if require_refresh_token and not secrets.refresh_token:
            raise UserError(
                self.env._(
                    "Account %(account)s is not linked to Amazon yet: use Link with Amazon, or "
                    "paste a refresh token.",
                    account=account.name,
                )
            )
        allow = self._allow_custom_hosts()
        auth = LwaAuth(
            secrets.lwa_client_id,
            secrets.lwa_client_secret,
            refresh_token=secrets.refresh_token or None,
            token_url=secrets.lwa_url or const.LWA_TOKEN_URL,
            timeout=INTERACTIVE_TIMEOUT if interactive else LWA_TIMEOUT,
            allow_custom_hosts=allow,
            hide_foreign_answers=True,
        )
        options = {"timeout": API_TIMEOUT}
        if interactive:
            options.update(
                timeout=INTERACTIVE_TIMEOUT,
                total_timeout=INTERACTIVE_TOTAL,
                max_attempts=INTERACTIVE_ATTEMPTS,
            )
        options.update(account._amazon_sp_client_options())
        return SpApiClient(
            auth,
            region=secrets.region,
            environment=secrets.environment,
            api_url=secrets.api_url or None,
            allow_custom_hosts=allow,
            hide_foreign_answers=True,
            **options,
        )

    # ------------------------------------------------------------------------------------------
    # Errors in plain words
    # ------------------------------------------------------------------------------------------

    def _family_label(self, family):
        return {
            const.FAMILY_FINANCES: self.env._("the financial events"),
            const.FAMILY_REPORTS: self.env._("the reports"),
            const.FAMILY_SELLERS: self.env._("the seller's marketplaces"),
        }.get(family) or self.env._("this request")

    def _error_message(self, account, error):
        """A translated, secret-free explanation of an SP-API failure, for the user."""
        account.ensure_one()
        _ = self.env._
        family = const.operation_family(getattr(error, "operation", None))
        if isinstance(error, exceptions.AuthError) and error.authorization_rejected:
            message = _(
                "Amazon no longer accepts the authorization of account %(account)s (the seller "
                "removed it, or it expired). Authorize the application again with Re-authorize.",
                account=account.name,
            )
        elif (
            isinstance(error, exceptions.AuthError)
            and error.status_code == 403
            and family in const.FAMILY_ROLES
        ):
            message = _(
                "Amazon refused access to %(what)s for account %(account)s: the application "
                "probably lacks the role %(roles)s. Add the role to the application in Seller "
                "Central (Apps and Services, Develop Apps), then authorize it again.",
                what=self._family_label(family),
                account=account.name,
                roles=_(" or ").join(f"“{role}”" for role in const.FAMILY_ROLES[family]),
            )
        elif isinstance(error, exceptions.AuthError):
            message = _(
                "Amazon refused the credentials of account %(account)s. Check the LWA client ID "
                "and secret, and link the account again if the seller revoked the authorization.",
                account=account.name,
            )
        elif isinstance(error, exceptions.HostNotAllowedError):
            message = _(
                "Account %(account)s points at an address that is not Amazon's; an "
                "administrator can allow other addresses in the system parameters.",
                account=account.name,
            )
        elif isinstance(error, exceptions.ThrottledError):
            message = _("Amazon is throttling the requests; try again in a few minutes.")
        elif isinstance(error, exceptions.DocumentError):
            message = _(
                "Amazon's report file arrived cut off or damaged: nothing of it was kept, and "
                "the next import downloads it again."
            )
        elif isinstance(error, exceptions.TransportError):
            message = _(
                "Odoo could not reach Amazon: no answer came in time, or the connection was "
                "refused. Check the network, then try again."
            )
        elif isinstance(error, exceptions.ServerError):
            message = _("Amazon's service failed; try again later.")
        else:
            message = _("Amazon answered with an error.")
        details = []
        if not isinstance(error, exceptions.TransportError) and error.public_message:
            details.append(error.public_message)
        if error.status_code:
            details.append(_("HTTP status %(status)s", status=error.status_code))
        if error.request_id:
            details.append(_("request ID %(request_id)s", request_id=error.request_id))
        if details:
            message = f"{message}\n({'; '.join(details)})"
        return message

    # ------------------------------------------------------------------------------------------
    # The account's health
    # ------------------------------------------------------------------------------------------

    def _health_values(self, account, client=None, error=None, outcome=None):
        """The values that record an outcome on ``account`` (no state change but one: a
        rejected refresh token means *Re-authorization needed*)."""
        now = fields.Datetime.now()
        values = {}
        for family, entry in (getattr(client, "health", None) or {}).items():
            success_field, failure_field = FAMILY_FIELDS.get(family, (None, None))
            if success_field and entry.get("success"):
                values[success_field] = _naive(entry["success"])
            if failure_field and entry.get("failure"):
                values[failure_field] = _naive(entry["failure"])
        if error is None:
            values["last_error"] = False
            if account.state in ("error", "reauth"):
                values["state"] = "linked"
        else:
            values["last_error"] = self._failure_message(account, error)
            if isinstance(error, exceptions.SpApiError):
                family = const.operation_family(error.operation)
                failure_field = FAMILY_FIELDS.get(family, (None, None))[1]
                if failure_field:
                    values[failure_field] = now
            if isinstance(error, exceptions.AuthError) and error.authorization_rejected:
                values["state"] = "reauth"
        if outcome:
            values.update(last_outcome=outcome, last_outcome_date=now)
        return values

    def _outcome(self, run):
        """The outcome of an import run, in plain words."""
        _ = self.env._
        if run.state == "failed":
            return _("Failed: %(error)s", error=(run.error or "").split("\n")[0])
        figures = _(
            "%(fetched)s events read, %(posted)s posted, %(review)s to review, %(error)s in error",
            fetched=run.events_fetched,
            posted=run.events_posted,
            review=run.events_to_review,
            error=run.events_error,
        )
        if run.state == "partial":
            return _("Partly done, the rest follows: %(figures)s", figures=figures)
        return _("Done: %(figures)s", figures=figures)

    def _record(self, account, client=None, error=None, outcome=None):
        """Record an outcome on ``account`` in this transaction; a rejected authorization
        also schedules an activity for the account's responsible user (once)."""
        account = account.sudo()
        values = self._health_values(account, client, error, outcome)
        rejected = values.get("state") == "reauth" and account.state != "reauth"
        account.write(values)
        if rejected:
            self._reauthorization_needed(account)
        return values.get("last_error")

    def _failure_message(self, account, error):
        """What the user reads of a failure: plain words for an SP-API error (a foreign host's
        answer is never in them), the message of any other."""
        if isinstance(error, exceptions.SpApiError):
            return self._error_message(account, error)
        return str(error.args[0] if isinstance(error, UserError) and error.args else error)

    def _record_failure(self, account, run, client, error):
        """Record the failure of an import ``run`` on the account. A rejected refresh token
        sets *Re-authorization needed*, which stops its scheduled imports; any other failure
        leaves it linked, its last error shown."""
        try:
            with self.env.cr.savepoint():
                self._record(account, client, error, outcome=self._outcome(run))
        except psycopg2.Error:
            _logger.warning("Amazon account %s: failure not recorded", account.id, exc_info=True)

    def _record_apart(self, account, client=None, error=None, outcome=None):
        """:meth:`_record` through a separate cursor: the caller raises a UserError right after,
        which rolls its own transaction back. Nothing for a user who may not change the
        account (a read-only user's *Test connection* changes nothing)."""
        account.ensure_one()
        if not account.has_access("write"):
            return
        try:
            with self.env.registry.cursor() as cr:
                # Don't wait on a lock held by the caller's own transaction.
                cr.execute(
                    SQL(
                        "SELECT id FROM amazon_sp_account WHERE id = %s FOR UPDATE NOWAIT",
                        account.id,
                    ),
                    log_exceptions=False,
                )
                if not cr.fetchone():
                    return
                self.with_env(self.env(cr=cr))._record(
                    account.with_env(self.env(cr=cr)), client, error, outcome
                )
        except psycopg2.Error:
            _logger.warning(
                "Could not record the failure of Amazon account %s", account.id, exc_info=True
            )

    def _reauthorization_needed(self, account):
        """Tell the account's responsible user that the seller must authorize again."""
        account.message_post(
            body=Markup("%s<br/>%s")
            % (
                self.env._("Amazon rejected the authorization; scheduled imports are stopped."),
                account.last_error or "",
            ),
            subtype_xmlid="mail.mt_note",
        )
        self._schedule(
            account,
            self.env._("Re-authorize the Amazon account"),
            self.env._(
                "Amazon no longer accepts the authorization of %(account)s. Use Re-authorize on "
                "the account; its scheduled imports start again once it is linked.",
                account=account.name,
            ),
        )
        _logger.warning("Amazon account %s: authorization rejected, imports stopped", account.id)

    def _responsible(self, account):
        """Who receives the account's activities: its accountant, else whoever created it
        (never OdooBot, whose activities reach nobody)."""
        root = self.env.ref("base.user_root")
        for user in (account.accountant_id, account.create_uid, self.env.user):
            if user and user.active and user != root and not user._is_public():
                return user
        return self.env.user

    def _schedule(self, account, summary, note, deadline=None):
        user = self._responsible(account)
        account.activity_schedule(
            "mail.mail_activity_data_todo",
            date_deadline=deadline or fields.Date.context_today(account),
            summary=summary,
            note=note,
            user_id=user.id,
        )

    # ------------------------------------------------------------------------------------------
    # Calls for a person waiting
    # ------------------------------------------------------------------------------------------

    def _call(self, account, operation, *args, **kwargs):
        """Call ``operation`` of the account's client for a user; failures become UserErrors
        (recorded on the account when the user may change it)."""
        account.ensure_one()
        client = self._client(account, interactive=True)
        try:
            result = getattr(client, operation)(*args, **kwargs)
        except exceptions.SpApiError as error:
            _logger.warning(
                "SP-API %s failed for Amazon account %s: %s (status %s, request id %s)",
                operation,
                account.id,
                type(error).__name__,
                error.status_code,
                error.request_id,
            )
            message = self._error_message(account, error)
            self._record_apart(account, client, error)
            raise UserError(message) from error
        if account.has_access("write"):
            self._record(account, client)
        return result

    def _participations(self, account):
        """Marketplaces the seller participates in: list of (marketplace dict, record or None)."""
        answer = self._call(account, "get_marketplace_participations")
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

    def _test(self, account):
        """Get an access token and list the seller's marketplaces: the names, and a note in the
        chatter when the user may change the account."""
        names = [
            f"{m.get('name') or '?'} ({m.get('id') or '?'})"
            for m, _record in self._participations(account)
        ]
        if account.has_access("write"):
            account.message_post(
                body=Markup("%s<ul>%s</ul>")
                % (
                    self.env._("Connection test succeeded. The seller participates in:"),
                    Markup().join(Markup("<li>%s</li>") % name for name in names),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return names

    # ------------------------------------------------------------------------------------------
    # Reminders (a daily scheduled action)
    # ------------------------------------------------------------------------------------------

    def _remind(self, accounts=None):
        """An activity 30 days before the authorization expires, and before the LWA client
        secret reaches Amazon's rotation deadline; once per deadline."""
        Account = self.env["amazon.sp.account"].sudo()
        accounts = (accounts or Account.search([("refresh_token", "!=", False)])).sudo()
        now = fields.Datetime.now()
        for account in accounts:
            expiry = account.authorization_expiry
            if (
                expiry
                and expiry - REMINDER_DELAY <= now
                and account.authorization_reminded != expiry
            ):
                self._schedule(
                    account,
                    self.env._("Renew the Amazon authorization"),
                    self.env._(
                        "The seller's authorization of %(account)s expires on %(date)s. Use "
                        "Re-authorize on the account before then, or its imports stop.",
                        account=account.name,
                        date=format_datetime(self.env, expiry, dt_format="medium"),
                    ),
                    deadline=expiry.date(),
                )
                account.authorization_reminded = expiry
            deadline = account.lwa_client_secret_expiry
            if (
                deadline
                and deadline - REMINDER_DELAY <= now
                and account.lwa_client_secret_reminded != deadline
            ):
                self._schedule(
                    account,
                    self.env._("Rotate the LWA client secret"),
                    self.env._(
                        "Amazon asks to rotate the client secret of the application every 180 "
                        "days; the one of %(account)s reaches that deadline on %(date)s. Rotate "
                        "it in Seller Central (Apps and Services, Develop Apps) and paste the "
                        "new one on the account, or Amazon refuses its calls.",
                        account=account.name,
                        date=format_datetime(self.env, deadline, dt_format="medium"),
                    ),
                    deadline=deadline.date(),
                )
                account.lwa_client_secret_reminded = deadline
        return True
