from odoo import fields, models


class AmazonSpAccount(models.Model):
    """The account's last import run and its progress (imports run in the background)."""

    _inherit = "amazon.sp.account"

    amazon_sp_last_run_id = fields.Many2one(
        "amazon.sp.import.run", compute="_compute_amazon_sp_last_run", string="Last Import"
    )
    amazon_sp_last_run_state = fields.Selection(
        related="amazon_sp_last_run_id.state", string="Last Import Status"
    )
    amazon_sp_last_run_progress = fields.Float(
        related="amazon_sp_last_run_id.progress", string="Last Import Progress (%)"
    )
    amazon_sp_last_run_text = fields.Char(
        related="amazon_sp_last_run_id.progress_text", string="Last Import Figures"
    )
    amazon_sp_last_run_summary = fields.Text(
        related="amazon_sp_last_run_id.summary", string="What the Last Import Did"
    )
    amazon_sp_last_run_waiting = fields.Char(related="amazon_sp_last_run_id.waiting_text")

    def _compute_amazon_sp_last_run(self):
        Run = self.env["amazon.sp.import.run"]
        last = dict(
            Run._read_group([("account_id", "in", self.ids)], ["account_id"], ["id:max"])
        )
        for account in self:
            account.amazon_sp_last_run_id = Run.browse(last.get(account) or [])
