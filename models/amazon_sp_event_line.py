from odoo import api, fields, models
from odoo.tools import SQL, float_repr, float_round, split_every

from .amazon_sp_flow_guard import check_flow

# The columns :meth:`AmazonSpEventLine._amazon_sp_insert` writes (the magic ones after).
INSERTED = (
    "event_id",
    "sequence",
    "company_id",
    "account_id",
    "marketplace_id",
    "currency_id",
    "amount_type",
    "category",
    "amount",
    "sku",
    "quantity",
    "order_adjustment_item_id",
    "description",
)


class AmazonSpEventLine(models.Model):
    """One money component of an Amazon event (a normalized line)."""

    _name = "amazon.sp.event.line"
    _inherit = "amazon.sp.import.record"
    _description = "Amazon Event Line"
    _order = "event_id, sequence, id"

    event_id = fields.Many2one("amazon.sp.event", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    # Precomputed (as account.move.line's company): computed before the lines are inserted,
    # not updated after; the import inserts its lines in SQL with their event's values
    # (staging._line_copies, _amazon_sp_insert). None of them changes after.
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

    @api.model
    def _amazon_sp_insert(self, vals_list):
        """Insert the import's new lines (dicts of :data:`INSERTED`) with one SQL ``INSERT``
        per thousand: the values are converted as the fields convert them (the amount rounded
        by its currency as a Monetary field does, the quantity to its digits), without Odoo's
        work per record. Lines have no constraint, no tracking and nothing computed from them
        but through their event; the caller drops its events' cached lines."""
        check_flow(self, "create")
        Currency = self.env["res.currency"].with_context(active_test=False)
        ids = {vals.get("currency_id") for vals in vals_list} - {False, None}
        currencies = {currency.id: currency for currency in Currency.browse(ids)}
        scale = self._fields["quantity"].get_digits(self.env)[1]
        uid, now = self.env.uid, self.env.cr.now()
        rows = []
        for vals in vals_list:
            currency = currencies.get(vals.get("currency_id"))
            amount = float(vals.get("amount") or 0.0)
            if currency:
                amount = float_repr(currency.round(amount), currency.decimal_places)
            quantity = float_round(float(vals.get("quantity") or 0.0), precision_digits=scale)
            converted = {
                **vals,
                "sequence": vals.get("sequence", 10),
                "amount": amount,
                "quantity": float_repr(quantity, scale),
            }
            values = [
                None if converted.get(name) is False else converted.get(name) for name in INSERTED
            ]
            rows.append(SQL("(%s)", SQL(", ").join([*values, uid, now, uid, now])))
        columns = SQL(", ").join(
            SQL.identifier(name)
            for name in (*INSERTED, "create_uid", "create_date", "write_uid", "write_date")
        )
        for chunk in split_every(1000, rows):
            self.env.cr.execute(
                SQL(
                    "INSERT INTO amazon_sp_event_line (%s) VALUES %s",
                    columns,
                    SQL(", ").join(chunk),
                )
            )
