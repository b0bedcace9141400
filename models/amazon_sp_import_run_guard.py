from odoo import api, models

from .amazon_sp_flow_guard import check_flow


class AmazonSpImportRun(models.Model):
    """An import run's figures are the import's own (see ``amazon_sp_flow_guard``)."""

    _inherit = "amazon.sp.import.run"

    @api.model_create_multi
    def create(self, vals_list):
        check_flow(self, "create")
        return super().create(vals_list)

    def write(self, vals):
        check_flow(self, "write", vals)
        return super().write(vals)

    def unlink(self):
        check_flow(self, "unlink")
        return super().unlink()
