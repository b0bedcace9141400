import logging
from dataclasses import replace
from decimal import Decimal

from odoo import Command, models
from odoo.exceptions import UserError

from ..domain import plan_event
from ..domain.plan import PlanResult
from ..domain.plan_rules import AmountTypeRule
from ..domain.plan_sales import sale_rules
from .documents import COUNTERS, DocumentBatch

_logger = logging.getLogger(__name__)

# The refund planner reads a sale as an order event whose "credit note" is the invoice with the
# signs turned; the one check that means the opposite for a sale is left out (see _plan).
_NEGATIVE_CREDIT_NOTE = "The credit note total is negative"
# Events to review for these reasons wait for a user's decision, not for booking.
KEPT_REASONS = ("changed", "document", "integrity")


class AmazonSpServiceSalesInvoice(models.AbstractModel):
    """The *invoice* and *already invoiced in Odoo* sales policies of a marketplace.

    ``_book_invoices``: one customer invoice per sale of an order (products by SKU, Amazon's
    taxes matched as on credit notes), then one entry that settles the invoice's receivable
    against the Amazon clearing account and books Amazon's fees of the sale.
    ``_book_invoiced``: the order's invoice exists in Odoo; one entry settles its receivable
    against the clearing account and books the fees.

    Either way the clearing account moves by exactly the sale's net, the receivable lines are
    reconciled, and each event ends posted, to review (the message names what is missing) or in
    error. The planning reuses the refund planner (``domain.plan``) and the credit-note helpers of
    ``amazon.sp.service.documents``; checking, the threshold and the posting policy are
    ``amazon.sp.service.posting``'s. The dispatcher (``amazon.sp.service.sales``) picks the
    policy; these methods never read it.
    """

    _name = "amazon.sp.service.sales.invoice"
    _description = "Amazon Sales Invoices"

    def _book_invoices(self, events, run=None):
        """Sales booked as one customer invoice per order, settled against the clearing
        account. Returns the counters (events_posted, events_draft, events_to_review...)."""
        return self._book(events, run, make_invoice=True)

    def _book_invoiced(self, events, run=None):
        """Sales whose order is already invoiced in Odoo: the invoice's receivable settled
        against the clearing account. Returns the counters."""
        return self._book(events, run, make_invoice=False)

    # ------------------------------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------------------------------

    def _prepare_invoice_vals(self, event, partner, line_vals_list, batch):
        """Hook: the values of the customer invoice of the sale ``event``."""
        order = event.amazon_order_id or False
        return {
            **self._documents()._common_vals(event, batch),
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": event.date,
            "fiscal_position_id": False,
            "ref": order,
            "invoice_origin": order,
            "invoice_line_ids": [Command.create(vals) for vals in line_vals_list],
        }

    def _prepare_invoice_line_vals(self, event, plan_line, product, taxes, batch):
        """Hook: the values of one invoice line (the credit-note line's values: same prices,
        quantities and taxes), named after its product when its SKU found one."""
        vals = self._documents()._prepare_credit_line_vals(event, plan_line, product, taxes, batch)
        if plan_line.kind == "product" and product and plan_line.sku:
            if product != batch.company.amazon_sp_refund_product_id:
                vals["name"] = product.display_name
            else:
                vals["name"] = f"{plan_line.sku}"
        return vals

    def _prepare_settle_entry_vals(self, event, document, receivable, batch):
        """Hook: the values of the entry that settles the sale ``event``: the receivable of the
        invoice (``receivable``: a dict with ``account``, ``partner``, ``amount`` in the event's
        currency and ``balance`` in the company's, or None when the sale has nothing to invoice)
        credited, the fees of ``document`` (the fee part of the plan, or None) and the VAT on
        them, and the clearing account for the rest: the sale's net."""
        Documents = self._documents()
        company = batch.company
        currency = event.currency_id
        tax = Documents._settings(event.marketplace_id, batch)["fee_tax"]
        lines = []
        total_balance = Decimal(0)
        clearing_amount = Decimal(0)
        common = {"partner_id": company.amazon_sp_partner_id.id, "currency_id": currency.id}
        if receivable:
            lines.append(
                Command.create(
                    {
                        **common,
                        "name": self.env._("Amazon order %(order)s", order=event.amazon_order_id),
                        "account_id": receivable["account"].id,
                        "partner_id": receivable["partner"].id,
                        "amount_currency": float(-receivable["amount"]),
                        "balance": float(-receivable["balance"]),
                        "tax_ids": [Command.clear()],
                    }
                )
            )
            total_balance -= receivable["balance"]
            clearing_amount += receivable["amount"]
        fee_lines, fee_balance = Documents._fee_lines_vals(
            event, document.lines if document else [], tax, batch
        )
        lines += fee_lines
        total_balance += fee_balance
        if document:
            clearing_amount += document.clearing_amount
        lines.append(
            Command.create(
                {
                    **common,
                    "name": self.env._("Amazon clearing"),
                    "account_id": company.amazon_sp_clearing_account_id.id,
                    "amount_currency": float(clearing_amount),
                    "balance": float(-total_balance),
                    "tax_ids": [Command.clear()],
                }
            )
        )
        return {
            **Documents._common_vals(event, batch),
            "move_type": "entry",
            "ref": f"{Documents._ref(event)} ({self.env._('settlement')})",
            "line_ids": lines,
        }

    # ------------------------------------------------------------------------------------------
    # The flow
    # ------------------------------------------------------------------------------------------

    def _documents(self):
        return self.env["amazon.sp.service.documents"]

    def _book(self, events, run, make_invoice):
        """Book the sales of ``events`` not booked yet, company by company. Returns the
        counters (the caller adds them to ``run``, as for ``amazon.sp.service.documents``)."""
        counts = dict.fromkeys(COUNTERS, 0)
        events = events._amazon_sp_flow().filtered(
            lambda ev: (
                not ev.move_ids
                and (
                    ev.state == "new"
                    or (ev.state in ("to_review", "error") and ev.review_reason not in KEPT_REASONS)
                )
            )
        )
        altered = events._amazon_sp_flag_altered()
        counts["events_to_review"] += len(altered)
        events -= altered
        for company in events.company_id:
            company._amazon_sp_ensure_setup()
            company_events = events.filtered(lambda ev, c=company: ev.company_id == c)
            batch = DocumentBatch(
                company=company,
                run=run,
                skip_threshold=bool(self.env.context.get("amazon_sp_skip_threshold")),
            )
            # In the flow's environment, as the events: the posting writes them.
            company_events = company_events.with_company(company)
            company_events.env[self._name]._book_company(company_events, batch, make_invoice)
            for key, value in batch.counts.items():
                counts[key] += value
        return counts

    def _book_company(self, events, batch, make_invoice):
        Documents = self._documents()
        Documents._read_events(events, batch)
        Documents._prefetch(events, batch)
        found = {} if make_invoice else self._find_invoices(events, batch)
        invoice_vals, invoice_owners, planned = self._plan_sales(events, batch, make_invoice, found)
        created = self._create(invoice_vals, invoice_owners, batch)
        made = dict(zip(invoice_owners, created, strict=True))
        entry_vals, entry_owners, invoices = [], [], {}
        for event, fees, sale in planned:
            invoice = None
            if sale["invoice"]:
                invoice = made.get(event) if make_invoice else found[event.amazon_order_id]
                if not invoice:
                    continue  # its create failed: the event is in error
                problem = make_invoice and self._created_invoice_problem(
                    event, invoice, sale, batch
                )
                if problem:
                    invoice.with_context(force_delete=True).unlink()
                    event._amazon_sp_set_review(*problem)
                    batch.counts["events_to_review"] += 1
                    continue
                invoices[event] = invoice
            receivable = self._receivable(invoice, sale) if invoice else None
            vals = self._prepare_settle_entry_vals(event, fees, receivable, batch)
            if not self._set_fiscal_position(event, vals, batch):
                invoices.pop(event, None)
                if make_invoice and made.get(event):
                    made[event].with_context(force_delete=True).unlink()
                continue
            entry_vals.append(vals)
            entry_owners.append(event)
        entries = self._create(entry_vals, entry_owners, batch)
        moves, owners = [], []
        for event, entry in zip(entry_owners, entries, strict=True):
            if not entry:  # in error: its invoice goes too
                if event in made:
                    made[event].with_context(force_delete=True).unlink()
                continue
            if make_invoice and event in invoices:
                moves.append(invoices[event])
                owners.append(event)
            moves.append(entry)
            owners.append(event)
        if not owners:
            return
        booked = self.env["amazon.sp.event"].union(*owners)
        self.env["amazon.sp.service.posting"]._check_and_post(booked, moves, owners, batch)
        self._reconcile_sales(booked.filtered(lambda ev: ev.state == "posted"), found)

    # ------------------------------------------------------------------------------------------
    # Planning
    # ------------------------------------------------------------------------------------------

    def _plan_sale(self, event, batch, make_invoice, found, claimed):
        """``(fee document, sale, invoice values or None)`` of one sale, or None when it went
        to review, to error or has nothing to book. ``claimed``: the ids of the invoices found
        in Odoo that a sale of the batch settles (one sale each)."""
        try:
            result = self._plan(event, batch, make_invoice)
        except (ValueError, ArithmeticError) as exc:
            _logger.info("Amazon sale %s cannot be planned: %s", event.id, exc)
            event._amazon_sp_set_review(False, str(exc), state="error")
            batch.counts["events_error"] += 1
            return None
        if result is None:
            return None
        sale = self._split(result)
        if not sale["invoice"] and sale["fees"] is None:
            self.env["amazon.sp.service.posting"]._nothing_to_book(event, batch)
            return None
        fees, problem = self._fees(event, sale["fees"], batch)
        if sale["gross"] < 0:
            problem = (
                "plan",
                self.env._(
                    "What Amazon charged the buyer for this sale is negative (%(gross)s): there "
                    "is no invoice to make. Book it by hand, or ignore it.",
                    gross=sale["gross"],
                ),
            )
        vals = None
        if not problem and sale["invoice"]:
            if make_invoice:
                vals, problem = self._invoice_vals(event, sale["invoice"], batch)
            else:
                invoice = found.get(event.amazon_order_id)
                problem = self._invoice_problem(event, invoice, sale)
                if not problem and invoice.id in claimed:
                    problem = (
                        "plan",
                        self.env._(
                            "Invoice %(invoice)s of Amazon order %(order)s is settled by another "
                            "sale of the order: this one would pay it twice.",
                            invoice=invoice.name,
                            order=event.amazon_order_id,
                        ),
                    )
                if not problem:
                    claimed.add(invoice.id)
        if problem:
            event._amazon_sp_set_review(*problem)
            batch.counts["events_to_review"] += 1
            return None
        batch.plans[event.id] = result
        return fees, sale, vals

    def _sale_mapping(self, marketplace, batch):
        """The company's mapping for ``marketplace`` with the sale rules: the principal on the
        sales account (the product's income account when its SKU finds one), and the fees met
        in sales only, unless the company maps them."""
        key = ("sale", marketplace.id)
        if key not in batch.mappings:
            mapping = self._documents()._mapping(marketplace, batch)
            company = batch.company
            rules = []
            for rule in sale_rules().values():
                if rule.amount_type != "Charge/Principal" and rule.amount_type in mapping:
                    continue
                account = company._amazon_sp_account(rule.account_ref)
                rules.append(
                    AmountTypeRule(
                        rule.amount_type, rule.role, account_ref=account.id, label=rule.label
                    )
                )
            batch.mappings[key] = mapping.merged(rules)
        return batch.mappings[key]

    def _plan(self, event, batch, make_invoice):
        """The refund planner's reading of the sale (an order event: its "credit note" is the
        invoice with the signs turned, its fee entry the fees), or None when the event went to
        review (unmapped or unplaceable amounts, named)."""
        normalized = batch.normalized[event.id]
        result = plan_event(
            replace(normalized, event_type="refund"),
            self._sale_mapping(event.marketplace_id, batch),
            event.currency_id.decimal_places,
            # An invoice splits a promotion's VAT as the marketplace's prices include it; the
            # invoice found in Odoo needs the buyer's gross only.
            prices_include_tax=None if make_invoice else False,
        )
        reasons = [r for r in result.review_reasons if not r.startswith(_NEGATIVE_CREDIT_NOTE)]
        if (normalized.transaction_status or "").upper() == "DEFERRED":
            reasons.append(
                self.env._("Deferred by Amazon: this sale is booked when Amazon releases it.")
            )
        if result.unmapped:
            unmapped = {t.lower() for t in result.unmapped}
            event.line_ids.filtered(lambda ln: ln.amount_type.lower() in unmapped).write(
                {"is_unmapped": True}
            )
            event._amazon_sp_set_review("unmapped", "\n".join(reasons))
            batch.counts["events_to_review"] += 1
            return None
        if reasons:
            event._amazon_sp_set_review("plan", "\n".join(reasons))
            batch.counts["events_to_review"] += 1
            return None
        return PlanResult(documents=result.documents)

    def _split(self, result):
        """``{"invoice": [PlanLine] (invoice signs), "gross": the buyer's charge net of
        marketplace-facilitator tax, "tax": Amazon's tax on it, "fees": DocumentPlan or
        None}``."""
        invoice_lines, fees = [], None
        for document in result.documents:
            if document.kind == "credit_note":
                invoice_lines = [
                    replace(ln, amount=-ln.amount, tax_amount=-ln.tax_amount)
                    for ln in document.lines
                ]
            else:
                fees = document
        zero = Decimal(0)
        return {
            "invoice": invoice_lines,
            "gross": sum((ln.amount + ln.tax_amount for ln in invoice_lines), zero),
            "tax": sum((ln.tax_amount for ln in invoice_lines), zero),
            "fees": fees,
        }

    def _fees(self, event, document, batch):
        """(fee document as its entry books it, problem): Amazon's VAT on its fees as input
        VAT, or folded into the fee (``amazon.sp.service.documents._fee_entry_document``)."""
        if document is None:
            return None, None
        return self._documents()._fee_entry_document(event, document, batch)

    def _invoice_vals(self, event, lines, batch):
        """(invoice values, None) or (None, problem): each line gets the sale tax that gives
        Amazon's tax to the cent, as on credit notes."""
        Documents = self._documents()
        empty = self.env["account.move"]
        line_vals_list = []
        for plan_line in lines:
            plan_line, product, taxes, problem = Documents._credit_line_tax(
                event, plan_line, empty, batch
            )
            if problem:
                return None, problem
            line_vals_list.append(
                self._prepare_invoice_line_vals(event, plan_line, product, taxes, batch)
            )
        partner = Documents._settings(event.marketplace_id, batch)["partner"]
        return self._prepare_invoice_vals(event, partner, line_vals_list, batch), None

    def _created_invoice_problem(self, event, invoice, sale, batch):
        """The invoice made from the sale must charge Amazon's tax and total to the cent."""
        currency = event.currency_id
        settings = self._documents()._settings(event.marketplace_id, batch)
        amazon_tax = Decimal(0) if settings["seller_tax"] == "none" else sale["tax"]
        if currency.compare_amounts(invoice.amount_tax, float(amazon_tax)) != 0:
            return (
                "tax",
                self.env._(
                    "Odoo computes tax %(odoo)s on the invoice, Amazon's tax is %(amazon)s: "
                    "difference %(diff)s.",
                    odoo=currency._amazon_sp_amount_text(invoice.amount_tax),
                    amazon=currency._amazon_sp_amount_text(amazon_tax),
                    diff=currency._amazon_sp_amount_text(float(amazon_tax) - invoice.amount_tax),
                ),
            )
        if currency.compare_amounts(invoice.amount_total, float(sale["gross"])) != 0:
            return (
                "balance",
                self.env._(
                    "The invoice is for %(odoo)s, Amazon charged the buyer %(amazon)s.",
                    odoo=currency._amazon_sp_amount_text(invoice.amount_total),
                    amazon=currency._amazon_sp_amount_text(sale["gross"]),
                ),
            )
        return None

    def _receivable(self, invoice, sale):
        """What the settling entry credits: the invoice's open receivable (its account, its
        customer, Amazon's gross in the event's currency, the open balance in the company's)."""
        terms = invoice.line_ids.filtered(lambda ln: ln.display_type == "payment_term")
        balance = Decimal(str(sum(terms.mapped("amount_residual"))))
        if invoice.state != "posted":
            balance = Decimal(str(sum(terms.mapped("balance"))))
        return {
            "account": terms[:1].account_id,
            "partner": invoice.commercial_partner_id,
            "amount": sale["gross"],
            "balance": balance,
        }

    # ------------------------------------------------------------------------------------------
    # Creating and reconciling
    # ------------------------------------------------------------------------------------------

    def _plan_sales(self, events, batch, make_invoice, found):
        """(invoice values, their events, [(event, fee document, sale)]) of the readable sales
        of ``events``; the others went to review or error."""
        invoice_vals, invoice_owners = [], []
        planned, claimed = [], set()  # (event, fee document, sale); invoices settled
        for event in events:
            if event.id not in batch.normalized:
                continue
            planned_sale = self._plan_sale(event, batch, make_invoice, found, claimed)
            if planned_sale is None:
                continue
            fees, sale, vals = planned_sale
            if vals and not self._set_fiscal_position(event, vals, batch):
                continue
            if vals:
                invoice_vals.append(vals)
                invoice_owners.append(event)
            planned.append((event, fees, sale))
        return invoice_vals, invoice_owners, planned

    def _set_fiscal_position(self, event, vals, batch):
        """Another country's taxes post only under the company's VAT number there: set its
        fiscal position on ``vals``. False (the event to review) when there is none."""
        problem = self._documents()._set_fiscal_position(vals, batch.company, batch.settings)
        if problem:
            event._amazon_sp_set_review("tax", problem)
            batch.counts["events_to_review"] += 1
            return False
        return True

    def _create(self, vals_list, owners, batch):
        """One create for the batch; when it fails, event by event (a failing event in
        error). Returns the move of each vals (None where it failed)."""
        if not vals_list:
            return []
        Move = self.env["account.move"].with_company(batch.company)
        try:
            with self.env.cr.savepoint():
                return list(Move.create(vals_list))
        except (UserError, ValueError) as exc:
            _logger.info("Amazon sales: batch create failed (%s); one by one", exc)
        result = []
        for vals, event in zip(vals_list, owners, strict=True):
            try:
                with self.env.cr.savepoint():
                    result.append(Move.create(vals))
            except (UserError, ValueError) as exc:
                event._amazon_sp_set_review(False, str(exc), state="error")
                batch.counts["events_error"] += 1
                result.append(None)
        return result

    def _reconcile_sales(self, events, found=None):
        """Reconcile the receivable of each posted sale of ``events`` booked by these policies:
        its invoice's (made by ``_book_invoices``, or the order's invoice found in Odoo;
        ``found``: the invoices already searched) with its settling entry's receivable line,
        in one reconciliation plan. Also for sales whose documents were posted after a review."""
        events = events.filtered(lambda ev: ev.state == "posted")
        entries = {
            event: event.move_ids.filtered(lambda m: m.move_type == "entry" and m.state == "posted")
            for event in events
        }
        missing = events.filtered(
            lambda ev: not ev.move_ids.filtered(lambda m: m.move_type == "out_invoice")
        )
        if found is None and missing:
            found = {}
            for company in missing.company_id:
                found.update(
                    self._find_invoices(
                        missing.filtered(lambda ev, c=company: ev.company_id == c),
                        DocumentBatch(company=company),
                    )
                )
        plan = []
        for event, entry in entries.items():
            invoice = event.move_ids.filtered(lambda m: m.move_type == "out_invoice")
            invoice = invoice or (found or {}).get(event.amazon_order_id)
            if not entry or not invoice or len(invoice) > 1 or invoice.state != "posted":
                continue
            terms = invoice.line_ids.filtered(
                lambda ln: ln.display_type == "payment_term" and not ln.reconciled
            )
            lines = entry.line_ids.filtered(
                lambda ln, t=terms: (
                    ln.account_id in t.account_id
                    and ln.partner_id in t.partner_id
                    and not ln.reconciled
                )
            )
            if terms and lines:
                plan.append(terms | lines)
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)
