import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal

from odoo import Command, models
from odoo.exceptions import UserError

from ..domain import NormalizationError, plan_event
from ..domain.tax import TaxRate, candidates, pick_tax, tax_of
from ..models.amazon_sp_event import EVENT_TYPE_SELECTION

_logger = logging.getLogger(__name__)

COUNTERS = ("events_posted", "events_draft", "events_to_review", "events_error")


@dataclass
class DocumentBatch:
    """What one ``_build`` call knows about its batch: caches and counters (the service itself
    holds no state). ``company`` is the company of every event of the batch."""

    company: object
    run: object = None
    skip_threshold: bool = False
    counts: dict = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    #: {event id: NormalizedEvent} of the events that could be read
    normalized: dict = field(default_factory=dict)
    #: {event id: PlanResult}
    plans: dict = field(default_factory=dict)
    mappings: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    rates: dict = field(default_factory=dict)
    product_by_sku: dict = field(default_factory=dict)
    invoices: dict = field(default_factory=dict)
    #: the company's sale taxes as domain.tax.TaxRate (filled on first use)
    sale_taxes: list | None = None


def tax_rates(taxes):
    """``account.tax`` records → :class:`~..domain.tax.TaxRate` (key = tax id), in order."""
    return [
        TaxRate(
            key=tax.id,
            rate=Decimal(str(tax.amount)),
            price_include=tax.price_include,
            country=tax.country_id.code or None,
            percent=tax.amount_type == "percent",
        )
        for tax in taxes
    ]


