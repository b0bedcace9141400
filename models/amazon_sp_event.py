import hashlib
import json
import logging
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.misc import format_date

from ..domain import NormalizationError, sources
from ..domain.model import event_from_json
from .amazon_sp_flow_guard import flow

EVENT_TYPE_SELECTION = [
    ("refund", "Refund"),
    ("guarantee_claim", "A-to-z Guarantee Claim"),
    ("chargeback", "Chargeback"),
    ("adjustment", "Adjustment"),
    ("service_fee", "Service Fee"),
    ("retrocharge", "Retrocharge"),
    ("other", "Other"),
    ("sale", "Sale"),
]
STATE_SELECTION = [
    ("new", "New"),
    ("deferred", "Deferred by Amazon"),  # booked when Amazon releases it (issue 10)
    ("to_review", "To Review"),
    ("ready", "Ready"),
    ("posted", "Posted"),
    ("nothing", "Nothing to Book"),
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
    ("integrity", "Raw data does not match its SHA-256"),
    ("document", "Document changed in Odoo"),
]
# What a user may write on an event outside the import's flows (the ignore dialog).
USER_FIELDS = ("ignore_reason",)
# The unique index behind the fingerprint dedupe: one Amazon event is stored once per account,
# whichever API read it (ignored events apart: a duplicate is resolved by ignoring it).
FINGERPRINT_INDEX = "amazon_sp_event_account_fingerprint_uniq"
FINGERPRINT_WHERE = SQL("fingerprint IS NOT NULL AND fingerprint <> '' AND state <> 'ignored'")

_logger = logging.getLogger(__name__)


def pretty_json(text):
    """Stored JSON indented to be read (the text as it is when it is not JSON)."""
    if not text:
        return text
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


