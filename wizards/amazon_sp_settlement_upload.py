import base64

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.amazon_sp_settlement_report import _notify


class AmazonSpSettlementUpload(models.TransientModel):
    """Import a settlement report file (V2 or V1 flat file) as the settlement's documents, when
    the Finances API's events of that settlement are not available."""

    _name = "amazon.sp.settlement.upload"
    _description = "Import a Settlement Report"

    account_id = fields.Many2one(
        "amazon.sp.account", string="Seller Account", required=True, ondelete="cascade"
    )
    report_id = fields.Many2one(
        "amazon.sp.settlement.report",
        string="Downloaded Report",
        domain="[('account_id', '=', account_id), ('booked', '=', False)]",
        help="A settlement report already downloaded from Amazon; leave empty to upload a file.",
    )
    file = fields.Binary(string="Settlement Report File", attachment=False)
    filename = fields.Char()

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        model, active_id = self.env.context.get("active_model"), self.env.context.get("active_id")
        if model == "amazon.sp.account" and not res.get("account_id"):
            res["account_id"] = active_id
        elif model == "amazon.sp.settlement.report" and active_id:
            report = self.env[model].browse(active_id)
            res.update(report_id=report.id, account_id=report.account_id.id)
        return res

    def action_import(self):
        self.ensure_one()
        Service = self.env["amazon.sp.service.settlement.report"]
        if self.report_id:
            return _notify(self.env, *Service._book_report(self.report_id))
        if not self.file:
            raise UserError(self.env._("Choose the settlement report file to import."))
        content = base64.b64decode(self.file)
        return _notify(self.env, *Service._book_file(self.account_id, content, self.filename))
