import base64
import io
from datetime import timedelta
from decimal import Decimal

from odoo import Command, fields, models
from odoo.exceptions import UserError

from ..domain import reconcile
from ..spapi.exceptions import SpApiError
from .common import text_workbook, to_decimal, to_naive_utc

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AmazonSpServiceReview(models.AbstractModel):
    """The reconciliation review (``amazon.sp.reconciliation``): Amazon's events of the scope
    read again, compared with the staged events and their posted documents, each difference
    kept, resolved when it is gone; the actions on the differences and the export.

    Every method takes the review it works on first (one record; the daily check passes a new,
    unsaved one). No hook: the comparison itself is ``domain.reconcile``.
    """

    _name = "amazon.sp.service.review"
    _description = "Amazon Reconciliation Review Service"

    # ------------------------------------------------------------------------------------------
    # The scope
    # ------------------------------------------------------------------------------------------

    def _utc_bounds(self, review):
        """[start, end) of the review's date range in UTC (dates are the company's days)."""
        review.ensure_one()
        return self.env["amazon.sp.service.check"]._day_bounds(
            review.account_id, review.date_from, review.date_to
        )

    def _staged_in_scope(self, review):
        """The staged events of the review's settlement, or of its account, marketplace and
        days."""
        review.ensure_one()
        if review.scope == "settlement":
            return review.settlement_id.event_ids
        start, end = self._utc_bounds(review)
        return (
            self.env["amazon.sp.event"]
            .with_context(active_test=False)
            .search(
                [
                    ("account_id", "=", review.account_id.id),
                    ("marketplace_id", "=", review.marketplace_id.id),
                    ("posted_date", ">=", start.replace(tzinfo=None)),
                    ("posted_date", "<", end.replace(tzinfo=None)),
                ]
            )
        )

    def _amazon_events(self, review, client):
        """Amazon's events of the scope, read again through ``amazon.sp.service.check``."""
        review.ensure_one()
        Check = self.env["amazon.sp.service.check"]
        if review.scope == "settlement":
            return Check._fetch_events(
                review.account_id, client, group_id=review.settlement_id.group_id
            )
        start, end = self._utc_bounds(review)
        return Check._fetch_events(
            review.account_id, client, start=start, end=end, marketplace=review.marketplace_id
        )

    def _odoo_events(self, review, amazon_events):
        """``reconcile.OdooEvent`` facts of the staged events in scope and of those Amazon's
        events match."""
        review.ensure_one()
        Event = self.env["amazon.sp.event"].with_context(active_test=False)
        keys = [ev.key for ev in amazon_events]
        fps = [ev.fingerprint for ev in amazon_events if ev.fingerprint]
        staged = self._staged_in_scope(review) | Event.search(
            [
                ("account_id", "=", review.account_id.id),
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
                        review.company_id, event.marketplace_id
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

    def _settlement_facts(self, review):
        """What ``reconcile.compare`` needs of the review's settlement, or None."""
        settlement = review.settlement_id
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

    # ------------------------------------------------------------------------------------------
    # Computing
    # ------------------------------------------------------------------------------------------

    def _refresh(self, review):
        """Read Amazon's events of the scope again and compare them with Odoo's.

        :raise UserError: when Amazon cannot be read
        """
        review.ensure_one()
        account = review.account_id
        client = account._get_spapi_client()
        try:
            amazon_events = self._amazon_events(review, client)
        except SpApiError as error:
            raise UserError(
                self.env._(
                    "Amazon could not be read: %(error)s",
                    error=account._amazon_sp_error_message(error),
                )
            ) from error
        self._apply(review, amazon_events)

    def _apply(self, review, amazon_events):
        """Compare ``amazon_events`` with Odoo's and store the result on ``review``: the
        figures per amount type, the differences (kept by key; one no longer found is
        resolved, one found again reopens) and the state."""
        review.ensure_one()
        currency = (
            review.settlement_id.currency_id
            or review.marketplace_id.currency_id
            or review.company_id.currency_id
        )
        quantum = Decimal(1).scaleb(-currency.decimal_places)
        odoo_events = self._odoo_events(review, amazon_events)
        result = reconcile.compare(
            amazon_events, odoo_events, quantum, settlement=self._settlement_facts(review)
        )
        previous = {d.key: d for d in review.difference_ids}
        keep = review.difference_ids.browse()
        create = []
        deferred = self._deferred_events(review)
        for diff in result.differences:
            old = previous.get(diff.key)
            kind, message = diff.kind, diff.message
            if diff.odoo_ref and diff.odoo_ref in deferred.ids:
                kind = "deferred"
                message = self.env._(
                    "%(event)s (%(amount)s) is deferred by Amazon: it is booked when Amazon "
                    "releases it, in the settlement that pays it.",
                    event=deferred.browse(diff.odoo_ref).name,
                    amount=currency._amazon_sp_amount_text(diff.amount),
                )
            vals = {
                "kind": kind,
                "amount": float(diff.amount),
                "message": message,
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
                create.append({**vals, "key": diff.key, "reconciliation_id": review.id})
        gone = (review.difference_ids - keep).filtered(lambda d: d.state == "open")
        gone.write(
            {
                "state": "resolved",
                "resolved_by": self.env.user.id,
                "resolved_date": fields.Datetime.now(),
            }
        )
        if create:
            self.env["amazon.sp.reconciliation.difference"].create(create)
        review.line_ids.unlink()
        review.write(
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
        review._update_state()
        if deferred:
            review.message_post(
                body=self.env._(
                    "%(count)s transaction(s) deferred by Amazon at %(date)s, %(amount)s in all: "
                    "booked when Amazon releases them.",
                    count=len(deferred),
                    date=review.date_to or fields.Date.context_today(review),
                    amount=currency._amazon_sp_amount_text(sum(deferred.mapped("amount_total"))),
                )
            )
        if gone:
            review.message_post(
                body=self.env._(
                    "%(count)s difference(s) no longer found: resolved.", count=len(gone)
                )
            )

    def _deferred_events(self, review):
        """The account's events Amazon defers at the end of the review's scope (posted before
        it, not released yet)."""
        review.ensure_one()
        domain = [("account_id", "=", review.account_id.id), ("state", "=", "deferred")]
        if review.scope == "settlement":
            # Deferred in the group, or not in a group yet (Amazon gives a deferred 2024-06-19
            # transaction its group when it releases it) and posted before the group's end.
            settlement = review.settlement_id
            end = settlement.end_date or fields.Datetime.now()
            domain += [
                "|",
                ("settlement_id", "=", settlement.id),
                "&",
                ("settlement_id", "=", False),
                ("posted_date", "<", end),
            ]
        else:
            _start, end = self._utc_bounds(review)
            domain += [
                ("marketplace_id", "=", review.marketplace_id.id),
                ("posted_date", "<", end.replace(tzinfo=None)),
            ]
        return self.env["amazon.sp.event"].search(domain)

    # ------------------------------------------------------------------------------------------
    # Actions on the differences
    # ------------------------------------------------------------------------------------------

    def _import_missing(self, review):
        """Import the events Amazon has and Odoo lacks, through the normal import: by order,
        and the others by the hours around them.

        :raise UserError: when no difference names a missing event
        """
        review.ensure_one()
        missing = review.difference_ids.filtered(
            lambda d: d.state == "open" and d.kind in ("not_imported", "deferred")
        )
        if not missing:
            raise UserError(self.env._("No missing event to import."))
        account = review.account_id
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
        review.message_post(
            body=self.env._(
                "Import of %(count)s missing event(s) asked by %(user)s.",
                count=len(missing),
                user=self.env.user.name,
            )
        )

    def _post_waiting(self, review):
        """Post the events of the scope that wait: drafts posted, the others planned again.

        :raise UserError: when no difference names a waiting event
        """
        review.ensure_one()
        waiting = review.difference_ids.filtered(
            lambda d: d.state == "open" and d.kind in ("not_posted", "unmapped") and d.event_id
        ).event_id.filtered(lambda e: e.state != "ignored")
        if not waiting:
            raise UserError(self.env._("No waiting event to post."))
        ready = waiting.filtered(lambda e: e.state == "ready")
        if ready:
            ready.action_post()
        # Held by the review threshold: the accountant's explicit post posts them (Retry would
        # apply the threshold again), logged on each event.
        held = waiting.filtered(lambda e: e.state == "to_review" and e.review_reason == "threshold")
        if held:
            held.action_post()
            for event in held.filtered(lambda e: e.state == "posted"):
                event.message_post(
                    body=self.env._(
                        "Posted above the review threshold from the reconciliation review by "
                        "%(user)s.",
                        user=self.env.user.name,
                    )
                )
        others = waiting - ready - held
        if others:
            others.action_retry()
        review.message_post(
            body=self.env._(
                "Posting of %(count)s waiting event(s) asked by %(user)s.",
                count=len(waiting),
                user=self.env.user.name,
            )
        )

    # ------------------------------------------------------------------------------------------
    # Export
    # ------------------------------------------------------------------------------------------

    def _export_rows(self, review):
        """The figures shown on the form, as rows (shared by the XLSX and the PDF):
        (summary, lines per amount type, differences)."""
        review.ensure_one()
        summary = [
            (self.env._("Review"), review.name),
            (self.env._("Seller account"), review.account_id.name),
            (self.env._("Scope"), dict(review._fields["scope"].selection)[review.scope]),
            (self.env._("Settlement"), review.settlement_id.display_name or ""),
            (self.env._("Marketplace"), review.marketplace_id.display_name or ""),
            (self.env._("From"), str(review.date_from or "")),
            (self.env._("To"), str(review.date_to or "")),
            (self.env._("Currency"), review.currency_id.name or ""),
            (self.env._("Amazon total"), review.amazon_total),
            (self.env._("Odoo posted total"), review.odoo_total),
            (self.env._("Difference"), review.difference),
            (self.env._("Status"), dict(review._fields["state"].selection)[review.state]),
            (self.env._("Computed"), str(review.computed_at or "")),
            (self.env._("Computed by"), review.computed_by.name or ""),
        ]
        lines = [
            (line.amount_type, line.amazon_amount, line.odoo_amount, line.difference)
            for line in review.line_ids
        ]
        differences = [
            (
                reconcile.KINDS[diff.kind],
                diff.amount,
                diff.message or "",
                dict(diff._fields["state"].selection)[diff.state],
                diff.note or "",
                diff.resolved_by.name or "",
                str(diff.resolved_date or ""),
            )
            for diff in review.difference_ids
        ]
        return summary, lines, differences

    def _export_xlsx(self, review):
        """The review as a spreadsheet (sheets Summary, Amount types, Differences), attached
        to it. Returns the ``ir.attachment``."""
        review.ensure_one()
        summary, lines, differences = self._export_rows(review)
        out = io.BytesIO()
        book, bold, money = text_workbook(out)
        sheet = book.add_worksheet("Summary")
        for row, (label, value) in enumerate(summary):
            sheet.write(row, 0, label, bold)
            if isinstance(value, float):
                sheet.write_number(row, 1, value, money)
            else:
                sheet.write_string(row, 1, value or "")
        sheet.set_column(0, 1, 28)
        sheet = book.add_worksheet("Amount types")
        headers = ["Amount type", "Amazon", "Odoo posted", "Difference"]
        for col, header in enumerate(headers):
            sheet.write(0, col, header, bold)
        for row, values in enumerate(lines, start=1):
            sheet.write_string(row, 0, values[0] or "")
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
                    sheet.write_string(row, col, value or "")
        sheet.set_column(2, 2, 80)
        book.close()
        return self.env["ir.attachment"].create(
            {
                "name": f"{review.name}.xlsx".replace("/", "-"),
                "datas": base64.b64encode(out.getvalue()),
                "res_model": review._name,
                "res_id": review.id,
                "mimetype": XLSX_MIMETYPE,
            }
        )

    def _export_pdf(self, review):
        """The review's PDF report; without wkhtmltopdf (Odoo prints PDF with it) the same
        report as an HTML file, downloaded, instead of Odoo's notice. Returns an action."""
        review.ensure_one()
        report = self.env.ref("account_amazon_refund.action_report_amazon_sp_reconciliation")
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() in ("ok", "upgrade", "workers"):
            return report.report_action(review)
        html = self.env["ir.actions.report"]._render_qweb_html(report.report_name, review.ids)[0]
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"{review.name}.html".replace("/", "-"),
                "raw": html,
                "res_model": review._name,
                "res_id": review.id,
                "mimetype": "text/html",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }
