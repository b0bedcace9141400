from odoo import models
from odoo.tools import format_amount

MINUS = "\N{MINUS SIGN}"


class ResCurrency(models.Model):
    _inherit = "res.currency"

    def _amazon_sp_amount_text(self, amount):
        """An amount as a message shows it: rounded by the currency's rules (two decimals, none
        in yen), grouped by the user's language, with the currency's symbol and a true minus
        sign ("$ 141.20", "¥ 1,200", "€ −3.50"). ``amount`` may be a ``Decimal``."""
        self.ensure_one()
        text = format_amount(self.env, float(amount or 0), self)
        return text.replace("-\N{ZERO WIDTH NO-BREAK SPACE}", MINUS).replace("-", MINUS)
