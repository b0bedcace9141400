import json
from datetime import UTC, datetime, timedelta, timezone
from os.path import dirname, join
from unittest.mock import patch

from freezegun import freeze_time

from odoo.modules.migration import load_script
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.account_amazon_refund.domain import sources
from odoo.addons.account_amazon_refund.domain.model import event_from_json, event_to_json
from odoo.addons.account_amazon_refund.emulator import to_transaction

from .common_import import AmazonImportCommon

MIGRATION = join(dirname(dirname(__file__)), "migrations", "18.0.1.1.0", "post-migrate.py")


@tagged("post_install", "-at_install")
class TestImportStoredEvent(AmazonImportCommon):
    """The normalized event is stored exactly at staging and the documents are planned from it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us)

    def _event(self, account, order_id):
        return self.env["amazon.sp.event"].search(
            [("account_id", "=", account.id), ("amazon_order_id", "=", order_id)]
        )

    def _stage_only(self, account):
        """Pull and stage, without planning."""
        Importer = type(self.env["amazon.sp.service.import"])
        with patch.object(Importer, "_process_pending", return_value=False):
            return self._sync(account)

    def _sql(self, query, *args):
        self.env.flush_all()
        self.env.cr.execute(SQL(query, *args))
        self.env.invalidate_all()

    def test_the_staged_event_is_stored_exactly(self):
        refund = self._refund(items=[self.us_item()])
        # Amazon writes the date with an offset: the stored event has it in UTC.
        transaction = to_transaction(refund)
        moment = datetime.fromisoformat(transaction["postedDate"].replace("Z", "+00:00"))
        transaction["postedDate"] = moment.astimezone(timezone(timedelta(hours=2))).isoformat()
        self.dataset.remove(refund)
        self.dataset.add_raw_transaction(transaction, currency="USD", marketplace="US")
        Staging = type(self.env["amazon.sp.service.staging"])
        original = Staging._stage
        staged = []

        def spy(model, account, run, events, failures, marketplaces):
            staged.extend(events)
            return original(model, account, run, events, failures, marketplaces)

        with patch.object(Staging, "_stage", spy):
            self._sync(self.account)
        self.assertEqual(len(staged), 1)
        event = self._event(self.account, refund.order_id)
        data = json.loads(event.normalized_json)
        self.assertEqual(data, event_to_json(staged[0]))
        self.assertEqual(event_from_json(data), staged[0])
        # Exponents as Amazon wrote them (Amazon drops trailing zeros: -17.6, -20), the date
        # in UTC.
        self.assertIn('"currencyAmount":-17.6,', event.raw_json.replace(" ", ""))
        self.assertEqual(data["total"], "-17.6")
        self.assertIn("-20", {line["amount"] for line in data["lines"]})
        self.assertEqual(data["posted_date"], moment.astimezone(UTC).isoformat())
        self.assertTrue(data["posted_date"].endswith("+00:00"))
        self.assertEqual(event.state, "posted")
        self.assertEveryCent(event)

    def test_documents_are_planned_from_the_stored_event(self):
        refund = self._refund(items=[self.us_item()])
        self._stage_only(self.account)
        event = self._event(self.account, refund.order_id)
        self.assertEqual(event.state, "new")
        # The rows users see are changed behind Odoo's back: the documents do not follow them.
        self._sql(
            "UPDATE amazon_sp_event_line SET amount = amount * 10, amount_type = 'Fee/Odd' "
            "WHERE event_id = %s",
            event.id,
        )
        self.assertEqual(set(event.line_ids.mapped("amount_type")), {"Fee/Odd"})
        event._amazon_sp_process()
        self.assertEqual(event.state, "posted", event.review_message)
        self.assertFalse(event.line_ids.filtered("is_unmapped"))
        self.assertEqual(self._clearing_moved(event), -17.60)
        note = event.move_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(note.amount_total, 20.00)

    def test_unreadable_stored_event_waits_for_review(self):
        # Within the overlap the next pull reads again.
        missing = self._refund(items=[self.us_item("SKU-M")], days_ago=1)
        broken = self._refund(items=[self.us_item("SKU-B")], days_ago=1)
        self._stage_only(self.account)
        missing_event = self._event(self.account, missing.order_id)
        broken_event = self._event(self.account, broken.order_id)
        dates = (missing_event.posted_date, broken_event.posted_date)
        self._sql(
            "UPDATE amazon_sp_event SET normalized_json = NULL WHERE id = %s", missing_event.id
        )
        self._sql(
            "UPDATE amazon_sp_event SET normalized_json = %s WHERE id = %s",
            '{"key": "cut short',
            broken_event.id,
        )
        events = missing_event | broken_event
        events._amazon_sp_process()
        self.assertRecordValues(
            events,
            [
                {"state": "to_review", "review_reason": "stored", "move_ids": []},
                {"state": "to_review", "review_reason": "stored", "move_ids": []},
            ],
        )
        self.assertEqual((missing_event.posted_date, broken_event.posted_date), dates)
        self.assertIn("no normalized event stored", missing_event.review_message)
        self.assertIn("not JSON", broken_event.review_message)
        for event in events:
            self.assertIn("cannot be read", event.review_message)
        # Read again from Amazon, the same data gives the copy back; then it posts.
        run = self._sync(self.account)
        self.assertEqual(run.events_new, 0)
        self.assertTrue(all(events.mapped("normalized_json")))
        events.action_retry()
        self.assertEqual(set(events.mapped("state")), {"posted"})
        self.assertEveryCent(events)

    def test_migration_fills_the_stored_event(self):
        self._refund(items=[self.us_item("SKU-1")], days_ago=2)
        self._refund(items=[self.us_item("SKU-2")], days_ago=3)
        accounts = self.account | self._import_account("na", self.marketplace_us, finances_api="v0")
        for account in accounts:
            self._sync(account)
        events = self.env["amazon.sp.event"].search([("account_id", "in", accounts.ids)])
        self.assertEqual(len(events), 4)
        self.assertEqual(set(events.mapped("source_api")), {"v0", "2024-06-19"})
        stored = {event.id: event.normalized_json for event in events}
        unreadable = events.filtered(lambda ev: ev.source_api == "v0")[:1]
        self._sql(
            "UPDATE amazon_sp_event SET normalized_json = NULL WHERE id IN %s", tuple(events.ids)
        )
        self._sql("UPDATE amazon_sp_event SET raw_json = '{}' WHERE id = %s", unreadable.id)
        load_script(MIGRATION, "account_amazon_refund_post_migrate_18_0_1_1_0").migrate(
            self.env.cr, "18.0.1.0.0"
        )
        self.env.invalidate_all()
        self.assertFalse(unreadable.normalized_json)
        for event in events - unreadable:
            self.assertEqual(event.normalized_json, stored[event.id], event.name)

    def test_one_finances_api_selection(self):
        expected = sources.selection()
        for model, name in (
            ("amazon.sp.account", "finances_api"),
            ("amazon.sp.sync.cursor", "finances_api"),
            ("amazon.sp.import.run", "finances_api"),
            ("amazon.sp.event", "source_api"),
        ):
            field = self.env[model]._fields[name]
            self.assertEqual(field.selection, expected, model)
            self.assertEqual(field.string, "Finances API", model)

    @freeze_time("2026-03-01 12:00:30")
    def test_windows_end_before_now(self):
        importer = self.env["amazon.sp.service.import"]
        now = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)
        self.assertEqual(importer._now(), now)
        latest = importer._latest()
        self.assertEqual(latest, now - timedelta(minutes=3))
        self.account.sync_from = False
        start = importer._start(self.account)
        self.assertEqual(start, now - timedelta(days=30))
        windows = list(importer._chunks(start, latest))
        self.assertEqual(windows, [(start, latest)])
        # A remainder under a minute waits for the next run.
        self.assertEqual(list(importer._chunks(latest - timedelta(seconds=59), latest)), [])
