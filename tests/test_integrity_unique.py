import importlib.util
import json
from dataclasses import replace
from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import psycopg2.errors

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.account_amazon_refund.domain import sources
from odoo.addons.account_amazon_refund.models.amazon_sp_event import FINGERPRINT_INDEX
from odoo.addons.account_amazon_refund.services.staging import _PAGE_OF_ONE

from .common_import import AmazonImportCommon, D

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations" / "18.0.1.2.0"


def load_migration(name):
    """The migration script ``name`` of 18.0.1.2.0, as a module."""
    spec = importlib.util.spec_from_file_location(
        f"amazon_sp_migration_{name.replace('-', '_')}", MIGRATIONS / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_raw(event, group_id):
    """The event Amazon's stored raw data of ``event`` gives, read in the settlement
    ``group_id`` (None: as the keys were made before they carried it)."""
    source = sources.get_source(event.source_api)
    raw = json.loads(event.raw_json, parse_float=Decimal)
    [normalized], _failures = source.normalize(
        _PAGE_OF_ONE[source.name](event.source, raw),
        group_id=group_id,
        posted_date_fallback=event.posted_date.replace(tzinfo=UTC),
    )
    return normalized


@tagged("post_install", "-at_install")
class TestIntegrityUnique(AmazonImportCommon):
    """One Amazon event is stored once per account: a unique index behind the fingerprint
    dedupe, existing duplicates sent to review, undated v0 events re-keyed (issue 11)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ds = cls.dataset
        cls.group = ds.group_for("USD", cls.now - timedelta(days=40))
        ds.add_refund("US", posted=cls.group.start + timedelta(hours=5), items=[cls.us_item()])
        ds.add_service_fee(
            "US",
            fees={"Subscription": -D("39.99")},
            posted=cls.group.start + timedelta(hours=50),
            fee_reason="Subscription Fee",
            fee_description="Subscription Fee",
        )
        cls.account = cls._import_account(
            "na",
            cls.marketplace_us,
            finances_api="v0",
            sync_from=(cls.now - timedelta(days=60)).replace(tzinfo=None),
        )

    def _synced(self):
        run = self._sync(self.account)
        self.assertEqual(run.state, "done", run.error)
        events = self._events(self.account)
        refund = events.filtered(lambda ev: ev.event_type == "refund")
        fee = events.filtered(lambda ev: ev.event_type == "service_fee")
        self.assertEqual((len(refund), len(fee)), (1, 1), events.mapped("name"))
        return events, refund, fee

    def _twin(self, event, **values):
        """A second row of ``event`` (another key, same fingerprint unless given)."""
        vals = event.copy_data({"key": f"{event.key}-twin", "state": "new", **values})[0]
        return self.env["amazon.sp.event"]._amazon_sp_flow().create(vals)

    def _stage(self, found):
        """Stage the normalized events ``found`` on the account, as the import stages a page."""
        run = (
            self.env["amazon.sp.import.run"]
            ._amazon_sp_flow()
            .create({"account_id": self.account.id})
        )
        marketplaces = self.account._amazon_sp_enabled_marketplaces()
        by_code = {mp._amazon_sp_code(): mp for mp in marketplaces}
        return run.env["amazon.sp.service.staging"]._stage(self.account, run, found, [], by_code)

    def _index_exists(self):
        self.env.cr.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", (FINGERPRINT_INDEX,))
        return bool(self.env.cr.fetchone())

    def test_one_fingerprint_is_stored_once_per_account(self):
        _events, refund, _fee = self._synced()
        self.assertTrue(self._index_exists())
        with self.assertRaises(psycopg2.errors.UniqueViolation), mute_logger("odoo.sql_db"):
            self._twin(refund)
        # An ignored duplicate is kept aside (that is how a duplicate is resolved).
        self.assertEqual(self._twin(refund, state="ignored").fingerprint, refund.fingerprint)

    def test_an_import_that_slipped_past_the_lock_books_nothing_twice(self):
        events, refund, _fee = self._synced()
        ev = read_raw(refund, refund.group_id or None)
        other_api = replace(ev, key=f"{ev.key}-2024")  # the same event read through 2024-06-19
        Event = type(self.env["amazon.sp.event"])
        search = Event.search

        def blind_search(model, domain, *args, **kwargs):
            # The other import has not committed yet: staging does not see its events.
            if any(isinstance(term, tuple) and term[0] == "key" for term in domain):
                return model.browse()
            return search(model, domain, *args, **kwargs)

        with (
            patch.object(Event, "search", blind_search),
            mute_logger("odoo.sql_db", "odoo.addons.account_amazon_refund.services.staging"),
        ):
            counts, created = self._stage([ev, other_api])
        self.assertFalse(created, created.mapped("review_message"))
        self.assertEqual(counts["events_error"], 0)
        self.assertEqual(self._events(self.account), events)
        self.assertEqual(refund.state, "posted")

    def test_duplicates_stored_before_wait_for_review_and_the_index_follows(self):
        _events, refund, _fee = self._synced()
        moves = refund.move_ids
        self.env.cr.execute(f"DROP INDEX {FINGERPRINT_INDEX}")
        twin = self._twin(refund)
        Event = self.env["amazon.sp.event"]
        self.assertEqual(
            Event._amazon_sp_fingerprint_index(),
            [(self.account.id, refund.fingerprint, [refund.id, twin.id])],
        )
        self.assertFalse(self._index_exists(), "not created over duplicates")
        load_migration("post-unique-fingerprint").migrate(self.env.cr, "18.0.1.1.0")
        self.assertEqual((twin.state, twin.review_reason), ("to_review", "plan"))
        self.assertIn(f"same Amazon event as {refund.name}", twin.review_message)
        self.assertEqual((refund.state, refund.move_ids), ("posted", moves), "never touched")
        self.assertFalse(self._index_exists())
        # The accountant ignores the extra one: the index is created.
        twin.action_ignore("Staged twice")
        self.assertTrue(self._index_exists())

    def test_undated_v0_events_staged_with_the_former_keys_are_rekeyed(self):
        events, refund, fee = self._synced()
        self.assertTrue(fee.group_id)
        current = (fee.key, fee.fingerprint)
        former = read_raw(fee, None)
        self.assertEqual(read_raw(fee, fee.group_id).key, fee.key)
        self.assertNotEqual(former.key, fee.key)
        refund_identity = (refund.key, refund.fingerprint)
        # As staged before the keys carried the settlement.
        fee._amazon_sp_flow().write({"key": former.key, "fingerprint": former.fingerprint})
        rekeyed, flagged = load_migration("post-rekey-undated").rekey_undated(self.env)
        self.assertEqual((rekeyed, flagged), (fee, self.env["amazon.sp.event"]))
        self.assertEqual((fee.key, fee.fingerprint), current)
        self.assertEqual(json.loads(fee.normalized_json)["key"], fee.key)
        self.assertEqual((refund.key, refund.fingerprint), refund_identity, "dated: unchanged")
        # Read again in its settlement, it is known: nothing new.
        counts, created = self._stage([read_raw(fee, fee.group_id)])
        self.assertEqual((counts["events_known"], len(created)), (1, 0))
        self.assertEqual(self._events(self.account), events)

    def test_a_former_key_staged_again_since_is_left_for_review(self):
        _events, _refund, fee = self._synced()
        former = read_raw(fee, None)
        # Staged before with the former key, then again under the new one (before the upgrade).
        old = self._twin(fee, key=former.key, fingerprint=former.fingerprint)
        rekeyed, flagged = load_migration("post-rekey-undated").rekey_undated(self.env)
        self.assertFalse(rekeyed)
        self.assertEqual(old.key, former.key, "nothing re-keyed over another event")
        self.assertEqual(flagged, old, "the one not posted waits for review")
        self.assertEqual(old.state, "to_review")
        self.assertIn(f"same Amazon event as {fee.name}", old.review_message)
        self.assertEqual(fee.state, "posted")
