import hashlib
import logging
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytz

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..domain import NormalizedEvent, NormalizedLine
from ..domain.normalize import canonical_json

_logger = logging.getLogger(__name__)

EVENT_TYPE_SELECTION = [
    ("refund", "Refund"),
    ("guarantee_claim", "A-to-z Guarantee Claim"),
    ("chargeback", "Chargeback"),
    ("adjustment", "Adjustment"),
    ("service_fee", "Service Fee"),
    ("retrocharge", "Retrocharge"),
    ("other", "Other"),
]
STATE_SELECTION = [
    ("new", "New"),
    ("to_review", "To Review"),
    ("ready", "Ready"),
    ("posted", "Posted"),
    ("ignored", "Ignored"),
    ("error", "Error"),
]
REVIEW_REASON_SELECTION = [
    ("unmapped", "Unmapped amount type"),
    ("changed", "Changed upstream"),
    ("threshold", "Above review threshold"),
    ("tax", "Tax differs from Amazon"),
    ("balance", "Documents do not match the net amount"),
    ("plan", "Needs a decision"),
    ("posting", "Posting failed"),
]
SOURCE_API_SELECTION = [("2024-06-19", "2024-06-19 (listTransactions)"), ("v0", "v0")]


def _content_sha256(ev):
    """Digest of what matters for the books (not volatile fields like transactionStatus)."""
    lines = sorted(
        [
            ln.amount_type.lower(),
            str(ln.amount),
            ln.sku or "",
            str(ln.quantity or ""),
            ln.order_adjustment_item_id or "",
        ]
        for ln in ev.lines
    )
    parts = [
        ev.event_type,
        ev.amazon_order_id or "",
        ev.marketplace_id or "",
        ev.posted_date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if ev.posted_date else "",
        ev.currency,
        str(ev.total),
        lines,
    ]
    return hashlib.sha256(canonical_json(parts).encode("utf-8")).hexdigest()


def _raw_text(raw):
    try:
        return canonical_json(raw)
    except TypeError:
        return repr(raw)


