import json
from decimal import Decimal

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.account_amazon_refund.domain import sources
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
        run = self.env["amazon.sp.import.run"].create({"account_id": account.id})
        by_code = {mp._amazon_sp_code(): mp for mp in account._amazon_sp_enabled_marketplaces()}
        counts, _created = self.env["amazon.sp.service.staging"]._stage(
            account, run, found, failures, by_code
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
