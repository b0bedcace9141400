import importlib.util
import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.account_amazon_refund.domain import sources
from odoo.addons.account_amazon_refund.emulator import to_transaction
from odoo.addons.account_amazon_refund.services.staging import _PAGE_OF_ONE

from .common_import import AmazonImportCommon


def with_trailing_zeros(value):
    """``value`` (raw JSON data) with every number written with two decimals (-17.6 → -17.60)."""
    if isinstance(value, dict):
        return {key: with_trailing_zeros(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_trailing_zeros(item) for item in value]
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    return value


def replace_values(value, name, new):
    """``value`` (raw JSON data) with every ``name`` set to ``new``."""
    if isinstance(value, dict):
        return {
            key: new if key == name else replace_values(item, name, new)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [replace_values(item, name, new) for item in value]
    return value


@tagged("post_install", "-at_install")
class TestIntegrityStaging(AmazonImportCommon):
    """Staging keeps the books true whatever Amazon sends again (issue 11)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us)

    def _restage(self, account, event, raw):
        """Stage ``raw`` (the raw data of ``event`` as Amazon could send it again) on
        ``account``; returns the run's counters."""
        source = sources.get_source(event.source_api)
        Importer = self.env["amazon.sp.service.import"]
        resolver = (
            Importer._marketplace_resolver(account) if source.needs_marketplace_resolver else None
        )
        found, failures = source.normalize(
            _PAGE_OF_ONE[source.name](event.source, raw), marketplace_resolver=resolver
        )
        return self._stage(account, found, failures)

    def _stage(self, account, found, failures=()):
        # (as the import stages a page: in its flow)
        run = self.env["amazon.sp.import.run"]._amazon_sp_flow().create({"account_id": account.id})
        by_code = {mp._amazon_sp_code(): mp for mp in account._amazon_sp_enabled_marketplaces()}
        counts, _created = run.env["amazon.sp.service.staging"]._stage(
            account, run, found, list(failures), by_code
        )
        return counts

    def test_number_formatting_is_not_a_change(self):
        refund = self._refund(items=[self.us_item()])
        self._sync(self.account)
        event = self._events(self.account).filtered(
            lambda ev: ev.amazon_order_id == refund.order_id
        )
        self.assertEqual(event.state, "posted")
        raw = json.loads(event.raw_json, parse_float=Decimal)
        reformatted = with_trailing_zeros(raw)
        self.assertNotEqual(json.dumps(raw, default=str), json.dumps(reformatted, default=str))
        counts = self._restage(self.account, event, reformatted)
        self.assertEqual((counts["events_known"], counts["events_changed"]), (1, 0))
        self.assertEqual(event.state, "posted")
        self.assertFalse(event.review_reason)

    def test_one_account_per_seller_and_region(self):
        with self.assertRaises(ValidationError) as info:
            self._import_account("na", self.marketplace_us, seller_id=self.account.seller_id)
        self.assertIn(
            f"account {self.account.name} of company {self.account.company_id.name}",
            str(info.exception),
        )
        # Another region of the same seller is another account; an archived account frees
        # its seller.
        self._import_account("eu", self.marketplace_us, seller_id=self.account.seller_id)
        self.account.active = False
        self._import_account("na", self.marketplace_us, seller_id=self.account.seller_id)

    def test_an_event_staged_by_another_account_of_the_seller_is_known(self):
        refund = self._refund(items=[self.us_item()])
        self._sync(self.account)
        first = self._events(self.account)
        event = first.filtered(lambda ev: ev.amazon_order_id == refund.order_id)
        self.assertEqual(event.state, "posted")
        # The same seller linked again (in another region, reading the same Amazon events;
        # a duplicate made before the rule is the same case).
        twin = self._import_account(
            "eu", self.marketplace_us, seller_id=self.account.seller_id, finances_api="v0"
        )
        run = self._sync(twin)
        self.assertFalse(self._events(twin), "nothing booked twice")
        self.assertEqual(run.events_known, len(first))

    def test_an_unknown_currency_never_blocks_its_page(self):
        good = self._refund(days_ago=2, items=[self.us_item()])
        refund = self._refund(days_ago=2, items=[self.us_item()])
        transaction = replace_values(to_transaction(refund), "currencyCode", "ZZZ")
        self.dataset.remove(refund)
        self.dataset.add_raw_transaction(transaction, currency="USD", marketplace="US")
        run = self._sync(self.account)
        self.assertEqual(run.state, "done", run.error)
        events = self._events(self.account)
        by_order = {event.amazon_order_id: event for event in events}
        self.assertEqual(by_order[good.order_id].state, "posted")
        self.assertEveryCent(by_order[good.order_id])
        unknown = by_order[refund.order_id]
        self.assertEqual(unknown.state, "error")
        self.assertIn("currency code ZZZ", unknown.review_message)
        # Read again, it is known: nothing new, nothing changed.
        run = self._sync(self.account, date_from=self.now - timedelta(days=5))
        self.assertEqual((run.events_new, run.events_changed), (0, 0))
        self.assertEqual(len(self._events(self.account)), len(events))

    def test_amounts_that_are_not_money_never_block_their_page(self):
        refund = self._refund(items=[self.us_item()])
        self._sync(self.account)
        event = self._events(self.account).filtered(
            lambda ev: ev.amazon_order_id == refund.order_id
        )
        [ev] = sources.get_source(event.source_api).normalize(
            _PAGE_OF_ONE[event.source_api](event.source, json.loads(event.raw_json))
        )[0]

        def variant(name, amount):
            return replace(
                ev,
                key=f"{ev.key}-{name}",
                fingerprint=f"{ev.fingerprint}-{name}",
                transaction_id=f"{ev.transaction_id}-{name}",
                amazon_order_id=f"{name}-order",
                total=Decimal(amount),
                lines=tuple(replace(line, amount=Decimal(amount)) for line in ev.lines),
            )

        huge, zero = variant("huge", "-1E+400"), variant("zero", "-0.0")
        other = variant("other", "-1.00")
        counts = self._stage(self.account, [huge, zero, other])
        self.assertEqual((counts["events_new"], counts["events_error"]), (3, 1))
        by_order = {e.amazon_order_id: e for e in self._events(self.account)}
        self.assertEqual(by_order["huge-order"].state, "error")
        self.assertIn("not a real money amount", by_order["huge-order"].review_message)
        run = (
            self.env["amazon.sp.import.run"]
            ._amazon_sp_flow()
            .create({"account_id": self.account.id})
        )
        run.env["amazon.sp.service.import"]._process_pending(self.account, run)
        self.assertEqual(by_order["zero-order"].state, "nothing")
        self.assertNotEqual(by_order["other-order"].state, "new")

    def test_a_page_whose_create_fails_is_staged_event_by_event(self):
        refund = self._refund(items=[self.us_item()])
        self._sync(self.account)
        event = self._events(self.account).filtered(
            lambda ev: ev.amazon_order_id == refund.order_id
        )
        [ev] = sources.get_source(event.source_api).normalize(
            _PAGE_OF_ONE[event.source_api](event.source, json.loads(event.raw_json))
        )[0]
        huge = replace(
            ev,
            key=f"{ev.key}-huge",
            fingerprint=f"{ev.fingerprint}-huge",
            transaction_id=f"{ev.transaction_id}-huge",
            amazon_order_id="huge-order",
            total=Decimal("-1E+400"),
        )
        other = replace(
            ev,
            key=f"{ev.key}-other",
            fingerprint=f"{ev.fingerprint}-other",
            transaction_id=f"{ev.transaction_id}-other",
            amazon_order_id="other-order",
        )
        # Without the check before the create, the infinite amount fails the page's create.
        Staging = type(self.env["amazon.sp.service.staging"])
        with patch.object(Staging, "_unreadable", return_value=None):
            counts = self._stage(self.account, [huge, other])
        self.assertEqual((counts["events_new"], counts["events_error"]), (2, 1))
        by_order = {e.amazon_order_id: e for e in self._events(self.account)}
        self.assertEqual(by_order["huge-order"].state, "error")
        self.assertIn("could not be stored", by_order["huge-order"].review_message)
        self.assertEqual(by_order["other-order"].state, "new")

    def test_lines_carry_the_fields_of_their_event(self):
        """The lines' copies of their event's fields (given at staging with the thousands of
        lines created at once, not computed line by line) are the event's: company, seller
        account, marketplace and currency, staged new or deferred; their event's status is
        read through the event."""
        self._refund(days_ago=3)
        self._refund(days_ago=4, deferred_until=self.now + timedelta(days=5))
        account = self._import_account()
        self._sync(account)
        events = self._events(account)
        self.assertEqual(len(events), 2)
        self.assertIn("deferred", events.mapped("state"))
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT COUNT(*), COUNT(*) FILTER (WHERE
                    line.company_id IS DISTINCT FROM event.company_id
                    OR line.account_id IS DISTINCT FROM event.account_id
                    OR line.marketplace_id IS DISTINCT FROM event.marketplace_id
                    OR line.currency_id IS DISTINCT FROM event.currency_id)
                 FROM amazon_sp_event_line line
                 JOIN amazon_sp_event event ON event.id = line.event_id
                WHERE event.id IN %s""",
            [tuple(events.ids)],
        )
        lines, different = self.env.cr.fetchone()
        self.assertGreater(lines, 2)
        self.assertEqual(different, 0)
        self.assertEqual(events.line_ids.company_id, self.env.company)
        for event in events:
            self.assertEqual(set(event.line_ids.mapped("event_state")), {event.state})
        deferred = events.filtered(lambda ev: ev.state == "deferred")
        Line = self.env["amazon.sp.event.line"]
        found = Line.search([("event_state", "=", "deferred"), ("event_id", "in", events.ids)])
        self.assertEqual(found, deferred.line_ids)

    def test_the_stored_line_status_of_earlier_versions_is_dropped(self):
        """18.0.1.3.0's migration drops the event-status column the lines stored before (the
        status is read through the event), and does nothing on a new install."""
        path = Path(__file__).resolve().parent.parent / "migrations" / "18.0.1.3.0"
        spec = importlib.util.spec_from_file_location(
            "amazon_sp_migration_line_status", path / "post-line-status.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cr = self.env.cr

        def has_column():
            cr.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_name = "
                "'amazon_sp_event_line' AND column_name = 'event_state'"
            )
            return bool(cr.fetchone())

        self.assertFalse(has_column(), "a new install stores no line status")
        cr.execute("ALTER TABLE amazon_sp_event_line ADD COLUMN event_state varchar")
        module.migrate(cr, None)  # a new install: nothing done
        self.assertTrue(has_column())
        module.migrate(cr, "18.0.1.2.0")
        self.assertFalse(has_column())
        module.migrate(cr, "18.0.1.2.0")  # twice: still fine

    def test_lines_inserted_in_sql_are_the_lines_odoo_creates(self):
        """The import inserts its lines in SQL (``_amazon_sp_insert``): each column holds what
        Odoo's ``create`` stores for the same values (the amount rounded by its currency as a
        Monetary field, the quantity to its digits, empty values as NULL)."""
        self._refund(days_ago=3)
        account = self._import_account()
        self._sync(account)
        event = self._events(account)[:1]
        Line = self.env["amazon.sp.event.line"]._amazon_sp_flow()
        # (a line's currency is its event's: Odoo's create takes it from the event)
        currency = event.currency_id
        cases = [
            (91, -1.23456, 1.234567, "Commission"),
            (92, 1234.565, 0.0, False),
            (93, 0.0, 2.0, ""),
        ]
        for sequence, amount, quantity, description in cases:
            vals = {
                "event_id": event.id,
                "sequence": sequence,
                "company_id": event.company_id.id,
                "account_id": account.id,
                "marketplace_id": event.marketplace_id.id,
                "currency_id": currency.id,
                "amount_type": "Fee/Commission",
                "category": "Fee",
                "amount": amount,
                "sku": "SKU-ü 中",
                "quantity": quantity,
                "order_adjustment_item_id": False,
                "description": description,
            }
            Line.create(dict(vals))
            Line._amazon_sp_insert([dict(vals)])
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT * FROM amazon_sp_event_line WHERE event_id = %s AND sequence > 90 "
            "ORDER BY sequence, id",
            [event.id],
        )
        rows = self.env.cr.dictfetchall()
        self.assertEqual(len(rows), 6)
        moving = {"id", "create_date", "write_date"}
        for orm, inserted in zip(rows[::2], rows[1::2], strict=True):
            self.assertEqual(
                {k: v for k, v in inserted.items() if k not in moving},
                {k: v for k, v in orm.items() if k not in moving},
            )
        self.assertEqual(currency, self.env.ref("base.USD"))
        self.assertEqual([row["amount"] for row in rows[::2]], [-1.23, 1234.57, 0.0])
        self.assertEqual(rows[1]["quantity"], 1.2346)
        # read again (the caller drops its events' cached lines): Odoo's records
        event.invalidate_recordset(["line_ids"])
        inserted = event.line_ids.filtered(lambda ln: ln.sequence > 90)
        self.assertEqual(len(inserted), 6)
        self.assertEqual(set(inserted.mapped("event_state")), {event.state})
