"""Small parsers shared by the domain (pure Python, no Odoo): amounts, quantities and dates
read exactly (Decimal, aware UTC), canonical JSON and its digest.
"""

import hashlib
import json
import logging
import math
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from .model import NormalizationError

_logger = logging.getLogger(__name__)

_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_amount(value, what="amount"):
    """A JSON number (int, float, Decimal or numeric string) → Decimal, never via binary float.

    Floats go through ``str()`` (their shortest repr: ``-19.6`` stays ``-19.6``).
    """
    if isinstance(value, bool):
        raise NormalizationError(f"{what} is not a number: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(str(value))
    elif isinstance(value, str) and _NUMBER_RE.match(value.strip()):
        result = Decimal(value.strip())
    else:
        raise NormalizationError(f"{what} is not a number: {value!r}")
    if not result.is_finite():
        raise NormalizationError(f"{what} is not a finite number: {value!r}")
    return result


def parse_quantity(value):
    """Item quantity (integer in ShipmentItem, string in AdjustmentItem) → Decimal or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return parse_amount(value, "quantity")
    except NormalizationError:
        _logger.warning("Ignoring an unreadable item quantity %r", value)
        return None


def parse_date(value, what="PostedDate"):
    """ISO 8601 date-time → aware UTC datetime. A string without offset is taken as UTC."""
    if not value:
        raise NormalizationError(f"missing {what}")
    if not isinstance(value, str):
        raise NormalizationError(f"{what} is not a date-time string: {value!r}")
    match = _DATE_RE.match(value.strip())
    if not match:
        raise NormalizationError(f"{what} is not an ISO 8601 date-time: {value!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        result = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro
        )
    except ValueError as exc:
        raise NormalizationError(f"{what} is not a valid date-time: {value!r}") from exc
    tz = timezone.utc
    if offset and offset not in ("Z", "z"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        tz = timezone(sign * timedelta(minutes=minutes))
    return result.replace(tzinfo=tz).astimezone(timezone.utc)


def decimal_text(amount):
    """A Decimal written without trailing zeros or exponent: -19.60 and -19.6 give "-19.6"."""
    if amount == 0:
        return "0"
    return format(amount.normalize(), "f")


def canonical_json(value):
    """Canonical JSON: sorted keys, no spaces, Decimals written exactly as received."""
    if isinstance(value, dict):
        parts = []
        for key in sorted(value):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {key!r}")
            parts.append(json.dumps(key) + ":" + canonical_json(value[key]))
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical_json(item) for item in value) + "]"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError(f"not a finite number: {value!r}")
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise TypeError(f"not a finite number: {value!r}")
        return repr(value)
    if value is None or isinstance(value, bool | int | str):
        return json.dumps(value)
    raise TypeError(f"not JSON data: {value!r}")


def raw_sha256(raw):
    """SHA-256 (hex) of :func:`canonical_json` of the raw event."""
    try:
        text = canonical_json(raw)
    except TypeError as exc:
        raise NormalizationError(f"raw event is not JSON data: {exc}") from exc
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# What a malformed payload can raise while it is read: it fails that event only.
_DATA_ERRORS = (ValueError, TypeError, AttributeError, KeyError, IndexError)


def _message(exc):
    if isinstance(exc, NormalizationError):
        return str(exc)
    return f"unexpected shape ({type(exc).__name__}: {exc})"


def _get(mapping, *names):
    """First present key among ``names`` (exact, then case-insensitive)."""
    for name in names:
        if name in mapping:
            return mapping[name]
    lowered = {str(k).lower(): v for k, v in mapping.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None
