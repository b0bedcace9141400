"""Identity of a normalized event: key, fingerprint, numbering of repeats
(``doc/event-shapes.md`` "Event identity"; pure Python, no Odoo).
"""

import hashlib
from dataclasses import replace
from datetime import timezone

from .model import ORDER_EVENT_TYPES
from .values import canonical_json, decimal_text


def _digest(parts):
    return hashlib.sha256(canonical_json(parts).encode("utf-8")).hexdigest()


def _line_parts(lines):
    return sorted(
        [
            ln.amount_type,
            decimal_text(ln.amount),
            ln.sku or "",
            ln.order_adjustment_item_id or "",
        ]
        for ln in lines
    )


def _adjustment_item_ids(lines):
    return sorted({ln.order_adjustment_item_id for ln in lines if ln.order_adjustment_item_id})


def _date_text(posted_date):
    return posted_date.astimezone(timezone.utc).isoformat() if posted_date else ""


def digest_key(kind, order_id, posted_date, lines, group_id=None):
    """``v0:<sha256>`` of event kind, order id, posted date, adjustment item ids and amounts.

    ``group_id``: the settlement of an event Amazon sends without a date (the same service fee
    every month is another event in each settlement)."""
    parts = [
        kind,
        order_id or "",
        _date_text(posted_date),
        _adjustment_item_ids(lines),
        _line_parts(lines),
    ]
    if group_id:
        parts.append(["group", group_id])
    return "v0:" + _digest(parts)


def _fingerprint_type(amount_type):
    """The VAT Amazon charges on a fee is part of that fee in v0: ``FeeTax/X`` counts as
    ``Fee/X``, so a service fee gives one fingerprint whichever API read it."""
    category, _sep, name = amount_type.partition("/")
    return f"Fee/{name}" if category == "FeeTax" else amount_type


def fingerprint(event_type, order_id, posted_date, lines, total, group_id=None):
    """Identity shared by both APIs (the same canonical event gives the same fingerprint).

    sha256 of: the family (``order`` for refund/claim/chargeback, else the event type); the order
    id, or for a non-order event without one its sorted amount types and SKUs; the posted date to
    the second in UTC; the sorted adjustment item ids; the net total.
    """
    if event_type in ORDER_EVENT_TYPES:
        family, ident = "order", order_id or ""
    else:
        family = event_type
        ident = [
            order_id or "",
            sorted({_fingerprint_type(ln.amount_type) for ln in lines}),
            sorted({ln.sku for ln in lines if ln.sku}),
        ]
    when = ""
    if posted_date is not None:
        when = posted_date.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = ["fp1", family, ident, when, _adjustment_item_ids(lines), decimal_text(total)]
    if group_id:  # an undated event: its settlement tells repeats apart
        parts.append(["group", group_id])
    return _digest(parts)


def _number_duplicates(events, identity):
    """Events identical in content but distinct in Amazon (two equal service fees) must not
    collapse into one: the n-th repeat of a key or fingerprint within one call gets ``#n``.
    ``identity(event)`` says which events are the SAME Amazon event (not numbered)."""
    result = []
    seen_keys, seen_fps = {}, {}
    for event in events:
        ident = identity(event)
        changes = {}
        for attr, seen in (("key", seen_keys), ("fingerprint", seen_fps)):
            value = getattr(event, attr)
            owners = seen.setdefault(value, [])
            if ident not in owners:
                owners.append(ident)
            rank = owners.index(ident) + 1
            if rank > 1:
                changes[attr] = f"{value}#{rank}"
        if changes:
            event = replace(event, **changes)
        result.append(event)
    return result


def _base(value):
    """A key or fingerprint without its repeat number (``#n``)."""
    base, sep, rank = (value or "").rpartition("#")
    return base if sep and rank.isdigit() else value


def number_across_pages(events, seen):
    """Number the repeats of ``events`` (one page) after those of the earlier pages of the
    same window, as :func:`_number_duplicates` numbers them within a page: ``seen`` (a dict
    the caller keeps for the window, updated here) remembers who owns each key and
    fingerprint. Identical events on two pages then keep two keys, the same at every read of
    the window from its start; one transaction (same ``transaction_id``) listed twice stays one.
    """
    owners_by = {"key": seen.setdefault("key", {}), "fingerprint": seen.setdefault("fp", {})}
    counter = seen.setdefault("events", [0])
    result = []
    for event in events:
        counter[0] += 1
        ident = event.transaction_id or ("event", counter[0])
        changes = {}
        for attr, owners_of in owners_by.items():
            value = getattr(event, attr)
            if not value:
                continue
            base = _base(value)
            owners = owners_of.setdefault(base, [])
            if ident not in owners:
                owners.append(ident)
            rank = owners.index(ident) + 1
            numbered = base if rank == 1 else f"{base}#{rank}"
            if numbered != value:
                changes[attr] = numbered
        result.append(replace(event, **changes) if changes else event)
    return result
