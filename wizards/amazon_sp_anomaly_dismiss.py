from odoo import fields, models


class AmazonSpAnomalyDismiss(models.TransientModel):
    """Dismiss anomalies with a reason (kept on each, and in its chatter)."""

    _name = "amazon.sp.anomaly.dismiss"
    _description = "Dismiss Amazon Anomalies"

    anomaly_ids = fields.Many2many("amazon.sp.anomaly", string="Anomalies", readonly=True)
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        self.anomaly_ids._amazon_sp_dismiss(self.reason)
        return {"type": "ir.actions.act_window_close"}
