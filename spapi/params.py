"""SP-API query parameters and JSON bodies: dates in ISO 8601 UTC, lists comma-joined,
numbers as ``Decimal``."""

import json
from datetime import date, datetime, timezone
from decimal import Decimal


def format_datetime(value):
    """ISO 8601 UTC ``YYYY-MM-DDTHH:MM:SSZ`` of a datetime, a date or an ISO string.

    Naive datetimes are taken as UTC (Odoo's convention). None stays None.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"Not an ISO 8601 date/time: {value!r}") from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise TypeError(f"Expected a datetime or an ISO 8601 string, got {type(value).__name__}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _query_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return format_datetime(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(item) for item in value)
    return value


def _clean_params(params):
    """Query parameters without None values; lists comma-separated, booleans lowercase."""
    return {key: _query_value(value) for key, value in (params or {}).items() if value is not None}


def _parse_json(text):
    if not text or not text.strip():
        return {}
    return json.loads(text, parse_float=Decimal)
