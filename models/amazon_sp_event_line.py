from odoo import fields, models


class AmazonSpEventLine(models.Model):
    """One money component of an Amazon event (a normalized line)."""

    _name = "amazon.sp.event.line"
    _inherit = "amazon.sp.import.record"
    _description = "Amazon Event Line"
    _order = "event_id, sequence, id"

    event_id = fields.Many2one("amazon.sp.event", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    # Precomputed (as account.move.line's company): the import gives their values with the
    # thousands of lines it creates at once (staging._line_copies), which Odoo then keeps;
    # none of them changes after.
    company_id = fields.Many2one(
        related="event_id.company_id", store=True, index=True, precompute=True
    )
    account_id = fields.Many2one(
        related="event_id.account_id", store=True, string="Seller Account", precompute=True
    )
    marketplace_id = fields.Many2one(related="event_id.marketplace_id", store=True, precompute=True)
    # Not stored: an event's status changes, its lines with it (thousands at once); searched
    # through the event.
    event_state = fields.Selection(related="event_id.state", string="Event Status")
    currency_id = fields.Many2one(related="event_id.currency_id", store=True, precompute=True)
    amount_type = fields.Char(
        required=True, index=True, help='"<Category>/<Type>", e.g. Fee/Commission'
    )
    category = fields.Char()
    amount = fields.Monetary(currency_field="currency_id", help="Amazon's sign (seller's view).")
    sku = fields.Char(string="SKU")
    quantity = fields.Float(digits=(16, 4))
    order_adjustment_item_id = fields.Char(string="Order Adjustment Item ID")
    description = fields.Char()
    is_unmapped = fields.Boolean(
        string="Unmapped",
        index=True,
        help="The mapping has no rule for this amount type: the event waits for review.",
    )
