import hashlib
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg2.errors

from odoo import Command, fields, models
from odoo.exceptions import ValidationError

from ..domain import sources
from ..domain.model import SOURCE_2024, SOURCE_V0, event_to_json
from ..domain.settle import is_deferred
from ..domain.values import canonical_json, decimal_text
from .common import company_tz

_logger = logging.getLogger(__name__)

# Amounts from this size on are not money (Odoo's floats would round or overflow them).
MAX_AMOUNT = Decimal(10) ** 12


# An event dated this much ahead of now waits for review (a day: clocks and time zones).
FUTURE_MARGIN = timedelta(days=1)
# No Amazon event is older than this, whatever was asked.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def _sane(amount):
    return amount.is_finite() and abs(amount) < MAX_AMOUNT


def content_sha256(ev, legacy=False):
    """Digest of what matters for the books (not volatile fields like transactionStatus).

    Numbers are written without trailing zeros (-19.60 and -19.6 give one digest: how Amazon
    formats a number is not a change); ``legacy``: the digest of older versions, written as
    received, still recognised for the events they stored."""
    number = str if legacy else decimal_text
    lines = sorted(
        [
            ln.amount_type.lower(),
            number(ln.amount),
            ln.sku or "",
            number(Decimal(ln.quantity)) if ln.quantity else "",
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
        number(ev.total),
        lines,
    ]
    return hashlib.sha256(canonical_json(parts).encode("utf-8")).hexdigest()


def raw_text(raw):
    """Amazon's raw data as canonical JSON (repr when it is not JSON data)."""
    try:
        return canonical_json(raw)
    except TypeError:
        return repr(raw)


def normalized_text(ev):
    """The normalized event as stored in ``normalized_json``."""
    return canonical_json(event_to_json(ev))


# One raw event as a page of its Finances API (v0: under its list name, kept in ``source``).
_PAGE_OF_ONE = {
    SOURCE_V0: lambda list_name, raw: {"FinancialEvents": {list_name: [raw]}},
    SOURCE_2024: lambda _transaction_type, raw: {"transactions": [raw]},
}


class AmazonSpServiceStaging(models.AbstractModel):
    """The staging step of the import: the normalized events of one page become
    ``amazon.sp.event`` rows (raw JSON, normalized JSON and their digests), once per account.

    An event is never overwritten: the same key with other content goes to review. Methods take
    the account, or the events, they work on first; all are private steps of
    ``amazon.sp.service.import`` (no hook).
    """

    _name = "amazon.sp.service.staging"
    _description = "Amazon Event Staging"

    # ------------------------------------------------------------------------------------------
    # One seller, one account
    # ------------------------------------------------------------------------------------------

    def _same_seller(self, account):
        """The other accounts (archived ones too, in every company) of the seller of
        ``account``: what they imported is already known."""
        if not account.seller_id:
            return account.browse()
        return (
            account.sudo()
            .with_context(active_test=False)
            .search([("seller_id", "=", account.seller_id), ("id", "!=", account.id)])
        )

    def _check_seller_once(self, accounts):
        """A seller is linked once per region (in the whole database): a second active account
        would import and post everything a second time."""
        for account in accounts.filtered(lambda acc: acc.seller_id and acc.active):
            other = self._same_seller(account).filtered(
                lambda acc, a=account: acc.active and acc.region == a.region
            )[:1]
            if other:
                raise ValidationError(
                    self.env._(
                        "Seller %(seller)s is already linked in this region by account "
                        "%(account)s of company %(company)s: one account per seller and region, "
                        "or everything would be booked twice. Use that account, or archive it "
                        "first.",
                        seller=account.seller_id,
                        account=other.name,
                        company=other.company_id.name,
                    )
                )

    # ------------------------------------------------------------------------------------------
    # Staging
    # ------------------------------------------------------------------------------------------

    def _known_elsewhere(self, account, events):
        """The transaction ids and fingerprints of ``events`` already staged by another account
        of the same seller (read by both, booked once)."""
        others = self._same_seller(account)
        ids = [ev.transaction_id for ev in events if ev.transaction_id]
        fingerprints = [ev.fingerprint for ev in events if ev.fingerprint]
        if not others or not (ids or fingerprints):
            return set(), set()
        found = (
            self.env["amazon.sp.event"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("account_id", "in", others.ids),
                    "|",
                    ("transaction_id", "in", ids or [""]),
                    ("fingerprint", "in", fingerprints or [""]),
                ]
            )
        )
        return set(found.mapped("transaction_id")) - {False}, set(found.mapped("fingerprint"))

    def _stage(self, account, run, events, failures, marketplaces_by_amazon_id):
        """Store one page of normalized events (one ``create``); returns (counters, created).

        An event whose key or fingerprint is known is "already known"; the same key with a
        different raw payload goes to review (never overwritten). ``failures`` (events Amazon
        sent that could not be read) are stored in error with their raw data.
        """
        # A page at a time: the rows of the earlier pages are written and leave the cache, so
        # a window of many pages takes the memory of one.
        self.env.invalidate_all()
        Event = self.env["amazon.sp.event"]
        counts = {"events_fetched": len(events) + len(failures)}
        keys = [ev.key for ev in events]
        fingerprints = [ev.fingerprint for ev in events if ev.fingerprint]
        failure_rows = []
        for failure in failures:
            text = raw_text(failure.raw)
            sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
            failure_rows.append((f"raw:{sha}", sha, text, failure))
        keys += [row[0] for row in failure_rows]
        existing = Event.with_context(active_test=False).search(
            [
                ("account_id", "=", account.id),
                "|",
                ("key", "in", keys),
                ("fingerprint", "in", fingerprints or [""]),
            ]
        )
        by_key = {rec.key: rec for rec in existing}
        by_fp = {rec.fingerprint: rec for rec in existing if rec.fingerprint}
        other_ids, other_fps = self._known_elsewhere(account, events)
        currencies = self._currencies({ev.currency for ev in events})
        tz = company_tz(self.env, account.company_id)  # once per page, not per event
        vals_list = []
        known = changed = 0
        seen = set()
        for ev in events:
            if ev.key in seen:
                continue
            seen.add(ev.key)
            rec = by_key.get(ev.key)
            if rec:
                if self._is_known(rec, ev):
                    known += 1
                    if rec.state == "deferred" and not is_deferred(ev.transaction_status):
                        self._release(rec, ev)
                else:
                    changed += 1
                    self._flag_changed(rec, ev)
                continue
            if (ev.fingerprint and ev.fingerprint in by_fp) or (
                (ev.transaction_id and ev.transaction_id in other_ids)
                or (ev.fingerprint and ev.fingerprint in other_fps)
            ):
                known += 1
                continue
            problem = self._unreadable(ev, currencies)
            if problem:
                vals_list.append(self._error_vals(account, run, ev, problem))
            else:
                vals = self._event_vals(
                    account, run, ev, marketplaces_by_amazon_id, currencies[ev.currency], tz=tz
                )
                problem = self._date_problem(account, run, ev)
                if problem:
                    vals.update(state="to_review", review_reason="plan", review_message=problem)
                elif is_deferred(ev.transaction_status):
                    vals["state"] = "deferred"
                vals_list.append(vals)
        for key, sha, text, failure in failure_rows:
            if key in by_key or key in seen:
                known += 1
                continue
            seen.add(key)
            vals_list.append(self._failure_vals(account, run, key, sha, text, failure))
        created = self._create(account, run, events, vals_list)
        counts.update(
            events_new=len(created),
            events_known=known,
            events_changed=changed,
            events_error=len(created.filtered(lambda event: event.state == "error")),
            events_to_review=len(created.filtered(lambda event: event.state == "to_review")),
        )
        return counts, created

    def _create(self, account, run, events, vals_list):
        """Create the page's events in one ``create``; when it fails, one by one (each in a
        savepoint), an event that cannot be created going to error alone."""
        Event = self.env["amazon.sp.event"]
        if not vals_list:
            return Event
        # No chatter work per event at creation (a "created" note, the importing user
        # subscribed to each of thousands of events): the import run says what was staged.
        # The events returned are without that context: their later changes are tracked.
        Event = Event.with_context(tracking_disable=True)
        self._line_copies(account, vals_list)
        # The events in one create, their lines in SQL (thousands of rows nothing computes
        # from: amazon.sp.event.line._amazon_sp_insert); one by one below if that fails.
        event_vals = [{k: v for k, v in vals.items() if k != "line_ids"} for vals in vals_list]
        try:
            with self.env.cr.savepoint():
                created = Event.create(event_vals)
                self.env["amazon.sp.event.line"]._amazon_sp_flow()._amazon_sp_insert(
                    [
                        {**command[2], "event_id": event.id}
                        for event, vals in zip(created, vals_list, strict=True)
                        for command in vals.get("line_ids") or ()
                    ]
                )
                created.invalidate_recordset(["line_ids"])
                return self.env["amazon.sp.event"].browse(created.ids)
        except Exception as exc:  # pylint: disable=broad-except
            _logger.warning("Amazon account %s: page not staged at once: %s", account.id, exc)
        by_key = {ev.key: ev for ev in events}
        created = Event
        for vals in vals_list:
            try:
                with self.env.cr.savepoint():
                    created |= Event.create(vals)
            except psycopg2.errors.UniqueViolation:
                # Staged meanwhile by another import (the unique key or fingerprint): known.
                _logger.info("Amazon account %s: %s already staged", account.id, vals["key"])
            except Exception as exc:  # pylint: disable=broad-except
                ev = by_key.get(vals["key"])
                if ev is None:
                    raise
                message = self.env._("This event could not be stored: %(error)s", error=exc)
                created |= Event.create(self._error_vals(account, run, ev, message))
        return self.env["amazon.sp.event"].browse(created.ids)

    def _line_copies(self, account, vals_list):
        """Each new line gets its event's company, account, marketplace and currency (the
        line's precomputed related fields): what Odoo would compute line by line."""
        for vals in vals_list:
            copies = {
                "company_id": account.company_id.id,
                "account_id": vals["account_id"],
                "marketplace_id": vals.get("marketplace_id") or False,
                "currency_id": vals.get("currency_id") or False,
            }
            for command in vals.get("line_ids") or ():
                command[2].update(copies)

    def _unreadable(self, ev, currencies):
        """Why the normalized event ``ev`` cannot be booked as it is (a plain message), or
        None: a currency Odoo does not know (not in ``currencies``, the page's currencies by
        code), an amount that is not a number Odoo can hold."""
        if ev.currency not in currencies:
            return self.env._(
                "Amazon sent the currency code %(code)s, which Odoo does not know: add the "
                "currency, then retry.",
                code=ev.currency or "?",
            )
        amounts = [ev.total] + [ln.amount for ln in ev.lines]
        amounts += [ln.quantity for ln in ev.lines if ln.quantity is not None]
        if not all(_sane(amount) for amount in amounts):
            return self.env._(
                "Amazon sent an amount that is not a real money amount (%(amounts)s): ask "
                "Amazon, then ignore this event or book it by hand.",
                amounts=", ".join(sorted({str(a) for a in amounts if not _sane(a)})),
            )
        return None

    def _date_problem(self, account, run, ev):
        """Why the date of ``ev`` needs a look before it is booked (a plain message), or None:
        a date more than a day ahead, or before the account's start (``sync_from``; a date
        range asked in the wizard may go further back, not before 2000)."""
        posted = ev.posted_date.astimezone(UTC)
        now = self.env["amazon.sp.service.import"]._now()
        if posted > now + FUTURE_MARGIN:
            return self.env._(
                "Amazon dates this event %(date)s, in the future: check the date with Amazon "
                "before it is booked (retry it to book it as it is, or ignore it).",
                date=posted.strftime("%Y-%m-%d %H:%M:%S"),
            )
        floor = EARLIEST
        if account.sync_from and run.trigger != "wizard":
            floor = fields.Datetime.to_datetime(account.sync_from).replace(tzinfo=UTC)
        if posted < floor:
            return self.env._(
                "Amazon dates this event %(date)s, before the start of the account "
                "(%(start)s): check the date with Amazon before it is booked (retry it to book "
                "it as it is, or ignore it).",
                date=posted.strftime("%Y-%m-%d %H:%M:%S"),
                start=floor.strftime("%Y-%m-%d %H:%M:%S"),
            )
        return None

    def _error_vals(self, account, run, ev, message):
        """The values of the event in error that keeps the raw data of ``ev`` under its key."""
        return {
            "account_id": account.id,
            "key": ev.key,
            "fingerprint": ev.fingerprint,
            "transaction_id": ev.transaction_id,
            "amazon_order_id": ev.amazon_order_id,
            "raw_json": raw_text(ev.raw),
            "raw_sha256": ev.raw_sha256,
            "source": ev.source,
            "source_api": ev.source_api,
            "event_type": ev.event_type,
            "state": "error",
            "review_message": message,
            "import_run_id": run.id,
        }

    def _is_known(self, event, ev):
        """Whether ``ev`` (read again under the key of ``event``) brings nothing new. A stored
        event that lost its normalized copy gets it back when the same data is read again."""
        if not (
            event.raw_sha256 == ev.raw_sha256
            or event.content_sha256 in (content_sha256(ev), content_sha256(ev, legacy=True))
            or event.upstream_sha256 == ev.raw_sha256
        ):
            return False
        lost = not event.normalized_json or event.review_reason == "stored"
        if lost and event.raw_sha256 == ev.raw_sha256:
            event.normalized_json = normalized_text(ev)
        return True

    def _event_vals(self, account, run, ev, marketplaces_by_amazon_id, currency, tz=None):
        """The values of the new ``amazon.sp.event`` of the normalized event ``ev`` in
        ``currency`` (its ``res.currency``, activated when it was not); ``tz``: the company's
        time zone (``common.company_tz``), read here when not given."""
        marketplace = marketplaces_by_amazon_id.get(ev.marketplace_id)
        if not currency.active:
            _logger.info("Activating currency %s for Amazon events", currency.name)
            currency.active = True
        posted = ev.posted_date.astimezone(UTC)
        tz = tz or company_tz(self.env, account.company_id)
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
            "raw_json": raw_text(ev.raw),
            "raw_sha256": ev.raw_sha256,
            "normalized_json": normalized_text(ev),
            "content_sha256": content_sha256(ev),
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

    def _failure_vals(self, account, run, key, sha, text, failure):
        """The values of the event in error that keeps an unreadable raw event (``failure``, a
        ``domain.model.RawFailure``) under ``key``."""
        return {
            "account_id": account.id,
            "key": key,
            "raw_json": text,
            "raw_sha256": sha,
            "source": failure.source,
            "source_api": run.finances_api or account.finances_api,
            "event_type": "other",
            "state": "error",
            "review_message": failure.message,
            "import_run_id": run.id,
        }

    def _currencies(self, codes):
        """``{ISO code: res.currency}`` of those of ``codes`` Odoo knows (archived ones too),
        read in one query for a page."""
        Currency = self.env["res.currency"].with_context(active_test=False).sudo()
        return {
            currency.name: currency for currency in Currency.search([("name", "in", list(codes))])
        }

    def _flag_changed(self, event, ev):
        """Amazon sent other content (``ev``) under the key of ``event``: keep it beside the
        stored one and send the event to review (an ignored event stays ignored)."""
        event.ensure_one()
        event.write(
            {
                "upstream_raw_json": raw_text(ev.raw),
                "upstream_sha256": ev.raw_sha256,
                "state": "to_review" if event.state != "ignored" else "ignored",
                "review_reason": "changed",
                "review_message": self.env._(
                    "Amazon sent different content under the same key (SHA-256 %(old)s → %(new)s). "
                    "The stored content and its documents are unchanged; compare and decide.",
                    old=(event.raw_sha256 or "")[:12],
                    new=(ev.raw_sha256 or "")[:12],
                ),
            }
        )

    def _release(self, event, ev):
        """Amazon released the deferred ``event`` (read again as ``ev``, same money): it
        takes its status and the group that pays it, and goes back to ``new`` to be booked."""
        event.ensure_one()
        previous = event.group_id
        event.write({"state": "new"})
        # The row and its stored normalized copy (which the planners read) take the new status.
        self._set_group(
            event,
            ev.group_id if ev.group_id and ev.group_id != previous else previous,
            transaction_status=ev.transaction_status,
        )
        event.message_post(
            body=self.env._(
                "Amazon released this deferred transaction (status %(status)s): it is booked "
                "now, in the settlement %(group)s that pays it.",
                status=ev.transaction_status or "-",
                group=event.group_id or "-",
            )
        )

    def _set_group(self, events, group_id, **changes):
        """The events learn their financial event group (and ``changes``, e.g. a new
        ``transaction_status``): the row and its normalized event (as normalizing its page read
        by group gives it)."""
        for event in events:
            vals = {"group_id": group_id, **changes}
            try:
                data = json.loads(event.normalized_json or "null")
            except ValueError:
                data = None  # unreadable: waits for review when planned
            if isinstance(data, dict):
                data.update(group_id=group_id, **changes)
                vals["normalized_json"] = canonical_json(data)
            event.write(vals)

    # ------------------------------------------------------------------------------------------
    # Events staged before the normalized copy existed
    # ------------------------------------------------------------------------------------------

    def _restore_normalized(self, events):
        """Store the normalized copy of the events that have none (staged before it existed),
        by normalizing their raw data again through their Finances source. It is kept only
        when it gives back the event that was staged (same key and same content digest); the
        others keep none and wait for review when planned. Returns the events filled."""
        filled = self.env["amazon.sp.event"]
        for event in events.filtered(lambda ev: ev.line_ids and not ev.normalized_json):
            try:
                normalized = self._normalize_raw_again(event)
            except (ValueError, TypeError, KeyError) as exc:  # NormalizationError included
                _logger.info("Amazon event %s: raw data not read again: %s", event.id, exc)
                continue
            if normalized is None:
                _logger.info("Amazon event %s: raw data gives another event", event.id)
                continue
            event.normalized_json = normalized_text(normalized)
            filled |= event
        return filled

    def _normalize_raw_again(self, event, upstream=False):
        """The normalized event of the stored raw data of ``event``, with its stored key and
        fingerprint (the import numbers repeats), or None when it is not the event that was
        staged. ``upstream``: of the other content Amazon sent since under its key (any
        content; None when it is not the same event)."""
        event.ensure_one()
        source = sources.get_source(event.source_api)
        text = event.upstream_raw_json if upstream else event.raw_json
        raw = json.loads(text or "null", parse_float=Decimal)
        page = _PAGE_OF_ONE[source.name](event.source, raw)
        resolver = None
        if source.needs_marketplace_resolver:
            resolver = self.env["amazon.sp.service.import"]._marketplace_resolver(event.account_id)
        found, _failures = source.normalize(
            page,
            marketplace_resolver=resolver,
            group_id=event.group_id or None,
            posted_date_fallback=(
                event.posted_date.replace(tzinfo=UTC) if event.posted_date else None
            ),
        )
        if len(found) != 1:
            return None
        normalized = found[0]
        if event.key != normalized.key and not event.key.startswith(f"{normalized.key}#"):
            return None
        normalized = replace(normalized, key=event.key, fingerprint=event.fingerprint or "")
        if upstream:
            return normalized
        if event.content_sha256 not in (
            content_sha256(normalized),
            content_sha256(normalized, legacy=True),
        ):
            return None
        return normalized