class AmazonSpEvent(models.Model):
    """One Amazon money movement (refund, claim, chargeback...), staged before it is posted."""

    _name = "amazon.sp.event"
    _description = "Amazon Event"
    _inherit = "mail.thread"
    _order = "posted_date desc, id desc"
    _rec_name = "name"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="restrict", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    marketplace_id = fields.Many2one("amazon.sp.marketplace", index=True, ondelete="restrict")
    source_api = fields.Selection(SOURCE_API_SELECTION, string="Source API", required=True)
    source = fields.Char(help="The v0 event list or the 2024-06-19 transaction type.")
    event_type = fields.Selection(EVENT_TYPE_SELECTION, index=True)
    description = fields.Char()
    amazon_order_id = fields.Char(index=True)
    posted_date = fields.Datetime(index=True)
    date = fields.Date(string="Accounting Date", help="Posted date in the company's timezone.")
    currency_id = fields.Many2one("res.currency")
    amount_total = fields.Monetary(string="Net Amount", currency_field="currency_id")
    key = fields.Char(required=True, readonly=True, index=True)
    fingerprint = fields.Char(readonly=True, index=True)
    transaction_id = fields.Char(readonly=True)
    group_id = fields.Char(string="Event Group", readonly=True, index=True)
    settlement_id = fields.Many2one(
        "amazon.sp.settlement", readonly=True, index=True, ondelete="set null"
    )
    transaction_status = fields.Char(readonly=True)
    raw_json = fields.Text(string="Raw JSON", readonly=True)
    raw_sha256 = fields.Char(string="SHA-256", readonly=True)
    content_sha256 = fields.Char(
        readonly=True, help="Digest of the amounts, types, dates and ids (not volatile fields)."
    )
    upstream_raw_json = fields.Text(
        string="Changed Raw JSON", readonly=True, help="The new content Amazon sent under this key."
    )
    upstream_sha256 = fields.Char(readonly=True)
    line_ids = fields.One2many("amazon.sp.event.line", "event_id", string="Lines")
    state = fields.Selection(
        STATE_SELECTION, default="new", required=True, index=True, tracking=True
    )
    review_reason = fields.Selection(REVIEW_REASON_SELECTION, index=True, tracking=True)
    review_message = fields.Text()
    ignore_reason = fields.Char(tracking=True)
    move_ids = fields.Many2many(
        "account.move",
        "account_move_amazon_sp_event_rel",
        "event_id",
        "move_id",
        string="Documents",
        copy=False,
    )
    move_count = fields.Integer(compute="_compute_move_count")
    import_run_id = fields.Many2one("amazon.sp.import.run", index=True, ondelete="set null")
    processed_run_id = fields.Many2one(
        "amazon.sp.import.run", ondelete="set null", string="Processed by Run"
    )
    processed_by = fields.Char(
        readonly=True, help="User or scheduled action that made the documents."
    )

    _sql_constraints = [  # noqa: RUF012
        (
            "account_key_uniq",
            "unique(account_id, key)",
            "An Amazon event is stored once per account.",
        )
    ]

    @api.depends("event_type", "amazon_order_id", "key")
    def _compute_name(self):
        labels = dict(EVENT_TYPE_SELECTION)
        for event in self:
            what = labels.get(event.event_type) or "Event"
            event.name = f"{what} {event.amazon_order_id or (event.key or '')[:16]}"

    def _compute_move_count(self):
        for event in self:
            event.move_count = len(event.move_ids)

    # ------------------------------------------------------------------------------------------
    # Staging
    # ------------------------------------------------------------------------------------------

    @api.model
    def _amazon_sp_stage(self, account, run, events, failures, marketplaces_by_amazon_id):
        """Store one page of normalized events (one ``create``); returns the counters.

        An event whose key or fingerprint is known is "already known"; the same key with a
        different raw payload goes to review (never overwritten).
        """
        counts = {"events_fetched": len(events) + len(failures)}
        keys = [ev.key for ev in events]
        fingerprints = [ev.fingerprint for ev in events if ev.fingerprint]
        failure_rows = []
        for failure in failures:
            raw_text = _raw_text(failure.raw)
            sha = hashlib.sha256(raw_text.encode("utf-8")).hexdigest()
            failure_rows.append((f"raw:{sha}", sha, raw_text, failure))
        keys += [row[0] for row in failure_rows]
        existing = self.with_context(active_test=False).search(
            [
                ("account_id", "=", account.id),
                "|",
                ("key", "in", keys),
                ("fingerprint", "in", fingerprints or [""]),
            ]
        )
        by_key = {rec.key: rec for rec in existing}
        by_fp = {rec.fingerprint: rec for rec in existing if rec.fingerprint}
        vals_list = []
        known = changed = 0
        seen = set()
        for ev in events:
            if ev.key in seen:
                continue
            seen.add(ev.key)
            rec = by_key.get(ev.key)
            if rec:
                content = _content_sha256(ev)
                if (
                    rec.raw_sha256 == ev.raw_sha256
                    or rec.content_sha256 == content
                    or rec.upstream_sha256 == ev.raw_sha256
                ):
                    known += 1
                else:
                    changed += 1
                    rec._amazon_sp_flag_changed(ev)
                continue
            if ev.fingerprint and ev.fingerprint in by_fp:
                known += 1
                continue
            vals_list.append(
                self._amazon_sp_event_vals(account, run, ev, marketplaces_by_amazon_id)
            )
        for key, sha, raw_text, failure in failure_rows:
            if key in by_key or key in seen:
                known += 1
                continue
            seen.add(key)
            vals_list.append(
                {
                    "account_id": account.id,
                    "key": key,
                    "raw_json": raw_text,
                    "raw_sha256": sha,
                    "source": failure.source,
                    "source_api": run.finances_api or account.finances_api,
                    "event_type": "other",
                    "state": "error",
                    "review_message": failure.message,
                    "import_run_id": run.id,
                }
            )
        created = self.create(vals_list) if vals_list else self.browse()
        counts.update(
            events_new=len(created),
            events_known=known,
            events_changed=changed,
            events_error=sum(1 for vals in vals_list if vals.get("state") == "error"),
        )
        return counts, created

    @api.model
    def _amazon_sp_event_vals(self, account, run, ev, marketplaces_by_amazon_id):
        company = account.company_id
        marketplace = marketplaces_by_amazon_id.get(ev.marketplace_id)
        currency = self._amazon_sp_currency(ev.currency)
        posted = ev.posted_date.astimezone(UTC)
        tz = pytz.timezone(company.partner_id.tz or self.env.user.tz or "UTC")
        return {
            "account_id": account.id,
            "marketplace_id": marketplace.id if marketplace else False,
            "source_api": ev.source_api,
            "source": ev.source,
            "event_type": ev.event_type,
            "description": ev.description,
            "amazon_order_id": ev.amazon_order_id,
            "posted_date": posted.replace(tzinfo=None),
            "date": posted.astimezone(tz).date(),
            "currency_id": currency.id,
            "amount_total": float(ev.total),
            "key": ev.key,
            "fingerprint": ev.fingerprint,
            "transaction_id": ev.transaction_id,
            "group_id": ev.group_id,
            "transaction_status": ev.transaction_status,
            "raw_json": _raw_text(ev.raw),
            "raw_sha256": ev.raw_sha256,
            "content_sha256": _content_sha256(ev),
            "import_run_id": run.id,
            "line_ids": [
                Command.create(
                    {
                        "sequence": seq,
                        "amount_type": line.amount_type,
                        "category": line.category,
                        "amount": float(line.amount),
                        "sku": line.sku,
                        "quantity": float(line.quantity) if line.quantity is not None else 0.0,
                        "order_adjustment_item_id": line.order_adjustment_item_id,
                        "description": line.description,
                    }
                )
                for seq, line in enumerate(ev.lines)
            ],
        }

    @api.model
    def _amazon_sp_currency(self, code):
        cache = self.env.context.get("amazon_sp_currency_cache")
        Currency = self.env["res.currency"].with_context(active_test=False).sudo()
        currency = Currency.search([("name", "=", code)], limit=1)
        if not currency:
            raise UserError(self.env._("Unknown currency %(code)s.", code=code))
        if not currency.active:
            _logger.info("Activating currency %s for Amazon events", code)
            currency.active = True
        if cache is not None:
            cache[code] = currency
        return currency

    def _amazon_sp_flag_changed(self, ev):
        self.ensure_one()
        self.write(
            {
                "upstream_raw_json": _raw_text(ev.raw),
                "upstream_sha256": ev.raw_sha256,
                "state": "to_review" if self.state != "ignored" else "ignored",
                "review_reason": "changed",
                "review_message": self.env._(
                    "Amazon sent different content under the same key (SHA-256 %(old)s → %(new)s). "
                    "The stored content and its documents are unchanged; compare and decide.",
                    old=(self.raw_sha256 or "")[:12],
                    new=(ev.raw_sha256 or "")[:12],
                ),
            }
        )

    # ------------------------------------------------------------------------------------------
    # Normalized event back from the row (for the planner)
    # ------------------------------------------------------------------------------------------

    def _amazon_sp_normalized(self):
        self.ensure_one()
        decimals = self.currency_id.decimal_places

        def dec(value):
            return Decimal(str(round(value, decimals))).quantize(Decimal(1).scaleb(-decimals))

        lines = tuple(
            NormalizedLine(
                amount_type=line.amount_type,
                amount=dec(line.amount),
                sku=line.sku or None,
                quantity=Decimal(str(line.quantity)) if line.quantity else None,
                order_adjustment_item_id=line.order_adjustment_item_id or None,
                description=line.description or None,
            )
            for line in self.line_ids
        )
        return NormalizedEvent(
            key=self.key,
            fingerprint=self.fingerprint or "",
            source_api=self.source_api,
            event_type=self.event_type,
            amazon_order_id=self.amazon_order_id or None,
            marketplace_id=self.marketplace_id._amazon_sp_code() if self.marketplace_id else None,
            marketplace_name=self.marketplace_id.name if self.marketplace_id else None,
            posted_date=self.posted_date.replace(tzinfo=UTC)
            if self.posted_date
            else datetime.now(UTC),
            currency=self.currency_id.name,
            total=dec(self.amount_total),
            lines=lines,
            group_id=self.group_id or None,
            transaction_id=self.transaction_id or None,
            transaction_status=self.transaction_status or None,
            description=self.description or None,
            raw_sha256=self.raw_sha256 or "",
            source=self.source,
        )

    # ------------------------------------------------------------------------------------------
    # Planning and documents (batched)
    # ------------------------------------------------------------------------------------------

    def _amazon_sp_process(self, run=None):
        """Plan the events and make their documents: one ``create`` and one ``action_post``
        for the whole batch. Returns the counters added to ``run``."""
        counts = dict.fromkeys(
            ("events_posted", "events_draft", "events_to_review", "events_error"), 0
        )
        events = self.filtered(lambda ev: ev.state in ("new", "to_review", "error", "ready"))
        for company in events.company_id:
            company_events = events.filtered(lambda ev, c=company: ev.company_id == c)
            company._amazon_sp_ensure_setup()
            builder = _DocumentBuilder(company_events.with_company(company), run)
            builder.build()
            for key, value in builder.counts.items():
                counts[key] += value
        if run:
            run._add(**counts)
        return counts

    def _amazon_sp_set_review(self, reason, message, state="to_review"):
        self.write({"state": state, "review_reason": reason, "review_message": message})

    # ------------------------------------------------------------------------------------------
    # Review actions
    # ------------------------------------------------------------------------------------------

    def _amazon_sp_posted_clearing(self):
        """{event id: what its posted documents moved on the clearing account, in the event's
        currency (Decimal), or None when it has no posted document}."""
        clearing = self.company_id.amazon_sp_clearing_account_id
        result = {}
        for event in self:
            moves = event.move_ids.filtered(lambda m: m.state == "posted")
            if not moves:
                result[event.id] = None
                continue
            lines = moves.line_ids.filtered(lambda line, c=clearing: line.account_id in c)
            amount = event.currency_id.round(sum(lines.mapped("amount_currency")))
            result[event.id] = Decimal(str(amount))
        return result

    def action_view_moves(self):
        self.ensure_one()
        moves = self.move_ids
        action = {
            "type": "ir.actions.act_window",
            "name": self.env._("Documents"),
            "res_model": "account.move",
            "context": {"create": False},
        }
        if len(moves) == 1:
            action.update(view_mode="form", res_id=moves.id, views=[(False, "form")])
        else:
            action.update(view_mode="list,form", domain=[("id", "in", moves.ids)])
        return action

    def action_post(self):
        """Post: the draft documents of the events (threshold, draft policy), or make and
        post them (other events to review are planned again, without the threshold)."""
        to_plan = self.filtered(lambda ev: ev.state in ("to_review", "new") and not ev.move_ids)
        if to_plan.filtered(lambda ev: ev.review_reason == "changed"):
            raise UserError(
                self.env._(
                    "Amazon changed these events after import: compare the raw data, then ignore "
                    "the new content or reverse the documents by hand."
                )
            )
        with_drafts = self.filtered(lambda ev: ev.state in ("to_review", "ready") and ev.move_ids)
        if with_drafts:
            moves = with_drafts.move_ids.filtered(lambda m: m.state == "draft")
            if moves:
                moves.action_post()
            with_drafts.write(
                {
                    "state": "posted",
                    "review_reason": False,
                    "review_message": False,
                    "processed_by": self.env.user.name,
                }
            )
            for event in with_drafts:
                event.message_post(body=self.env._("Documents posted after review."))
        if to_plan:
            to_plan.with_context(amazon_sp_skip_threshold=True)._amazon_sp_process()
        return True

    def action_retry(self):
        """Plan again (after the mapping or settings changed)."""
        events = self.filtered(
            lambda ev: (
                ev.state in ("to_review", "error", "new")
                and ev.review_reason != "changed"
                and ev.line_ids
            )
        )
        drafts = events.move_ids.filtered(lambda m: m.state == "draft")
        if drafts:
            drafts.unlink()
        if events:
            events.write({"state": "new", "review_reason": False, "review_message": False})
            events.line_ids.write({"is_unmapped": False})
            events._amazon_sp_process()
        return True

    def action_open_ignore(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Ignore Amazon Event"),
            "res_model": "amazon.sp.event",
            "res_id": self.id,
            "view_mode": "form",
            "views": [
                (self.env.ref("account_amazon_refund.amazon_sp_event_ignore_view_form").id, "form")
            ],
            "target": "new",
        }

    def action_ignore(self, reason=None):
        """Keep the event without documents (its draft documents are deleted)."""
        for event in self:
            reason = reason or event.ignore_reason
            if not reason:
                raise UserError(self.env._("Say why the event is ignored."))
            posted = event.move_ids.filtered(lambda m: m.state == "posted")
            if posted and event.review_reason == "changed":
                # Dismiss Amazon's new content: the posted documents stand.
                event.write({"state": "posted", "review_reason": False, "ignore_reason": reason})
                event.message_post(
                    body=self.env._("Change from Amazon dismissed: %(reason)s", reason=reason)
                )
                continue
            if posted:
                raise UserError(
                    self.env._(
                        "%(event)s has posted documents: reverse them instead.", event=event.name
                    )
                )
            event.move_ids.filtered(lambda m: m.state == "draft").unlink()
            event.write({"state": "ignored", "ignore_reason": reason})
            event.message_post(body=self.env._("Ignored: %(reason)s", reason=reason))
        return {"type": "ir.actions.act_window_close"}


