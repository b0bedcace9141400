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

    # Accounting settings, per company (company-dependent)
    amazon_sp_post_policy = fields.Selection(
        [("post", "Post automatically"), ("draft", "Keep as draft for review")],
        string="Posting Policy",
        company_dependent=True,
        help="Empty means post automatically.",
    )
    amazon_sp_review_threshold = fields.Float(
        string="Review Threshold",
        company_dependent=True,
        help="Events whose net amount (absolute, in the event's currency) exceeds this wait for "
        "review. 0 = no threshold.",
    )
    amazon_sp_partner_id = fields.Many2one(
        "res.partner",
        string="Default Customer",
        company_dependent=True,
        help="Customer of the credit notes when no original invoice is found. Empty: the "
        "company's Amazon partner.",
    )
    amazon_sp_seller_tax = fields.Selection(
        [
            ("tax", "This tax"),
            ("none", "Not registered: the tax stays in the price"),
        ],
        string="Seller Tax",
        company_dependent=True,
        help="Tax the seller owes on refunds (Amazon's Tax lines that no marketplace-facilitator "
        "withholding offsets). Empty: the sale tax of the company that gives Amazon's amount to "
        "the cent. This tax: always the tax below, and the event waits for review when it "
        "differs from Amazon's. Not registered: no tax, the amount stays in the line's price.",
    )
    amazon_sp_tax_id = fields.Many2one(
        "account.tax",
        string="Seller Tax (credit notes)",
        company_dependent=True,
        domain="[('type_tax_use', '=', 'sale')]",
    )
    amazon_sp_fee_tax_id = fields.Many2one(
        "account.tax",
        string="Input VAT on Amazon's Fees",
        company_dependent=True,
        domain="[('type_tax_use', '=', 'purchase'), ('amount_type', '=', 'percent'), "
        "('tax_exigibility', '=', 'on_invoice')]",
        help="Where the company is registered for VAT in this marketplace, the purchase tax of "
        "the VAT Amazon charges on its fees: the fee entries then book the fee net with this "
        "tax and Amazon's VAT as input VAT (the event waits for review when the tax on the fee "
        "differs from Amazon's by more than a cent). Empty: the VAT is part of the fee.",
    )
    sales_policy = fields.Selection(
        [
            ("summary", "Summary entry per day"),
            ("invoice", "One invoice per order"),
            ("invoiced", "Already invoiced in Odoo"),
        ],
        string="Sales",
        company_dependent=True,
        default="summary",
        help="How this marketplace's sales are booked. Summary entry per day: when Amazon closes "
        "a settlement, one journal entry per day of it in the Amazon journal: sales, shipping, "
        "gift wrap and promotions on income accounts, the VAT you owe as tax lines of your "
        "sale taxes, Amazon's fees on fee accounts, against the Amazon clearing account. One "
        "invoice per order: a customer invoice for each order (needed where each sale must be "
        "invoiced in Odoo). Already invoiced in Odoo: the order's invoice made in Odoo (same "
        "Amazon order reference) is paid from the Amazon clearing account. Empty: summary.",
    )
    amazon_sp_payout_journal_id = fields.Many2one(
        "account.journal",
        string="Payout Journal",
        company_dependent=True,
        domain="[('type', '=', 'bank')]",
        help="Bank journal Amazon pays this marketplace's settlements into. Empty: the company's "
        "first bank journal in the payout currency.",
    )

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

    def _amazon_sp_settings(self):
        """Settings of this marketplace (may be empty) in the current company, as a dict."""
        company = self.env.company
        partner = self.amazon_sp_partner_id if self else self.env["res.partner"]
        return {
            "post": (self.amazon_sp_post_policy or "post") != "draft" if self else True,
            "threshold": self.amazon_sp_review_threshold if self else 0.0,
            "partner": partner or company.amazon_sp_partner_id,
            "seller_tax": (self.amazon_sp_seller_tax or "auto") if self else "auto",
            "tax": (
                self.amazon_sp_tax_id
                if self and self.amazon_sp_seller_tax == "tax"
                else self.env["account.tax"]
            ),
            "sales_policy": (self.sales_policy or "summary") if self else "summary",
            "fee_tax": (
                self.amazon_sp_fee_tax_id
                if self and self.amazon_sp_seller_tax != "none"
                else self.env["account.tax"]
            ),
        }

    # Helpers the import uses (kept here so the foundation's field names are read in one spot).

    def _amazon_sp_code(self):
        """Amazon's marketplace identifier (ATVPDKIKX0DER)."""
        self.ensure_one()
        return self.marketplace_id

    def _amazon_sp_names(self):
        """Names v0 may send as MarketplaceName (Amazon.com, amazon.co.uk...)."""
        self.ensure_one()
        names = [self.name]
        if self.domain:
            names += [self.domain, self.domain.capitalize(), f"www.{self.domain}"]
        return [name for name in names if name]

    def _amazon_sp_currency_code(self):
        self.ensure_one()
        return self.currency_id.name
