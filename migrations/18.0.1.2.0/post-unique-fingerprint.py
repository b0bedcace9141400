"""18.0.1.2.0: one Amazon event is stored once per account, whichever API read it: a unique
index on (account, fingerprint) backs the dedupe of the import.

The model's ``init()`` creates the index when no two events of an account share a fingerprint.
When some do (two imports that ran at once before the import lock, an account switched between
the Finances APIs), nothing is deleted: the extra events that are not posted go to review
naming the event they repeat, posted ones get a note, all are logged, and the index is created
as soon as the extras are ignored.
"""

import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    Event = env["amazon.sp.event"]
    duplicates = Event._amazon_sp_fingerprint_index()
    if not duplicates:
        _logger.info("Amazon events: no fingerprint stored twice, the unique index is in place")
        return
    flagged = Event._amazon_sp_flag_duplicates(duplicates)
    _logger.warning(
        "Amazon events: %s fingerprint(s) stored twice; %s event(s) sent to review, the unique "
        "index waits until the extras are ignored",
        len(duplicates),
        len(flagged),
    )
