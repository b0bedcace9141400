from collections import defaultdict

from markupsafe import escape

from odoo import models
from odoo.exceptions import MissingError
from odoo.tools.mail import generate_tracking_message_id


class AmazonSpEvent(models.Model):
    """The chatter lines of the tracked fields of events (state, review reason), written in
    one ``create`` for all the events a transaction changed: the import changes thousands of
    events at once, and Odoo writes each one's tracking message with its own ``create``. The
    messages are Odoo's own (same body, author, note subtype and tracking values)."""

    _inherit = "amazon.sp.event"

    def _message_track(self, fields_iter, initial_values_dict):
        if not fields_iter or len(self) < 2:
            return super()._message_track(fields_iter, initial_values_dict)
        tracked_fields = self.fields_get(
            fields_iter, attributes=("string", "type", "selection", "currency_field")
        )
        tracking = {}
        for record in self:
            try:
                tracking[record.id] = record._mail_track(
                    tracked_fields, initial_values_dict[record.id]
                )
            except MissingError:
                continue
        precommit = self.env.cr.precommit.data
        bodies = precommit.pop(f"mail.tracking.message.{self._name}", {})
        authors = precommit.pop(f"mail.tracking.author.{self._name}", {})
        logs = defaultdict(list)  # author id (None: the user) → [(record, body, tracking)]
        for record in self:
            changes, tracking_value_ids = tracking.get(record.id, (None, None))
            if not changes:
                continue
            initial = initial_values_dict[record.id]
            subtype = record._track_subtype({name: initial[name] for name in changes})
            author_id = authors[record.id].id if record.id in authors else None
            if record.id in bodies:
                body = bodies[record.id]
            else:
                body = record._track_get_default_log_message(changes)
            if subtype:  # as Odoo does (the events' tracking has none)
                if subtype.exists():
                    record.message_post(
                        body=body,
                        author_id=author_id,
                        subtype_id=subtype.id,
                        tracking_value_ids=tracking_value_ids,
                    )
            elif tracking_value_ids:
                logs[author_id].append((record, body, tracking_value_ids))
        for author_id, items in logs.items():
            self._amazon_sp_log_tracking(author_id, items)
        return tracking

    def _amazon_sp_log_tracking(self, author_id, items):
        """The values ``mail.thread._message_log`` gives one tracking message, for all of
        ``items`` ([(record, body, tracking values)]), created at once."""
        author_id, email_from = self._message_compute_author(author_id, None, raise_on_email=False)
        base = {
            "author_id": author_id,
            "email_from": email_from,
            "model": self._name,
            "record_alias_domain_id": False,
            "record_company_id": False,
            "record_name": False,
            "attachment_ids": False,
            "message_type": "notification",
            "is_internal": True,
            "subject": False,
            "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
            "email_add_signature": False,
            "message_id": generate_tracking_message_id("message-notify"),
            "partner_ids": False,
            "reply_to": self.env["mail.thread"]._notify_get_reply_to(default=email_from)[False],
        }
        values_list = [
            dict(base, res_id=record.id, body=escape(body), tracking_value_ids=tracking)
            for record, body, tracking in items
        ]
        return self.sudo()._message_create(values_list)
