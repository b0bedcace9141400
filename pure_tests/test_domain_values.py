"""domain.values: the one parser of amounts and dates, as each caller words and widens it."""

import glob
import json
import os
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from domain.model import NormalizationError
from domain.values import _canonical_json_by_node, canonical_json, parse_amount, parse_date

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

UTC = timezone.utc


class CallerError(ValueError):
    pass


def test_parse_amount_raises_the_callers_error_with_its_message():
    for bad in ("abc", True, Decimal("NaN"), float("inf")):
        with pytest.raises(CallerError, match=r"^Total has no readable amount$"):
            parse_amount(bad, "Total", error=CallerError, message="Total has no readable amount")
    assert parse_amount("-0.40", error=CallerError, message="unused") == Decimal("-0.40")


def test_parse_amount_default_messages_name_what_is_read():
    with pytest.raises(NormalizationError, match=r"^Total is not a number: 'abc'$"):
        parse_amount("abc", "Total")
    with pytest.raises(NormalizationError, match=r"^Total is not a finite number: Decimal"):
        parse_amount(Decimal("NaN"), "Total")


def test_parse_date_reads_only_date_times_unless_widened():
    with pytest.raises(NormalizationError, match="is not an ISO 8601 date-time"):
        parse_date("2026-10-01")
    assert parse_date("2026-10-01", iso_forms=True) == datetime(2026, 10, 1, tzinfo=UTC)
    assert parse_date("2026-10-01T09:00:00+02:00", iso_forms=True) == datetime(
        2026, 10, 1, 7, tzinfo=UTC
    )
    with pytest.raises(NormalizationError):
        parse_date("01.10.2026 07:00:00 UTC", iso_forms=True)
    formats = ("%d.%m.%Y %H:%M:%S %Z",)
    assert parse_date("01.10.2026 07:00:00 UTC", formats=formats) == datetime(
        2026, 10, 1, 7, tzinfo=UTC
    )


def test_parse_date_raises_the_callers_error_with_its_message():
    message = "Start is not a date"
    for bad in (None, "", 12, "yesterday", "2026-13-01T00:00:00Z", "2026-13-01"):
        with pytest.raises(CallerError, match=rf"^{message}$"):
            parse_date(bad, "Start", iso_forms=True, error=CallerError, message=message)


def test_parse_date_impossible_offset_is_a_normalization_error():
    with pytest.raises(NormalizationError, match="is not a valid date-time"):
        parse_date("2026-10-01T07:00:00+24:00")


# canonical_json: written in one json.dumps call, the text of the node-by-node definition ------

CANONICAL_CASES = [
    {"b": Decimal("-19.60"), "a": [1, "x", None, True, False], "c": {"z": Decimal("0.000")}},
    {"e": Decimal("1E+2"), "f": Decimal("-0"), "g": 1.5, "h": -3, "i": "ünï 中文 \U0001f600"},
    {"marker": "\x00-1.00\x00", "amount": Decimal("2.50")},  # a string that holds the marker
    {"quoted": '"\\u0000x\\u0000"', "list": (Decimal("1.10"), [Decimal("2")])},
    [],
    "text",
    Decimal("3.30"),
]


@pytest.mark.parametrize("value", CANONICAL_CASES)
def test_canonical_json_is_the_definition(value):
    assert canonical_json(value) == _canonical_json_by_node(value)


def test_canonical_json_of_real_amazon_data_is_the_definition():
    realdata = os.path.join(os.path.dirname(ROOT), "shared", "realdata")
    files = sorted(glob.glob(os.path.join(realdata, "*.json")))
    if not files:
        pytest.skip(f"../shared/realdata/ is absent ({realdata})")
    for path in files:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle, parse_float=Decimal)
        assert canonical_json(data) == _canonical_json_by_node(data), path


@pytest.mark.parametrize(
    "value, message",
    [
        ({"a": Decimal("NaN")}, "not a finite number"),
        ({"a": float("inf")}, "not a finite number"),
        ({"a": object()}, "not JSON data"),
        ({1: "a", "b": 2}, "not supported between"),  # keys of two kinds: not sortable
    ],
)
def test_canonical_json_refuses_what_is_not_json_data(value, message):
    with pytest.raises(TypeError, match=message):
        canonical_json(value)
