from odoo import fields, models


class AmazonSpEventPost(models.TransientModel):
    """Keep the posted documents of events Amazon changed after they were posted: the
    reason is asked, like for *Ignore*, and logged on each event."""

    _name = "amazon.sp.event.post"
    _description = "Keep the Posted Documents of a Changed Amazon Event"

    event_ids = fields.Many2many("amazon.sp.event", string="Events", readonly=True)
    reason = fields.Char(required=True)

    def action_confirm(self):
        self.ensure_one()
        self.event_ids.action_post(reason=self.reason)
        return {"type": "ir.actions.act_window_close"}
