from odoo import fields, models

from .amazon_sp_import_run import RUN_STATES


class AmazonSpAccount(models.Model):
    """The account's last import run and its progress (imports run in the background)."""

    _inherit = "amazon.sp.account"

    amazon_sp_last_run_id = fields.Many2one(
        "amazon.sp.import.run", compute="_compute_amazon_sp_last_run", string="Last Import Run"
    )
    amazon_sp_last_run_state = fields.Selection(
        RUN_STATES, compute="_compute_amazon_sp_last_run", string="Last Import Status"
    )
    amazon_sp_last_run_progress = fields.Float(
        compute="_compute_amazon_sp_last_run", string="Last Import Progress (%)"
    )
    amazon_sp_last_run_text = fields.Char(
        compute="_compute_amazon_sp_last_run", string="Last Import Figures"
    )
    amazon_sp_last_run_summary = fields.Text(
        compute="_compute_amazon_sp_last_run", string="What the Last Import Did"
    )
    amazon_sp_last_run_waiting = fields.Char(
        compute="_compute_amazon_sp_last_run", string="Why the Last Import Waits"
    )

    def _compute_amazon_sp_last_run(self):
        # No dependencies: read each time the form is (the import commits as it goes).
        Run = self.env["amazon.sp.import.run"]
        last = dict(Run._read_group([("account_id", "in", self.ids)], ["account_id"], ["id:max"]))
        for account in self:
            run = Run.browse(last.get(account) or [])
            account.amazon_sp_last_run_id = run
            account.amazon_sp_last_run_state = run.state
            account.amazon_sp_last_run_progress = run.progress
            account.amazon_sp_last_run_text = run.progress_text
            account.amazon_sp_last_run_summary = run.summary
            account.amazon_sp_last_run_waiting = run.waiting_text
