import base64
import io
import logging
from datetime import timedelta
from decimal import Decimal

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..domain import reconcile
from ..services.common import to_decimal, to_naive_utc
from ..spapi.exceptions import SpApiError

_logger = logging.getLogger(__name__)

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

    # ------------------------------------------------------------------------------------------
    # Computing
    # ------------------------------------------------------------------------------------------

    def _utc_bounds(self):
        """[start, end) of the date range in UTC (dates are the company's days)."""
        self.ensure_one()
        return self.env["amazon.sp.service.check"]._day_bounds(
            self.account_id, self.date_from, self.date_to
        )

    def _staged_in_scope(self):
        self.ensure_one()
        Event = self.env["amazon.sp.event"].with_context(active_test=False)
        if self.scope == "settlement":
            return self.settlement_id.event_ids
        start, end = self._utc_bounds()
        return Event.search(
            [
                ("account_id", "=", self.account_id.id),
                ("marketplace_id", "=", self.marketplace_id.id),
                ("posted_date", ">=", start.replace(tzinfo=None)),
                ("posted_date", "<", end.replace(tzinfo=None)),
            ]
        )

    def _odoo_events(self, amazon_events):
        """OdooEvent facts of the staged events in scope and of those Amazon's events match."""
        self.ensure_one()
        Event = self.env["amazon.sp.event"].with_context(active_test=False)
        keys = [ev.key for ev in amazon_events]
        fps = [ev.fingerprint for ev in amazon_events if ev.fingerprint]
        staged = self._staged_in_scope() | Event.search(
            [
                ("account_id", "=", self.account_id.id),
                "|",
                ("key", "in", keys or [""]),
                ("fingerprint", "in", fps or [""]),
            ]
        )
        posted = staged._amazon_sp_posted_clearing()
        Mapping = self.env["amazon.sp.amount.mapping"]
        mappings = {}
        facts = []
        for event in staged:
            types = {}
            for line in event.line_ids:
                types[line.amount_type] = types.get(line.amount_type, Decimal(0)) + to_decimal(
                    line.amount
                )
            unmapped = ()
            if event.review_reason == "unmapped":
                if event.marketplace_id not in mappings:
                    mappings[event.marketplace_id] = Mapping._amazon_sp_mapping(
                        self.company_id, event.marketplace_id
                    )
                mapping = mappings[event.marketplace_id]
                unmapped = tuple(sorted(t for t in types if t not in mapping))
            facts.append(
                reconcile.OdooEvent(
                    ref=event.id,
                    key=event.key,
                    fingerprint=event.fingerprint,
                    state=event.state,
                    amount_total=to_decimal(event.currency_id.round(event.amount_total)),
                    posted_total=posted[event.id],
                    lines=types,
                    review_reason=event.review_reason or None,
                    unmapped_types=unmapped,
                    name=event.name or "",
                )
            )
        return facts

    def _amazon_events(self, client):
        """Amazon's events of the scope, read again through ``amazon.sp.service.check``."""
        self.ensure_one()
        Check = self.env["amazon.sp.service.check"]
        if self.scope == "settlement":
            return Check._fetch_events(
                self.account_id, client, group_id=self.settlement_id.group_id
            )
        start, end = self._utc_bounds()
        return Check._fetch_events(
            self.account_id, client, start=start, end=end, marketplace=self.marketplace_id
        )

    def _settlement_facts(self):
        settlement = self.settlement_id
        if not settlement:
            return None
        conversion = Decimal(0)
        if settlement.payout_move_id:
            company = settlement.company_id
            exchange = (
                company.income_currency_exchange_account_id
                | company.expense_currency_exchange_account_id
            )
            lines = settlement.payout_move_id.line_ids.filtered(
                lambda line: line.account_id in exchange
            )
            conversion = to_decimal(company.currency_id.round(sum(lines.mapped("balance"))))
        return {
            "group_id": settlement.group_id,
            "currency": settlement.currency_id.name,
            "converted_currency": settlement.converted_currency_id.name,
            "beginning_balance": to_decimal(settlement.beginning_balance),
            "conversion_difference": conversion,
        }

    def action_refresh(self):
        """Read Amazon's events for the scope again and compare them with Odoo's."""
        for rec in self:
            account = rec.account_id
            client = account._get_spapi_client()
            try:
                amazon_events = rec._amazon_events(client)
            except SpApiError as error:
                raise UserError(
                    self.env._(
                        "Amazon could not be read: %(error)s",
                        error=account._amazon_sp_error_message(error),
                    )
                ) from error
            rec._apply(amazon_events)
        return True

    def _apply(self, amazon_events):
        self.ensure_one()
        currency = (
            self.settlement_id.currency_id
            or self.marketplace_id.currency_id
            or self.company_id.currency_id
        )
        quantum = Decimal(1).scaleb(-currency.decimal_places)
        odoo_events = self._odoo_events(amazon_events)
        result = reconcile.compare(
            amazon_events, odoo_events, quantum, settlement=self._settlement_facts()
        )
        previous = {d.key: d for d in self.difference_ids}
        keep = self.difference_ids.browse()
        create = []
        for diff in result.differences:
            old = previous.get(diff.key)
            vals = {
                "kind": diff.kind,
                "amount": float(diff.amount),
                "message": diff.message,
                "event_id": diff.odoo_ref or False,
                "amazon_order_id": diff.order_id or False,
                "posted_date": to_naive_utc(diff.posted_date),
            }
            if old:
                if old.state == "resolved":
                    vals["state"] = "open"  # it came back
                old.write(vals)
                keep |= old
            else:
                create.append({**vals, "key": diff.key, "reconciliation_id": self.id})
        gone = (self.difference_ids - keep).filtered(lambda d: d.state == "open")
        gone.write(
            {
                "state": "resolved",
                "resolved_by": self.env.user.id,
                "resolved_date": fields.Datetime.now(),
            }
        )
        if create:
            self.env["amazon.sp.reconciliation.difference"].create(create)
        self.line_ids.unlink()
        self.write(
            {
                "currency_id": currency.id,
                "amazon_total": float(result.amazon_total),
                "odoo_total": float(result.odoo_total),
                "difference": float(result.difference),
                "computed_at": fields.Datetime.now(),
                "computed_by": self.env.user.id,
                "line_ids": [
                    Command.create(
                        {
                            "amount_type": fig.amount_type,
                            "amazon_amount": float(fig.amazon),
                            "odoo_amount": float(fig.odoo),
                            "difference": float(fig.difference),
                        }
                    )
                    for fig in result.per_type
                ],
            }
        )
        self._update_state()
        if gone:
            self.message_post(
                body=self.env._(
                    "%(count)s difference(s) no longer found: resolved.", count=len(gone)
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
    # Actions on the differences
    # ------------------------------------------------------------------------------------------

    def action_import_missing(self):
        """Import the events Amazon has and Odoo lacks, through the normal import."""
        self.ensure_one()
        missing = self.difference_ids.filtered(
            lambda d: d.state == "open" and d.kind in ("not_imported", "deferred")
        )
        if not missing:
            raise UserError(self.env._("No missing event to import."))
        account = self.account_id
        Import = self.env["amazon.sp.service.import"]
        orders = sorted({d.amazon_order_id for d in missing if d.amazon_order_id})
        for order_id in orders:
            Import._sync(account, trigger="wizard", order_id=order_id)
        moments = [d.posted_date for d in missing if not d.amazon_order_id and d.posted_date]
        if moments:
            Import._sync(
                account,
                trigger="wizard",
                date_from=min(moments) - timedelta(hours=1),
                date_to=max(moments) + timedelta(hours=1),
            )
        self.message_post(
            body=self.env._(
                "Import of %(count)s missing event(s) asked by %(user)s.",
                count=len(missing),
                user=self.env.user.name,
            )
        )
        return self.action_refresh()

    def action_post_waiting(self):
        """Post the events of the scope that wait (drafts posted, the others planned again)."""
        self.ensure_one()
        waiting = self.difference_ids.filtered(
            lambda d: d.state == "open" and d.kind in ("not_posted", "unmapped") and d.event_id
        ).event_id.filtered(lambda e: e.state != "ignored")
        if not waiting:
            raise UserError(self.env._("No waiting event to post."))
        ready = waiting.filtered(lambda e: e.state == "ready")
        if ready:
            ready.action_post()
        others = waiting - ready
        if others:
            others.action_retry()
        self.message_post(
            body=self.env._(
                "Posting of %(count)s waiting event(s) asked by %(user)s.",
                count=len(waiting),
                user=self.env.user.name,
            )
        )
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

    # ------------------------------------------------------------------------------------------
    # Export
    # ------------------------------------------------------------------------------------------

    def _export_rows(self):
        """The figures shown on the form, as rows (shared by the XLSX and the PDF)."""
        self.ensure_one()
        summary = [
            (self.env._("Review"), self.name),
            (self.env._("Seller account"), self.account_id.name),
            (self.env._("Scope"), dict(self._fields["scope"].selection)[self.scope]),
            (self.env._("Settlement"), self.settlement_id.display_name or ""),
            (self.env._("Marketplace"), self.marketplace_id.display_name or ""),
            (self.env._("From"), str(self.date_from or "")),
            (self.env._("To"), str(self.date_to or "")),
            (self.env._("Currency"), self.currency_id.name or ""),
            (self.env._("Amazon total"), self.amazon_total),
            (self.env._("Odoo posted total"), self.odoo_total),
            (self.env._("Difference"), self.difference),
            (self.env._("Status"), dict(self._fields["state"].selection)[self.state]),
            (self.env._("Computed"), str(self.computed_at or "")),
            (self.env._("Computed by"), self.computed_by.name or ""),
        ]
        lines = [
            (line.amount_type, line.amazon_amount, line.odoo_amount, line.difference)
            for line in self.line_ids
        ]
        differences = [
            (
                dict(KIND_SELECTION)[diff.kind],
                diff.amount,
                diff.message or "",
                dict(diff._fields["state"].selection)[diff.state],
                diff.note or "",
                diff.resolved_by.name or "",
                str(diff.resolved_date or ""),
            )
            for diff in self.difference_ids
        ]
        return summary, lines, differences

    def action_export_xlsx(self):
        self.ensure_one()
        import xlsxwriter

        summary, lines, differences = self._export_rows()
        out = io.BytesIO()
        book = xlsxwriter.Workbook(out, {"in_memory": True})
        bold = book.add_format({"bold": True})
        money = book.add_format({"num_format": "#,##0.00"})
        sheet = book.add_worksheet("Summary")
        for row, (label, value) in enumerate(summary):
            sheet.write(row, 0, label, bold)
            if isinstance(value, float):
                sheet.write_number(row, 1, value, money)
            else:
                sheet.write(row, 1, value)
        sheet.set_column(0, 1, 28)
        sheet = book.add_worksheet("Amount types")
        headers = ["Amount type", "Amazon", "Odoo posted", "Difference"]
        for col, header in enumerate(headers):
            sheet.write(0, col, header, bold)
        for row, values in enumerate(lines, start=1):
            sheet.write(row, 0, values[0])
            for col in (1, 2, 3):
                sheet.write_number(row, col, values[col], money)
        sheet.set_column(0, 0, 45)
        sheet.set_column(1, 3, 14)
        sheet = book.add_worksheet("Differences")
        headers = ["Kind", "Amount", "Description", "Status", "Note", "By", "When"]
        for col, header in enumerate(headers):
            sheet.write(0, col, header, bold)
        for row, values in enumerate(differences, start=1):
            for col, value in enumerate(values):
                if col == 1:
                    sheet.write_number(row, col, value, money)
                else:
                    sheet.write(row, col, value)
        sheet.set_column(2, 2, 80)
        book.close()
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"{self.name}.xlsx".replace("/", "-"),
                "datas": base64.b64encode(out.getvalue()),
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def action_export_pdf(self):
        return self.env.ref(
            "account_amazon_refund.action_report_amazon_sp_reconciliation"
        ).report_action(self)


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
                    items="; ".join(f"{d.message} ({d.amount})" for d in diffs),
                    note=note,
                )
            )
            rec._update_state()
        return True