class AmazonSpEvent(models.Model):
    """One Amazon money movement (refund, claim, chargeback...), staged before it is posted."""

    _name = "amazon.sp.event"
    _description = "Amazon Event"
    _inherit = ["mail.thread", "amazon.sp.import.record"]  # noqa: RUF012
    _amazon_sp_user_fields = USER_FIELDS
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
    transaction_id = fields.Char(string="Transaction ID", readonly=True)
    group_id = fields.Char(string="Event Group", readonly=True, index=True)
    settlement_id = fields.Many2one(
        "amazon.sp.settlement", readonly=True, index=True, ondelete="set null"
    )
    transaction_status = fields.Char(readonly=True)
    # Amazon's data is large and read only where it is needed: not loaded with the event's other
    # fields (a settlement of 10,000 events would otherwise hold their JSON in memory).
    raw_json = fields.Text(string="Raw JSON", readonly=True, prefetch=False)
    raw_json_pretty = fields.Text(
        string="Raw JSON (readable)",
        compute="_compute_json_pretty",
        help="Amazon's data, indented to be read; the stored raw JSON is kept exactly as received.",
    )
    raw_sha256 = fields.Char(string="SHA-256", readonly=True)
    raw_mismatch = fields.Boolean(
        string="Raw Data Altered",
        compute="_compute_raw_mismatch",
        help="The raw JSON no longer matches the SHA-256 stored when it was imported: it was "
        "changed after the import.",
    )
    normalized_json = fields.Text(
        string="Normalized JSON",
        readonly=True,
        prefetch=False,
        help="The event as it was read from Amazon's data when staged (amounts exactly as "
        "Amazon wrote them, date in UTC): the documents are planned from it.",
    )
    content_sha256 = fields.Char(
        string="Content SHA-256",
        readonly=True,
        help="Digest of the amounts, types, dates and ids (not volatile fields).",
    )
    upstream_raw_json = fields.Text(
        string="Changed Raw JSON",
        readonly=True,
        prefetch=False,
        help="The new content Amazon sent under this key.",
    )
    upstream_raw_json_pretty = fields.Text(
        string="Changed Raw JSON (readable)", compute="_compute_json_pretty"
    )
    upstream_sha256 = fields.Char(string="Changed SHA-256", readonly=True)
    line_ids = fields.One2many("amazon.sp.event.line", "event_id", string="Lines")
    state = fields.Selection(
        STATE_SELECTION, default="new", required=True, index=True, tracking=True
    )
    review_reason = fields.Selection(REVIEW_REASON_SELECTION, index=True, tracking=True)
    review_message = fields.Text()
    ignore_reason = fields.Char(tracking=True)
    nothing_reason = fields.Text(
        string="Why Nothing to Book",
        readonly=True,
        help="Why the event needs no document: its amounts are zero or cancel each other out "
        "(e.g. a marketplace facilitator retrocharge, whose tax Amazon withheld).",
    )
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

    def init(self):
        res = super().init()
        self._amazon_sp_fingerprint_index()
        return res

    # ------------------------------------------------------------------------------------------
    # One Amazon event, one row: the unique index behind the fingerprint dedupe
    # ------------------------------------------------------------------------------------------

    def _amazon_sp_fingerprint_duplicates(self):
        """``[(account id, fingerprint, event ids)]`` of the events (ignored ones apart) that
        share a fingerprint in one account: one Amazon event staged twice."""
        self.env["amazon.sp.event"].flush_model(["account_id", "fingerprint", "state"])
        self.env.cr.execute(
            SQL(
                """SELECT account_id, fingerprint, array_agg(id ORDER BY id)
                     FROM amazon_sp_event
                    WHERE %s
                 GROUP BY account_id, fingerprint
                   HAVING count(*) > 1
                 ORDER BY account_id, fingerprint""",
                FINGERPRINT_WHERE,
            )
        )
        return self.env.cr.fetchall()

    def _amazon_sp_fingerprint_index(self):
        """Create the unique index on (account, fingerprint) unless it exists. When events share
        a fingerprint it cannot be created: they are logged (nothing is deleted) and returned,
        see :meth:`_amazon_sp_flag_duplicates`; it is created once they are resolved (ignored)."""
        cr = self.env.cr
        cr.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", (FINGERPRINT_INDEX,))
        if cr.fetchone():
            return []
        duplicates = self._amazon_sp_fingerprint_duplicates()
        if duplicates:
            _logger.warning(
                "Amazon events: the unique index on the fingerprint is not created, %s "
                "fingerprint(s) are shared by several events of one account (event ids: %s); "
                "ignore the extra events, then update the module",
                len(duplicates),
                "; ".join(", ".join(map(str, ids)) for _account, _fp, ids in duplicates),
            )
            return duplicates
        cr.execute(
            SQL(
                "CREATE UNIQUE INDEX %s ON amazon_sp_event (account_id, fingerprint) WHERE %s",
                SQL.identifier(FINGERPRINT_INDEX),
                FINGERPRINT_WHERE,
            )
        )
        _logger.info("Amazon events: unique index on (account, fingerprint) created")
        return []

    def _amazon_sp_flag_duplicates(self, duplicates):
        """Send the extra events of each group of ``duplicates`` (see
        :meth:`_amazon_sp_fingerprint_duplicates`) to review, naming the event they repeat.
        The first posted event of a group (else its first) is kept as it is; posted documents
        are never touched. Returns the events sent to review."""
        flagged = self.browse()
        for _account, _fingerprint, ids in duplicates:
            events = self.browse(ids).with_context(active_test=False)
            keep = events.filtered(lambda ev: ev.state == "posted")[:1] or events[:1]
            for event in events - keep:
                message = self.env._(
                    "This is the same Amazon event as %(other)s (id %(id)s), staged twice: "
                    "ignore the one that should not be booked.",
                    other=keep.name,
                    id=keep.id,
                )
                if event.state == "posted":
                    message += " " + self.env._(
                        "Both are posted: reverse the documents of one of them, then ignore it."
                    )
                    event.message_post(body=message)
                    continue
                event._amazon_sp_set_review("plan", message)
                event.message_post(body=message)
                flagged |= event
        return flagged

    @api.depends("event_type", "amazon_order_id", "date", "posted_date")
    def _compute_name(self):
        """ "Refund 111-1234567-1234567", or "Adjustment of 20 Nov 2026" for an event without
        an order (never Amazon's technical keys)."""
        labels = dict(self._fields["event_type"]._description_selection(self.env))
        for event in self:
            what = labels.get(event.event_type) or self.env._("Amazon event")
            if event.amazon_order_id:
                event.name = f"{what} {event.amazon_order_id}"
            elif event.date or event.posted_date:
                day = format_date(
                    self.env, event.date or event.posted_date, date_format="dd MMM yyyy"
                )
                event.name = self.env._("%(what)s of %(date)s", what=what, date=day)
            else:
                event.name = what

    @api.depends("raw_json", "upstream_raw_json")
    def _compute_json_pretty(self):
        for event in self:
            event.raw_json_pretty = pretty_json(event.raw_json)
            event.upstream_raw_json_pretty = pretty_json(event.upstream_raw_json)

    def _compute_move_count(self):
        for event in self:
            event.move_count = len(event.move_ids)

    @api.depends("raw_json", "raw_sha256")
    def _compute_raw_mismatch(self):
        for event in self:
            event.raw_mismatch = bool(
                event.raw_json
                and event.raw_sha256
                and hashlib.sha256(event.raw_json.encode("utf-8")).hexdigest() != event.raw_sha256
            )

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
        """Store the normalized copy of the events staged before it existed (see
        ``amazon.sp.service.staging._restore_normalized``). Returns the events filled."""
        return self.env["amazon.sp.service.staging"]._restore_normalized(flow(self))

    # ------------------------------------------------------------------------------------------
    # Planning and documents (batched)
    # ------------------------------------------------------------------------------------------

    def _amazon_sp_process(self, run=None):
        """Plan the events and make their documents (amazon.sp.service.documents): one
        ``create`` and one ``action_post`` per company. Returns the counters added to ``run``."""
        counts = dict.fromkeys(
            ("events_posted", "events_draft", "events_to_review", "events_error", "events_nothing"),
            0,
        )
        events = flow(self).filtered(lambda ev: ev.state in ("new", "to_review", "error", "ready"))
        altered = events._amazon_sp_flag_altered()
        counts["events_to_review"] += len(altered)
        events -= altered
        sales = events.filtered(lambda ev: ev.event_type == "sale")
        if sales:  # per the marketplace's sales policy (summary: when the settlement closes)
            for key, value in self.env["amazon.sp.service.sales"]._book_events(sales, run).items():
                counts[key] = counts.get(key, 0) + value
            events -= sales
        for company in events.company_id:
            company_events = events.filtered(lambda ev, c=company: ev.company_id == c)
            company._amazon_sp_ensure_setup()
            company_events = company_events.with_company(company)
            built = company_events.env["amazon.sp.service.documents"]._build(company_events, run)
            for key, value in built.items():
                counts[key] += value
        if run:
            flow(run)._add(**counts)
        return counts

    def _amazon_sp_set_review(self, reason, message, state="to_review"):
        flow(self).write({"state": state, "review_reason": reason, "review_message": message})

    def _amazon_sp_flag_altered(self):
        """Send the events whose raw data no longer matches its SHA-256 to review (nothing is
        booked from altered data). Returns them."""
        altered = self.filtered("raw_mismatch")
        for event in altered:
            event._amazon_sp_set_review(
                "integrity",
                self.env._(
                    "The raw data of this event was changed after its import: it no longer "
                    "matches its SHA-256 %(sha)s. Nothing is booked from it; import it again "
                    "or ignore it.",
                    sha=event.raw_sha256,
                ),
            )
        return altered

    # ------------------------------------------------------------------------------------------
    # Review actions
    # ------------------------------------------------------------------------------------------

    def _amazon_sp_posted_clearing(self):
        """{event id: what its posted documents moved on the clearing account, in the event's
        currency (Decimal), or None when it has no posted document}. An event with nothing to
        book moved nothing: 0."""
        clearing = self.company_id.amazon_sp_clearing_account_id
        result = {}
        for event in self:
            if event.state == "nothing":
                result[event.id] = Decimal(0)
                continue
            moves = event.move_ids.filtered(lambda m: m.state == "posted")
            if not moves:
                result[event.id] = None
                continue
            if event.event_type == "sale" and len(moves.amazon_event_ids) > 1:
                # A summary entry of many sales: each sale moved its own net, the entry's
                # difference to the sum of its sales (if changed by hand) is shown on each.
                lines = moves.line_ids.filtered(lambda line, c=clearing: line.account_id in c)
                gap = sum(lines.mapped("amount_currency")) - sum(
                    moves.amazon_event_ids.mapped("amount_total")
                )
                own = event.currency_id.round(event.amount_total + gap)
                result[event.id] = Decimal(str(own))
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

    def action_post(self, reason=None):
        """Post: the draft documents of the events (threshold, draft policy), or make and
        post them (other events to review are planned again, without the threshold). Keeping
        the posted documents of an event Amazon changed since needs a ``reason`` (asked in a
        dialog)."""
        events = flow(self)
        kept = events.filtered(lambda ev: ev.review_reason == "changed" and ev.move_ids)
        if kept and reason:
            kept._amazon_sp_keep_posted(reason)
        events -= kept
        to_plan = events.filtered(lambda ev: ev.state in ("to_review", "new") and not ev.move_ids)
        if to_plan.filtered(lambda ev: ev.review_reason == "changed"):
            raise UserError(
                self.env._(
                    "Amazon changed these events after import: compare the raw data, then keep "
                    "the documents, ignore the event, or take Amazon's new content."
                )
            )
        with_drafts = events.filtered(lambda ev: ev.state in ("to_review", "ready") and ev.move_ids)
        with_drafts -= with_drafts._amazon_sp_flag_altered()
        if with_drafts:
            moves = with_drafts.move_ids.filtered(lambda m: m.state == "draft")
            if moves:
                moves.action_post()
            checked = with_drafts._amazon_sp_check_documents()
            checked.write(
                {
                    "state": "posted",
                    "review_reason": False,
                    "review_message": False,
                    "processed_by": self.env.user.name,
                }
            )
            for event in checked:
                event.message_post(body=self.env._("Documents posted after review."))
            sales = checked.filtered(lambda ev: ev.event_type == "sale")
            if sales:  # an invoice-policy sale: its receivable is settled once posted
                self.env["amazon.sp.service.sales.invoice"]._reconcile_sales(sales)
        if to_plan:
            to_plan.with_context(amazon_sp_skip_threshold=True)._amazon_sp_process()
        if kept and not reason:
            return kept._amazon_sp_open_post_reason()
        return True

    def _amazon_sp_check_documents(self):
        """The every-cent check of documents posted outside the import (after review, or an
        imported document reset and posted again): the events whose posted documents move the
        clearing account by their net amount are returned; the others go to review."""
        problems = self.env["amazon.sp.service.posting"]._check_posted(self)
        for event in self.filtered(lambda ev: ev.id in problems):
            event._amazon_sp_set_review(*problems[event.id])
        return self.filtered(lambda ev: ev.id not in problems)

    def _amazon_sp_open_post_reason(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Keep the Posted Documents"),
            "res_model": "amazon.sp.event.post",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_event_ids": self.ids},
        }

    def _amazon_sp_keep_posted(self, reason):
        """Keep the posted documents of events Amazon changed since (their new content is
        dismissed; their drafts are posted), with the user's reason in the chatter."""
        drafts = self.move_ids.filtered(lambda m: m.state == "draft")
        if drafts:
            drafts.action_post()
        self.write(
            {
                "state": "posted",
                "review_reason": False,
                "review_message": False,
                "processed_by": self.env.user.name,
            }
        )
        for event in self:
            event.message_post(
                body=self.env._(
                    "Posted documents kept although Amazon changed the event, by %(user)s: "
                    "%(reason)s",
                    user=self.env.user.name,
                    reason=reason,
                )
            )

    def action_retry(self):
        """Plan again (after the mapping or settings changed)."""
        events = flow(self).filtered(
            lambda ev: (
                ev.state in ("to_review", "error", "new", "nothing")
                and ev.review_reason not in ("changed", "document")
                and ev.line_ids
            )
        )
        drafts = events.move_ids.filtered(lambda m: m.state == "draft")
        if drafts:
            drafts.unlink()
        if events:
            events.write(
                {
                    "state": "new",
                    "review_reason": False,
                    "review_message": False,
                    "nothing_reason": False,
                }
            )
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

    def action_adopt_change(self):
        """Take the content Amazon sent last: reverse the documents and book it again."""
        self.env["amazon.sp.service.change"]._adopt(self)
        return True

    def action_ignore(self, reason=None):
        """Keep the event without documents (its draft documents are deleted)."""
        for event in flow(self):
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
        if self:
            # A duplicate ignored may free the unique index that waited for it.
            self.sudo()._amazon_sp_fingerprint_index()
        return {"type": "ir.actions.act_window_close"}
