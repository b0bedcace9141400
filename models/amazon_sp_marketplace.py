from odoo import api, fields, models

REGION_SELECTION = [
    ("na", "North America"),
    ("eu", "Europe"),
    ("fe", "Far East"),
]


class AmazonSpMarketplace(models.Model):
    """An Amazon marketplace reachable through the Selling Partner API.

    Shipped as data (every SP-API marketplace); the accounts enable the ones they sell on.
    """

    _name = "amazon.sp.marketplace"
    _description = "Amazon SP-API Marketplace"
    _order = "sequence, id"

    name = fields.Char(required=True, help="Name Amazon gives the marketplace (Amazon.com).")
    code = fields.Char(
        required=True,
        help="Short code Amazon uses for the marketplace (US, UK, DE...).",
    )
    marketplace_id = fields.Char(
        string="Marketplace ID",
        required=True,
        help="SP-API marketplace identifier, e.g. ATVPDKIKX0DER for Amazon.com.",
    )
    sequence = fields.Integer(default=10)
    country_id = fields.Many2one("res.country", required=True)
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        context={"active_test": False},
        help="Currency the marketplace sells and settles in (it may be inactive in Odoo).",
    )
    region = fields.Selection(
        REGION_SELECTION,
        required=True,
        help="SP-API region whose endpoint serves the marketplace.",
    )
    seller_central_host = fields.Char(
        required=True,
        help="Seller Central host of the marketplace, where sellers authorize applications.",
    )
    domain = fields.Char(required=True, help="Amazon retail website (amazon.com).")

    _sql_constraints = [  # noqa: RUF012
        (
            "marketplace_id_uniq",
            "unique(marketplace_id)",
            "An Amazon marketplace ID can only be used once.",
        ),
    ]

    @api.depends("name", "code")
    def _compute_display_name(self):
        for marketplace in self:
            marketplace.display_name = f"{marketplace.name} ({marketplace.code})"
