import logging

from odoo import api, models
from odoo.exceptions import UserError

from ..spapi import exceptions

_logger = logging.getLogger(__name__)


class AmazonSpAccount(models.Model):
    _inherit = "amazon.sp.account"

    def action_amazon_sp_import_returns(self):
        """Pull the returns and FBA reimbursements reports of the accounts now."""
        Returns = self.env["amazon.sp.service.returns"]
        for account in self:
            try:
                result = Returns._import(account)
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
        account (a report Amazon is still preparing is read on the next run)."""
        Returns = self.env["amazon.sp.service.returns"]
        for account in self.search(self._amazon_sp_syncable_domain()):
            try:
                with self.env.cr.savepoint():
                    Returns._import(account, raise_errors=False)
            except (UserError, exceptions.SpApiError) as error:
                # one account's problem does not stop the others
                _logger.warning("Amazon returns of account %s not imported: %s", account.id, error)
        return True
