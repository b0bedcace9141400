from odoo import fields, models

from ..domain import sources


class AmazonSpSyncCursor(models.Model):
    """Where the pull of one account × marketplace × Finances API stands.

    ``done_until`` is the end of the last window fully read. ``window_start``/``window_end`` and
    ``next_token`` describe the window being read: they are saved in the same transaction as the
    events of each page, so a killed run resumes at the next page.
    """

    _name = "amazon.sp.sync.cursor"
    _inherit = "amazon.sp.import.record"
    _description = "Amazon Import Cursor"
    _order = "account_id, marketplace_id"

    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    marketplace_id = fields.Many2one(
        "amazon.sp.marketplace",
        ondelete="cascade",
        help="Empty when the Finances API lists all marketplaces of the account together (v0).",
    )
    finances_api = fields.Selection(sources.selection(), string="Finances API", required=True)
    done_until = fields.Datetime(help="Everything posted before this date was read.")
    window_start = fields.Datetime()
    window_end = fields.Datetime()
    next_token = fields.Char(help="Amazon's token of the next page of the current window.")
    last_run_id = fields.Many2one("amazon.sp.import.run", ondelete="set null")

    _sql_constraints = [  # noqa: RUF012
        (
            "account_marketplace_api_uniq",
            "unique(account_id, marketplace_id, finances_api)",
            "One cursor per seller account, marketplace and Finances API.",
        )
    ]
