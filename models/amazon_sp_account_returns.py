import logging
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..spapi import exceptions

_logger = logging.getLogger(__name__)

# Seconds of Amazon calls per scheduled run and per button press: Amazon lets a seller download
# one report document a minute, and Odoo stops a scheduled action after limit_time_real (120 s
# by default); what is left is read by the scheduled action a minute later.
CRON_BUDGET = 60
BUTTON_BUDGET = 20


class AmazonSpAccount(models.Model):
    _inherit = "amazon.sp.account"

    def action_amazon_sp_import_returns(self):
        """Pull the returns and FBA reimbursements reports of the accounts now."""
        Returns = self.env["amazon.sp.service.returns"]
        deadline = time.monotonic() + BUTTON_BUDGET
        more = False
        for account in self:
            try:
                result = Returns._import(account, deadline=deadline)
                more = more or result["more"]
            except exceptions.SpApiError as error:
                raise UserError(
                    self.env._(
                        "Amazon's returns reports could not be read: %(error)s",
                        error=account._amazon_sp_error_message(error),
                    )
                ) from error
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_return_action"
        )
        action["domain"] = [("account_id", "in", self.ids)]
        if more:
            self._amazon_sp_returns_later()
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "title": self.env._("Returns imported in part"),
                    "message": self.env._(
                        "Amazon lets a seller download one report a minute: the reports not "
                        "read yet are imported in the background within a few minutes."
                    ),
                    "sticky": False,
                    "type": "info",
                    "next": action,
                },
            }
        if len(self) == 1 and result["problems"]:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "title": self.env._("Returns imported, with problems"),
                    "message": "\n".join(result["problems"]),
                    "sticky": True,
                    "type": "warning",
                    "next": action,
                },
            }
        return action

    @api.model
    def _cron_amazon_sp_returns(self):
        """Scheduled action: pull the returns and reimbursements reports of every linked
        account (a report Amazon is still preparing is read on the next run). Each run stays
        within CRON_BUDGET seconds of Amazon calls; when reports are left, it runs again a
        minute later and goes on where it stopped."""
        Returns = self.env["amazon.sp.service.returns"]
        deadline = time.monotonic() + CRON_BUDGET
        more = False
        for account in self.search(self._amazon_sp_syncable_domain()):
            if more:
                break
            try:
                with self.env.cr.savepoint():
                    more = Returns._import(account, raise_errors=False, deadline=deadline)["more"]
            except (UserError, exceptions.SpApiError) as error:
                # one account's problem does not stop the others
                _logger.warning("Amazon returns of account %s not imported: %s", account.id, error)
        if more:
            self._amazon_sp_returns_later()
        return True

    @api.model
    def _amazon_sp_returns_later(self):
        """Run the returns import again in a minute (what is left of it)."""
        cron = self.env.ref("account_amazon_refund.ir_cron_amazon_sp_returns", False)
        if cron:
            cron.sudo()._trigger(at=fields.Datetime.now() + timedelta(minutes=1))
