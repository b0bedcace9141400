from odoo import models


class MailThread(models.AbstractModel):
    """Notes on Amazon records need no email address: *Post*, *Ignore* and the import log a
    note in the chatter, which a user without an email address must be able to do."""

    _inherit = "mail.thread"

    def _amazon_sp_logs_notes(self):
        """Records whose chatter notes may be written by a user without an email address."""
        return self._name.startswith("amazon.sp.")

    def message_post(self, **kwargs):
        note = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        is_note = kwargs.get("subtype_xmlid") in (None, "mail.mt_note") and kwargs.get(
            "subtype_id"
        ) in (None, False, note)
        records = self
        if is_note and self and self._amazon_sp_logs_notes():
            records = self.with_context(amazon_sp_note_without_email=True)
        return super(MailThread, records).message_post(**kwargs)

    def _message_compute_author(self, author_id=None, email_from=None, raise_on_email=True):
        if self.env.context.get("amazon_sp_note_without_email"):
            raise_on_email = False
        return super()._message_compute_author(author_id, email_from, raise_on_email=raise_on_email)
