from odoo import api, models

GROUP_CURRENCY_KEY = "__amazon_sp_currency"


class Base(models.AbstractModel):
    """The currency of each group of the addon's grouped lists.

    Odoo sums the amounts of a group without saying in which currency they are. For the
    addon's models, each group that ``web_read_group`` returns also says, per currency field of
    the amounts summed, the currency of its records, or ``False`` when they are in several
    currencies; the list renderer (``static/src/views/list_group_currency.js``) shows the
    group's totals with that currency, and no total where currencies mix."""

    _inherit = "base"

    @api.model
    def _web_read_group(
        self, domain, fields, groupby, limit=None, offset=0, orderby=False, lazy=True
    ):
        currency_fields = self._amazon_sp_group_currency_fields(fields)
        if not currency_fields:
            return super()._web_read_group(domain, fields, groupby, limit, offset, orderby, lazy)
        extra = []
        for fname in currency_fields:
            extra += [f"__amz_min_{fname}:min({fname})", f"__amz_max_{fname}:max({fname})"]
        groups = super()._web_read_group(
            domain, list(fields) + extra, groupby, limit, offset, orderby, lazy
        )
        for group in groups:
            currencies = {}
            for fname in currency_fields:
                low = group.pop(f"__amz_min_{fname}", None)
                high = group.pop(f"__amz_max_{fname}", None)
                currencies[fname] = low if low and low == high else False
            group[GROUP_CURRENCY_KEY] = currencies
        return groups

    @api.model
    def _amazon_sp_group_currency_fields(self, aggregate_specs):
        """The stored currency fields of the monetary amounts in ``aggregate_specs``
        (``"amount_total:sum"``...), for the addon's models only."""
        if not self._name.startswith("amazon.sp."):
            return []
        names = []
        for spec in aggregate_specs or ():
            field = self._fields.get(spec.split(":")[0])
            if not field or field.type != "monetary":
                continue
            currency_field = self._fields.get(field.get_currency_field(self))
            if (
                currency_field
                and currency_field.store
                and currency_field.type == "many2one"
                and currency_field.name not in names
            ):
                names.append(currency_field.name)
        return names
