"""Keys tell repeats apart: undated service fees of two settlements, identical events on two
pages of a window; stable when the window is read again (issue 11)."""

import copy
import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from domain.identity import number_across_pages
from domain.sources import get_source

FIXTURES = Path(__file__).parent / "fixtures"
END = datetime(2026, 3, 1, tzinfo=timezone.utc)


def subscription_page():
    fee = {
        "FeeType": "Subscription",
        "FeeAmount": {"CurrencyCode": "EUR", "CurrencyAmount": -39.99},
    }
    return {"FinancialEvents": {"ServiceFeeEventList": [{"FeeList": [fee]}]}}


def fixture(name):
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


def test_the_same_undated_fee_in_two_settlements_is_two_events():
    v0 = get_source("v0")
    (march,), _ = v0.normalize(subscription_page(), group_id="G-MARCH", posted_date_fallback=END)
    (april,), _ = v0.normalize(subscription_page(), group_id="G-APRIL", posted_date_fallback=END)
    assert march.total == april.total == Decimal("-39.99")
    assert march.key != april.key
    assert march.fingerprint != april.fingerprint
    # Read again, the same settlement gives the same key.
    (again,), _ = v0.normalize(subscription_page(), group_id="G-MARCH", posted_date_fallback=END)
    assert (again.key, again.fingerprint) == (march.key, march.fingerprint)


def test_identical_events_on_two_pages_keep_two_keys():
    v0 = get_source("v0")
    page = {"FinancialEvents": fixture("us_mf_refund.json")["v0"]}

    def read_window():
        seen = {}
        first, _ = v0.normalize(copy.deepcopy(page))
        second, _ = v0.normalize(copy.deepcopy(page))
        return number_across_pages(first, seen) + number_across_pages(second, seen)

    events = [ev for ev in read_window() if ev.event_type == "refund"]
    assert len(events) == 2
    assert events[0].key != events[1].key
    assert events[1].key == f"{events[0].key}#2"
    assert events[0].fingerprint != events[1].fingerprint
    # Stable: the window read again from its start gives the same keys.
    assert [ev.key for ev in read_window() if ev.event_type == "refund"] == [
        ev.key for ev in events
    ]


def test_repeats_within_a_page_continue_on_the_next():
    v0 = get_source("v0")
    raw = fixture("us_mf_refund.json")["v0"]["RefundEventList"][0]
    double = {"FinancialEvents": {"RefundEventList": [raw, copy.deepcopy(raw)]}}
    single = {"FinancialEvents": {"RefundEventList": [copy.deepcopy(raw)]}}
    seen = {}
    first = number_across_pages(v0.normalize(double)[0], seen)
    second = number_across_pages(v0.normalize(single)[0], seen)
    base = first[0].key
    assert [ev.key for ev in first + second] == [base, f"{base}#2", f"{base}#3"]


def test_one_transaction_listed_on_two_pages_stays_one():
    source = get_source("2024-06-19")
    transactions = fixture("us_mf_refund.json")["transactions"][1:]  # the refund (not the sale)
    page = {"transactions": transactions}
    seen = {}
    first = number_across_pages(source.normalize(copy.deepcopy(page))[0], seen)
    second = number_across_pages(source.normalize(copy.deepcopy(page))[0], seen)
    assert first[0].transaction_id
    assert (second[0].key, second[0].fingerprint) == (first[0].key, first[0].fingerprint)
    # Another transaction with the same content is another event.
    twin = copy.deepcopy(transactions[0])
    twin["transactionId"] = f"{twin['transactionId']}-twin"
    third = number_across_pages(source.normalize({"transactions": [twin]})[0], seen)
    assert third[0].key != first[0].key
    assert third[0].fingerprint == f"{first[0].fingerprint}#2"
