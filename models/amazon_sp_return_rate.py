from odoo import fields, models, tools
from odoo.tools import SQL


class AmazonSpReturnRate(models.Model):
    """Refund rate per SKU and marketplace: orders refunded against orders sold, from the
    imported events (sales are known once sale events are imported), with the units the
    returns reports list. A read-only report (SQL view)."""

    _name = "amazon.sp.return.rate"
    _description = "Amazon Refund Rate per SKU"
    _auto = False
    _order = "refunded_orders desc, sku"

    account_id = fields.Many2one("amazon.sp.account", string="Seller Account", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    marketplace_id = fields.Many2one("amazon.sp.marketplace", readonly=True)
    sku = fields.Char(string="SKU", readonly=True)
    refunded_orders = fields.Integer(readonly=True)
    sold_orders = fields.Integer(readonly=True, help="Orders with a sale event of this SKU.")
    returned_units = fields.Integer(readonly=True, help="Units listed by the returns reports.")
    rate = fields.Float(
        string="Refund Rate (%)",
        readonly=True,
        aggregator=None,
        help="Refunded orders / sold orders; empty while no sale of the SKU is imported.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %s AS (
                WITH events AS (
                    SELECT e.account_id, e.company_id, e.marketplace_id, l.sku,
                           COUNT(DISTINCT e.amazon_order_id)
                               FILTER (WHERE e.event_type = 'refund') AS refunded_orders,
                           COUNT(DISTINCT e.amazon_order_id)
                               FILTER (WHERE e.event_type = 'sale') AS sold_orders
                      FROM amazon_sp_event_line l
                      JOIN amazon_sp_event e ON e.id = l.event_id
                     WHERE l.sku IS NOT NULL AND l.sku != ''
                       AND e.event_type::text IN ('refund', 'sale')
                       AND e.state != 'error'
                  GROUP BY e.account_id, e.company_id, e.marketplace_id, l.sku
                ), returned AS (
                    SELECT r.account_id, r.company_id, r.marketplace_id, r.sku,
                           SUM(r.quantity) AS returned_units
                      FROM amazon_sp_return r
                  GROUP BY r.account_id, r.company_id, r.marketplace_id, r.sku
                )
                SELECT ROW_NUMBER() OVER (ORDER BY
                           COALESCE(ev.account_id, rt.account_id),
                           COALESCE(ev.marketplace_id, rt.marketplace_id),
                           COALESCE(ev.sku, rt.sku)) AS id,
                       COALESCE(ev.account_id, rt.account_id) AS account_id,
                       COALESCE(ev.company_id, rt.company_id) AS company_id,
                       COALESCE(ev.marketplace_id, rt.marketplace_id) AS marketplace_id,
                       COALESCE(ev.sku, rt.sku) AS sku,
                       COALESCE(ev.refunded_orders, 0) AS refunded_orders,
                       COALESCE(ev.sold_orders, 0) AS sold_orders,
                       COALESCE(rt.returned_units, 0) AS returned_units,
                       CASE WHEN COALESCE(ev.sold_orders, 0) > 0
                            THEN 100.0 * ev.refunded_orders / ev.sold_orders END AS rate
                  FROM events ev
             FULL JOIN returned rt
                    ON rt.account_id = ev.account_id
                   AND rt.marketplace_id IS NOT DISTINCT FROM ev.marketplace_id
                   AND rt.sku = ev.sku
            )
            """,
                SQL.identifier(self._table),
            )
        )
