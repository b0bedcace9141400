"""18.0.1.1.0: Amazon events keep their normalized copy (``normalized_json``).

The events staged before it existed get it by normalizing their stored raw data again through
their Finances source; those that cannot be read that way keep none, and wait for review with
the reason when they are planned (their amounts and date are never guessed).
"""

import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    events = (
        env["amazon.sp.event"]
        .with_context(active_test=False)
        .search([("normalized_json", "=", False), ("line_ids", "!=", False)])
    )
    filled = events._amazon_sp_restore_normalized()
    _logger.info(
        "Amazon events: normalized copy restored for %s of %s (the others have none)",
        len(filled),
        len(events),
    )
