import logging
from dataclasses import dataclass, field, replace
from decimal import Decimal

from odoo import Command, models

from ..domain import NormalizationError, plan_event
from ..domain.fee_tax import fee_tax_bases, fee_tax_gap, fold_fee_taxes, split_by_factors
from ..domain.tax import TaxRate, candidates, pick_tax, tax_of
from .common import conversion_rate, taxes_of_vals

_logger = logging.getLogger(__name__)

COUNTERS = (
    "events_posted",
    "events_draft",
    "events_to_review",
    "events_error",
    "events_nothing",
)


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
    private steps; creating, checking and posting the documents is
    ``amazon.sp.service.posting``'s part.
    """

    _name = "amazon.sp.service.documents"
    _description = "Amazon Document Builder"

    def _build(self, events, run=None):
        """Plan ``events`` (all of the current company), make, check and post their documents.
        Returns the counters (events_posted, events_draft, events_to_review, events_error,
        events_nothing)."""
        self.env.invalidate_all()  # a batch at a time: the earlier batches leave the cache
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
            if not result.documents:
                self.env["amazon.sp.service.posting"]._nothing_to_book(event, batch)
                continue
            batch.plans[event.id] = result
            docs_vals = self._documents_vals(event, result, batch)
            if docs_vals is None:
                continue
            vals_list += docs_vals
            owners += [event] * len(docs_vals)
        if vals_list:
            Posting = self.env["amazon.sp.service.posting"]
            moves = Posting._create(vals_list, owners, batch)
            Posting._check_and_post(events, moves, owners, batch)
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
        by the Amazon clearing account. Its ``input_tax`` lines (the VAT Amazon charges on its
        fees) are tax lines of the marketplace's input VAT tax on their fee's line; without that
        tax, :meth:`_fee_entry_document` folded them into their fee."""
        company = batch.company
        currency = event.currency_id
        tax = self._settings(event.marketplace_id, batch)["fee_tax"]
        lines, total_balance = self._fee_lines_vals(event, document.lines, tax, batch)
        lines.append(
            Command.create(
                {
                    "name": self.env._("Amazon clearing"),
                    "account_id": company.amazon_sp_clearing_account_id.id,
                    "partner_id": company.amazon_sp_partner_id.id,
                    "currency_id": currency.id,
                    "amount_currency": float(document.clearing_amount),
                    "balance": float(-total_balance),
                    "tax_ids": [Command.clear()],
                }
            )
        )
        return {
            **self._common_vals(event, batch),
            "move_type": "entry",
            "ref": self.env._("%(ref)s, fees", ref=self._ref(event))
            if document.kind == "fee_entry"
            else self._ref(event),
            "line_ids": lines,
        }

    def _fee_lines_vals(self, event, plan_lines, tax, batch):
        """``(line commands, their balance)`` of the fee and adjustment lines ``plan_lines`` of
        an entry of ``event``: each on its account; with ``tax`` (the marketplace's input VAT on
        Amazon's fees), a fee with Amazon's VAT is the tax's base and its VAT a tax line."""
        currency = event.currency_id
        bases = fee_tax_bases(plan_lines) if tax else {}
        lines, total_balance = [], Decimal(0)
        for index, plan_line in enumerate(plan_lines):
            common = {
                "name": plan_line.label or plan_line.amount_types[0],
                "partner_id": batch.company.amazon_sp_partner_id.id,
                "currency_id": currency.id,
            }
            if index in bases:
                base_line = plan_lines[bases[index]]
                for vals in self._input_tax_lines_vals(event, plan_line, base_line, tax, batch):
                    total_balance += Decimal(str(vals["balance"]))
                    lines.append(Command.create({**common, **vals}))
                continue
            balance = self._balance(plan_line.amount, currency, event.date, batch)
            total_balance += balance
            vals = {
                **common,
                "account_id": plan_line.account_ref,
                "amount_currency": float(plan_line.amount),
                "balance": float(balance),
                "tax_ids": [Command.clear()],
            }
            if index in bases.values():
                repartition = self._repartition(tax, plan_line)
                vals["tax_ids"] = [Command.set(tax.ids)]
                vals["tax_tag_ids"] = [
                    Command.set(
                        repartition.filtered(lambda r: r.repartition_type == "base").tag_ids.ids
                    )
                ]
            lines.append(Command.create(vals))
        return lines, total_balance

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
            batch.rates[key] = conversion_rate(self.env, currency, batch.company, date)
        return batch.rates[key]

    def _balance(self, amount, currency, date, batch):
        company_currency = batch.company.currency_id
        quantum = Decimal(1).scaleb(-company_currency.decimal_places)
        return (amount * self._rate(currency, date, batch)).quantize(quantum)

    def _sale_taxes(self, batch):
        if batch.sale_taxes is None:
            batch.sale_taxes = tax_rates(self._company_sale_taxes(batch.company))
        return batch.sale_taxes

    def _company_sale_taxes(self, company):
        """The company's percent sale taxes, in the order they are tried."""
        return self.env["account.tax"].search(
            [
                ("company_id", "=", company.id),
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
                ("amount", ">", 0),
            ],
            order="sequence, id",
        )

    def _set_fiscal_position(self, vals, company, cache):
        """Another country's taxes post only under the company's VAT number there: set on the
        move values ``vals`` the fiscal position their taxes need. Returns None, or the plain
        message saying why they cannot be posted (no such position, several countries)."""
        position, problem = company._amazon_sp_tax_fiscal_position(
            taxes_of_vals(self.env, [vals]), cache=cache
        )
        if position:
            vals["fiscal_position_id"] = position.id
        return problem

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
        label = dict(event._fields["event_type"].selection).get(event.event_type, "")
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
                document, problem = self._fee_entry_document(event, document, batch)
                if problem:
                    event._amazon_sp_set_review(*problem)
                    batch.counts["events_to_review"] += 1
                    return None
                vals = self._prepare_fee_entry_vals(event, document, batch)
            vals_list.append(vals)
        for vals in vals_list:
            problem = self._set_fiscal_position(vals, batch.company, batch.settings)
            if problem:
                event._amazon_sp_set_review("tax", problem)
                batch.counts["events_to_review"] += 1
                return None
        return vals_list

    # ------------------------------------------------------------------------------------------
    # The VAT Amazon charges on its fees
    # ------------------------------------------------------------------------------------------

    def _fee_entry_document(self, event, document, batch):
        """``(document, problem)``: ``document`` as its entry books it. The VAT Amazon charges
        on a fee (an ``input_tax`` line) is the seller's input VAT where the marketplace has an
        "Input VAT on Amazon's fees" tax, else part of the fee (folded into its line, as v0
        sends it). ``problem``: a (review reason, message) pair when a fee's VAT is not what
        that tax gives on the fee, to a cent's rounding."""
        lines = document.lines
        if not any(line.kind == "input_tax" for line in lines):
            return document, None
        tax = self._settings(event.marketplace_id, batch)["fee_tax"]
        bases = fee_tax_bases(lines)
        if not tax:
            mapping = self._mapping(event.marketplace_id, batch)

            def label_of(line):
                name = line.amount_types[0].split("/", 1)[-1]
                rule = mapping.get(f"Fee/{name}")
                return (rule.label or rule.type_name) if rule else name

            return replace(document, lines=fold_fee_taxes(lines, bases, label_of)), None
        quantum = Decimal(1).scaleb(-event.currency_id.decimal_places)
        money = event.currency_id._amazon_sp_amount_text
        rate = Decimal(str(tax.amount))
        for index, line in enumerate(lines):
            if line.kind != "input_tax":
                continue
            if index not in bases:
                return document, (
                    "tax",
                    self.env._(
                        "%(label)s: Amazon's VAT of %(amazon)s has no fee line to be its base "
                        "in this document.",
                        label=line.label,
                        amazon=event.currency_id._amazon_sp_amount_text(line.amount),
                    ),
                )
            base = lines[bases[index]].amount
            odoo = fee_tax_gap(base, line.amount, rate, quantum)
            if odoo is not None:
                return document, (
                    "tax",
                    self.env._(
                        "%(label)s: Amazon's VAT on its fee is %(amazon)s on %(base)s; "
                        "%(tax)s gives %(odoo)s (difference %(diff)s).",
                        label=line.label,
                        amazon=money(line.amount),
                        base=money(base),
                        tax=tax.name,
                        odoo=money(odoo),
                        diff=money(line.amount - odoo),
                    ),
                )
        return document, None

    def _repartition(self, tax, base_line):
        """The repartition lines of ``tax`` for a fee line: a fee Amazon charges (a debit) is a
        purchase, one it gives back (a credit) a refund."""
        if base_line.amount < 0:
            return tax.refund_repartition_line_ids
        return tax.invoice_repartition_line_ids

    def _input_tax_lines_vals(self, event, plan_line, base_line, tax, batch):
        """The values of the tax lines of ``plan_line`` (Amazon's VAT on the fee of
        ``base_line``): one per tax repartition line of ``tax``, with Amazon's amount exactly,
        the repartition line and its tags, as Odoo's own tax lines (Odoo keeps a tax line it is
        given on a journal entry: ``account.move._sync_tax_lines``)."""
        currency = event.currency_id
        quantum = Decimal(1).scaleb(-currency.decimal_places)
        repartition = self._repartition(tax, base_line).filtered(
            lambda r: r.repartition_type == "tax"
        )
        # As Odoo writes it on a purchase tax line: the base, positive for a refund's too.
        base_balance = abs(self._balance(base_line.amount, currency, event.date, batch))
        amounts = split_by_factors(
            plan_line.amount, [Decimal(str(rep.factor)) for rep in repartition], quantum
        )
        shares = list(zip(repartition, amounts, strict=True))
        return [
            {
                "account_id": rep._get_aml_target_tax_account().id or base_line.account_ref,
                "amount_currency": float(amount),
                "balance": float(self._balance(amount, currency, event.date, batch)),
                "display_type": "tax",
                "tax_repartition_line_id": rep.id,
                "tax_tag_ids": [Command.set(rep.tag_ids.ids)],
                "tax_base_amount": float(base_balance),
                "tax_ids": [Command.clear()],
            }
            for rep, amount in shares
            if amount
        ]

    # ------------------------------------------------------------------------------------------
    # Credit notes
    # ------------------------------------------------------------------------------------------

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
        if plan_line.tax_rate is not None:
            # A promotion whose VAT the planner split at its item's rate: taxes of that rate first
            tried = sorted(tried, key=lambda tax: tax.rate != plan_line.tax_rate)
        picked = pick_tax(tried, plan_line.amount, plan_line.tax_amount, quantum)
        if picked:
            return plan_line, product, taxes.browse(picked.key), None
        message = self._tax_message(plan_line, settings, quantum, event.currency_id)
        return plan_line, product, taxes, ("tax", message)

    def _tax_message(self, plan_line, settings, quantum, currency):
        base, amazon = plan_line.amount, plan_line.tax_amount
        money = currency._amazon_sp_amount_text
        tax = settings["tax"]
        if tax:
            odoo = tax_of(tax_rates(tax)[0], base, amazon, quantum)
            return self.env._(
                "%(label)s: Amazon's tax is %(amazon)s on %(base)s; %(tax)s gives "
                "%(odoo)s (difference %(diff)s).",
                label=plan_line.label,
                amazon=money(amazon),
                base=money(base),
                tax=tax.name,
                odoo=money(odoo),
                diff=money(amazon - odoo),
            )
        rate = (amazon / base * 100).quantize(Decimal("0.01")) if base else 0
        return self.env._(
            "%(label)s: Amazon's tax is %(amazon)s on %(base)s (about %(rate)s%%); no "
            "sale tax of the company gives that amount to the cent. Set the "
            "marketplace's seller tax.",
            label=plan_line.label,
            amazon=money(amazon),
            base=money(base),
            rate=rate,
        )
