from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from unittest.mock import patch

from odoo import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.account_amazon_refund.emulator import Dataset, SpApiEmulator

from .common import AmazonSpTestMixin

SELLER_ID = "A1IMPORTTESTSELLER"
# The client never sleeps in tests; its buckets are scaled like the emulator's.
CLIENT_KWARGS = {
    "sleep": lambda seconds: None,
    "backoff_base": 0.0,
    "backoff_cap": 0.0,
    "max_attempts": 8,
    "rate_limits": {
        "listTransactions": (500.0, 10),
        "listFinancialEvents": (500.0, 30),
        "listFinancialEventsByOrderId": (500.0, 30),
    },
}


# One seller is linked once per region: each test account is another seller of the dataset.
SELLER_NUMBERS = count(1)


def D(value):
    return Decimal(str(value))


@contextmanager
def client_options(env, **options):
    """Every SP-API client built in the block gets ``options`` (the account's
    ``_amazon_sp_client_options`` hook, patched)."""
    Account = type(env["amazon.sp.account"])
    with patch.object(Account, "_amazon_sp_client_options", lambda account: dict(options)):
        yield


class AmazonImportCommon(AmazonSpTestMixin, AccountTestInvoicingCommon):
    """A company, one emulator per class with a hand-made dataset, and seller accounts."""

    # listTransactions page size of the emulator (small: several pages with few events)
    page_size = 4
    marketplace_codes = ("US", "UK", "DE", "JP")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_amazon_sp()
        # The accountant of AccountTestInvoicingCommon also configures the Amazon accounts.
        cls.env.user.groups_id += cls.env.ref("account_amazon_refund.group_amazon_sp_manager")
        cls.marketplace_uk = cls.env.ref("account_amazon_refund.amazon_sp_marketplace_uk")
        cls.now = datetime.now(UTC).replace(microsecond=0)
        cls.dataset = Dataset(
            seller_id=SELLER_ID,
            marketplaces=cls.marketplace_codes,
            start=cls.now - timedelta(days=20),
            end=cls.now - timedelta(hours=1),
        )
        cls.emu = SpApiEmulator(
            dataset=cls.dataset, rate_scale=1000.0, page_size_v2024=cls.page_size
        ).start()
        cls.addClassCleanup(cls.emu.stop)
        # The clients of the class never sleep and use the emulator's scaled rate limits.
        cls.enterClassContext(client_options(cls.env, **CLIENT_KWARGS))

        # A VAT-registered seller has its sale taxes, each of its country (UK, Germany, Japan);
        # refunds find the one of the marketplace's country giving Amazon's VAT.
        def ref(xmlid):
            return cls.env.ref(xmlid).id

        tax_vals = {
            "type_tax_use": "sale",
            "amount_type": "percent",
            "price_include_override": "tax_included",
        }
        # Registered for VAT there: a foreign VAT fiscal position per country, as Odoo wants.
        cls.env["account.fiscal.position"].create(
            [
                {"name": f"VAT {code}", "country_id": ref(xmlid), "foreign_vat": f"{code}123456789"}
                for code, xmlid in (("GB", "base.uk"), ("DE", "base.de"), ("JP", "base.jp"))
            ]
        )
        groups = cls.env["account.tax.group"].create(
            [
                {"name": name, "country_id": ref(country)}
                for name, country in (
                    ("VAT 20%", "base.uk"),
                    ("VAT 19%", "base.de"),
                    ("CT 10%", "base.jp"),
                )
            ]
        )
        cls.vat_20, cls.vat_19, cls.ct_10 = cls.env["account.tax"].create(
            [
                {
                    **tax_vals,
                    "name": f"{group.name} incl.",
                    "amount": amount,
                    "tax_group_id": group.id,
                    "country_id": group.country_id.id,
                }
                for group, amount in zip(groups, (20.0, 19.0, 10.0), strict=True)
            ]
        )

    def setUp(self):
        super().setUp()
        # Each test adds its own events and faults to the class's emulator: undo them after.
        events, raw_events = list(self.dataset.events), list(self.dataset.raw_events)

        def restore():
            self.dataset.events[:] = events
            self.dataset.raw_events[:] = raw_events
            self.emu.reset_faults()

        self.addCleanup(restore)

    @classmethod
    def _import_account(cls, region="na", marketplaces=None, finances_api="2024-06-19", **values):
        marketplaces = marketplaces if marketplaces is not None else cls.marketplace_us
        return cls._create_account(
            **{
                "name": f"Seller {region} {finances_api}",
                "region": region,
                "seller_id": f"{SELLER_ID}{next(SELLER_NUMBERS)}",
                "application_id": cls.emu.application_id,
                "lwa_client_id": cls.emu.client_id,
                "lwa_client_secret": cls.emu.client_secret,
                "refresh_token": cls.emu.refresh_token,
                "api_url": cls.emu.url,
                "lwa_url": cls.emu.lwa_url,
                "marketplace_ids": [Command.set(marketplaces.ids)],
                "finances_api": finances_api,
                "sync_from": (cls.now - timedelta(days=10)).replace(tzinfo=None),
                **values,
            }
        )

    def _sync(self, account, **kwargs):
        return account.env["amazon.sp.service.import"]._sync(account, **kwargs)

    def _refund(self, marketplace="US", days_ago=3, **kwargs):
        """A refund (or claim/chargeback) posted ``days_ago`` days ago in the emulator."""
        kwargs.setdefault("posted", self.now - timedelta(days=days_ago))
        return self.dataset.add_refund(marketplace, **kwargs)

    @staticmethod
    def us_item(sku="SKU-US-1", principal="20.00", tax="1.60", commission="3.00"):
        """The worked example of accounting.md: a US refund with facilitator tax."""
        return {
            "sku": sku,
            "quantity": 1,
            "charges": {"Principal": -D(principal), "Tax": -D(tax)},
            "withheld": {"MarketplaceFacilitatorTax-Principal": D(tax)},
            "fees": {"Commission": D(commission), "RefundCommission": -D("0.60")},
        }

    def _events(self, account):
        return self.env["amazon.sp.event"].search([("account_id", "=", account.id)])

    def _clearing_moved(self, event):
        clearing = event.company_id.amazon_sp_clearing_account_id
        lines = event.move_ids.line_ids.filtered(lambda line: line.account_id == clearing)
        return event.currency_id.round(sum(lines.mapped("amount_currency")))

    def assertEveryCent(self, events):
        """Each event's documents move the clearing account by its net amount; an event with
        nothing to book has no document and a net of zero."""
        for event in events:
            if event.state == "nothing":
                self.assertFalse(event.move_ids, f"{event.name} has nothing to book")
                self.assertEqual(event.amount_total, 0, f"{event.name}: nothing to book")
                continue
            self.assertTrue(event.move_ids, f"{event.name} has no document")
            self.assertEqual(
                self._clearing_moved(event),
                event.currency_id.round(event.amount_total),
                f"{event.name}: clearing moved != net",
            )
