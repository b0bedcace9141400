import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


def _domain_plan():
    from ..domain import plan

    return plan


class AmazonSpAmountMapping(models.Model):
    """Amount type → role, account, product: per company, overridable per marketplace."""

    _name = "amazon.sp.amount.mapping"
    _description = "Amazon Amount Type Mapping"
    _order = "company_id, marketplace_id desc, amount_type"
    _rec_name = "amount_type"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    marketplace_id = fields.Many2one(
        "amazon.sp.marketplace",
        ondelete="cascade",
        help="Empty: every marketplace of the company. Set: overrides the company's rule there.",
    )
    amount_type = fields.Char(
        required=True,
        index=True,
        help='Normalized amount type "<Category>/<Type>", e.g. "Fee/Commission".',
    )
    role = fields.Selection(selection="_selection_role", required=True)
    account_id = fields.Many2one(
        "account.account",
        check_company=True,
        help="Empty for product lines: the product's income account.",
    )
    product_id = fields.Many2one(
        "product.product",
        check_company=True,
        help="Product of credit note lines (principal: the product whose internal reference is "
        "the SKU comes first).",
    )
    label = fields.Char()
    tax_of = fields.Char(
        help="Seller tax rules: the amount type whose credit note line carries this tax "
        '(e.g. "Charge/Principal" for "Charge/Tax").',
    )
    active = fields.Boolean(default=True)

    def init(self):
        self.env.cr.execute(
            SQL(
                """
                CREATE UNIQUE INDEX IF NOT EXISTS amazon_sp_amount_mapping_type_uniq
                    ON amazon_sp_amount_mapping
                       (company_id, COALESCE(marketplace_id, 0), lower(amount_type))
                 WHERE active
                """
            )
        )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_default_rule(self):
        """A company-wide default rule deleted would come back at the next import: archive it."""
        rules = _domain_plan().default_rules()
        defaults = {
            rule.amount_type.lower()
            for rule in (rules.values() if isinstance(rules, dict) else rules)
        }
        default = self.filtered(
            lambda mapping: not mapping.marketplace_id and mapping.amount_type.lower() in defaults
        )
        if default:
            raise UserError(
                self.env._(
                    "%(rules)s: default rules cannot be deleted, the next import would create "
                    "them again. Archive them instead (Action, then Archive): an archived "
                    "default rule stays archived.",
                    rules=", ".join(default.mapped("amount_type")),
                )
            )

    @api.model
    def _selection_role(self):
        roles = getattr(_domain_plan(), "ROLES", None)
        if isinstance(roles, dict):
            return [(key, str(label)) for key, label in roles.items()]
        if roles:
            return [(role, role.replace("_", " ").capitalize()) for role in roles]
        seen = []
        rules = _domain_plan().default_rules()
        for rule in rules.values() if isinstance(rules, dict) else rules:
            if rule.role not in seen:
                seen.append(rule.role)
        return [(role, role.replace("_", " ").capitalize()) for role in seen]

    # ------------------------------------------------------------------------------------------
    # Defaults
    # ------------------------------------------------------------------------------------------

    @api.model
    def _amazon_sp_seed_defaults(self, company):
        """Create the company-wide rules of domain.default_rules() that are missing."""
        existing = {
            amount_type.lower()
            for amount_type in self.sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", company.id), ("marketplace_id", "=", False)])
            .mapped("amount_type")
        }
        vals_list = []
        rules = _domain_plan().default_rules()
        for rule in rules.values() if isinstance(rules, dict) else rules:
            if rule.amount_type.lower() in existing:
                continue
            existing.add(rule.amount_type.lower())
            vals_list.append(self._amazon_sp_rule_vals(company, rule))
        if vals_list:
            self.sudo().with_context(amazon_sp_no_retry=True).create(vals_list)
        return True

    @api.model
    def _amazon_sp_rule_vals(self, company, rule):
        vals = {
            "company_id": company.id,
            "amount_type": rule.amount_type,
            "role": rule.role,
            "label": rule.label or False,
            "tax_of": getattr(rule, "tax_of", None) or False,
        }
        account_ref = getattr(rule, "account_ref", None)
        if account_ref:
            vals["account_id"] = company._amazon_sp_account(account_ref).id
        if getattr(rule, "product_ref", None):
            vals["product_id"] = company.amazon_sp_refund_product_id.id
        return vals

    # ------------------------------------------------------------------------------------------
    # To the planner
    # ------------------------------------------------------------------------------------------

    @api.model
    def _amazon_sp_rules(self, company, marketplace):
        """The active rules for a company and marketplace: the marketplace's override the
        company's rule of the same amount type."""
        domain = [("company_id", "=", company.id)]
        if marketplace:
            domain += ["|", ("marketplace_id", "=", False), ("marketplace_id", "=", marketplace.id)]
        else:
            domain += [("marketplace_id", "=", False)]
        rules = {}
        for rec in self.sudo().search(domain, order="id"):
            key = rec.amount_type.lower()
            if key not in rules or rec.marketplace_id:
                rules[key] = rec
        return list(rules.values())

    @api.model
    def _amazon_sp_mapping(self, company, marketplace):
        """The planner's Mapping for a company and marketplace (refs are record ids)."""
        plan = _domain_plan()
        rules = []
        for rec in self._amazon_sp_rules(company, marketplace):
            try:
                rules.append(
                    plan.AmountTypeRule(
                        rec.amount_type,
                        rec.role,
                        account_ref=rec.account_id.id or None,
                        product_ref=rec.product_id.id or None,
                        label=rec.label or None,
                        tax_of=rec.tax_of or None,
                    )
                )
            except ValueError as exc:
                # An incomplete rule maps nothing: its events wait for review, naming the type.
                _logger.warning("Amazon mapping rule %s ignored: %s", rec.id, exc)
        return plan.Mapping(rules)

    # ------------------------------------------------------------------------------------------
    # A new or changed rule: the events waiting for it are tried again
    # ------------------------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if not self.env.context.get("amazon_sp_no_retry"):
            records._amazon_sp_retry_waiting()
        return records

    def write(self, vals):
        res = super().write(vals)
        if not self.env.context.get("amazon_sp_no_retry") and {
            "amount_type",
            "role",
            "account_id",
            "product_id",
            "active",
            "tax_of",
        } & set(vals):
            self._amazon_sp_retry_waiting()
        return res

    def _amazon_sp_retry_waiting(self):
        """Retry the events waiting for one of these amount types (unmapped)."""
        if not self:
            return
        Event = self.env["amazon.sp.event"]
        for company in self.company_id:
            types = {
                t.lower()
                for t in self.filtered(lambda r, c=company: r.company_id == c).mapped("amount_type")
            }
            wildcards = {t[:-1] for t in types if t.endswith("/*")}
            events = Event.search(
                [
                    ("company_id", "=", company.id),
                    ("state", "=", "to_review"),
                    ("review_reason", "=", "unmapped"),
                ]
            )
            events = events.filtered(
                lambda ev, types=types, wildcards=wildcards: any(
                    line.amount_type.lower() in types
                    or any(line.amount_type.lower().startswith(w) for w in wildcards)
                    for line in ev.line_ids
                    if line.is_unmapped
                )
            )
            if events:
                events.action_retry()


