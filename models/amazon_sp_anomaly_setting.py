from decimal import Decimal

from odoo import api, fields, models

from ..domain.anomalies import Thresholds
from ..domain.claims import DEFAULT_WINDOW_DAYS

DEFAULTS = Thresholds()


class AmazonSpAnomalySetting(models.Model):
    """The thresholds of the anomaly rules and the claim window of one company, for one
    marketplace or (marketplace empty) for all its marketplaces without their own line."""

    _name = "amazon.sp.anomaly.setting"
    _description = "Amazon Anomaly Rule Settings"
    _order = "company_id, marketplace_id, id"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    marketplace_id = fields.Many2one(
        "amazon.sp.marketplace",
        ondelete="cascade",
        help="Empty: the company's default for every marketplace without its own line.",
    )
    refunds_per_day = fields.Integer(
        string="Refunds per Day",
        default=DEFAULTS.refunds_per_day,
        help="More refunds, A-to-z claims and chargebacks than this in one day and marketplace "
        "is an anomaly. 0 = not checked.",
    )
    amount_per_day = fields.Float(
        string="Refunded Amount per Day",
        default=float(DEFAULTS.amount_per_day),
        help="More money given back than this in one day and marketplace (in the marketplace's "
        "currency) is an anomaly. 0 = not checked.",
    )
    sku_factor = fields.Float(
        string="Product Spike Factor",
        default=float(DEFAULTS.sku_factor),
        help="A product refunded in the last 7 days more than this many times its weekly "
        "average of the 8 weeks before is an anomaly.",
    )
    sku_min = fields.Integer(
        string="Product Spike Minimum",
        default=DEFAULTS.sku_min,
        help="... and only from this many refunds of the product in the last 7 days.",
    )
    claims_min = fields.Integer(
        string="A-to-z Claims and Chargebacks",
        default=DEFAULTS.claims_min,
        help="This many A-to-z claims and chargebacks on one product or one buyer...",
    )
    claims_days = fields.Integer(
        string="Within Days",
        default=DEFAULTS.claims_days,
        help="... within this many days is an anomaly.",
    )
    claim_window_days = fields.Integer(
        string="Return Window (Days)",
        default=DEFAULT_WINDOW_DAYS,
        help="An FBA refund whose item has not come back this many days after the refund, and "
        "that Amazon has not reimbursed, becomes a claim to file in Seller Central.",
    )
    fba_refunds = fields.Selection(
        [
            ("evidence", "When the order shows it"),
            ("all", "Every refund"),
        ],
        string="Fulfilled by Amazon",
        default="evidence",
        required=True,
        help="Which refunds are of orders Amazon shipped (only those can become claims for an "
        "item not returned). When the order shows it: its sale or refund carries an FBA fee, "
        "or Amazon's returns report lists it. Every refund: the seller ships everything "
        "through FBA.",
    )

    _sql_constraints = [  # noqa: RUF012
        (
            "company_marketplace_uniq",
            "unique(company_id, marketplace_id)",
            "One line of anomaly settings per company and marketplace.",
        ),
    ]

    @api.depends("company_id", "marketplace_id")
    def _compute_display_name(self):
        for setting in self:
            where = setting.marketplace_id.code or self.env._("All marketplaces")
            setting.display_name = f"{setting.company_id.name} – {where}"

    @api.model
    def _amazon_sp_for(self, company):
        """{marketplace id or False: (Thresholds, claim window days, every refund FBA)} of
        ``company``; the key False is the company's default (the shipped one without a line)."""
        found = {False: (DEFAULTS, DEFAULT_WINDOW_DAYS, False)}
        for setting in self.search([("company_id", "=", company.id)]):
            found[setting.marketplace_id.id] = (
                Thresholds(
                    refunds_per_day=setting.refunds_per_day,
                    amount_per_day=Decimal(str(setting.amount_per_day or 0)),
                    sku_factor=Decimal(str(setting.sku_factor or 0)),
                    sku_min=setting.sku_min,
                    claims_min=setting.claims_min or DEFAULTS.claims_min,
                    claims_days=setting.claims_days or DEFAULTS.claims_days,
                ),
                setting.claim_window_days or DEFAULT_WINDOW_DAYS,
                setting.fba_refunds == "all",
            )
        return found
