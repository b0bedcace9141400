from odoo import api, fields, models
from odoo.exceptions import UserError

from ..domain import reconcile

KIND_SELECTION = list(reconcile.KINDS.items())


class AmazonSpReconciliation(models.Model):
    """A reconciliation review: Amazon's figures beside Odoo's posted figures for a settlement,
    or an account × marketplace × date range; each difference named, resolved or accepted."""

    _name = "amazon.sp.reconciliation"
    _description = "Amazon Reconciliation Review"
    _inherit = ["mail.thread"]  # noqa: RUF012
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    scope = fields.Selection(
        [("settlement", "Settlement"), ("range", "Date range")], required=True, default="range"
    )
    settlement_id = fields.Many2one("amazon.sp.settlement", ondelete="cascade", index=True)
    marketplace_id = fields.Many2one("amazon.sp.marketplace")
    date_from = fields.Date()
    date_to = fields.Date(help="Included.")
    currency_id = fields.Many2one("res.currency")
    amazon_total = fields.Monetary(currency_field="currency_id", readonly=True)
    odoo_total = fields.Monetary(
        currency_field="currency_id", readonly=True, string="Odoo Posted Total"
    )
    difference = fields.Monetary(currency_field="currency_id", readonly=True)
    open_count = fields.Integer(compute="_compute_counts", string="Open Differences", store=True)
    state = fields.Selection(
        [
            ("draft", "Not computed"),
            ("balanced", "Balanced"),
            ("differences", "Differences"),
            ("accepted", "Explained"),
        ],
        default="draft",
        required=True,
        tracking=True,
    )
    computed_at = fields.Datetime(readonly=True)
    computed_by = fields.Many2one("res.users", readonly=True)
    line_ids = fields.One2many(
        "amazon.sp.reconciliation.line", "reconciliation_id", string="Per Amount Type"
    )
    difference_ids = fields.One2many(
        "amazon.sp.reconciliation.difference", "reconciliation_id", string="Differences"
    )

    @api.depends("scope", "settlement_id", "marketplace_id", "date_from", "date_to", "account_id")
    def _compute_name(self):
        for rec in self:
            if rec.scope == "settlement":
                rec.name = self.env._("Review %(s)s", s=rec.settlement_id.display_name or "")
            else:
                rec.name = self.env._(
                    "Review %(account)s %(marketplace)s %(start)s → %(end)s",
                    account=rec.account_id.name or "",
                    marketplace=rec.marketplace_id.code or "",
                    start=rec.date_from or "",
                    end=rec.date_to or "",
                )

    @api.depends("difference_ids.state", "difference_ids.kind")
    def _compute_counts(self):
        for rec in self:
            rec.open_count = len(
                rec.difference_ids.filtered(
                    lambda d: d.state == "open" and d.kind not in reconcile.INFORMATIONAL
                )
            )

    def _update_state(self):
        for rec in self:
            if not rec.computed_at:
                continue
            real = rec.difference_ids.filtered(
                lambda d: d.kind not in reconcile.INFORMATIONAL and d.state != "resolved"
            )
            if not real:
                rec.state = "balanced"
            elif all(d.state == "accepted" for d in real):
                rec.state = "accepted"
            else:
                rec.state = "differences"

    # ------------------------------------------------------------------------------------------
    # Actions (amazon.sp.service.review)
    # ------------------------------------------------------------------------------------------

    def action_refresh(self):
        """Read Amazon's events for the scope again and compare them with Odoo's."""
        Review = self.env["amazon.sp.service.review"]
        for rec in self:
            Review._refresh(rec)
        return True

    def action_import_missing(self):
        """Import the events Amazon has and Odoo lacks, through the normal import."""
        self.ensure_one()
        self.env["amazon.sp.service.review"]._import_missing(self)
        return self.action_refresh()

    def action_post_waiting(self):
        """Post the events of the scope that wait (drafts posted, the others planned again)."""
        self.ensure_one()
        self.env["amazon.sp.service.review"]._post_waiting(self)
        return self.action_refresh()

    def action_open_accept(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "amazon.sp.reconciliation.accept",
            "view_mode": "form",
            "target": "new",
            "context": {"default_reconciliation_id": self.id},
        }

    def _export_rows(self):
        """The figures shown on the form, as rows (the PDF report reads them)."""
        return self.env["amazon.sp.service.review"]._export_rows(self)

    def action_export_xlsx(self):
        self.ensure_one()
        attachment = self.env["amazon.sp.service.review"]._export_xlsx(self)
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def action_export_pdf(self):
        self.ensure_one()
        return self.env["amazon.sp.service.review"]._export_pdf(self)


class AmazonSpReconciliationLine(models.Model):
    _name = "amazon.sp.reconciliation.line"
    _description = "Amazon Reconciliation Review: Amount Type"
    _order = "amount_type"

    reconciliation_id = fields.Many2one(
        "amazon.sp.reconciliation", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="reconciliation_id.company_id", store=True)
    currency_id = fields.Many2one(related="reconciliation_id.currency_id")
    amount_type = fields.Char(required=True)
    amazon_amount = fields.Monetary(currency_field="currency_id", string="Amazon")
    odoo_amount = fields.Monetary(currency_field="currency_id", string="Odoo Posted")
    difference = fields.Monetary(currency_field="currency_id")


class AmazonSpReconciliationDifference(models.Model):
    _name = "amazon.sp.reconciliation.difference"
    _description = "Amazon Reconciliation Review: Difference"
    _order = "state, kind, id"

    reconciliation_id = fields.Many2one(
        "amazon.sp.reconciliation", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="reconciliation_id.company_id", store=True)
    currency_id = fields.Many2one(related="reconciliation_id.currency_id")
    key = fields.Char(required=True, readonly=True)
    kind = fields.Selection(KIND_SELECTION, required=True, readonly=True)
    amount = fields.Monetary(currency_field="currency_id", readonly=True)
    message = fields.Char(readonly=True, string="Description")
    event_id = fields.Many2one("amazon.sp.event", readonly=True, ondelete="set null")
    amazon_order_id = fields.Char(readonly=True)
    posted_date = fields.Datetime(readonly=True)
    state = fields.Selection(
        [("open", "Open"), ("accepted", "Accepted"), ("resolved", "Resolved")],
        default="open",
        required=True,
        readonly=True,
    )
    note = fields.Text(readonly=True)
    resolved_by = fields.Many2one("res.users", readonly=True, string="By")
    resolved_date = fields.Datetime(readonly=True, string="When")

    def _accept(self, note):
        """Accept the differences with a note: who and when are kept, and logged."""
        if not (note or "").strip():
            raise UserError(self.env._("Accepting a difference needs a note."))
        now = fields.Datetime.now()
        self.write(
            {
                "state": "accepted",
                "note": note,
                "resolved_by": self.env.user.id,
                "resolved_date": now,
            }
        )
        for rec, diffs in self.grouped("reconciliation_id").items():
            rec.message_post(
                body=self.env._(
                    "%(user)s accepted %(count)s difference(s) on %(when)s: %(items)s. "
                    "Note: %(note)s",
                    user=self.env.user.name,
                    count=len(diffs),
                    when=now,
                    items="; ".join(
                        f"{d.message} ({d.currency_id._amazon_sp_amount_text(d.amount)})"
                        for d in diffs
                    ),
                    note=note,
                )
            )
            rec._update_state()
        return True
