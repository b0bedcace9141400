import hashlib
import json
import logging
from dataclasses import replace
from datetime import UTC
from decimal import Decimal

import pytz

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..domain import NormalizationError, sources
from ..domain.model import SOURCE_2024, SOURCE_V0, event_from_json, event_to_json
from ..domain.values import canonical_json

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
    ("stored", "Stored event unreadable"),
]


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
    """Amazon's raw data as canonical JSON (repr when it is not JSON data)."""
    try:
        return canonical_json(raw)
    except TypeError:
        return repr(raw)


# One raw event as a page of its Finances API (v0: under its list name, kept in ``source``).
_PAGE_OF_ONE = {
    SOURCE_V0: lambda list_name, raw: {"FinancialEvents": {list_name: [raw]}},
    SOURCE_2024: lambda _transaction_type, raw: {"transactions": [raw]},
}


def _normalized_text(ev):
    """The normalized event as stored in ``normalized_json``."""
    return canonical_json(event_to_json(ev))


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
    source_api = fields.Selection(sources.selection(), string="Finances API", required=True)
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
    normalized_json = fields.Text(
        string="Normalized JSON",
        readonly=True,
        help="The event as it was read from Amazon's data when staged (amounts exactly as "
        "Amazon wrote them, date in UTC): the documents are planned from it.",
    )
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
                    lost = not rec.normalized_json or rec.review_reason == "stored"
                    if lost and rec.raw_sha256 == ev.raw_sha256:
                        # Read again from the same data: its normalized copy is restored.
                        rec.normalized_json = _normalized_text(ev)
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
            "normalized_json": _normalized_text(ev),
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

    def _amazon_sp_set_group(self, group_id):
        """The events learn their financial event group: the row and its normalized event
        (as normalizing its page read by group gives it)."""
        for event in self:
            vals = {"group_id": group_id}
            try:
                data = json.loads(event.normalized_json or "null")
            except ValueError:
                data = None  # unreadable: waits for review when planned
            if isinstance(data, dict):
                data["group_id"] = group_id
                vals["normalized_json"] = canonical_json(data)
            event.write(vals)

    # ------------------------------------------------------------------------------------------
    # The normalized event, as staged (for the planner)
    # ------------------------------------------------------------------------------------------

    def _amazon_sp_normalized(self):
        """The normalized event stored at staging (``normalized_json``), exactly: Amazon's
        amounts and its UTC date. Raises NormalizationError when it is missing or unreadable
        (nothing is guessed from the rows)."""
        self.ensure_one()
        if not self.normalized_json:
            raise NormalizationError("no normalized event stored")
        try:
            data = json.loads(self.normalized_json)
        except ValueError as exc:
            raise NormalizationError(f"stored event is not JSON: {exc}") from None
        return event_from_json(data)

    def _amazon_sp_restore_normalized(self):
        """Store the normalized copy of the events that have none (staged before it existed),
        by normalizing their raw data again through their Finances source. It is kept only
        when it gives back the event that was staged (same key and same content digest); the
        others keep none and wait for review when planned. Returns the events filled."""
        filled = self.browse()
        for event in self.filtered(lambda ev: ev.line_ids and not ev.normalized_json):
            try:
                normalized = event._amazon_sp_normalize_raw_again()
            except (ValueError, TypeError, KeyError) as exc:  # NormalizationError included
                _logger.info("Amazon event %s: raw data not read again: %s", event.id, exc)
                continue
            if normalized is None:
                _logger.info("Amazon event %s: raw data gives another event", event.id)
                continue
            event.normalized_json = _normalized_text(normalized)
            filled |= event
        return filled

    def _amazon_sp_normalize_raw_again(self):
        """The normalized event of the stored raw data, with the stored key and fingerprint
        (the import numbers repeats), or None when it is not the event that was staged."""
        self.ensure_one()
        source = sources.get_source(self.source_api)
        raw = json.loads(self.raw_json or "null", parse_float=Decimal)
        page = _PAGE_OF_ONE[source.name](self.source, raw)
        resolver = None
        if source.needs_marketplace_resolver:
            resolver = self.env["amazon.sp.service.import"]._marketplace_resolver(self.account_id)
        events, _failures = source.normalize(
            page,
            marketplace_resolver=resolver,
            group_id=self.group_id or None,
            posted_date_fallback=self.posted_date.replace(tzinfo=UTC) if self.posted_date else None,
        )
        if len(events) != 1:
            return None
        normalized = events[0]
        if self.key != normalized.key and not self.key.startswith(f"{normalized.key}#"):
            return None
        normalized = replace(normalized, key=self.key, fingerprint=self.fingerprint or "")
        if _content_sha256(normalized) != self.content_sha256:
            return None
        return normalized

    # ------------------------------------------------------------------------------------------
    # Planning and documents (batched)
    # ------------------------------------------------------------------------------------------

    def _amazon_sp_process(self, run=None):
        """Plan the events and make their documents (amazon.sp.service.documents): one
        ``create`` and one ``action_post`` per company. Returns the counters added to ``run``."""
        counts = dict.fromkeys(
            ("events_posted", "events_draft", "events_to_review", "events_error"), 0
        )
        events = self.filtered(lambda ev: ev.state in ("new", "to_review", "error", "ready"))
        for company in events.company_id:
            company_events = events.filtered(lambda ev, c=company: ev.company_id == c)
            company._amazon_sp_ensure_setup()
            company_events = company_events.with_company(company)
            built = company_events.env["amazon.sp.service.documents"]._build(company_events, run)
            for key, value in built.items():
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
