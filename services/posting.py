import logging
from collections import defaultdict
from decimal import Decimal

from odoo import models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class AmazonSpServicePosting(models.AbstractModel):
    """The second half of ``amazon.sp.service.documents``: the documents of a batch are
    created (one ``create``), checked to the cent against the plan, then posted (one
    ``action_post``) or left as drafts per the marketplace's threshold and policy.

    Every method takes the ``DocumentBatch`` of ``amazon.sp.service.documents._build`` (its
    caches and counters). No hook: the values of the documents are made by the hooks of
    ``amazon.sp.service.documents``.
    """

    _name = "amazon.sp.service.posting"
    _description = "Amazon Document Posting"

    def _settings(self, marketplace, batch):
        """The marketplace's settings, through the batch's cache."""
        return self.env["amazon.sp.service.documents"]._settings(marketplace, batch)

    # ------------------------------------------------------------------------------------------

    def _create(self, vals_list, owners, batch):
        """One create for the batch; if it fails, event by event (the failing ones in error).
        Returns the move of each vals (None where it failed)."""
        Move = self.env["account.move"].with_company(batch.company)
        try:
            with self.env.cr.savepoint():
                moves = Move.create(vals_list)
                self._set_clearing(moves, batch)
            return list(moves)
        except (UserError, ValueError) as exc:
            _logger.info("Batch create failed (%s); creating event by event", exc)
        result = []
        index = 0
        while index < len(vals_list):
            event = owners[index]
            end = index
            while end < len(vals_list) and owners[end] == event:
                end += 1
            try:
                with self.env.cr.savepoint():
                    moves = Move.create(vals_list[index:end])
                    self._set_clearing(moves, batch)
                result += list(moves)
            except (UserError, ValueError) as exc:
                event._amazon_sp_set_review(False, str(exc), state="error")
                batch.counts["events_error"] += 1
                result += [None] * (end - index)
            index = end
        return result

    def _set_clearing(self, moves, batch):
        """The receivable line of the credit notes goes to the Amazon clearing account."""
        term_lines = moves.line_ids.filtered(lambda ln: ln.display_type == "payment_term")
        clearing = batch.company.amazon_sp_clearing_account_id
        wrong = term_lines.filtered(lambda ln: ln.account_id != clearing)
        if wrong:
            wrong.write({"account_id": clearing.id})

    def _check_and_post(self, events, moves, owners, batch):
        """Check every event's documents to the cent, then post (or leave as drafts) per the
        marketplace's threshold and policy; documents that fail the check are deleted."""
        by_event = defaultdict(lambda: self.env["account.move"])
        for move, event in zip(moves, owners, strict=True):
            if move:
                by_event[event.id] |= move
        to_post, posted_events, bad_moves = [], [], []  # move ids, events, move ids
        for event in events:
            event_moves = by_event.get(event.id)
            if not event_moves:
                continue
            problem = self._check(event, event_moves, batch.plans[event.id], batch)
            if problem:
                bad_moves += event_moves.ids
                event._amazon_sp_set_review(*problem)
                batch.counts["events_to_review"] += 1
                continue
            settings = self._settings(event.marketplace_id, batch)
            threshold = settings["threshold"]
            if threshold and not batch.skip_threshold and abs(event.amount_total) > threshold:
                event._amazon_sp_set_review(
                    "threshold",
                    self.env._(
                        "Net amount %(amount)s is above the review threshold %(threshold)s: "
                        "the documents wait as drafts.",
                        amount=event.currency_id._amazon_sp_amount_text(abs(event.amount_total)),
                        threshold=event.currency_id._amazon_sp_amount_text(threshold),
                    ),
                )
                batch.counts["events_to_review"] += 1
            elif not settings["post"]:
                event.write({"state": "ready", "review_reason": False, "review_message": False})
                batch.counts["events_draft"] += 1
            else:
                to_post += event_moves.ids
                posted_events.append(event)
        Move = self.env["account.move"]
        if bad_moves:
            Move.browse(bad_moves).with_context(force_delete=True).unlink()
        self._post(Move.browse(to_post), posted_events, batch)

    def _check(self, event, moves, result, batch):
        """Every cent, on the created moves: (reason, message) or None."""
        currency = event.currency_id
        clearing = batch.company.amazon_sp_clearing_account_id
        moved = sum(
            moves.line_ids.filtered(lambda ln: ln.account_id == clearing).mapped("amount_currency")
        )
        planned_tax = sum(
            (pl.tax_amount for doc in result.documents for pl in doc.lines), Decimal(0)
        )
        if self._settings(event.marketplace_id, batch)["seller_tax"] == "none":
            planned_tax = Decimal(0)
        refunds = moves.filtered(lambda m: m.move_type == "out_refund")
        if refunds:
            odoo_tax = Decimal(str(sum(refunds.mapped("amount_tax")))).quantize(
                Decimal(1).scaleb(-currency.decimal_places)
            )
            if odoo_tax != planned_tax:
                return (
                    "tax",
                    self.env._(
                        "Odoo computes tax %(odoo)s, Amazon's tax is %(amazon)s: difference "
                        "%(diff)s.",
                        odoo=currency._amazon_sp_amount_text(odoo_tax),
                        amazon=currency._amazon_sp_amount_text(planned_tax),
                        diff=currency._amazon_sp_amount_text(planned_tax - odoo_tax),
                    ),
                )
        # The VAT Amazon charges on its fees: input VAT exactly as Amazon's (Odoo keeps the tax
        # lines it is given), or none at all where it is part of the fee.
        planned_input = Decimal(0)
        if self._settings(event.marketplace_id, batch)["fee_tax"]:
            planned_input = sum(
                (
                    pl.amount
                    for doc in result.documents
                    for pl in doc.lines
                    if pl.kind == "input_tax"
                ),
                Decimal(0),
            )
        tax_lines = moves.filtered(lambda m: m.move_type == "entry").line_ids.filtered(
            lambda ln: ln.tax_repartition_line_id.factor > 0
        )
        odoo_input = Decimal(str(sum(tax_lines.mapped("amount_currency"))))
        if currency.compare_amounts(float(odoo_input), float(planned_input)) != 0:
            return (
                "tax",
                self.env._(
                    "The fee entries book input VAT of %(odoo)s, Amazon's VAT on its fees is "
                    "%(amazon)s.",
                    odoo=currency._amazon_sp_amount_text(odoo_input),
                    amazon=currency._amazon_sp_amount_text(planned_input),
                ),
            )
        if currency.compare_amounts(moved, event.amount_total) != 0:
            return self._balance_problem(event, moved)
        return None

    def _balance_problem(self, event, moved):
        """(reason, message) of documents that move the clearing account by ``moved``, not by
        the event's net amount."""
        currency = event.currency_id
        return (
            "balance",
            self.env._(
                "The documents move the Amazon clearing account by %(moved)s, the event's net "
                "amount is %(total)s.",
                moved=currency._amazon_sp_amount_text(moved),
                total=currency._amazon_sp_amount_text(event.amount_total),
            ),
        )

    def _check_posted(self, events):
        """The every-cent check of documents posted outside the import (after review, or an
        imported document reset and posted again): {event id: (reason, message)} of the
        events whose posted documents do not move the clearing account by their net amount
        (an event with nothing to book moved nothing)."""
        problems = {}
        moved = events._amazon_sp_posted_clearing()
        for event in events:
            amount = moved[event.id]
            if amount is None:
                amount = Decimal(0)
            if event.currency_id.compare_amounts(float(amount), event.amount_total) != 0:
                problems[event.id] = self._balance_problem(event, amount)
        return problems

    def _post(self, moves, events, batch):
        if not moves:
            return
        run = batch.run
        who = "cron" if run and run.trigger == "cron" else self.env.user.name
        done = []
        # The batch's documents were created in this transaction: as when Odoo creates and
        # posts documents in one go, their draft → posted is not tracked in their chatter (the
        # savepoints' flushes would otherwise make it a message, and a notification, each).
        try:
            with self.env.cr.savepoint():
                moves._track_discard()
                moves.action_post()
            done = events
        except UserError as exc:
            _logger.info("Batch post failed (%s); posting event by event", exc)
            for event in events:
                try:
                    with self.env.cr.savepoint():
                        drafts = event.move_ids.filtered(lambda m: m.state == "draft")
                        drafts._track_discard()
                        drafts.action_post()
                    done.append(event)
                except UserError as err:
                    event._amazon_sp_set_review("posting", str(err))
                    batch.counts["events_to_review"] += 1
        if done:
            done = self.env["amazon.sp.event"].union(*done)
            self._note_moved_dates(done)
            done.write(
                {
                    "state": "posted",
                    "review_reason": False,
                    "review_message": False,
                    "processed_by": who,
                    "processed_run_id": run.id if run else False,
                }
            )
            batch.counts["events_posted"] += len(done)

    def _nothing_to_book(self, event, batch):
        """``event`` planned cleanly but needs no document (its amounts are zero or cancel each
        other out): it is done, with the reason in plain words."""
        normalized = batch.normalized[event.id]
        mapping = self.env["amazon.sp.service.documents"]._mapping(event.marketplace_id, batch)
        lines = [ln for ln in normalized.lines if ln.amount]
        money = event.currency_id._amazon_sp_amount_text
        shown = ", ".join(f"{ln.amount_type} {money(ln.amount)}" for ln in lines)
        withheld = [
            ln
            for ln in lines
            if getattr(mapping.get(ln.amount_type), "role", None) == "withheld_tax"
        ]
        if not lines:
            reason = self.env._("All of this event's amounts are zero: there is nothing to book.")
        elif withheld:
            reason = self.env._(
                "The tax Amazon withheld offsets the tax charged (%(lines)s): the tax is "
                "Amazon's (marketplace facilitator), so there is nothing to book.",
                lines=shown,
            )
        else:
            reason = self.env._(
                "The event's amounts cancel each other out (%(lines)s): there is nothing to book.",
                lines=shown,
            )
        run = batch.run
        event.write(
            {
                "state": "nothing",
                "review_reason": False,
                "review_message": False,
                "nothing_reason": reason,
                "processed_by": "cron" if run and run.trigger == "cron" else self.env.user.name,
                "processed_run_id": run.id if run else False,
            }
        )
        batch.counts["events_nothing"] += 1

    def _note_moved_dates(self, events):
        """Odoo moves a document dated in a locked period to the first open date: say so."""
        for event in events:
            for move in event.move_ids:
                if move.state == "posted" and event.date and move.date != event.date:
                    move.message_post(
                        body=self.env._(
                            "Amazon posted this on %(posted)s, in a locked period: the document "
                            "is dated %(date)s, the first open date.",
                            posted=event.date,
                            date=move.date,
                        )
                    )
