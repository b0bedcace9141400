"""2024-06-19 read once per account (issue 14): the emulator lists every marketplace when no
``marketplaceId`` is sent and hides the US merchant-fulfilled orders when it is (Amazon's note on
listTransactions), the source sends none, and the pages read ahead by a thread come out as a
plain loop would give them, errors included."""

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from domain.model import SOURCE_2024
from domain.sources import SOURCES
from emulator import Dataset, SpApiEmulator
from emulator.common import MARKETPLACES
from spapi import LwaAuth, SpApiClient
from spapi.exceptions import ServerError
from spapi.prefetch import Prefetch

UTC = timezone.utc
NOW = datetime(2026, 10, 20, tzinfo=UTC)
START = NOW - timedelta(days=10)
END = NOW - timedelta(hours=1)
US_ID = "ATVPDKIKX0DER"
MARKETS = ("US", "CA", "UK", "DE", "FR", "IT", "ES", "JP")


@pytest.fixture(scope="module")
def emu():
    dataset = Dataset(
        seller_id="A1ACCOUNTWIDE", marketplaces=MARKETS, start=START - timedelta(days=1), end=END
    )
    dataset.quirk_rates = {}
    for index, code in enumerate(MARKETS * 3):
        dataset.add_refund(code, posted=START + timedelta(hours=5 + index))
    item = {
        "sku": "MFN-1",
        "quantity": 1,
        "charges": {"Principal": "-20.00"},
        "fulfillment_network": "MFN",
    }
    dataset.add_refund("US", posted=START + timedelta(days=2), items=[item])
    server = SpApiEmulator(dataset=dataset, rate_scale=None, now=lambda: NOW, page_size_v2024=5)
    with server:
        yield server


def make_client(emu):
    auth = LwaAuth(emu.client_id, emu.client_secret, emu.refresh_token, token_url=emu.lwa_url)
    return SpApiClient(auth, region="na", api_url=emu.url, sleep=lambda s: None)


def transactions(pages):
    return [txn for page in pages for txn in page.payload["transactions"]]


def test_one_read_lists_every_marketplace_and_the_us_merchant_fulfilled_orders(emu):
    client = make_client(emu)
    before = emu.count("listTransactions", 200)
    everything = transactions(SOURCES[SOURCE_2024].window_pages(client, START, END))
    calls = emu.count("listTransactions", 200) - before
    markets = {txn["marketplaceDetails"]["marketplaceId"] for txn in everything}
    assert len(markets) == len(MARKETS)
    assert len(everything) == len(MARKETS) * 3 + 1
    # 25 transactions at 5 a page: 5 calls for the account, where one call per marketplace
    # needed at least 8 (one page each, most of them short).
    assert calls == 5

    def skus(txns):
        return {
            ctx.get("sku")
            for txn in txns
            for item in txn.get("items") or []
            for ctx in item.get("contexts") or []
        }

    assert "MFN-1" in skus(everything)
    us_only = transactions(client.list_transactions(START, END, marketplace_id=US_ID))
    assert {txn["marketplaceDetails"]["marketplaceId"] for txn in us_only} == {US_ID}
    assert "MFN-1" not in skus(us_only), "Amazon hides US MFN orders when filtered"
    assert len(us_only) == 3


def test_calls_per_account_against_per_marketplace(emu):
    # The figure the benchmark reports: pages of one read against one read per marketplace.
    client = make_client(emu)
    account_wide = sum(1 for _page in client.list_transactions(START, END))
    per_marketplace = 0
    for code in MARKETS:
        market_id = MARKETPLACES[code].marketplace_id
        per_marketplace += sum(
            1 for _page in client.list_transactions(START, END, marketplace_id=market_id)
        )
    assert account_wide == 5
    assert per_marketplace == len(MARKETS)  # 3 (or 4) transactions each: one page each


class Pages:
    """A page generator that records which thread reads it and fails where told."""

    def __init__(self, count, fail_at=None, delay=0.0):
        self.count, self.fail_at, self.delay = count, fail_at, delay
        self.read = []
        self.threads = set()
        self.closed = False

    def __iter__(self):
        try:
            for index in range(self.count):
                self.threads.add(threading.current_thread().name)
                if index == self.fail_at:
                    raise ServerError("Amazon answered 500", status_code=500)
                time.sleep(self.delay)
                self.read.append(index)
                yield index
        finally:
            self.closed = True


def test_prefetch_gives_the_pages_in_order_from_another_thread():
    pages = Pages(20)
    with Prefetch(pages, depth=3) as prefetched:
        assert list(prefetched) == list(range(20))
    assert pages.threads == {"spapi-prefetch"} and pages.closed


def test_prefetch_raises_the_error_after_the_pages_read_before_it():
    pages = Pages(10, fail_at=4)
    got = []
    with pytest.raises(ServerError, match="500"), Prefetch(pages) as prefetched:
        for page in prefetched:
            got.append(page)
    assert got == [0, 1, 2, 3]


def test_prefetch_reads_no_page_beyond_its_limit():
    pages = Pages(10)
    with Prefetch(pages, limit=3) as prefetched:
        assert list(prefetched) == [0, 1, 2]
    assert pages.read == [0, 1, 2]


def test_prefetch_stops_reading_when_the_caller_leaves_early():
    pages = Pages(1000, delay=0.001)
    with Prefetch(pages, depth=2) as prefetched:
        for page in prefetched:
            if page == 1:
                break
    # Depth 2: the thread holds at most a few pages beyond the last one taken.
    assert len(pages.read) <= 5 and pages.closed


def test_prefetch_reads_while_the_caller_works():
    pages = Pages(6, delay=0.05)
    started = time.perf_counter()
    with Prefetch(pages) as prefetched:
        for _page in prefetched:
            time.sleep(0.05)  # the caller's work, as long as a page's read
    elapsed = time.perf_counter() - started
    # In turn: 6 × (0.05 + 0.05) = 0.6 s; overlapped: about 0.35 s.
    assert elapsed < 0.5