class _DocumentBuilder:
    """Turns a batch of events of one company into documents (one create, one post)."""

    def __init__(self, events, run):
        self.events = events
        self.env = events.env
        self.company = self.env.company
        self.run = run
        self.counts = dict.fromkeys(
            ("events_posted", "events_draft", "events_to_review", "events_error"), 0
        )
        self.mappings = {}
        self.settings = {}
        self.rates = {}
        self.product_by_sku = {}
        self.invoices = {}
        self.tax_candidates = None

    # -- helpers -------------------------------------------------------------------------------

    def _mapping(self, marketplace):
        if marketplace.id not in self.mappings:
            self.mappings[marketplace.id] = self.env["amazon.sp.amount.mapping"]._amazon_sp_mapping(
                self.company, marketplace
            )
        return self.mappings[marketplace.id]

    def _settings(self, marketplace):
        if marketplace.id not in self.settings:
            self.settings[marketplace.id] = marketplace.with_company(
                self.company
            )._amazon_sp_settings()
        return self.settings[marketplace.id]

    def _prefetch(self, events):
        skus = {line.sku for line in events.line_ids if line.sku}
        if skus:
            products = self.env["product.product"].search(
                [
                    ("default_code", "in", list(skus)),
                    ("company_id", "in", (False, self.company.id)),
                ]
            )
            for product in products:
                self.product_by_sku.setdefault(product.default_code, product)
        order_ids = {ev.amazon_order_id for ev in events if ev.amazon_order_id}
        if order_ids:
            invoices = self.env["account.move"].search(
                [
                    ("company_id", "=", self.company.id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    "|",
                    ("amazon_order_id", "in", list(order_ids)),
                    ("ref", "in", list(order_ids)),
                ],
                order="id",
            )
            for invoice in invoices:
                self.invoices.setdefault(invoice.amazon_order_id or invoice.ref, invoice)

    def _rate(self, currency, date):
        key = (currency.id, date)
        if key not in self.rates:
            company_currency = self.company.currency_id
            if currency == company_currency:
                self.rates[key] = Decimal(1)
            else:
                self.rates[key] = Decimal(
                    str(
                        self.env["res.currency"]._get_conversion_rate(
                            currency, company_currency, self.company, date
                        )
                    )
                )
        return self.rates[key]

    def _balance(self, amount, currency, date):
        company_currency = self.company.currency_id
        quantum = Decimal(1).scaleb(-company_currency.decimal_places)
        return (amount * self._rate(currency, date)).quantize(quantum)

    def _sale_taxes(self):
        if self.tax_candidates is None:
            self.tax_candidates = self.env["account.tax"].search(
                [
                    ("company_id", "=", self.company.id),
                    ("type_tax_use", "=", "sale"),
                    ("amount_type", "=", "percent"),
                    ("amount", ">", 0),
                ],
                order="sequence, id",
            )
        return self.tax_candidates

    @staticmethod
    def _tax_of(tax, base, tax_amount, quantum):
        """The tax Odoo computes on a line whose price is ``base`` (price-excluded tax) or
        ``base + tax_amount`` (price-included tax), rounded half-up like Odoo."""
        rate = Decimal(str(tax.amount)) / 100
        if tax.price_include:
            gross = base + tax_amount
            return (gross * rate / (1 + rate)).quantize(quantum, rounding=ROUND_HALF_UP)
        return (base * rate).quantize(quantum, rounding=ROUND_HALF_UP)

    def _pick_tax(self, settings, marketplace, invoice_taxes, base, tax_amount, quantum):
        """A sale tax that reproduces Amazon's tax on this line to the cent, or None."""
        if settings["tax"]:
            candidates = settings["tax"]
        else:
            country = marketplace.country_id
            others = self._sale_taxes() - invoice_taxes
            candidates = (
                invoice_taxes.filtered(lambda t: t.amount_type == "percent")
                + others.filtered(lambda t: country and t.country_id == country)
                + others.filtered(lambda t: not country or t.country_id != country)
            )
        for tax in candidates:
            if self._tax_of(tax, base, tax_amount, quantum) == tax_amount:
                return tax
        return None

    # -- main ----------------------------------------------------------------------------------

    def build(self):
        events = self.events
        self._prefetch(events)
        Move = self.env["account.move"].with_company(self.company)
        vals_list = []
        owners = []  # event of each vals
        plans = {}
        skip_threshold = self.env.context.get("amazon_sp_skip_threshold")
        for event in events:
            try:
                result = self._plan(event)
            except (ValueError, ArithmeticError) as exc:
                _logger.info("Amazon event %s cannot be planned: %s", event.id, exc)
                event._amazon_sp_set_review(False, str(exc), state="error")
                self.counts["events_error"] += 1
                continue
            if result is None:
                continue
            plans[event.id] = result
            docs_vals = self._documents_vals(event, result)
            if docs_vals is None:
                continue
            vals_list += docs_vals
            owners += [event] * len(docs_vals)
        if not vals_list:
            return
        moves = self._create(Move, vals_list, owners)
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
            problem = self._check(event, event_moves, plans[event.id])
            if problem:
                reason, message = problem
                bad_moves |= event_moves
                event._amazon_sp_set_review(reason, message)
                self.counts["events_to_review"] += 1
                continue
            settings = self._settings(event.marketplace_id)
            threshold = settings["threshold"]
            if threshold and not skip_threshold and abs(event.amount_total) > threshold:
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
                self.counts["events_to_review"] += 1
            elif not settings["post"]:
                event.write({"state": "ready", "review_reason": False, "review_message": False})
                self.counts["events_draft"] += 1
            else:
                to_post |= event_moves
                posted_events.append(event)
        if bad_moves:
            bad_moves.with_context(force_delete=True).unlink()
        self._post(to_post, posted_events)

    def _plan(self, event):
        """PlanResult, or None when the event went to review/error."""
        from ..domain.plan import plan_event

        if not event.line_ids and event.state == "error":
            return None
        marketplace = event.marketplace_id
        result = plan_event(
            event._amazon_sp_normalized(),
            self._mapping(marketplace),
            event.currency_id.decimal_places,
        )
        if result.unmapped:
            unmapped = {t.lower() for t in result.unmapped}
            event.line_ids.filtered(lambda ln: ln.amount_type.lower() in unmapped).write(
                {"is_unmapped": True}
            )
            event._amazon_sp_set_review("unmapped", "\n".join(result.review_reasons))
            self.counts["events_to_review"] += 1
            return None
        if result.review_reasons:
            event._amazon_sp_set_review("plan", "\n".join(result.review_reasons))
            self.counts["events_to_review"] += 1
            return None
        return result

    def _documents_vals(self, event, result):
        company = self.company
        settings = self._settings(event.marketplace_id)
        currency = event.currency_id
        quantum = Decimal(1).scaleb(-currency.decimal_places)
        invoice = self.invoices.get(event.amazon_order_id) if event.amazon_order_id else None
        vals_list = []
        common = {
            "journal_id": company.amazon_sp_journal_id.id,
            "currency_id": currency.id,
            "date": event.date,
            "amazon_order_id": event.amazon_order_id or False,
            "amazon_marketplace_id": event.marketplace_id.id or False,
            "amazon_event_type": event.event_type,
            "amazon_event_ids": [Command.set(event.ids)],
        }
        label = dict(EVENT_TYPE_SELECTION).get(event.event_type, "")
        ref = f"Amazon {label} {event.amazon_order_id or ''}".strip()
        for doc in result.documents:
            if doc.kind == "credit_note":
                partner = invoice.partner_id if invoice else settings["partner"]
                lines = []
                for pl in doc.lines:
                    line_vals = self._credit_line_vals(
                        pl, settings, event.marketplace_id, invoice, quantum
                    )
                    if isinstance(line_vals, tuple):  # (reason, message)
                        event._amazon_sp_set_review(*line_vals)
                        self.counts["events_to_review"] += 1
                        return None
                    lines.append(Command.create(line_vals))
                vals_list.append(
                    {
                        **common,
                        "move_type": "out_refund",
                        "partner_id": partner.id,
                        "invoice_date": event.date,
                        "fiscal_position_id": False,
                        "ref": ref,
                        "invoice_origin": event.amazon_order_id or False,
                        "reversed_entry_id": invoice.id if invoice else False,
                        "invoice_line_ids": lines,
                    }
                )
            else:
                lines = []
                total_balance = Decimal(0)
                for pl in doc.lines:
                    balance = self._balance(pl.amount, currency, event.date)
                    total_balance += balance
                    lines.append(
                        Command.create(
                            {
                                "name": pl.label or pl.amount_types[0],
                                "account_id": pl.account_ref,
                                "partner_id": company.amazon_sp_partner_id.id,
                                "currency_id": currency.id,
                                "amount_currency": float(pl.amount),
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
                            "amount_currency": float(doc.clearing_amount),
                            "balance": float(-total_balance),
                        }
                    )
                )
                vals_list.append(
                    {
                        **common,
                        "move_type": "entry",
                        "ref": f"{ref} ({doc.kind})",
                        "line_ids": lines,
                    }
                )
        return vals_list

    def _credit_line_vals(self, pl, settings, marketplace, invoice, quantum):
        product = self.env["product.product"]
        if pl.kind == "product":
            product = self.product_by_sku.get(pl.sku) if pl.sku else None
            if not product and pl.product_ref:
                product = self.env["product.product"].browse(pl.product_ref)
            product = product or self.company.amazon_sp_refund_product_id
        taxes = self.env["account.tax"]
        if pl.tax_amount and settings["seller_tax"] == "none":
            # Not registered for the tax: what the buyer got back is all price.
            pl = replace(pl, amount=pl.amount + pl.tax_amount, tax_amount=Decimal(0))
        if pl.tax_amount:
            invoice_taxes = self.env["account.tax"]
            if invoice and product:
                invoice_taxes = invoice.invoice_line_ids.filtered(
                    lambda ln: ln.product_id == product
                ).tax_ids
            taxes = self._pick_tax(
                settings, marketplace, invoice_taxes, pl.amount, pl.tax_amount, quantum
            )
            if not taxes:
                rate = (
                    (pl.tax_amount / pl.amount * 100).quantize(Decimal("0.01")) if pl.amount else 0
                )
                tried = settings["tax"]
                if tried:
                    odoo = self._tax_of(tried, pl.amount, pl.tax_amount, quantum)
                    diff = pl.tax_amount - odoo
                    message = self.env._(
                        "%(label)s: Amazon's tax is %(amazon)s on %(base)s; %(tax)s gives "
                        "%(odoo)s (difference %(diff)s).",
                        label=pl.label,
                        amazon=pl.tax_amount,
                        base=pl.amount,
                        tax=tried.name,
                        odoo=odoo,
                        diff=diff,
                    )
                else:
                    message = self.env._(
                        "%(label)s: Amazon's tax is %(amazon)s on %(base)s (about %(rate)s%%); no "
                        "sale tax of the company gives that amount to the cent. Set the "
                        "marketplace's seller tax.",
                        label=pl.label,
                        amazon=pl.tax_amount,
                        base=pl.amount,
                        rate=rate,
                    )
                return ("tax", message)
        amount = pl.amount + pl.tax_amount if taxes.price_include else pl.amount
        quantity = pl.quantity if pl.quantity and pl.quantity > 0 else Decimal(1)
        price = amount / quantity
        if price != price.quantize(quantum):
            quantity, price = Decimal(1), amount
        vals = {
            "name": pl.label or (pl.amount_types[0] if pl.amount_types else "Amazon"),
            "quantity": float(quantity),
            "price_unit": float(price),
            "tax_ids": [Command.set(taxes.ids)],
        }
        if product:
            vals["product_id"] = product.id
            if product == self.company.amazon_sp_refund_product_id and pl.account_ref:
                vals["account_id"] = pl.account_ref
        elif pl.account_ref:
            vals["account_id"] = pl.account_ref
        return vals

    def _create(self, Move, vals_list, owners):
        """One create for the batch; if it fails, event by event (the failing ones in error)."""
        try:
            with self.env.cr.savepoint():
                moves = Move.create(vals_list)
                self._set_clearing(moves)
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
                    self._set_clearing(moves)
                result += list(moves)
            except (UserError, ValueError) as exc:
                event._amazon_sp_set_review(False, str(exc), state="error")
                self.counts["events_error"] += 1
                result += [None] * (end - index)
            index = end
        return result

    def _set_clearing(self, moves):
        """The receivable line of the credit notes goes to the Amazon clearing account."""
        term_lines = moves.line_ids.filtered(lambda ln: ln.display_type == "payment_term")
        clearing = self.company.amazon_sp_clearing_account_id
        wrong = term_lines.filtered(lambda ln: ln.account_id != clearing)
        if wrong:
            wrong.write({"account_id": clearing.id})

    def _check(self, event, moves, result):
        """Every cent, on the created moves: (reason, message) or None."""
        currency = event.currency_id
        clearing = self.company.amazon_sp_clearing_account_id
        moved = sum(
            moves.line_ids.filtered(lambda ln: ln.account_id == clearing).mapped("amount_currency")
        )
        planned_tax = sum(
            (pl.tax_amount for doc in result.documents for pl in doc.lines), Decimal(0)
        )
        if self._settings(event.marketplace_id)["seller_tax"] == "none":
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

    def _post(self, moves, events):
        if not moves:
            return
        who = "cron" if self.run and self.run.trigger == "cron" else self.env.user.name
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
                    self.counts["events_to_review"] += 1
        if done:
            self._note_moved_dates(self.env["amazon.sp.event"].union(*done))
            self.env["amazon.sp.event"].union(*done).write(
                {
                    "state": "posted",
                    "review_reason": False,
                    "review_message": False,
                    "processed_by": who,
                    "processed_run_id": self.run.id if self.run else False,
                }
            )
            self.counts["events_posted"] += len(done)

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
