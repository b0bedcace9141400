from odoo import api, fields, models

KIND_SELECTION = [
    ("not_returned", "Refunded, item not returned"),
    ("damaged", "Return damaged by the carrier or warehouse"),
    ("short", "Reimbursed less than refunded"),
]
CLOSED_SELECTION = [
    ("reimbursed", "Reimbursed by Amazon"),
    ("returned", "Item returned"),
    ("gone", "No longer applies"),
    ("manual", "Closed by a user"),
]
# What a user may write outside the claim run (closing a candidate by hand, a note).
USER_FIELDS = ("state", "closed_reason", "closed_date", "note")


class AmazonSpClaim(models.Model):
    """A claim candidate: money Amazon probably still owes for an order's SKU, with the
    evidence Seller Central asks for. Written by ``amazon.sp.service.anomalies``; it closes
    itself when Amazon's reimbursement for the order and SKU arrives."""

    _name = "amazon.sp.claim"
    _description = "Amazon Claim Candidate"
    _inherit = ["mail.thread", "mail.activity.mixin", "amazon.sp.import.record"]  # noqa: RUF012
    _amazon_sp_user_fields = USER_FIELDS
    _order = "state, due_date desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    marketplace_id = fields.Many2one("amazon.sp.marketplace", index=True)
    kind = fields.Selection(KIND_SELECTION, required=True, index=True)
    key = fields.Char(required=True, readonly=True, index=True)
    amazon_order_id = fields.Char(string="Order ID", required=True, index=True, readonly=True)
    sku = fields.Char(string="SKU", index=True, readonly=True)
    fnsku = fields.Char(string="FNSKU", readonly=True)
    refund_date = fields.Date(readonly=True)
    return_date = fields.Date(readonly=True)
    due_date = fields.Date(
        string="Claimable From",
        readonly=True,
        help="The refund date plus the return window: from then on, Amazon owes the item or "
        "its value.",
    )
    currency_id = fields.Many2one("res.currency", readonly=True)
    refund_amount = fields.Monetary(currency_field="currency_id", string="Refunded", readonly=True)
    reimbursed_amount = fields.Monetary(
        currency_field="currency_id", string="Reimbursed", readonly=True
    )
    claim_amount = fields.Monetary(currency_field="currency_id", string="To Claim", readonly=True)
    license_plate = fields.Char(string="License Plate Number", readonly=True)
    disposition = fields.Char(readonly=True, help="Amazon's detailed disposition of the return.")
    evidence = fields.Text(readonly=True, help="The facts to give Seller Central.")
    event_ids = fields.Many2many(
        "amazon.sp.event",
        "amazon_sp_claim_event_rel",
        "claim_id",
        "event_id",
        string="Refund Events",
        readonly=True,
    )
    return_ids = fields.Many2many(
        "amazon.sp.return",
        "amazon_sp_claim_return_rel",
        "claim_id",
        "return_id",
        string="Returns",
        readonly=True,
    )
    reimbursement_ids = fields.Many2many(
        "amazon.sp.reimbursement",
        "amazon_sp_claim_reimbursement_rel",
        "claim_id",
        "reimbursement_id",
        string="Reimbursements",
        readonly=True,
        help="Amazon's reimbursements of the order's SKU (a claim for the rest).",
    )
    closed_by_id = fields.Many2one(
        "amazon.sp.reimbursement",
        string="Closed by Reimbursement",
        readonly=True,
        ondelete="set null",
        help="The row of Amazon's reimbursements report that closed the candidate.",
    )
    closed_by_event_id = fields.Many2one(
        "amazon.sp.event",
        string="Reimbursement Event",
        readonly=True,
        ondelete="set null",
        help="The Amazon event that reimbursed the order's item and closed the candidate.",
    )
    state = fields.Selection(
        [("open", "Open"), ("closed", "Closed")],
        default="open",
        required=True,
        index=True,
        tracking=True,
    )
    closed_reason = fields.Selection(CLOSED_SELECTION, tracking=True)
    closed_date = fields.Datetime()
    note = fields.Text()
    first_seen = fields.Datetime(readonly=True)
    last_seen = fields.Datetime(readonly=True)

    _sql_constraints = [  # noqa: RUF012
        (
            "account_key_uniq",
            "unique(account_id, key)",
            "A claim candidate is kept once per account, case, order and SKU.",
        ),
    ]

    @api.depends("kind", "amazon_order_id", "sku")
    def _compute_name(self):
        for claim in self:
            claim.name = " ".join(p for p in (claim.amazon_order_id, claim.sku) if p)

    def action_close(self):
        """Close the candidates by hand (filed, or not worth a claim)."""
        self.filtered(lambda c: c.state == "open").write(
            {"state": "closed", "closed_reason": "manual", "closed_date": fields.Datetime.now()}
        )
        return True

    def action_view_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_event_action"
        )
        action["domain"] = [("id", "in", (self.event_ids | self.closed_by_event_id).ids)]
        action["context"] = {"create": False}
        return action

    def action_export_xlsx(self):
        return self._amazon_sp_download(self.env["amazon.sp.service.anomalies"]._export_xlsx(self))

    def action_export_csv(self):
        return self._amazon_sp_download(self.env["amazon.sp.service.anomalies"]._export_csv(self))

    def _amazon_sp_download(self, attachment):
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }
