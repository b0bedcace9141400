from babel.dates import format_date

from odoo import api, fields, models
from odoo.tools.misc import formatLang

from .amazon_sp_event import pretty_json
from .amazon_sp_flow_guard import flow

PROCESSING_STATUS_SELECTION = [("open", "Open"), ("closed", "Closed")]
SETTLEMENT_STATE_SELECTION = [
    ("open", "Open"),  # Amazon still adds events to the group
    ("to_reconcile", "To Reconcile"),  # closed; waits for its funds, its events or its payout
    ("to_review", "To Review"),  # closed, paid, but Odoo's figures differ from Amazon's
    ("transfer_failed", "Transfer Failed"),  # Amazon's transfer failed: paid by a later group
    ("reconciled", "Reconciled"),  # payout posted, clearing lines reconciled
]
# What a user may write on a settlement outside the import's flows (a note).
USER_FIELDS = ("review_message",)
MINUS = "\N{MINUS SIGN}"
EN_DASH = "\N{EN DASH}"


def period_label(start, end, lang=None):
    """A settlement period in plain words: "06–20 Nov 2026", "28 Oct – 10 Nov 2026",
    "28 Dec 2025 – 10 Jan 2026", "06 Nov 2026 –" (open, no end yet)."""
    if not start:
        return ""
    locale = (lang or "en_US").split("@")[0]
    start, end = start.date(), end and end.date()

    def fmt(day, pattern):
        return format_date(day, pattern, locale=locale)

    if not end:
        return f"{fmt(start, 'dd MMM yyyy')} {EN_DASH}"
    if end == start:
        return fmt(end, "dd MMM yyyy")
    if (start.year, start.month) == (end.year, end.month):
        return f"{fmt(start, 'dd')}{EN_DASH}{fmt(end, 'dd MMM yyyy')}"
    if start.year == end.year:
        return f"{fmt(start, 'dd MMM')} {EN_DASH} {fmt(end, 'dd MMM yyyy')}"
    return f"{fmt(start, 'dd MMM yyyy')} {EN_DASH} {fmt(end, 'dd MMM yyyy')}"


def amount_label(env, amount, currency):
    """An amount with its currency symbol and the currency's decimals ("$ −314.96",
    "¥ 1,200"), a true minus sign for a negative amount."""
    return formatLang(env, amount or 0.0, currency_obj=currency).replace("-", MINUS)


