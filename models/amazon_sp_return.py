from odoo import api, fields, models

from ..domain.returns import REASON_SELECTION, damaged_by


class AmazonSpReturn(models.Model):
    """One returned item, as Amazon's returns reports list it (FBA customer returns, or
    seller-fulfilled returns), linked to the refund events of its order and SKU."""

    _name = "amazon.sp.return"
    _inherit = "amazon.sp.import.record"
    _description = "Amazon Return"
    _order = "return_date desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    marketplace_id = fields.Many2one("amazon.sp.marketplace", index=True, ondelete="restrict")
    source = fields.Selection(
        [("fba", "Fulfilled by Amazon"), ("merchant", "Fulfilled by the seller")],
        required=True,
        readonly=True,
    )
    amazon_order_id = fields.Char(index=True, readonly=True)
    sku = fields.Char(string="SKU", index=True, readonly=True)
    asin = fields.Char(string="ASIN", readonly=True)
    fnsku = fields.Char(string="FNSKU", readonly=True)
    product_name = fields.Char(readonly=True)
    quantity = fields.Integer(readonly=True)
    return_date = fields.Datetime(index=True, readonly=True)
    fulfillment_center = fields.Char(readonly=True)
    disposition = fields.Char(
        readonly=True, help="Amazon's detailed disposition of the returned unit."
    )
    damaged_by = fields.Selection(
        [("carrier", "Carrier"), ("warehouse", "Amazon's warehouse")],
        compute="_compute_damaged_by",
        store=True,
        help="Who damaged the unit, when Amazon's disposition says so.",
    )
    reason_code = fields.Char(string="Amazon Reason", readonly=True, index=True)
    reason = fields.Selection(list(REASON_SELECTION), index=True, readonly=True)
    atoz_claim = fields.Boolean(
        string="A-to-z Claim", readonly=True, help="The seller-fulfilled report marks a claim."
    )
    status = fields.Char(readonly=True)
    license_plate = fields.Char(readonly=True, help="Amazon's license plate number of the unit.")
    rma_id = fields.Char(string="Amazon RMA", readonly=True)
    customer_comments = fields.Text(readonly=True)
    event_ids = fields.Many2many(
        "amazon.sp.event",
        "amazon_sp_return_event_rel",
        "return_id",
        "event_id",
        string="Refund Events",
        readonly=True,
        help="The refunds, claims and chargebacks of the order for this SKU.",
    )
    credit_note_ids = fields.Many2many(
        "account.move", compute="_compute_credit_note_ids", string="Credit Notes"
    )
    refunded = fields.Boolean(
        compute="_compute_refunded", store=True, help="A refund of the order is imported."
    )
    report_file_id = fields.Many2one("amazon.sp.return.report", ondelete="set null", readonly=True)
    raw_json = fields.Text(string="Raw Row", readonly=True)
    raw_sha256 = fields.Char(string="SHA-256", readonly=True)
    key = fields.Char(required=True, readonly=True, index=True)

    _sql_constraints = [  # noqa: RUF012
        (
            "key_unique",
            "unique(account_id, key)",
            "A return is imported once per seller account.",
        ),
    ]

    @api.depends("amazon_order_id", "sku")
    def _compute_name(self):
        for ret in self:
            ret.name = " ".join(p for p in (ret.amazon_order_id, ret.sku) if p) or "/"

    @api.depends("disposition")
    def _compute_damaged_by(self):
        for ret in self:
            ret.damaged_by = damaged_by(ret.disposition)

    @api.depends("event_ids")
    def _compute_refunded(self):
        for ret in self:
            ret.refunded = bool(ret.event_ids)

    @api.depends("event_ids.move_ids")
    def _compute_credit_note_ids(self):
        for ret in self:
            ret.credit_note_ids = ret.event_ids.move_ids.filtered(
                lambda m: m.move_type == "out_refund"
            )

    def action_view_credit_notes(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_refund_type"
        )
        action["domain"] = [("id", "in", self.credit_note_ids.ids)]
        action["context"] = {}
        return action
