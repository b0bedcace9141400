"""18.0.1.3.0: an event line's *Event Status* is read through its event, no longer stored on
each line (an event's status changes with its thousands of lines otherwise). The column the
earlier versions stored is dropped; the view of unmapped amount types, made again by the
update, reads the event's status."""

import logging

from odoo.tools import SQL

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    cr.execute(SQL("ALTER TABLE amazon_sp_event_line DROP COLUMN IF EXISTS event_state"))
    _logger.info("account_amazon_refund: event lines read their event's status (column dropped)")
