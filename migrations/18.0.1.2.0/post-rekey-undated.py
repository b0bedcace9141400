"""18.0.1.2.0: undated v0 events (service fees, some adjustments) carry their settlement in
their key and fingerprint, so that the same fee in two months is two events.

The events staged before have keys without it: read again, each would look new and be booked a
second time. Their key and fingerprint are computed again from their stored raw data with the
settlement they were read in (a repeat number ``#n`` kept). When an event with the new key or
fingerprint was staged since (the same Amazon event read again), neither is changed: the newer
one goes to review naming the older (posted data is never deleted), and it is logged.
"""

import json
import logging
from datetime import UTC
from decimal import Decimal

from odoo import SUPERUSER_ID, api

from odoo.addons.account_amazon_refund.domain import sources
from odoo.addons.account_amazon_refund.domain.values import canonical_json
from odoo.addons.account_amazon_refund.services.staging import _PAGE_OF_ONE

_logger = logging.getLogger(__name__)


def _split(value):
    """(base, "#n" or "") of a key or fingerprint."""
    base, sep, rank = (value or "").rpartition("#")
    return (base, f"#{rank}") if sep and rank.isdigit() else (value or "", "")


def new_identity(env, event):
    """(key, fingerprint) of the undated v0 ``event`` with its settlement, or None when its
    identity does not change (a dated event, no settlement, a key of the current rule) or its
    raw data cannot be read again."""
    source = sources.get_source("v0")
    try:
        raw = json.loads(event.raw_json or "null", parse_float=Decimal)
        resolver = env["amazon.sp.service.import"]._marketplace_resolver(event.account_id)

        def read(group_id):
            found, _failures = source.normalize(
                _PAGE_OF_ONE[source.name](event.source, raw),
                marketplace_resolver=resolver,
                group_id=group_id,
                posted_date_fallback=event.posted_date.replace(tzinfo=UTC),
            )
            return found[0] if len(found) == 1 else None

        old, new = read(None), read(event.group_id)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        _logger.info("Amazon event %s: raw data not read again: %s", event.id, exc)
        return None
    if not old or not new or old.key == new.key:
        return None
    key_base, key_rank = _split(event.key)
    fp_base, fp_rank = _split(event.fingerprint)
    if key_base != old.key:
        return None  # not a key of the former rule
    fingerprint = event.fingerprint
    if fp_base == old.fingerprint:
        fingerprint = new.fingerprint + fp_rank
    return new.key + key_rank, fingerprint


def rekey_undated(env):
    """Re-key the undated v0 events staged with the former keys. Returns (events re-keyed,
    events sent to review because the new identity was staged since)."""
    Event = env["amazon.sp.event"].with_context(active_test=False)
    candidates = Event.search(
        [("source_api", "=", "v0"), ("group_id", "!=", False), ("raw_json", "!=", False)]
    )
    rekeyed = flagged = Event
    for event in candidates:
        identity = new_identity(env, event)
        if not identity:
            continue
        key, fingerprint = identity
        twin = Event.search(
            [
                ("account_id", "=", event.account_id.id),
                ("id", "!=", event.id),
                "|",
                ("key", "=", key),
                ("fingerprint", "=", fingerprint),
            ],
            limit=1,
        )
        if twin:
            _logger.warning(
                "Amazon event %s: staged again since as event %s under the new key; "
                "both are kept, the newer one waits for review",
                event.id,
                twin.id,
            )
            older, newer = (event, twin) if event.id < twin.id else (twin, event)
            flagged |= Event._amazon_sp_flag_duplicates(
                [(event.account_id.id, fingerprint, [older.id, newer.id])]
            )
            continue
        vals = {"key": key, "fingerprint": fingerprint}
        try:
            data = json.loads(event.normalized_json or "null")
        except ValueError:
            data = None
        if isinstance(data, dict):
            data.update(key=key, fingerprint=fingerprint)
            vals["normalized_json"] = canonical_json(data)
        event._amazon_sp_flow().write(vals)
        rekeyed |= event
    return rekeyed, flagged


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    rekeyed, flagged = rekey_undated(env)
    _logger.info(
        "Amazon events: %s undated v0 event(s) re-keyed with their settlement, %s sent to review",
        len(rekeyed),
        len(flagged),
    )
