import logging

from odoo import Command, fields, models

_logger = logging.getLogger(__name__)

# Symbolic account references used by the mapping (domain.default_rules()) → the account the
# company gets for it when nothing is configured: (code prefix, name, account type, reconcile).
AMAZON_ACCOUNT_DEFAULTS = {
    "clearing": ("AMZCLR", "Amazon clearing", "asset_receivable", True),
    "refund_income": ("AMZRET", "Sales returns (Amazon)", "income", False),
    "sales": ("AMZSAL", "Sales (Amazon)", "income", False),
    "shipping": ("AMZSHP", "Shipping income (Amazon)", "income", False),
    "giftwrap": ("AMZGFT", "Gift wrap income (Amazon)", "income", False),
    "promotion": ("AMZPRO", "Promotions (Amazon)", "income", False),
    "restocking": ("AMZRST", "Restocking fees (Amazon)", "income", False),
    "fees": ("AMZFEE", "Amazon fees", "expense", False),
    "advertising": ("AMZADV", "Amazon advertising", "expense", False),
    "reimbursement": ("AMZRMB", "Amazon reimbursements", "income_other", False),
    "reimbursement_return": ("AMZRMR", "Amazon return reimbursements", "income_other", False),
    "reimbursement_damage": ("AMZRMD", "Amazon lost/damaged reimbursements", "income_other", False),
    "other_income": ("AMZOIN", "Amazon other income", "income_other", False),
    "reserve": ("AMZRSV", "Amazon reserve", "asset_current", False),
    "liquidation": ("AMZLIQ", "Amazon liquidation income", "income_other", False),
    "loan": ("AMZLON", "Amazon loan", "liability_current", False),
    "withheld_tax": ("AMZWHT", "Tax withheld by Amazon (receivable)", "asset_current", False),
    "transfers": ("AMZTRF", "Amazon transfers outside payouts", "asset_current", True),
}
AMAZON_ACCOUNT_FALLBACK = ("AMZOTH", "Amazon other", "expense", False)


class ResCompany(models.Model):
    _inherit = "res.company"

    amazon_sp_clearing_account_id = fields.Many2one(
        "account.account",
        string="Amazon Clearing Account",
        help="Receivable account that holds what Amazon owes or takes until the payout.",
    )
    amazon_sp_journal_id = fields.Many2one(
        "account.journal",
        string="Amazon Journal",
        help="Sales journal of the Amazon credit notes and fee entries.",
    )
    amazon_sp_refund_product_id = fields.Many2one(
        "product.product",
        string="Default Amazon Refund Product",
        help="Used on credit note lines whose SKU matches no product's internal reference.",
    )
    amazon_sp_partner_id = fields.Many2one(
        "res.partner",
        string="Amazon Partner",
        help="Partner of the fee entries, and customer of the credit notes when the marketplace "
        "has no default customer and no original invoice is found.",
    )

    # ------------------------------------------------------------------------------------------
    # Setup
    # ------------------------------------------------------------------------------------------

    def _amazon_sp_ensure_setup(self):
        """Create the missing Amazon defaults of each company (idempotent, cheap when done)."""
        for company in self:
            if (
                company.amazon_sp_clearing_account_id
                and company.amazon_sp_journal_id
                and company.amazon_sp_refund_product_id
                and company.amazon_sp_partner_id
            ):
                company.env["amazon.sp.amount.mapping"]._amazon_sp_seed_defaults(company)
                continue
            company = company.sudo()
            vals = {}
            if not company.amazon_sp_partner_id:
                vals["amazon_sp_partner_id"] = (
                    company.env["res.partner"]
                    .create({"name": "Amazon", "company_id": company.id, "is_company": True})
                    .id
                )
            if not company.amazon_sp_clearing_account_id:
                vals["amazon_sp_clearing_account_id"] = company._amazon_sp_account("clearing").id
            if not company.amazon_sp_refund_product_id:
                vals["amazon_sp_refund_product_id"] = (
                    company.env["product.product"]
                    .create(
                        {
                            "name": "Amazon refund",
                            "type": "service",
                            "sale_ok": True,
                            "purchase_ok": False,
                            "company_id": company.id,
                            "taxes_id": [Command.clear()],
                            "property_account_income_id": company._amazon_sp_account(
                                "refund_income"
                            ).id,
                        }
                    )
                    .id
                )
            if not company.amazon_sp_journal_id:
                vals["amazon_sp_journal_id"] = company._amazon_sp_create_journal().id
            company.write(vals)
            _logger.info("Amazon SP-API accounting defaults created for company %s", company.id)
            company.env["amazon.sp.amount.mapping"]._amazon_sp_seed_defaults(company)
        return True

    def _amazon_sp_account(self, ref):
        """The company's account for a symbolic reference; created when missing."""
        self.ensure_one()
        if ref == "clearing" and self.amazon_sp_clearing_account_id:
            return self.amazon_sp_clearing_account_id
        prefix, name, account_type, reconcile = AMAZON_ACCOUNT_DEFAULTS.get(
            ref, AMAZON_ACCOUNT_FALLBACK
        )
        Account = self.env["account.account"].sudo().with_company(self)
        existing = Account.search(
            [("company_ids", "in", self.id), ("code", "=", prefix)],
            order="code",
            limit=1,
        )
        if existing:
            return existing
        return Account.create(
            {
                "name": name,
                "code": prefix,
                "account_type": account_type,
                "reconcile": reconcile,
                "company_ids": [Command.set(self.ids)],
            }
        )

    def _amazon_sp_create_journal(self):
        self.ensure_one()
        Journal = self.env["account.journal"].sudo().with_company(self)
        code = "AMZ"
        n = 1
        while Journal.search_count([("company_id", "=", self.id), ("code", "=", code)]):
            n += 1
            code = f"AMZ{n}"
        return Journal.create(
            {
                "name": "Amazon",
                "code": code,
                "type": "sale",
                "company_id": self.id,
                "default_account_id": self._amazon_sp_account("refund_income").id,
            }
        )
