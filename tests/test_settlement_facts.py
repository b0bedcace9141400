from datetime import timedelta

from odoo import Command
from odoo.tests import tagged

from odoo.addons.account_amazon_refund.domain import settle
from odoo.addons.account_amazon_refund.models.amazon_sp_flow_guard import flow

from .common_import import AmazonImportCommon, D


@tagged("post_install", "-at_install")
class TestSettlementFacts(AmazonImportCommon):
    """Odoo's side of a settlement (``_facts``), counted and summed by PostgreSQL: the same
    figures as the events and their documents give when read one by one, for each state an
    event can be in (posted, waiting, ignored, nothing to book, deferred, changed by Amazon)."""

    def _reference(self, settlement):
        """The facts read through the ORM, event by event (what ``_facts`` did before it
        summed in SQL): the oracle."""
        clearing = settlement.company_id.amazon_sp_clearing_account_id
        events = settlement.event_ids
        moves = events.move_ids.filtered(lambda m: m.state == "posted")
        moves -= settlement.payout_move_id
        lines = moves.line_ids.filtered(lambda line: line.account_id == clearing)
        posted = events.filtered(lambda e: any(m.state == "posted" for m in e.move_ids))
        deferred = events.filtered(lambda e: e.state == "deferred")
        waiting = events.filtered(lambda e: e.state not in ("ignored", "nothing")) - posted
        waiting -= deferred
        return settle.OdooFacts(
            posted_total=D(str(round(sum(lines.mapped("amount_currency")), 2))),
            posted_count=len(posted),
            waiting_count=len(waiting),
            waiting_total=D(str(round(sum(waiting.mapped("amount_total")), 2))),
            ignored_count=len(events.filtered(lambda e: e.state == "ignored")),
            changed_count=len(events.filtered("upstream_sha256")),
            deferred_count=len(deferred),
        )

    def test_facts_in_sql_are_those_of_the_events_one_by_one(self):
        group = self.dataset.group_for("USD", self.now - timedelta(hours=1))
        group = self.dataset.group_for("USD", group.start - timedelta(seconds=1))
        for hours, principal in (
            (5, "20.00"),
            (6, "31.00"),
            (7, "12.50"),
            (8, "44.10"),
            (9, "9.99"),
        ):
            self.dataset.add_refund(
                "US",
                posted=group.start + timedelta(hours=hours),
                items=[self.us_item(principal=principal)],
            )
        account = self._import_account(
            sync_from=(group.start - timedelta(days=1)).replace(tzinfo=None)
        )
        run = self._sync(account)
        self.assertEqual(run.state, "done", run.error)
        settlement = self.env["amazon.sp.settlement"].search(
            [("account_id", "=", account.id), ("group_id", "=", group.group_id)]
        )
        self.assertEqual(settlement.state, "reconciled", settlement.review_message)
        Service = self.env["amazon.sp.service.settlement"]
        facts = Service._facts(settlement)
        self.assertEqual(facts, self._reference(settlement))
        self.assertEqual((facts.posted_count, facts.waiting_count), (5, 0))
        self.assertEqual(facts.posted_total, D(str(settlement.original_total)))
        # Each state an event can be in, on one event each (its documents unlinked where it
        # must not count as posted); the payout entry is never counted.
        events = flow(self._events(account).sorted("posted_date"))
        waiting, ignored, deferred, nothing, changed = events
        for event, state in ((waiting, "to_review"), (ignored, "ignored"), (deferred, "deferred")):
            event.write({"state": state, "move_ids": [Command.clear()]})
        nothing.write({"state": "nothing", "move_ids": [Command.clear()]})
        changed.write({"upstream_sha256": "f" * 64, "upstream_raw_json": "{}"})
        settlement.payout_move_id.amazon_event_ids = [Command.link(changed.id)]
        facts = Service._facts(settlement)
        self.assertEqual(facts, self._reference(settlement))
        self.assertEqual(
            (
                facts.posted_count,
                facts.waiting_count,
                facts.ignored_count,
                facts.deferred_count,
                facts.changed_count,
            ),
            (1, 1, 1, 1, 1),
        )
        self.assertEqual(facts.waiting_total, D(str(waiting.amount_total)))
        clearing = settlement.company_id.amazon_sp_clearing_account_id
        own = changed.move_ids.filtered(lambda m: m != settlement.payout_move_id).line_ids
        self.assertAlmostEqual(
            float(facts.posted_total),
            sum(own.filtered(lambda ln: ln.account_id == clearing).mapped("amount_currency")),
        )
        # The settlement's clearing lines (the payout's reconciliation) are those documents'.
        lines = Service._clearing_lines(settlement)
        self.assertEqual(lines.move_id, changed.move_ids - settlement.payout_move_id)
        self.assertEqual(lines.account_id, clearing)