class AmazonSpUnmappedType(models.Model):
    """Each amount type that keeps events in review, once, with its count and total."""

    _name = "amazon.sp.unmapped.type"
    _description = "Unmapped Amazon Amount Type"
    _auto = False
    _order = "amount_type"
    _rec_name = "amount_type"

    company_id = fields.Many2one("res.company", readonly=True)
    amount_type = fields.Char(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    event_count = fields.Integer(string="Events", readonly=True)
    line_count = fields.Integer(string="Lines", readonly=True)
    amount_total = fields.Monetary(string="Total", currency_field="currency_id", readonly=True)

    def init(self):
        self.env.cr.execute(SQL("DROP VIEW IF EXISTS amazon_sp_unmapped_type"))
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW amazon_sp_unmapped_type AS (
                    SELECT MIN(line.id) AS id,
                           line.company_id,
                           line.amount_type,
                           line.currency_id,
                           COUNT(DISTINCT line.event_id) AS event_count,
                           COUNT(*) AS line_count,
                           SUM(line.amount) AS amount_total
                      FROM amazon_sp_event_line line
                      JOIN amazon_sp_event event ON event.id = line.event_id
                     WHERE line.is_unmapped
                       AND event.state = 'to_review'
                  GROUP BY line.company_id, line.amount_type, line.currency_id
                )
                """
            )
        )

    def action_create_mapping(self):
        """Open a new mapping rule for this amount type (managers)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Map %(type)s", type=self.amount_type),
            "res_model": "amazon.sp.amount.mapping",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_amount_type": self.amount_type,
                "default_company_id": self.company_id.id,
            },
        }
