from odoo import api, fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    amazon_return_ids = fields.Many2many(
        "amazon.sp.return",
        compute="_compute_amazon_return",
        string="Amazon Returns",
        help="The returns Amazon reported for this credit note line's order and SKU.",
    )
    amazon_return_reason = fields.Char(
        compute="_compute_amazon_return",
        string="Return Reason",
        help="Why the customer returned the item, and what Amazon found (its disposition).",
    )

    @api.depends("move_id.amazon_event_ids", "product_id.default_code")
    def _compute_amazon_return(self):
        # Any accountant opens credit notes: the returns are read whatever their Amazon rights.
        Return = self.env["amazon.sp.return"].sudo()
        events = self.sudo().move_id.amazon_event_ids
        returns = Return.search([("event_ids", "in", events.ids)]) if events else Return
        reasons = dict(Return._fields["reason"]._description_selection(self.env))
        for line in self:
            found = Return
            if returns and line.display_type == "product" and line.product_id:
                move_events = line.sudo().move_id.amazon_event_ids
                of_move = returns.filtered(lambda r, evs=move_events: r.event_ids & evs)
                sku = line.product_id.default_code
                found = of_move.filtered(lambda r, sku=sku: r.sku == sku)
                refund_product = line.company_id.amazon_sp_refund_product_id
                one_sku = len(set(of_move.mapped("sku"))) == 1
                if not found and one_sku and line.product_id == refund_product:
                    # no product has the SKU (the company's refund product): one SKU refunded
                    found = of_move
            line.amazon_return_ids = found
            line.amazon_return_reason = "; ".join(
                " / ".join(p for p in (reasons.get(r.reason), r.disposition) if p) for r in found
            )