class AmazonSpSettlement(models.Model):
    """A financial event group (settlement period) of a seller account, as Amazon reports it,
    and what Odoo made of it: its events, its payout entry, its reconciliation."""

    _name = "amazon.sp.settlement"
    _description = "Amazon Settlement"
    _inherit = ["mail.thread", "mail.activity.mixin", "amazon.sp.import.record"]  # noqa: RUF012
    _amazon_sp_user_fields = USER_FIELDS
    _order = "start_date desc, id desc"
    _rec_name = "name"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    group_id = fields.Char(
        string="Event Group",
        required=True,
        readonly=True,
        index=True,
        help="Amazon's FinancialEventGroupId.",
    )
    marketplace_id = fields.Many2one(
        "amazon.sp.marketplace",
        index=True,
        help="The marketplace of the group's events (empty while it has none).",
    )
    processing_status = fields.Selection(PROCESSING_STATUS_SELECTION, readonly=True, index=True)
    fund_transfer_status = fields.Char(readonly=True)
    fund_transfer_date = fields.Datetime(readonly=True)
    start_date = fields.Datetime(string="Start", readonly=True)
    end_date = fields.Datetime(string="End", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True, help="OriginalTotal's currency.")
    original_total = fields.Monetary(currency_field="currency_id", readonly=True)
    beginning_balance = fields.Monetary(currency_field="currency_id", readonly=True)
    converted_currency_id = fields.Many2one("res.currency", readonly=True, string="Payout Currency")
    converted_total = fields.Monetary(
        currency_field="converted_currency_id", readonly=True, string="Payout Amount"
    )
    carried_balance = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        help="The beginning balance Amazon's total holds without an event of the group (a "
        "reserve released, a failed transfer paid again, a balance charged): the payout books it.",
    )
    carried_kind = fields.Selection(
        [
            ("reserve", "Reserve released"),
            ("failed_transfer", "Failed transfer paid again"),
            ("charge", "Balance charged to the seller"),
        ],
        string="Carried Balance Kind",
        readonly=True,
    )
    paid_by_id = fields.Many2one(
        "amazon.sp.settlement",
        readonly=True,
        copy=False,
        string="Paid With",
        help="The later settlement whose payout paid this one's failed transfer.",
    )
    trace_id = fields.Char(string="Trace ID", readonly=True)
    from_report = fields.Boolean(string="From a Settlement Report File", readonly=True)
    account_tail = fields.Char(readonly=True, help="Last digits of the bank account paid.")
    raw_json = fields.Text(string="Raw JSON", readonly=True)
    raw_json_pretty = fields.Text(
        string="Raw JSON (readable)",
        compute="_compute_raw_json_pretty",
        help="Amazon's data, indented to be read; the stored raw JSON is kept exactly as received.",
    )
    raw_sha256 = fields.Char(string="SHA-256", readonly=True)
    event_ids = fields.One2many("amazon.sp.event", "settlement_id", string="Events")
    state = fields.Selection(
        SETTLEMENT_STATE_SELECTION, default="open", required=True, index=True, tracking=True
    )
    review_message = fields.Text()
    payout_move_id = fields.Many2one("account.move", readonly=True, copy=False, string="Payout")
    bank_proposal_line_id = fields.Many2one(
        "account.bank.statement.line",
        readonly=True,
        copy=False,
        ondelete="set null",
        string="Proposed Bank Line",
        help="A bank line with the payout's amount and date but without its trace id: it is "
        "matched only when you confirm it.",
    )
    bank_rejected_line_ids = fields.Many2many(
        "account.bank.statement.line",
        "amazon_sp_settlement_rejected_bank_line_rel",
        "settlement_id",
        "line_id",
        readonly=True,
        copy=False,
        string="Rejected Bank Lines",
        help="Bank lines you rejected for this payout: never proposed again.",
    )
    last_refresh = fields.Datetime(readonly=True)
    report_ids = fields.One2many(
        "amazon.sp.settlement.report", "settlement_id", string="Settlement Reports"
    )
    witness_state = fields.Selection(
        [("none", "No report"), ("match", "Agrees"), ("differs", "Differs")],
        compute="_compute_witness_state",
        store=True,
        string="Settlement Report",
    )

    _sql_constraints = [  # noqa: RUF012
        (
            "group_unique",
            "unique(account_id, group_id)",
            "A financial event group is stored once per seller account.",
        ),
    ]

    @api.depends(
        "group_id", "marketplace_id.name", "start_date", "end_date", "currency_id", "original_total"
    )
    def _compute_name(self):
        """Named as an accountant reads it: "Amazon.com · 06–20 Nov 2026 · $ −314.96"
        (marketplace, period, Amazon's total with its currency); the event group id only while
        Amazon gave nothing else."""
        for settlement in self:
            parts = [
                settlement.marketplace_id.name,
                period_label(settlement.start_date, settlement.end_date, settlement.env.lang),
            ]
            if settlement.currency_id:
                parts.append(
                    amount_label(settlement.env, settlement.original_total, settlement.currency_id)
                )
            parts = [p for p in parts if p]
            settlement.name = " · ".join(parts) if parts else settlement.group_id

    @api.depends("raw_json")
    def _compute_raw_json_pretty(self):
        for settlement in self:
            settlement.raw_json_pretty = pretty_json(settlement.raw_json)

    @api.depends("report_ids.state")
    def _compute_witness_state(self):
        for settlement in self:
            states = set(settlement.report_ids.mapped("state"))
            if not states:
                settlement.witness_state = "none"
            elif states & {"differs", "error"}:
                settlement.witness_state = "differs"
            else:
                settlement.witness_state = "match"

    # ------------------------------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------------------------------

    def action_refresh(self):
        """Read the groups again from Amazon (their events too, once closed) and re-check."""
        for account in self.account_id:
            account.action_amazon_sp_refresh_settlements()
        return True

    def action_check(self):
        """Link the events of the settlements again and check them (paying out those that
        match)."""
        settlements = flow(self)
        Service = settlements.env["amazon.sp.service.settlement"]
        Service._link_events(settlements)
        Service._check(settlements)
        return True

    def action_match_bank_lines(self):
        settlements = flow(self)
        matched = settlements.env["amazon.sp.service.settlement"]._match_bank_lines(settlements)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if matched else "warning",
                "message": self.env._(
                    "%(count)s payout(s) matched with a bank line; %(proposed)s bank line(s) "
                    "without a trace id proposed for you to confirm.",
                    count=len(matched),
                    proposed=len(settlements.filtered("bank_proposal_line_id")),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_confirm_bank_match(self):
        """Reconcile the payout with the proposed bank line (the accountant checked it)."""
        for settlement in flow(self):
            settlement.env["amazon.sp.service.settlement"]._confirm_bank_match(settlement)
        return True

    def action_reject_bank_match(self):
        """The proposed bank line is not this payout: forget it, never propose it again."""
        for settlement in flow(self):
            settlement.env["amazon.sp.service.settlement"]._reject_bank_match(settlement)
        return True

    def action_view_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_event_action"
        )
        action["domain"] = [("settlement_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_view_payout(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.payout_move_id.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------------------------------
    # Settlement summary (the one-page report an accountant sends)
    # ------------------------------------------------------------------------------------------

    def action_summary(self):
        """The settlement summary: the PDF when Odoo can print one, else the HTML page."""
        report = self.env.ref("account_amazon_refund.action_report_amazon_sp_settlement_summary")
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() == "ok":
            return report.report_action(self)
        return {
            "type": "ir.actions.act_url",
            "url": f"/report/html/{report.report_name}/{','.join(map(str, self.ids))}",
            "target": "new",
        }

    def _summary_values(self):
        """What the settlement summary shows: Amazon's figures by kind (sales, refunds, fees,
        advertising, reimbursements, reserve, other) from the events' amounts, the carried
        balance, the payout, and the documents that booked them."""
        self.ensure_one()
        Report = self.env["amazon.sp.event.line.report"]
        groups = Report._read_group(
            [("settlement_id", "=", self.id)], ["kind"], ["amount:sum", "__count"]
        )
        by_kind = {kind: (amount, count) for kind, amount, count in groups}
        rows = [
            {"label": label, "amount": by_kind[kind][0], "count": by_kind[kind][1]}
            for kind, label in Report._fields["kind"]._description_selection(self.env)
            if kind in by_kind
        ]
        events_total = sum(amount for amount, _count in by_kind.values())
        carried = self.carried_balance
        unexplained = self.currency_id.round(self.original_total - events_total - carried)
        return {
            "rows": rows,
            "events_total": events_total,
            "carried_label": dict(
                self._fields["carried_kind"]._description_selection(self.env)
            ).get(self.carried_kind),
            "unexplained": unexplained if not self.currency_id.is_zero(unexplained) else 0.0,
            "documents": self._summary_documents(),
            "bank_lines": self._summary_bank_lines(),
        }

    def _summary_documents(self):
        """[(kind label, moves)] of the documents that booked the settlement's events and its
        payout."""
        moves = self.event_ids.move_ids.filtered(lambda m: m.state != "cancel")
        kinds = dict(moves._fields["move_type"]._description_selection(self.env))
        result = [
            (kinds[move_type], moves.filtered(lambda m, t=move_type: m.move_type == t))
            for move_type in ("out_invoice", "out_refund", "entry")
            if move_type in moves.mapped("move_type")
        ]
        if self.payout_move_id:
            result.append((self.env._("Payout"), self.payout_move_id))
        return result

    def _summary_bank_lines(self):
        """The bank statement lines the payout entry is reconciled with."""
        if not self.payout_move_id:
            return self.env["account.bank.statement.line"]
        line = self.env["amazon.sp.service.settlement"]._payout_line(self)
        counterparts = line.matched_debit_ids.debit_move_id | line.matched_credit_ids.credit_move_id
        return counterparts.move_id.statement_line_id
