"""domain.sources: one Finances source per API version, read through any SP-API client."""

import copy
import inspect
import json
import os
from datetime import UTC, datetime

import pytest

from domain.model import SOURCE_2024, SOURCE_V0
from domain.normalize import normalize_transactions, normalize_v0_events
from domain.sources import (
    DEFAULT_SOURCE,
    SOURCES,
    FinancesSource,
    FinancialEventsV0Source,
    Transactions2024Source,
    get_source,
    selection,
)
from spapi.client import SpApiClient
from spapi.results import Page

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
FIXTURE_NAMES = sorted(name for name in os.listdir(FIXTURES) if name.endswith(".json"))
START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 10, 8, tzinfo=UTC)
FALLBACK = datetime(2026, 10, 8, 23, 59, 59, tzinfo=UTC)


def load(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return json.load(f)


class FakeClient:
    """Records each call (checked against the real client's signature) and returns pages."""

    def __init__(self, pages=()):
        self.pages = list(pages)
        self.calls = []

    def _call(self, name, *args, **kwargs):
        # A source must call the real client's method with parameters it has.
        inspect.signature(getattr(SpApiClient, name)).bind(self, *args, **kwargs)
        self.calls.append((name, args, kwargs))
        return iter(self.pages)

    def list_transactions(self, *args, **kwargs):
        return self._call("list_transactions", *args, **kwargs)

    def list_financial_events(self, *args, **kwargs):
        return self._call("list_financial_events", *args, **kwargs)

    def list_financial_events_by_order_id(self, *args, **kwargs):
        return self._call("list_financial_events_by_order_id", *args, **kwargs)

    def list_financial_events_by_group_id(self, *args, **kwargs):
        return self._call("list_financial_events_by_group_id", *args, **kwargs)


PAGES = [Page({"transactions": []}, next_token="T2"), Page({"transactions": []})]


# ---------------------------------------------------------------------------------------------
# Reading: which client method, which arguments
# ---------------------------------------------------------------------------------------------


def test_2024_window_pages_read_every_marketplace_and_resume_at_the_token():
    # One call per account: no marketplaceId, even when a marketplace is named (a filter would
    # hide the US merchant-fulfilled orders, finances_2024-06-19.json listTransactions).
    client = FakeClient(PAGES)
    pages = SOURCES[SOURCE_2024].window_pages(client, START, END, "ATVPDKIKX0DER", token="T1")
    assert list(pages) == PAGES
    assert client.calls == [
        (
            "list_transactions",
            (),
            {"posted_after": START, "posted_before": END, "start_token": "T1"},
        )
    ]


@pytest.mark.parametrize("code", [None, "", "A1PA6795UKMFR9"])
def test_2024_window_pages_never_send_a_marketplace(code):
    client = FakeClient()
    list(SOURCES[SOURCE_2024].window_pages(client, START, END, code))
    ((name, args, kwargs),) = client.calls
    assert name == "list_transactions" and args == ()
    assert "marketplace_id" not in kwargs and kwargs["start_token"] is None


def test_2024_order_and_group_pages_use_related_identifiers():
    client = FakeClient(PAGES)
    source = SOURCES[SOURCE_2024]
    assert list(source.order_pages(client, "114-0000001-0000001")) == PAGES
    assert list(source.group_pages(client, "GRP-1")) == PAGES
    assert client.calls == [
        (
            "list_transactions",
            (),
            {
                "related_identifier_name": "ORDER_ID",
                "related_identifier_value": "114-0000001-0000001",
            },
        ),
        (
            "list_transactions",
            (),
            {
                "related_identifier_name": "FINANCIAL_EVENT_GROUP_ID",
                "related_identifier_value": "GRP-1",
            },
        ),
    ]


def test_v0_window_pages_list_every_marketplace():
    client = FakeClient(PAGES)
    source = SOURCES[SOURCE_V0]
    # the marketplace code is not sent: v0 lists the seller's marketplaces together
    assert list(source.window_pages(client, START, END, "ATVPDKIKX0DER", token="T1")) == PAGES
    list(source.window_pages(client, START, END))
    assert client.calls == [
        (
            "list_financial_events",
            (),
            {"posted_after": START, "posted_before": END, "start_token": "T1"},
        ),
        (
            "list_financial_events",
            (),
            {"posted_after": START, "posted_before": END, "start_token": None},
        ),
    ]


def test_v0_order_and_group_pages_use_their_own_operations():
    client = FakeClient(PAGES)
    source = SOURCES[SOURCE_V0]
    assert list(source.order_pages(client, "114-0000001-0000001")) == PAGES
    assert list(source.group_pages(client, "GRP-1")) == PAGES
    assert client.calls == [
        ("list_financial_events_by_order_id", ("114-0000001-0000001",), {}),
        ("list_financial_events_by_group_id", ("GRP-1",), {}),
    ]


def test_the_fake_client_refuses_what_the_real_client_would():
    # the check the tests above rely on: an unknown parameter is a TypeError
    with pytest.raises(TypeError):
        FakeClient().list_transactions(marketplace="X")
    with pytest.raises(TypeError):
        FakeClient().list_financial_events_by_order_id()


# ---------------------------------------------------------------------------------------------
# Normalizing: the same as the readers of domain.normalize
# ---------------------------------------------------------------------------------------------


def resolver(calls):
    def resolve(name, currency):
        calls.append((name, currency))
        return {"Amazon.com": "ATVPDKIKX0DER", "Amazon.co.uk": "A1F83G8C2ARO7P"}.get(name)

    return resolve


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_2024_normalize_is_normalize_transactions_of_the_page(name):
    transactions = load(name)["transactions"]
    expected = normalize_transactions(copy.deepcopy(transactions))
    got = SOURCES[SOURCE_2024].normalize({"transactions": transactions, "nextToken": "N"})
    assert got == expected
    assert [ev.raw for ev in got[0]] == [ev.raw for ev in expected[0]]
    assert all(ev.source_api == SOURCE_2024 for ev in got[0])


def test_2024_normalize_ignores_the_v0_arguments():
    transactions = load("service_fees.json")["transactions"]
    calls = []
    got = SOURCES[SOURCE_2024].normalize(
        {"transactions": transactions},
        marketplace_resolver=resolver(calls),
        group_id="OTHER-GROUP",
        posted_date_fallback=FALLBACK,
    )
    assert got == normalize_transactions(transactions)
    assert calls == []  # transactions name their marketplace themselves
    assert "OTHER-GROUP" not in {ev.group_id for ev in got[0]}


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_v0_normalize_is_normalize_v0_events_of_the_page(name):
    financial_events = load(name)["v0"]
    expected_calls, calls = [], []
    expected = normalize_v0_events(
        copy.deepcopy(financial_events),
        marketplace_resolver=resolver(expected_calls),
        group_id="GRP-1",
        posted_date_fallback=FALLBACK,
    )
    got = SOURCES[SOURCE_V0].normalize(
        {"FinancialEvents": financial_events, "NextToken": "N"},
        marketplace_resolver=resolver(calls),
        group_id="GRP-1",
        posted_date_fallback=FALLBACK,
    )
    assert got == expected
    assert calls == expected_calls
    assert all(ev.source_api == SOURCE_V0 and ev.group_id == "GRP-1" for ev in got[0])


def test_v0_normalize_passes_resolver_and_fallback_through():
    financial_events = load("service_fees.json")["v0"]
    calls = []
    events, failures = SOURCES[SOURCE_V0].normalize(
        {"FinancialEvents": financial_events}, marketplace_resolver=resolver(calls)
    )
    # without the fallback date, the undated service fees fail as the reader says
    assert failures and all(f.missing_posted_date for f in failures)
    assert (events, failures) == normalize_v0_events(
        financial_events, marketplace_resolver=resolver([])
    )
    assert ("Amazon.com", "USD") in calls
    assert {ev.marketplace_id for ev in events} == {"ATVPDKIKX0DER"}
    dated, none_failed = SOURCES[SOURCE_V0].normalize(
        {"FinancialEvents": financial_events}, posted_date_fallback=FALLBACK
    )
    assert none_failed == [] and FALLBACK in {ev.posted_date for ev in dated}


@pytest.mark.parametrize("payload", [None, {}, {"FinancialEvents": None}, {"transactions": None}])
def test_empty_pages_give_nothing(payload):
    for source in SOURCES.values():
        assert source.normalize(payload) == ([], [])


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------


def test_registry_holds_one_source_per_api_by_stored_name():
    assert list(SOURCES) == [SOURCE_2024, SOURCE_V0, "settlement-report"]
    assert DEFAULT_SOURCE == next(iter(SOURCES))
    assert isinstance(SOURCES[SOURCE_2024], Transactions2024Source)
    assert isinstance(SOURCES[SOURCE_V0], FinancialEventsV0Source)
    for name, source in SOURCES.items():
        assert isinstance(source, FinancesSource) and source.name == name and source.label


def test_sources_say_how_they_are_cut_and_resolved():
    new, old = SOURCES[SOURCE_2024], SOURCES[SOURCE_V0]
    assert (new.per_marketplace, new.lists_all_marketplaces) == (False, True)
    assert new.needs_marketplace_resolver is False
    assert (old.per_marketplace, old.lists_all_marketplaces) == (False, True)
    assert old.needs_marketplace_resolver is True


def test_get_source_returns_the_registered_source():
    assert get_source(SOURCE_2024) is SOURCES[SOURCE_2024]
    assert get_source("v0") is SOURCES[SOURCE_V0]


@pytest.mark.parametrize("name", ["v1", "", None, "V0", "2024-06-19 "])
def test_get_source_refuses_an_unknown_name_and_lists_the_known(name):
    with pytest.raises(ValueError, match="Unknown Finances API") as info:
        get_source(name)
    assert repr(name) in str(info.value)
    assert "2024-06-19, v0" in str(info.value)


def test_selection_is_name_and_label_of_each_source_in_order():
    assert selection() == [
        ("2024-06-19", "2024-06-19 (listTransactions)"),
        ("v0", "v0 (listFinancialEvents)"),
        ("settlement-report", "Settlement report file"),
    ]
    assert selection() == [(s.name, s.label) for s in SOURCES.values()]


def test_the_base_class_reads_nothing():
    base = FinancesSource()
    client = FakeClient()
    with pytest.raises(NotImplementedError):
        base.window_pages(client, START, END)
    with pytest.raises(NotImplementedError):
        base.order_pages(client, "O")
    with pytest.raises(NotImplementedError):
        base.group_pages(client, "G")
    with pytest.raises(NotImplementedError):
        base.normalize({})
    assert client.calls == []
