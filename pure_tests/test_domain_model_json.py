"""domain.model: the normalized event stored exactly as JSON, and read back."""

import copy
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.model import (
    EVENT_TYPES,
    SOURCE_2024,
    SOURCE_V0,
    NormalizationError,
    NormalizedEvent,
    NormalizedLine,
    event_from_json,
    event_to_json,
)
from domain.normalize import normalize_transactions, normalize_v0_events

D = Decimal
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
FALLBACK = datetime(2026, 10, 8, 23, 59, 59, tzinfo=UTC)
PARIS_SUMMER = timezone(timedelta(hours=2))


def make_event(**overrides):
    values = {
        "key": "txn:T1",
        "fingerprint": "f" * 64,
        "source_api": SOURCE_2024,
        "event_type": "refund",
        "amazon_order_id": "302-0000001-0000001",
        "marketplace_id": "A1PA6795UKMFR9",
        "marketplace_name": "Amazon.de",
        "posted_date": datetime(2026, 10, 1, 9, 30, 15, 250000, tzinfo=PARIS_SUMMER),
        "currency": "EUR",
        "total": D("-13.60"),
        "lines": (
            NormalizedLine("Charge/Principal", D("-12.00"), sku="SKU-1", quantity=D("1")),
            NormalizedLine(
                "Charge/Tax",
                D("-2.28"),
                sku="SKU-1",
                quantity=None,
                order_adjustment_item_id="OAI-1",
                description="VAT",
            ),
            NormalizedLine("Fee/Commission", D("0.680")),
        ),
        "group_id": "GRP-1",
        "transaction_id": "T1",
        "transaction_status": "RELEASED",
        "description": "Refund Order",
        "raw": {"transactionId": "T1"},
        "raw_sha256": "a" * 64,
        "source": "Refund",
    }
    values.update(overrides)
    return NormalizedEvent(**values)


def stored(event):
    """event_to_json as it comes back from a JSON column."""
    return json.loads(json.dumps(event_to_json(event)))


def same(left, right):
    """Equal events, field by field, amounts with their exponent and dates in UTC."""
    assert left == right
    assert event_to_json(left) == event_to_json(right)
    assert right.posted_date.tzinfo == UTC


# ---------------------------------------------------------------------------------------------
# Round trip
# ---------------------------------------------------------------------------------------------


def test_amounts_keep_their_exponent():
    data = stored(make_event())
    assert data["total"] == "-13.60"
    assert [line["amount"] for line in data["lines"]] == ["-12.00", "-2.28", "0.680"]
    back = event_from_json(data)
    assert str(back.total) == "-13.60"
    assert [str(line.amount) for line in back.lines] == ["-12.00", "-2.28", "0.680"]
    assert event_from_json(stored(make_event(total=D("1.50")))).total.as_tuple().exponent == -2
    assert stored(make_event(total=D("1.50")))["total"] == "1.50"


def test_dates_are_written_and_read_in_utc():
    event = make_event()
    data = stored(event)
    assert data["posted_date"] == "2026-10-01T07:30:15.250000+00:00"
    back = event_from_json(data)
    assert back.posted_date == datetime(2026, 10, 1, 7, 30, 15, 250000, tzinfo=UTC)
    assert back.posted_date.tzinfo == UTC
    # a stored date with another offset is read as the same instant, in UTC
    data["posted_date"] = "2026-10-01T09:30:15.250000+02:00"
    assert event_from_json(data).posted_date == back.posted_date
    assert event_from_json(data).posted_date.tzinfo == UTC


def test_round_trip_keeps_every_field():
    event = make_event()
    back = event_from_json(stored(event))
    same(event, back)
    assert back.lines[1].order_adjustment_item_id == "OAI-1"
    assert back.lines[1].description == "VAT"
    assert back.raw == {}  # the raw payload is stored beside the event, not in it


def test_raw_payload_is_given_back_by_the_caller():
    event = make_event()
    raw = {"transactionId": "T1", "totalAmount": {"currencyAmount": D("-13.60")}}
    assert event_from_json(stored(event), raw=raw).raw is raw
    assert "raw" not in event_to_json(event)


def test_none_fields_and_quantity_none_stay_none():
    event = make_event(
        amazon_order_id=None,
        marketplace_id=None,
        marketplace_name=None,
        group_id=None,
        transaction_id=None,
        transaction_status=None,
        description=None,
        source=None,
        lines=(NormalizedLine("Adjustment/ReserveEvent", D("-50.00")),),
        total=D("-50.00"),
    )
    data = stored(event)
    assert data["amazon_order_id"] is None and data["transaction_id"] is None
    assert data["lines"][0]["quantity"] is None and data["lines"][0]["sku"] is None
    back = event_from_json(data)
    same(event, back)
    assert back.lines[0].quantity is None and back.group_id is None


def test_event_without_lines_round_trips():
    # a 2024 retrocharge may total 0 with no breakdown: no lines at all
    event = make_event(lines=(), total=D("0"))
    same(event, event_from_json(stored(event)))


def test_normalized_fixtures_round_trip():
    for name in sorted(os.listdir(FIXTURES)):
        with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
            fixture = json.load(f)
        events = normalize_transactions(copy.deepcopy(fixture["transactions"]))[0]
        events += normalize_v0_events(fixture["v0"], posted_date_fallback=FALLBACK)[0]
        for event in events:
            back = event_from_json(stored(event), raw=event.raw)
            same(event, back)
            assert back.raw == event.raw