class AmazonSpServiceDocuments(models.AbstractModel):
    """Turns a batch of Amazon events of one company into documents: credit notes for what the
    buyer got back, journal entries for fees and the rest, with one ``create`` and one
    ``action_post`` for the whole batch.

    The values of each document come from three hooks meant for ``_inherit`` (like
    ``account.move.reversal._prepare_default_reversal``): :meth:`_prepare_credit_note_vals`,
    :meth:`_prepare_credit_line_vals` and :meth:`_prepare_fee_entry_vals`. The other methods are
    private steps.
    """

    _name = "amazon.sp.service.documents"
    _description = "Amazon Document Builder"

    def _build(self, events, run=None):
        """Plan ``events`` (all of the current company), make, check and post their documents.
        Returns the counters (events_posted, events_draft, events_to_review, events_error)."""
        batch = DocumentBatch(
            company=self.env.company,
            run=run,
            skip_threshold=bool(self.env.context.get("amazon_sp_skip_threshold")),
        )
        self._read_events(events, batch)
        self._prefetch(events, batch)
        vals_list = []
        owners = []  # event of each vals
        for event in events:
            try:
                result = self._plan(event, batch)
            except (ValueError, ArithmeticError) as exc:
                _logger.info("Amazon event %s cannot be planned: %s", event.id, exc)
                event._amazon_sp_set_review(False, str(exc), state="error")
                batch.counts["events_error"] += 1
                continue
            if result is None:
                continue
            batch.plans[event.id] = result
            docs_vals = self._documents_vals(event, result, batch)
            if docs_vals is None:
                continue
            vals_list += docs_vals
            owners += [event] * len(docs_vals)
        if vals_list:
            moves = self._create(vals_list, owners, batch)
            self._check_and_post(events, moves, owners, batch)
        return batch.counts

    # ------------------------------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------------------------------

    def _prepare_credit_note_vals(self, event, document, invoice, line_vals_list, batch):
        """Hook: the values of the credit note of ``event`` (``document``: its planned
        ``DocumentPlan``; ``invoice``: the customer invoice of the order, or an empty
        recordset; ``line_vals_list``: the values of its lines, from
        :meth:`_prepare_credit_line_vals`)."""
        partner = (
            invoice.partner_id
            if invoice
            else self._settings(event.marketplace_id, batch)["partner"]
        )
        return {
            **self._common_vals(event, batch),
            "move_type": "out_refund",
            "partner_id": partner.id,
            "invoice_date": event.date,
            "fiscal_position_id": False,
            "ref": self._ref(event),
            "invoice_origin": event.amazon_order_id or False,
            "reversed_entry_id": invoice.id if invoice else False,
            "invoice_line_ids": [Command.create(vals) for vals in line_vals_list],
        }

    def _prepare_credit_line_vals(self, event, plan_line, product, taxes, batch):
        """Hook: the values of one credit-note line (``plan_line``: a ``PlanLine`` whose tax,
        if any, ``taxes`` reproduce to the cent; ``product``: the product of its SKU, the
        company's refund product, or an empty recordset)."""
        quantum = Decimal(1).scaleb(-event.currency_id.decimal_places)
        amount = (
            plan_line.amount + plan_line.tax_amount if taxes.price_include else plan_line.amount
        )
        quantity = (
            plan_line.quantity if plan_line.quantity and plan_line.quantity > 0 else Decimal(1)
        )
        price = amount / quantity
        if price != price.quantize(quantum):
            quantity, price = Decimal(1), amount
        vals = {
            "name": plan_line.label
            or (plan_line.amount_types[0] if plan_line.amount_types else "Amazon"),
            "quantity": float(quantity),
            "price_unit": float(price),
            "tax_ids": [Command.set(taxes.ids)],
        }
        if product:
            vals["product_id"] = product.id
            if product == batch.company.amazon_sp_refund_product_id and plan_line.account_ref:
                vals["account_id"] = plan_line.account_ref
        elif plan_line.account_ref:
            vals["account_id"] = plan_line.account_ref
        return vals

    def _prepare_fee_entry_vals(self, event, document, batch):
        """Hook: the values of the journal entry of ``event`` for ``document`` (a
        ``DocumentPlan`` that is not a credit note: fees, reimbursements...), its lines balanced
        by the Amazon clearing account."""
        company = batch.company
        currency = event.currency_id
        lines = []
        total_balance = Decimal(0)
        for plan_line in document.lines:
            balance = self._balance(plan_line.amount, currency, event.date, batch)
            total_balance += balance
            lines.append(
                Command.create(
                    {
                        "name": plan_line.label or plan_line.amount_types[0],
                        "account_id": plan_line.account_ref,
                        "partner_id": company.amazon_sp_partner_id.id,
                        "currency_id": currency.id,
                        "amount_currency": float(plan_line.amount),
                        "balance": float(balance),
                    }
                )
            )
        lines.append(
            Command.create(
                {
                    "name": self.env._("Amazon clearing"),
                    "account_id": company.amazon_sp_clearing_account_id.id,
                    "partner_id": company.amazon_sp_partner_id.id,
                    "currency_id": currency.id,
                    "amount_currency": float(document.clearing_amount),
                    "balance": float(-total_balance),
                }
            )
        )
        return {
            **self._common_vals(event, batch),
            "move_type": "entry",
            "ref": f"{self._ref(event)} ({document.kind})",
            "line_ids": lines,
        }

    # ------------------------------------------------------------------------------------------
    # Reading the batch
    # ------------------------------------------------------------------------------------------

    def _read_events(self, events, batch):
        """The normalized event of each event, as staged. One that cannot be read waits for
        review: its amounts and date are never guessed."""
        for event in events:
            if not event.line_ids and event.state == "error":
                continue  # never normalized: stays in error with Amazon's raw data
            try:
                batch.normalized[event.id] = event._amazon_sp_normalized()
            except NormalizationError as exc:
                event._amazon_sp_set_review(
                    "stored",
                    self.env._(
                        "The stored copy of this Amazon event cannot be read (%(error)s), so its "
                        "amounts and date are unknown. Import it again and retry, or ignore it.",
                        error=str(exc),
                    ),
                )
                batch.counts["events_to_review"] += 1

    def _mapping(self, marketplace, batch):
        if marketplace.id not in batch.mappings:
            batch.mappings[marketplace.id] = self.env[
                "amazon.sp.amount.mapping"
            ]._amazon_sp_mapping(batch.company, marketplace)
        return batch.mappings[marketplace.id]

    def _settings(self, marketplace, batch):
        if marketplace.id not in batch.settings:
            batch.settings[marketplace.id] = marketplace.with_company(
                batch.company
            )._amazon_sp_settings()
        return batch.settings[marketplace.id]

    def _prefetch(self, events, batch):
        company = batch.company
        skus = {line.sku for ev in batch.normalized.values() for line in ev.lines if line.sku}
        if skus:
            products = self.env["product.product"].search(
                [
                    ("default_code", "in", list(skus)),
                    ("company_id", "in", (False, company.id)),
                ]
            )
            for product in products:
                batch.product_by_sku.setdefault(product.default_code, product)
        order_ids = {ev.amazon_order_id for ev in events if ev.amazon_order_id}
        if order_ids:
            invoices = self.env["account.move"].search(
                [
                    ("company_id", "=", company.id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    "|",
                    ("amazon_order_id", "in", list(order_ids)),
                    ("ref", "in", list(order_ids)),
                ],
                order="id",
            )
            for invoice in invoices:
                batch.invoices.setdefault(invoice.amazon_order_id or invoice.ref, invoice)

    def _rate(self, currency, date, batch):
        key = (currency.id, date)
        if key not in batch.rates:
            company_currency = batch.company.currency_id
            if currency == company_currency:
                batch.rates[key] = Decimal(1)
            else:
                batch.rates[key] = Decimal(
                    str(
                        self.env["res.currency"]._get_conversion_rate(
                            currency, company_currency, batch.company, date
                        )
                    )
                )
        return batch.rates[key]

    def _balance(self, amount, currency, date, batch):
        company_currency = batch.company.currency_id
        quantum = Decimal(1).scaleb(-company_currency.decimal_places)
        return (amount * self._rate(currency, date, batch)).quantize(quantum)

    def _sale_taxes(self, batch):
        if batch.sale_taxes is None:
            batch.sale_taxes = tax_rates(
                self.env["account.tax"].search(
                    [
                        ("company_id", "=", batch.company.id),
                        ("type_tax_use", "=", "sale"),
                        ("amount_type", "=", "percent"),
                        ("amount", ">", 0),
                    ],
                    order="sequence, id",
                )
            )
        return batch.sale_taxes

    # ------------------------------------------------------------------------------------------
    # Planning
    # ------------------------------------------------------------------------------------------

    def _plan(self, event, batch):
        """PlanResult, or None when the event went to review/error."""
        normalized = batch.normalized.get(event.id)
        if normalized is None:
            return None
        result = plan_event(
            normalized,
            self._mapping(event.marketplace_id, batch),
            event.currency_id.decimal_places,
        )
        if result.unmapped:
            unmapped = {t.lower() for t in result.unmapped}
            event.line_ids.filtered(lambda ln: ln.amount_type.lower() in unmapped).write(
                {"is_unmapped": True}
            )
            event._amazon_sp_set_review("unmapped", "\n".join(result.review_reasons))
            batch.counts["events_to_review"] += 1
            return None
        if result.review_reasons:
            event._amazon_sp_set_review("plan", "\n".join(result.review_reasons))
            batch.counts["events_to_review"] += 1
            return None
        return result

    def _common_vals(self, event, batch):
        """What every document of ``event`` shares."""
        return {
            "journal_id": batch.company.amazon_sp_journal_id.id,
            "currency_id": event.currency_id.id,
            "date": event.date,
            "amazon_order_id": event.amazon_order_id or False,
            "amazon_marketplace_id": event.marketplace_id.id or False,
            "amazon_event_type": event.event_type,
            "amazon_event_ids": [Command.set(event.ids)],
        }

    def _ref(self, event):
        label = dict(EVENT_TYPE_SELECTION).get(event.event_type, "")
        return f"Amazon {label} {event.amazon_order_id or ''}".strip()

    def _documents_vals(self, event, result, batch):
        """The values of the documents of ``event``, or None when it went to review."""
        vals_list = []
        for document in result.documents:
            if document.kind == "credit_note":
                vals = self._credit_note_vals(event, document, batch)
                if vals is None:
                    return None
            else:
                vals = self._prepare_fee_entry_vals(event, document, batch)
            vals_list.append(vals)
        return vals_list

    def _credit_note_vals(self, event, document, batch):
        """The credit note's values, or None when a line's tax cannot be reproduced."""
        invoice = batch.invoices.get(event.amazon_order_id) if event.amazon_order_id else None
        invoice = invoice or self.env["account.move"]
        line_vals_list = []
        for plan_line in document.lines:
            plan_line, product, taxes, problem = self._credit_line_tax(
                event, plan_line, invoice, batch
            )
            if problem:
                event._amazon_sp_set_review(*problem)
                batch.counts["events_to_review"] += 1
                return None
            line_vals_list.append(
                self._prepare_credit_line_vals(event, plan_line, product, taxes, batch)
            )
        return self._prepare_credit_note_vals(event, document, invoice, line_vals_list, batch)

    def _credit_line_tax(self, event, plan_line, invoice, batch):
        """(plan line, product, taxes, problem) of one credit-note line: the product of its
        SKU, and the sale tax that reproduces Amazon's tax on it to the cent; ``problem`` is a
        (review reason, message) pair when no tax does."""
        settings = self._settings(event.marketplace_id, batch)
        quantum = Decimal(1).scaleb(-event.currency_id.decimal_places)
        product = self.env["product.product"]
        if plan_line.kind == "product":
            product = batch.product_by_sku.get(plan_line.sku) if plan_line.sku else None
            if not product and plan_line.product_ref:
                product = self.env["product.product"].browse(plan_line.product_ref)
            product = product or batch.company.amazon_sp_refund_product_id
        taxes = self.env["account.tax"]
        if plan_line.tax_amount and settings["seller_tax"] == "none":
            # Not registered for the tax: what the buyer got back is all price.
            plan_line = replace(
                plan_line,
                amount=plan_line.amount + plan_line.tax_amount,
                tax_amount=Decimal(0),
            )
        if not plan_line.tax_amount:
            return plan_line, product, taxes, None
        invoice_taxes = self.env["account.tax"]
        if invoice and product:
            invoice_taxes = invoice.invoice_line_ids.filtered(
                lambda ln: ln.product_id == product
            ).tax_ids
        if settings["tax"]:
            tried = tax_rates(settings["tax"])
        else:
            tried = candidates(
                tax_rates(invoice_taxes),
                self._sale_taxes(batch),
                event.marketplace_id.country_id.code or None,
            )
        picked = pick_tax(tried, plan_line.amount, plan_line.tax_amount, quantum)
        if picked:
            return plan_line, product, taxes.browse(picked.key), None
        return plan_line, product, taxes, ("tax", self._tax_message(plan_line, settings, quantum))

    def _tax_message(self, plan_line, settings, quantum):
        base, amazon = plan_line.amount, plan_line.tax_amount
        tax = settings["tax"]
        if tax:
            odoo = tax_of(tax_rates(tax)[0], base, amazon, quantum)
            return self.env._(
                "%(label)s: Amazon's tax is %(amazon)s on %(base)s; %(tax)s gives "
                "%(odoo)s (difference %(diff)s).",
                label=plan_line.label,
                amazon=amazon,
                base=base,
                tax=tax.name,
                odoo=odoo,
                diff=amazon - odoo,
            )
        rate = (amazon / base * 100).quantize(Decimal("0.01")) if base else 0
        return self.env._(
            "%(label)s: Amazon's tax is %(amazon)s on %(base)s (about %(rate)s%%); no "
            "sale tax of the company gives that amount to the cent. Set the "
            "marketplace's seller tax.",
            label=plan_line.label,
            amazon=amazon,
            base=base,
            rate=rate,
        )

    # ------------------------------------------------------------------------------------------
    # Creating, checking, posting
    # ------------------------------------------------------------------------------------------

    def _create(self, vals_list, owners, batch):
        """One create for the batch; if it fails, event by event (the failing ones in error).
        Returns the move of each vals (None where it failed)."""
        Move = self.env["account.move"].with_company(batch.company)
        try:
            with self.env.cr.savepoint():
                moves = Move.create(vals_list)
                self._set_clearing(moves, batch)
            return list(moves)
        except (UserError, ValueError) as exc:
            _logger.info("Batch create failed (%s); creating event by event", exc)
        result = []
        index = 0
        while index < len(vals_list):
            event = owners[index]
            end = index
            while end < len(vals_list) and owners[end] == event:
                end += 1
            try:
                with self.env.cr.savepoint():
                    moves = Move.create(vals_list[index:end])
                    self._set_clearing(moves, batch)
                result += list(moves)
            except (UserError, ValueError) as exc:
                event._amazon_sp_set_review(False, str(exc), state="error")
                batch.counts["events_error"] += 1
                result += [None] * (end - index)
            index = end
        return result

    def _set_clearing(self, moves, batch):
        """The receivable line of the credit notes goes to the Amazon clearing account."""
        term_lines = moves.line_ids.filtered(lambda ln: ln.display_type == "payment_term")
        clearing = batch.company.amazon_sp_clearing_account_id
        wrong = term_lines.filtered(lambda ln: ln.account_id != clearing)
        if wrong:
            wrong.write({"account_id": clearing.id})

    def _check_and_post(self, events, moves, owners, batch):
        """Check every event's documents to the cent, then post (or leave as drafts) per the
        marketplace's threshold and policy; documents that fail the check are deleted."""
        by_event = defaultdict(lambda: self.env["account.move"])
        for move, event in zip(moves, owners, strict=True):
            if move:
                by_event[event.id] |= move
        to_post = self.env["account.move"]
        posted_events = []
        bad_moves = self.env["account.move"]
        for event in events:
            event_moves = by_event.get(event.id)
            if not event_moves:
                continue
            problem = self._check(event, event_moves, batch.plans[event.id], batch)
            if problem:
                bad_moves |= event_moves
                event._amazon_sp_set_review(*problem)
                batch.counts["events_to_review"] += 1
                continue
            settings = self._settings(event.marketplace_id, batch)
            threshold = settings["threshold"]
            if threshold and not batch.skip_threshold and abs(event.amount_total) > threshold:
                event._amazon_sp_set_review(
                    "threshold",
                    self.env._(
                        "Net amount %(amount)s %(currency)s is above the review threshold "
                        "%(threshold)s: the documents wait as drafts.",
                        amount=abs(event.amount_total),
                        currency=event.currency_id.name,
                        threshold=threshold,
                    ),
                )
                batch.counts["events_to_review"] += 1
            elif not settings["post"]:
                event.write({"state": "ready", "review_reason": False, "review_message": False})
                batch.counts["events_draft"] += 1
            else:
                to_post |= event_moves
                posted_events.append(event)
        if bad_moves:
            bad_moves.with_context(force_delete=True).unlink()
        self._post(to_post, posted_events, batch)

    def _check(self, event, moves, result, batch):
        """Every cent, on the created moves: (reason, message) or None."""
        currency = event.currency_id
        clearing = batch.company.amazon_sp_clearing_account_id
        moved = sum(
            moves.line_ids.filtered(lambda ln: ln.account_id == clearing).mapped("amount_currency")
        )
        planned_tax = sum(
            (pl.tax_amount for doc in result.documents for pl in doc.lines), Decimal(0)
        )
        if self._settings(event.marketplace_id, batch)["seller_tax"] == "none":
            planned_tax = Decimal(0)
        refunds = moves.filtered(lambda m: m.move_type == "out_refund")
        if refunds:
            odoo_tax = Decimal(str(sum(refunds.mapped("amount_tax")))).quantize(
                Decimal(1).scaleb(-currency.decimal_places)
            )
            if odoo_tax != planned_tax:
                return (
                    "tax",
                    self.env._(
                        "Odoo computes tax %(odoo)s, Amazon's tax is %(amazon)s: difference "
                        "%(diff)s.",
                        odoo=odoo_tax,
                        amazon=planned_tax,
                        diff=planned_tax - odoo_tax,
                    ),
                )
        if currency.compare_amounts(moved, event.amount_total) != 0:
            return (
                "balance",
                self.env._(
                    "The documents move the Amazon clearing account by %(moved)s, the event's net "
                    "amount is %(total)s %(currency)s.",
                    moved=currency.round(moved),
                    total=event.amount_total,
                    currency=currency.name,
                ),
            )
        return None

    def _post(self, moves, events, batch):
        if not moves:
            return
        run = batch.run
        who = "cron" if run and run.trigger == "cron" else self.env.user.name
        done = []
        try:
            with self.env.cr.savepoint():
                moves.action_post()
            done = events
        except UserError as exc:
            _logger.info("Batch post failed (%s); posting event by event", exc)
            for event in events:
                try:
                    with self.env.cr.savepoint():
                        event.move_ids.filtered(lambda m: m.state == "draft").action_post()
                    done.append(event)
                except UserError as err:
                    event._amazon_sp_set_review("posting", str(err))
                    batch.counts["events_to_review"] += 1
        if done:
            done = self.env["amazon.sp.event"].union(*done)
            self._note_moved_dates(done)
            done.write(
                {
                    "state": "posted",
                    "review_reason": False,
                    "review_message": False,
                    "processed_by": who,
                    "processed_run_id": run.id if run else False,
                }
            )
            batch.counts["events_posted"] += len(done)

    def _note_moved_dates(self, events):
        """Odoo moves a document dated in a locked period to the first open date: say so."""
        for event in events:
            for move in event.move_ids:
                if move.state == "posted" and event.date and move.date != event.date:
                    move.message_post(
                        body=self.env._(
                            "Amazon posted this on %(posted)s, in a locked period: the document "
                            "is dated %(date)s, the first open date.",
                            posted=event.date,
                            date=move.date,
                        )
                    )
