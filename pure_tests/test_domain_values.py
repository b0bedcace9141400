"""domain.values: the one parser of amounts and dates, as each caller words and widens it."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from domain.model import NormalizationError
from domain.values import parse_amount, parse_date

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
