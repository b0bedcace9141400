import logging
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

from odoo import Command, models
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every

from ..domain import NormalizationError
from ..domain.fee_tax import split_by_factors
from ..domain.plan_sales import plan_sales, sale_rules
from ..domain.tax import candidates
from .common import company_tz, conversion_rate
from .documents import tax_rates

_logger = logging.getLogger(__name__)

SUMMARY = "summary"
# Events of a settlement the summary books: sales not yet booked, nor waiting for a user's
# decision on a change Amazon made (those wait for the user).
_BOOKABLE_STATES = ("new", "to_review", "error")
_USER_REASONS = ("changed", "document", "integrity")
# Sales read (and dropped from the cache) a thousand at a time.
READ_CHUNK = 1000


def _names(line):
    """The types of a summary line's amount types (``Fee/Commission`` → ``commission``)."""
    return {amount_type.split("/", 1)[-1].lower() for amount_type in line.amount_types}


class AmazonSpServiceSales(models.AbstractModel):
    """Sales (``sale`` events), per the sales policy of their marketplace
    (``amazon.sp.marketplace.sales_policy``):

    - *summary* (the default): nothing at import; when Amazon closes the settlement,
      :meth:`_book_settlements` posts one journal entry per day and currency of its sales
      (``domain.plan_sales``) in the Amazon journal, against the clearing account;
    - *invoice* and *invoiced*: ``amazon.sp.service.sales.invoice`` books them at import.
    """

    _name = "amazon.sp.service.sales"
    _description = "Amazon Sales"

    # ------------------------------------------------------------------------------------------
    # Dispatch (the import)
    # ------------------------------------------------------------------------------------------

    def _book_events(self, events, run=None):
        """Book the sale ``events`` per their marketplace's sales policy. Summary-policy sales
        stay ``new`` (their settlement books them once closed). Returns the counters added to
        ``run`` by the invoice services (empty for summary sales)."""
        ids_by_policy = defaultdict(list)
        policies = {}
        for event in events:
            ids_by_policy[self._policy(event, policies)].append(event.id)
        by_policy = {policy: events.browse(ids) for policy, ids in ids_by_policy.items()}
        counts = {}
        summary = by_policy.get(SUMMARY)
        if summary:
            # A retried or posted summary sale: its settlement books it once closed (now, when
            # it is).
            booked = self._book_settlements(summary.settlement_id)
            posted = summary.filtered(lambda ev: ev.state == "posted")
            if booked and posted:
                counts["events_posted"] = len(posted)
        Invoices = self.env["amazon.sp.service.sales.invoice"]
        for policy, book in (
            ("invoice", Invoices._book_invoices),
            ("invoiced", Invoices._book_invoiced),
        ):
            if by_policy.get(policy):
                for key, value in (book(by_policy[policy], run) or {}).items():
                    counts[key] = counts.get(key, 0) + value
        return counts

    def _policy(self, event, cache=None):
        """The sales policy of ``event``'s marketplace in its company (``cache``: a dict kept by
        the caller, one read per marketplace and company)."""
        return self._marketplace_policy(event.marketplace_id, event.company_id, cache)

    def _marketplace_policy(self, marketplace, company, cache=None):
        key = (marketplace.id, company.id)
        cache = {} if cache is None else cache
        if key not in cache:
            marketplace = marketplace.with_company(company)
            cache[key] = (marketplace.sales_policy or SUMMARY) if marketplace else SUMMARY
        return cache[key]

    # ------------------------------------------------------------------------------------------
    # The summary: one entry per day of a closed settlement
    # ------------------------------------------------------------------------------------------

    def _book_settlements(self, settlements):
        """For each closed settlement, post the summary entries of its summary-policy sales:
        one entry per (day, currency) in one ``create`` and one ``action_post`` per company.
        Sales that cannot be placed wait for review with their reasons (nothing of their day
        is posted). Idempotent: sales already booked are not planned again. Returns the moves
        posted."""
        closed = settlements.filtered(
            lambda s: s.processing_status == "closed" and s.state != "reconciled"
        )
        posted = self.env["account.move"]
        for company in closed.company_id:
            company_settlements = closed.filtered(lambda s, c=company: s.company_id == c)
            service = self.with_company(company)
            try:
                with self.env.cr.savepoint():
                    posted |= service._book_company(company_settlements, company)
            except (UserError, ValueError) as exc:
                _logger.warning("Amazon sales of company %s not booked: %s", company.id, exc)
                service._summary_events(company_settlements)._amazon_sp_set_review(
                    "posting",
                    self.env._(
                        "The summary entries of this settlement's sales could not be posted: "
                        "%(error)s",
                        error=str(exc),
                    ),
                    state="error",
                )
        return posted

    def _summary_groups(self, settlements):
        """``{(settlement, marketplace): [event ids]}``: the summary-policy sales of
        ``settlements`` still to book (grouped by PostgreSQL: thousands of sales are not
        loaded to be sorted)."""
        groups = self.env["amazon.sp.event"]._read_group(
            [
                ("settlement_id", "in", settlements.ids),
                ("event_type", "=", "sale"),
                ("state", "in", _BOOKABLE_STATES),
                ("review_reason", "not in", _USER_REASONS),
                ("move_ids", "not any", [("state", "=", "posted")]),
            ],
            ["settlement_id", "marketplace_id", "company_id"],
            ["id:array_agg"],
        )
        policies, result = {}, {}
        for settlement, marketplace, company, ids in groups:
            if self._marketplace_policy(marketplace, company, policies) == SUMMARY:
                result.setdefault((settlement, marketplace), []).extend(sorted(ids))
        return result

    def _summary_events(self, settlements):
        ids = [i for group in self._summary_groups(settlements).values() for i in group]
        return self.env["amazon.sp.event"].browse(sorted(ids))

    def _book_company(self, settlements, company):
        company._amazon_sp_ensure_setup()
        groups = self._summary_groups(settlements)
        if not groups:
            return self.env["account.move"]
        Event = self.env["amazon.sp.event"]._amazon_sp_flow()
        vals_list, owners, days, booked = [], [], [], []  # booked: the settlement of each
        for settlement in settlements:
            for (owner, marketplace), ids in groups.items():
                if owner != settlement:
                    continue
                for vals, day_ids, day in self._settlement_vals(
                    settlement, marketplace, ids, company
                ):
                    vals_list.append(vals)
                    owners.append(day_ids)
                    days.append(day)
                    booked.append(settlement)
        if not vals_list:
            return self.env["account.move"]
        moves = self.env["account.move"].with_company(company).create(vals_list)
        moves.action_post()
        # Thousands of sales a day: their status is not tracked one message each (as Odoo does
        # not track lines); the settlement's chatter says what was booked, each sale links to
        # its entry and names who booked it.
        Event = Event.with_context(mail_notrack=True)
        for move, day_ids, day in zip(moves, owners, days, strict=True):
            Event.browse(day_ids).write(
                {
                    "state": "posted",
                    "review_reason": False,
                    "review_message": False,
                    "processed_by": self.env.user.name,
                }
            )
            # Written (their lines' status with them): out of the cache, day after day.
            self.env.invalidate_all()
            if move.date != day:
                move.message_post(
                    body=self.env._(
                        "Amazon's sales of %(day)s fall in a locked period: the entry is dated "
                        "%(date)s, the first open date.",
                        day=day,
                        date=move.date,
                    )
                )
        entries, counts = defaultdict(list), defaultdict(int)
        for move, day_ids, settlement in zip(moves, owners, booked, strict=True):
            entries[settlement].append(move.name)
            counts[settlement] += len(day_ids)
        for settlement, names in entries.items():
            settlement.message_post(
                body=self.env._(
                    "%(count)s sale(s) booked in the summary entries of their days: %(names)s.",
                    count=counts[settlement],
                    names=", ".join(names),
                )
            )
        return moves

    def _normalized(self, ids, readable):
        """The normalized sales of ``ids``, read a thousand at a time and dropped from the cache
        after (the plan keeps sums: memory does not grow with the settlement); ``readable``
        (a dict) gets key → id of each one read. A sale whose stored copy cannot be read waits
        for review."""
        Event = self.env["amazon.sp.event"]._amazon_sp_flow()
        for chunk in split_every(READ_CHUNK, ids):
            events = Event.browse(chunk)
            events.fetch(["key", "normalized_json"])
            for event in events:
                try:
                    normalized = event._amazon_sp_normalized()
                except NormalizationError as exc:
                    event._amazon_sp_set_review(
                        "stored",
                        self.env._(
                            "The stored copy of this Amazon sale cannot be read (%(error)s), so "
                            "its amounts and date are unknown. Import it again and retry, or "
                            "ignore it.",
                            error=str(exc),
                        ),
                    )
                    continue
                readable[event.key] = event.id
                yield normalized
            events.invalidate_recordset()

    def _skus(self, settlement):
        """The SKUs of the lines of the settlement's sales (SQL, through the settlement's
        index: the planner reads a list of thousands of ids badly)."""
        self.env["amazon.sp.event"].flush_model(["settlement_id", "event_type"])
        self.env["amazon.sp.event.line"].flush_model(["event_id", "sku"])
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT line.sku
                     FROM amazon_sp_event_line line
                     JOIN amazon_sp_event event ON event.id = line.event_id
                    WHERE event.settlement_id = %s AND event.event_type = 'sale'
                      AND line.sku IS NOT NULL AND line.sku != ''""",
                settlement.id,
            )
        )
        return {row[0] for row in self.env.cr.fetchall()}

    def _settlement_vals(self, settlement, marketplace, ids, company):
        """[(move vals, its events' ids, its day)] of one settlement's sales (``ids``) in one
        marketplace; the sales of a plan that is not ok go to review (none of them is posted)."""
        Event = self.env["amazon.sp.event"]._amazon_sp_flow()
        currency = Event.browse(ids[:1]).currency_id
        settings = marketplace.with_company(company)._amazon_sp_settings()
        by_key = {}  # event key → id, of the sales read
        plan = plan_sales(
            self._normalized(ids, by_key),
            self._mapping(company, marketplace),
            company_tz(self.env, company).zone,
            taxes=self._taxes(company, settings, marketplace),
            currency_decimals=currency.decimal_places if currency else 2,
            sku_categories=self._sku_categories(self._skus(settlement), company),
        )
        if not by_key:
            return []
        readable = Event.browse(sorted(by_key.values()))
        if not plan.ok:
            unmapped = {t.lower() for t in plan.unmapped}
            for event in readable:
                reasons = plan.event_reasons.get(event.key)
                unmapped_lines = event.line_ids.filtered(
                    lambda ln, u=unmapped: ln.amount_type.lower() in u
                )
                if unmapped_lines:
                    unmapped_lines.write({"is_unmapped": True})
                if not reasons:
                    reasons = [
                        self.env._(
                            "Another sale of this settlement waits for review: the entries of "
                            "its days are posted together."
                        )
                    ]
                event._amazon_sp_set_review(
                    "unmapped" if unmapped_lines else "plan",
                    "\n".join(list(reasons) + list(plan.review_reasons[:1])),
                )
            return []
        result, positions = [], {}
        Documents = self.env["amazon.sp.service.documents"]
        for day in plan.days:
            day_ids = [by_key[key] for key in day.event_keys]
            vals = self._day_vals(
                settlement, marketplace, day, day_ids, currency, company, settings
            )
            problem = Documents._set_fiscal_position(vals, company, positions)
            if problem:
                for event in readable:
                    event._amazon_sp_set_review("tax", problem)
                return []
            result.append((vals, day_ids, day.date))
        return result

    # ------------------------------------------------------------------------------------------
    # What the plan needs from Odoo
    # ------------------------------------------------------------------------------------------

    def _mapping(self, company, marketplace):
        """The company's (and marketplace's) rules, with the sale rules on top (principal on the
        sales account): the refund rules of ``Charge/Principal`` are not a sale's."""
        mapping = self.env["amazon.sp.amount.mapping"]._amazon_sp_mapping(company, marketplace)
        rules = {
            amount_type: replace(rule, account_ref=company._amazon_sp_account(rule.account_ref).id)
            for amount_type, rule in sale_rules().items()
        }
        if mapping.get("Fee/FBATransportationFee"):
            rules.pop("Fee/FBATransportationFee")
        return mapping.merged(rules)

    def _taxes(self, company, settings, marketplace):
        """The sale taxes Amazon's tax may be charged at (``domain.tax.TaxRate``, key = id):
        the marketplace's seller tax, else the company's percent sale taxes of the
        marketplace's country (never another country's: ``domain.tax.candidates``); none where
        the seller is not registered (its sales wait: the summary does not keep tax in
        prices)."""
        if settings["seller_tax"] == "none":
            return ()
        if settings["tax"]:
            return tuple(tax_rates(settings["tax"]))
        rates = tax_rates(self.env["amazon.sp.service.documents"]._company_sale_taxes(company))
        return tuple(candidates(sale_taxes=rates, country=marketplace.country_id.code or None))

    def _sku_categories(self, skus, company):
        """SKU → product category id, for the ``skus`` whose product (internal reference = SKU)
        has a category with an income account: their principal goes to that account."""
        if not skus:
            return {}
        products = self.env["product.product"].search(
            [("default_code", "in", list(skus)), ("company_id", "in", (False, company.id))]
        )
        return {
            product.default_code: product.categ_id.id
            for product in products
            if product.categ_id.property_account_income_categ_id
        }

    # ------------------------------------------------------------------------------------------
    # One day's entry
    # ------------------------------------------------------------------------------------------

    def _day_vals(self, settlement, marketplace, day, event_ids, currency, company, settings):
        Currency = self.env["res.currency"].with_context(active_test=False)
        currency = currency or Currency.search([("name", "=", day.currency)])
        rate = conversion_rate(self.env, currency, company, day.date)
        quantum = Decimal(1).scaleb(-company.currency_id.decimal_places)
        Tax = self.env["account.tax"]
        Category = self.env["product.category"]
        fee_tax = settings["fee_tax"]
        partner = company.amazon_sp_partner_id
        lines, total = [], Decimal(0)

        def add(vals, amount):
            nonlocal total
            balance = (amount * rate).quantize(quantum)
            total += balance
            lines.append(
                Command.create(
                    {
                        "partner_id": partner.id,
                        "currency_id": currency.id,
                        "amount_currency": float(amount),
                        "balance": float(balance),
                        "tax_ids": [Command.clear()],
                        **vals,
                    }
                )
            )
            return balance

        bases = defaultdict(Decimal)  # tax id → balance of its base
        for line in day.lines:
            if line.kind == "income" and line.tax_key:
                bases[line.tax_key] += (line.amount * rate).quantize(quantum)
        # The fees Amazon charged VAT on (input VAT where the company is registered).
        taxed_fees = {
            name for line in day.lines if line.kind == "input_tax" for name in _names(line)
        }
        for line in day.lines:
            label = line.label or ", ".join(line.amount_types)
            if line.kind == "income":
                account = line.account_ref
                if line.category_ref:
                    account = (
                        Category.browse(line.category_ref).property_account_income_categ_id.id
                        or account
                    )
                vals = {"name": label, "account_id": account}
                if line.tax_key:
                    tax = Tax.browse(line.tax_key)
                    reps = self._repartition(tax, line.amount)
                    vals["tax_ids"] = [Command.set(tax.ids)]
                    vals["tax_tag_ids"] = [
                        Command.set(
                            reps.filtered(lambda r: r.repartition_type == "base").tag_ids.ids
                        )
                    ]
                if line.quantity:
                    vals["quantity"] = float(line.quantity)
                add(vals, line.amount)
            elif line.kind == "tax":
                tax = Tax.browse(line.tax_key)
                base = bases.get(line.tax_key, Decimal(0))
                self._add_tax_lines(add, tax, line.amount, base, label, currency, False)
            elif line.kind == "input_tax" and fee_tax:
                names = _names(line)
                base = sum(
                    (
                        other.amount
                        for other in day.lines
                        if other.kind == "account" and _names(other) & names
                    ),
                    Decimal(0),
                )
                self._add_tax_lines(
                    add,
                    fee_tax,
                    line.amount,
                    (base * rate).quantize(quantum),
                    label,
                    currency,
                    line.account_ref,
                )
            else:  # fees and the rest; input VAT without a fee tax stays a cost of its fee
                vals = {"name": label, "account_id": line.account_ref}
                if fee_tax and line.kind == "account" and _names(line) & taxed_fees:
                    reps = self._repartition(fee_tax, line.amount)
                    base_reps = reps.filtered(lambda r: r.repartition_type == "base")
                    vals["tax_ids"] = [Command.set(fee_tax.ids)]
                    vals["tax_tag_ids"] = [Command.set(base_reps.tag_ids.ids)]
                add(vals, line.amount)
        clearing_balance = -total
        lines.append(
            Command.create(
                {
                    "name": self.env._("Amazon clearing"),
                    "account_id": company.amazon_sp_clearing_account_id.id,
                    "partner_id": partner.id,
                    "currency_id": currency.id,
                    "amount_currency": float(day.clearing_amount),
                    "balance": float(clearing_balance),
                    "tax_ids": [Command.clear()],
                }
            )
        )
        return {
            "move_type": "entry",
            "journal_id": company.amazon_sp_journal_id.id,
            "currency_id": currency.id,
            "date": day.date,
            "ref": self.env._(
                "Amazon sales %(day)s (settlement %(group)s)",
                day=day.date,
                group=settlement.group_id,
            ),
            "amazon_marketplace_id": marketplace.id or False,
            "amazon_event_type": "sale",
            "amazon_event_ids": [Command.set(event_ids)],
            "line_ids": lines,
        }

    def _add_tax_lines(self, add, tax, amount, base_balance, label, currency, fallback):
        """Amazon's ``amount`` of ``tax`` as Odoo's own tax lines: one per tax repartition line,
        with the repartition line, its tags and the base, so the tax report reads it and Odoo
        does not compute it again. A repartition line without an account books on
        ``fallback`` (the fee's account), else on the Amazon other income account."""
        quantum = Decimal(1).scaleb(-currency.decimal_places)
        reps = self._repartition(tax, amount).filtered(lambda r: r.repartition_type == "tax")
        shares = split_by_factors(amount, [Decimal(str(r.factor)) for r in reps], quantum)
        for rep, share in zip(reps, shares, strict=True):
            if not share:
                continue
            add(
                {
                    "name": label,
                    "account_id": rep._get_aml_target_tax_account().id
                    or fallback
                    or self.env.company._amazon_sp_account("other_income").id,
                    "display_type": "tax",
                    "tax_repartition_line_id": rep.id,
                    "tax_tag_ids": [Command.set(rep.tag_ids.ids)],
                    "tax_base_amount": float(abs(base_balance)),
                },
                share,
            )

    def _repartition(self, tax, amount):
        """A sale tax credited (or a purchase tax debited) is an invoice's; the other way round
        a refund's (as Odoo tags a journal entry's lines)."""
        invoice = amount < 0 if tax.type_tax_use == "sale" else amount > 0
        return tax.invoice_repartition_line_ids if invoice else tax.refund_repartition_line_ids
