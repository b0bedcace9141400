from datetime import timedelta

from odoo import api, fields, models


class AmazonSpOAuthState(models.Model):
    """One OAuth attempt: the nonce of a signed ``state``, so that each is used once. The
    website authorization workflow around it (signing, consent page, authorization code) is
    ``amazon.sp.service.oauth``."""

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

    @api.autovacuum
    def _gc_expired(self):
        """Forget attempts that ended more than a day ago."""
        self.sudo().search(
            [("expires_at", "<", fields.Datetime.now() - timedelta(days=1))]
        ).unlink()
