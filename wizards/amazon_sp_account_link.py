from odoo import api, fields, models
from odoo.exceptions import UserError


class AmazonSpAccountLink(models.TransientModel):
    """Send the seller to Seller Central's consent page to link an account (OAuth)."""

    _name = "amazon.sp.account.link"
    _description = "Link an Amazon Seller Account"

    account_id = fields.Many2one(
        "amazon.sp.account",
        string="Seller Account",
        required=True,
        ondelete="cascade",
        default=lambda self: self._default_account_id(),
    )
    region = fields.Selection(related="account_id.region")
    application_id = fields.Char(related="account_id.application_id", readonly=False)
    draft_app = fields.Boolean(related="account_id.draft_app", readonly=False)
    redirect_uri = fields.Char(
        string="Redirect URI",
        compute="_compute_redirect_uri",
        help="Register this URI as an OAuth redirect URI of your SP-API application.",
    )

    @api.model
    def _default_account_id(self):
        context = self.env.context
        if context.get("active_model") == "amazon.sp.account" and context.get("active_id"):
            return context["active_id"]
        return False

    @api.depends("account_id")
    def _compute_redirect_uri(self):
        OAuth = self.env["amazon.sp.service.oauth"]
        for wizard in self:
            wizard.redirect_uri = (
                OAuth._redirect_uri(wizard.account_id) if wizard.account_id else False
            )

    def action_link(self):
        """Open Seller Central's consent page with a fresh signed state."""
        self.ensure_one()
        account = self.account_id
        account.check_access("write")
        if not account.lwa_client_id:
            raise UserError(
                self.env._(
                    "Set the LWA client ID and client secret of your SP-API application on "
                    "account %(account)s first.",
                    account=account.name,
                )
            )
        OAuth = self.env["amazon.sp.service.oauth"]
        state = OAuth._issue(account)
        return {
            "type": "ir.actions.act_url",
            "url": OAuth._consent_url(account, state),
            "target": "self",
        }
