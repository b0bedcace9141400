from odoo import fields, models, tools
from odoo.tools import SQL

from .amazon_sp_event import EVENT_TYPE_SELECTION, REVIEW_REASON_SELECTION, STATE_SELECTION

# The company-currency amount of a row: its amount at the company's rate of the accounting
# date (the rate the documents use; 1 when the currency has no rate, as Odoo does).
COMPANY_RATE_SQL = SQL(
    """
    LEFT JOIN res_company company ON company.id = ev.company_id
    LEFT JOIN LATERAL (
        SELECT r.rate
          FROM res_currency_rate r
         WHERE r.currency_id = ev.currency_id
           AND (r.company_id = ev.company_id OR r.company_id IS NULL)
           AND r.name <= COALESCE(ev.date, (ev.posted_date AT TIME ZONE 'UTC')::date)
         ORDER BY r.company_id IS NULL, r.name DESC
         LIMIT 1
    ) cur_rate ON ev.currency_id IS DISTINCT FROM company.currency_id
"""
)
# Odoo's rate: units of the currency per unit of the company's currency.
COMPANY_RATE = SQL("COALESCE(NULLIF(cur_rate.rate, 0), 1.0)")


class AmazonSpEventReport(models.Model):
    """The events, read for the overview: counts and amounts per marketplace, month, type,
    status and review reason, in the event's currency and in the company's."""

    _name = "amazon.sp.event.report"
    _description = "Amazon Events Analysis"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "name"

    name = fields.Char(readonly=True, string="Event")
    event_id = fields.Many2one("amazon.sp.event", readonly=True, string="Amazon Event")
    account_id = fields.Many2one("amazon.sp.account", readonly=True, string="Seller Account")
    company_id = fields.Many2one("res.company", readonly=True)
    marketplace_id = fields.Many2one("amazon.sp.marketplace", readonly=True)
    settlement_id = fields.Many2one("amazon.sp.settlement", readonly=True)
    event_type = fields.Selection(EVENT_TYPE_SELECTION, readonly=True, string="Type")
    state = fields.Selection(STATE_SELECTION, readonly=True, string="Status")
    review_reason = fields.Selection(REVIEW_REASON_SELECTION, readonly=True)
    amazon_order_id = fields.Char(readonly=True, string="Order")
    date = fields.Date(readonly=True, string="Accounting Date")
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_total = fields.Monetary(readonly=True, string="Net Amount", currency_field="currency_id")
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    amount_company = fields.Monetary(
        readonly=True,
        string="Net Amount in Company Currency",
        currency_field="company_currency_id",
        help="The net amount at the company's rate of the accounting date.",
    )
    event_count = fields.Integer(readonly=True, string="Events")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %s AS (
                SELECT ev.id AS id,
                       ev.id AS event_id,
                       ev.name AS name,
                       ev.account_id,
                       ev.company_id,
                       ev.marketplace_id,
                       ev.settlement_id,
                       ev.event_type,
                       ev.state,
                       ev.review_reason,
                       ev.amazon_order_id,
                       COALESCE(ev.date, (ev.posted_date AT TIME ZONE 'UTC')::date) AS date,
                       ev.currency_id,
                       ev.amount_total,
                       company.currency_id AS company_currency_id,
                       ev.amount_total / %s AS amount_company,
                       1 AS event_count
                  FROM amazon_sp_event ev
                  %s
            )
            """,
                SQL.identifier(self._table),
                COMPANY_RATE,
                COMPANY_RATE_SQL,
            )
        )
