"""18.0.1.2.0: settlements, events and reconciliation reviews are named in plain words.

Settlements read "Amazon.com · 06–20 Nov 2026 · $ −314.96" (marketplace, period, Amazon's
total), events "Refund 111-1234567-1234567" or "Adjustment of 20 Nov 2026", and a settlement's
review takes its settlement's name. The names are stored, so the records imported before this
version kept their technical names (raw group ids, ``txn:`` keys, state codes) until something
they depend on changed: the names of all of them are computed again here, in batches.
"""

import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)

# Settlements first: a settlement's review is named after its settlement.
MODELS = ("amazon.sp.settlement", "amazon.sp.event", "amazon.sp.reconciliation")
BATCH = 2000


def recompute_names(env):
    """Compute the stored ``name`` of every settlement, event and review again; returns
    {model: number of records}."""
    counts = {}
    for model_name in MODELS:
        model = env[model_name].with_context(active_test=False)
        ids = model.search([], order="id").ids
        for start in range(0, len(ids), BATCH):
            records = model.browse(ids[start : start + BATCH])
            env.add_to_compute(model._fields["name"], records)
            records.flush_recordset(["name"])
            env.invalidate_all()
        counts[model_name] = len(ids)
    return counts


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    # Names in the database's main language, the administrator's (as the import writes them).
    admin = env.ref("base.user_admin", raise_if_not_found=False)
    if admin and admin.lang:
        env = env(context={"lang": admin.lang})
    counts = recompute_names(env)
    _logger.info("Amazon names computed again: %s", counts)
