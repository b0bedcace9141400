from odoo import fields, models, tools
from odoo.tools import SQL

from ..domain.plan_rules import default_rules
from .amazon_sp_event import EVENT_TYPE_SELECTION, STATE_SELECTION
from .amazon_sp_event_report import COMPANY_RATE, COMPANY_RATE_SQL

KIND_SELECTION = [
    ("sale", "Sales"),
    ("refund", "Refunds"),
    ("fee", "Fees"),
    ("advertising", "Advertising"),
    ("reimbursement", "Reimbursements"),
    ("reserve", "Reserve"),
    ("other", "Other"),
]
REFUND_EVENT_TYPES = ("refund", "guarantee_claim", "chargeback")


# The default rules' accounts that name a kind of the overview (the rest by category).
KIND_ACCOUNTS = {
    "reserve": ("reserve",),
    "advertising": ("advertising",),
    "reimbursement": ("reimbursement", "reimbursement_return", "reimbursement_damage"),
    "fee": ("fees",),
}


def _types_condition(line, refs):
    """SQL: the line's amount type is one the default rules book on one of ``refs``."""
    types = sorted(t for t, rule in default_rules().items() if rule.account_ref in refs)
    amount_type = SQL("%s.amount_type", SQL.identifier(line))
    parts = [SQL("%s IN %s", amount_type, tuple(t for t in types if not t.endswith("/*")))]
    parts += [SQL("%s LIKE %s", amount_type, t[:-1] + "%") for t in types if t.endswith("/*")]
    return SQL("(%s)", SQL(" OR ").join(parts))


def kind_sql(line="line", event="ev"):
    """SQL: the kind of an event line (sales, refunds, fees, advertising, reimbursements,
    reserve, other), as the overview and the settlement summary group them: by the account
    the default rules book its amount type on, else by its category and its event's type."""
    cases = SQL(" ").join(
        SQL("WHEN %s THEN %s", _types_condition(line, refs), kind)
        for kind, refs in KIND_ACCOUNTS.items()
    )
    return SQL(
        """
        CASE
            %(cases)s
            WHEN %(line)s.category IN ('Fee', 'FeeTax') THEN 'fee'
            WHEN %(event)s.event_type = 'service_fee' THEN 'fee'
            WHEN %(line)s.amount_type ILIKE %(reimbursed)s THEN 'reimbursement'
            WHEN %(event)s.event_type = 'sale' THEN 'sale'
            WHEN %(event)s.event_type IN %(refunds)s THEN 'refund'
            ELSE 'other'
        END
        """,
        cases=cases,
        line=SQL.identifier(line),
        event=SQL.identifier(event),
        refunds=REFUND_EVENT_TYPES,
        reimbursed="%reimburs%",
    )


class AmazonSpEventLineReport(models.Model):
    """The amounts of the events, read for the overview: fees, reimbursements and the rest per
    amount type, marketplace and month, in the event's currency and in the company's."""

    _name = "amazon.sp.event.line.report"
    _description = "Amazon Amounts Analysis"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "amount_type"

    event_id = fields.Many2one("amazon.sp.event", readonly=True)
    account_id = fields.Many2one("amazon.sp.account", readonly=True, string="Seller Account")
    company_id = fields.Many2one("res.company", readonly=True)
    marketplace_id = fields.Many2one("amazon.sp.marketplace", readonly=True)
    settlement_id = fields.Many2one("amazon.sp.settlement", readonly=True)
    event_type = fields.Selection(EVENT_TYPE_SELECTION, readonly=True)
    event_state = fields.Selection(STATE_SELECTION, readonly=True, string="Event Status")
    kind = fields.Selection(KIND_SELECTION, readonly=True)
    amount_type = fields.Char(readonly=True)
    category = fields.Char(readonly=True)
    date = fields.Date(readonly=True, string="Accounting Date")
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    amount_company = fields.Monetary(
        readonly=True,
        string="Amount in Company Currency",
        currency_field="company_currency_id",
        help="The amount at the company's rate of the accounting date.",
    )
    line_count = fields.Integer(readonly=True, string="Amounts")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %s AS (
                SELECT line.id AS id,
                       ev.id AS event_id,
                       ev.account_id,
                       ev.company_id,
                       ev.marketplace_id,
                       ev.settlement_id,
                       ev.event_type,
                       ev.state AS event_state,
                       %s AS kind,
                       line.amount_type,
                       line.category,
                       COALESCE(ev.date, (ev.posted_date AT TIME ZONE 'UTC')::date) AS date,
                       ev.currency_id,
                       line.amount,
                       company.currency_id AS company_currency_id,
                       line.amount / %s AS amount_company,
                       1 AS line_count
                  FROM amazon_sp_event_line line
                  JOIN amazon_sp_event ev ON ev.id = line.event_id
                  %s
            )
            """,
                SQL.identifier(self._table),
                kind_sql(),
                COMPANY_RATE,
                COMPANY_RATE_SQL,
            )
        )