_texts = st.text(max_size=12)
_optional = st.none() | _texts
_amounts = st.decimals(allow_nan=False, allow_infinity=False)
_offsets = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-14), max_value=timedelta(hours=14))
)
_lines = st.builds(
    NormalizedLine,
    amount_type=st.text(min_size=1, max_size=20),
    amount=_amounts,
    sku=_optional,
    quantity=st.none() | _amounts,
    order_adjustment_item_id=_optional,
    description=_optional,
)
_events = st.builds(
    NormalizedEvent,
    key=st.text(min_size=1, max_size=20),
    fingerprint=st.text(max_size=64),
    source_api=st.sampled_from([SOURCE_2024, SOURCE_V0]),
    event_type=st.sampled_from(EVENT_TYPES),
    amazon_order_id=_optional,
    marketplace_id=_optional,
    marketplace_name=_optional,
    posted_date=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=_offsets
    ),
    currency=st.text(min_size=1, max_size=3),
    total=_amounts,
    lines=st.lists(_lines, max_size=4).map(tuple),
    group_id=_optional,
    transaction_id=_optional,
    transaction_status=_optional,
    description=_optional,
    raw=st.just({}),
    raw_sha256=st.text(max_size=64),
    source=_optional,
)


@settings(max_examples=200, deadline=None)
@given(_events)
def test_any_event_round_trips_exactly(event):
    data = stored(event)
    back = event_from_json(data)
    same(event, back)
    assert stored(back) == data
    # the amounts come back with the same digits and exponent
    assert back.total.as_tuple() == event.total.as_tuple()
    for line, original in zip(back.lines, event.lines, strict=True):
        assert line.amount.as_tuple() == original.amount.as_tuple()
        if original.quantity is None:
            assert line.quantity is None
        else:
            assert line.quantity.as_tuple() == original.quantity.as_tuple()


# ---------------------------------------------------------------------------------------------
# Malformed input: a NormalizationError that says what is wrong, nothing filled in
# ---------------------------------------------------------------------------------------------


def test_an_event_without_an_aware_date_cannot_be_written():
    naive = make_event(posted_date=datetime(2026, 10, 1, 7, 0))
    with pytest.raises(NormalizationError, match="posted date missing or without timezone"):
        event_to_json(naive)
    with pytest.raises(NormalizationError, match="txn:T1"):
        event_to_json(make_event(posted_date=None))


def broken(change):
    data = stored(make_event())
    change(data)
    return data


def _set(path, value):
    def change(data):
        target = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


def _drop(path):
    def change(data):
        target = data
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return change


MALFORMED = [
    ("not an object", None, "stored event is not an object"),
    ("missing date", _drop(["posted_date"]), "posted date missing or malformed"),
    ("null date", _set(["posted_date"], None), "posted date missing or malformed"),
    ("unreadable date", _set(["posted_date"], "yesterday"), "posted date missing or malformed"),
    ("naive date", _set(["posted_date"], "2026-10-01T07:30:15"), "posted date without timezone"),
    ("non-text total", _set(["total"], -13.6), r"total: expected a decimal as text, got -13\.6"),
    ("NaN total", _set(["total"], "NaN"), r"total: 'NaN' is not a finite decimal"),
    ("infinite total", _set(["total"], "-Infinity"), "is not a finite decimal"),
    ("unreadable total", _set(["total"], "12,00"), r"total: '12,00' is not a decimal"),
    ("missing total", _drop(["total"]), "key, currency or total missing"),
    ("missing key", _drop(["key"]), "key, currency or total missing"),
    ("empty key", _set(["key"], ""), "key, currency or total missing"),
    ("missing currency", _drop(["currency"]), "key, currency or total missing"),
    ("missing event type", _drop(["event_type"]), "stored event txn:T1: event_type missing"),
    ("null source api", _set(["source_api"], None), "source_api missing"),
    ("missing optional key", _drop(["group_id"]), "stored event txn:T1: group_id missing"),
    ("non-text field", _set(["amazon_order_id"], 302), "amazon_order_id is not text: 302"),
    ("missing lines", _drop(["lines"]), "lines missing or not a list"),
    ("lines not a list", _set(["lines"], {"a": 1}), "lines missing or not a list"),
    ("line not an object", _set(["lines", 0], "x"), "line 1 malformed"),
    ("line without type", _set(["lines", 1, "amount_type"], ""), "line 2 malformed"),
    ("line without amount", _set(["lines", 0, "amount"], None), "a line has no amount"),
    ("line amount missing", _drop(["lines", 0, "amount"]), "a line has no amount"),
    ("non-text line amount", _set(["lines", 0, "amount"], -12), "line 1 amount: expected"),
    ("NaN line amount", _set(["lines", 2, "amount"], "NaN"), "line 3 amount: 'NaN' is not a"),
    ("non-text quantity", _set(["lines", 0, "quantity"], 1), "line 1 quantity: expected"),
    ("missing quantity", _drop(["lines", 0, "quantity"]), "line 1: quantity missing"),
    ("missing line sku", _drop(["lines", 0, "sku"]), "line 1: sku missing"),
    ("non-text line sku", _set(["lines", 0, "sku"], 7), "line 1: sku is not text: 7"),
]


@pytest.mark.parametrize(
    "change, message",
    [pytest.param(change, message, id=name) for name, change, message in MALFORMED],
)
def test_malformed_stored_events_are_refused_with_a_message(change, message):
    data = None if change is None else broken(change)
    with pytest.raises(NormalizationError, match=message) as info:
        event_from_json(data)
    assert str(info.value)


@pytest.mark.parametrize("data", [[], "{}", 42])
def test_a_stored_event_must_be_an_object(data):
    with pytest.raises(NormalizationError, match="not an object"):
        event_from_json(data)
