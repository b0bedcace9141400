import logging

from odoo import Command, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class AmazonSpServiceChange(models.AbstractModel):
    """Adopt what Amazon changed: an event Amazon sent again with other content after its
    documents were made. Its documents are reversed (posted drafts removed), the event takes
    the new content (raw JSON, normalized JSON, lines, digests) and is booked again, and both
    the event and its documents say so in their chatter. Amazon's first content stays readable
    in the chatter's attachment."""

    _name = "amazon.sp.service.change"
    _description = "Amazon Change Adoption Service"

    def _adopt(self, events):
        events = events._amazon_sp_flow()
        changed = events.filtered(lambda ev: ev.review_reason == "changed" and ev.upstream_raw_json)
        if changed != events:
            raise UserError(
                self.env._(
                    "Only events Amazon changed after import can take Amazon's new content: "
                    "%(names)s.",
                    names=", ".join((events - changed).mapped("display_name")),
                )
            )
        Staging = self.env["amazon.sp.service.staging"]
        new_contents = {}
        for event in changed:
            try:
                normalized = Staging._normalize_raw_again(event, upstream=True)
            except (ValueError, TypeError, KeyError) as exc:  # NormalizationError included
                _logger.info("Amazon event %s: new content not read: %s", event.id, exc)
                normalized = None
            if normalized is None:
                raise UserError(
                    self.env._(
                        "Amazon's new content of %(event)s cannot be read as the same event: "
                        "ignore the event and book the difference by hand.",
                        event=event.display_name,
                    )
                )
            new_contents[event.id] = normalized
        for event in changed:
            self._adopt_one(event, new_contents[event.id])
        changed._amazon_sp_process()
        for event in changed:
            documents = event.move_ids.filtered(lambda m: m.state == "posted")
            event.message_post(
                body=self.env._(
                    "Documents after adopting Amazon's change: %(moves)s.",
                    moves=", ".join(documents.mapped("name")) or self.env._("none yet"),
                )
            )
        return changed

    def _adopt_one(self, event, normalized):
        """Reverse the documents of ``event`` and give it the content ``normalized``."""
        posted = event.move_ids.filtered(lambda m: m.state == "posted")
        event.move_ids.filtered(lambda m: m.state == "draft").unlink()
        reversals = self.env["account.move"]
        if posted:
            date = max(fields.Date.context_today(self), *posted.mapped("date"))
            reversals = posted._reverse_moves(
                [
                    {
                        "date": date,
                        "ref": self.env._(
                            "Reversal of %(move)s: Amazon changed the event", move=m.name
                        ),
                    }
                    for m in posted
                ]
            )
            reversals.action_post()
            for move in posted:
                move.message_post(
                    body=self.env._(
                        "Reversed because Amazon changed its event %(event)s; adopted by %(user)s.",
                        event=event.display_name,
                        user=self.env.user.name,
                    )
                )
        old_sha, old_raw = event.raw_sha256, event.raw_json or ""
        vals = self.env["amazon.sp.service.staging"]._event_vals(
            event.account_id,
            event.import_run_id,
            normalized,
            {event.marketplace_id.marketplace_id: event.marketplace_id}
            if event.marketplace_id
            else {},
            event.currency_id,
        )
        keep = (
            "account_id",
            "marketplace_id",
            "key",
            "fingerprint",
            "import_run_id",
            "currency_id",
        )
        for name in keep:
            vals.pop(name, None)
        vals.update(
            {
                "line_ids": [Command.clear(), *vals["line_ids"]],
                "move_ids": [Command.link(move.id) for move in reversals],
                "upstream_raw_json": False,
                "upstream_sha256": False,
                "state": "new",
                "review_reason": False,
                "review_message": False,
            }
        )
        event.write(vals)
        event.message_post(
            body=self.env._(
                "Amazon's change adopted by %(user)s: content %(old)s replaced by %(new)s; "
                "documents reversed by %(reversals)s.",
                user=self.env.user.name,
                old=(old_sha or "")[:12],
                new=(event.raw_sha256 or "")[:12],
                reversals=", ".join(reversals.mapped("name")) or self.env._("none"),
            ),
            attachments=[(f"amazon-event-{event.id}-{(old_sha or '')[:12]}.json", old_raw)],
        )
