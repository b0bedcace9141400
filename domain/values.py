"""Small parsers shared by the domain (pure Python, no Odoo): amounts, quantities and dates
read exactly (Decimal, aware UTC), canonical JSON and its digest.
"""

import contextlib
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


def parse_amount(value, what="amount", *, error=NormalizationError, message=None):
    """A JSON number (int, float, Decimal or numeric string) → Decimal, never via binary float.

    Floats go through ``str()`` (their shortest repr: ``-19.6`` stays ``-19.6``). A value that
    is not a finite number raises ``error`` (:class:`NormalizationError` unless the caller has its
    own class) with ``message`` when the caller words it, else a text naming ``what``.
    """
    if isinstance(value, bool):
        raise error(message or f"{what} is not a number: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(str(value))
    elif isinstance(value, str) and _NUMBER_RE.match(value.strip()):
        result = Decimal(value.strip())
    else:
        raise error(message or f"{what} is not a number: {value!r}")
    if not result.is_finite():
        raise error(message or f"{what} is not a finite number: {value!r}")
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


def parse_date(
    value,
    what="PostedDate",
    *,
    iso_forms=False,
    formats=(),
    error=NormalizationError,
    message=None,
):
    """ISO 8601 date-time → aware UTC datetime. A string without offset is taken as UTC.

    By default only a date with a time is read (``T``, ``t`` or a space between them; optional
    seconds, fraction, ``Z`` or offset), as Amazon's Finances APIs send it. Readers of other
    files widen that: ``iso_forms`` also accepts every other form ``datetime.fromisoformat``
    reads (a date alone, the basic format...), then each ``strptime`` format of ``formats`` is
    tried in turn (``%Z`` reads ``UTC``). A value that is not read raises ``error``
    (:class:`NormalizationError` unless the caller has its own class) with ``message`` when the
    caller words it, else a text naming ``what``.
    """
    if not value:
        raise error(message or f"missing {what}")
    if not isinstance(value, str):
        raise error(message or f"{what} is not a date-time string: {value!r}")
    text = value.strip()
    match = _DATE_RE.match(text)
    if not match:
        result = _other_date_forms(text, iso_forms, formats)
        if result is None:
            raise error(message or f"{what} is not an ISO 8601 date-time: {value!r}")
        if result.tzinfo is None:
            result = result.replace(tzinfo=timezone.utc)
        return result.astimezone(timezone.utc)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        result = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro
        )
        tz = timezone.utc
        if offset and offset not in ("Z", "z"):
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
            tz = timezone(sign * timedelta(minutes=minutes))
    except ValueError as exc:
        raise error(message or f"{what} is not a valid date-time: {value!r}") from exc
    return result.replace(tzinfo=tz).astimezone(timezone.utc)


def _other_date_forms(text, iso_forms, formats):
    """``text`` read by ``datetime.fromisoformat`` (when ``iso_forms``) or by one of the
    ``strptime`` ``formats``, naive or aware; None when none reads it."""
    if iso_forms:
        iso = text[:-1] + "+00:00" if text.endswith("Z") else text
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(iso)
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def decimal_text(amount):
    """A Decimal written without trailing zeros or exponent: -19.60 and -19.6 give "-19.6"."""
    if amount == 0:
        return "0"
    return format(amount.normalize(), "f")


def canonical_json(value):
    """Canonical JSON: sorted keys, no spaces, Decimals written exactly as received.

    Written by ``json.dumps`` in one call (Decimals marked, then unquoted): the text of
    :func:`_canonical_json_by_node` (the definition, still used where a string holds the
    marker, and to say what is not JSON data), twice as fast. Data parsed from JSON has string
    keys only; a key that is not one is written as ``json.dumps`` writes it."""
    decimals = []

    def number(item):
        if isinstance(item, Decimal) and item.is_finite():
            decimals.append(item)
            return f"{_MARK}{item}{_MARK}"
        raise TypeError(f"not JSON data: {item!r}")

    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), allow_nan=False, default=number
        )
    except (TypeError, ValueError):
        return _canonical_json_by_node(value)  # raises the TypeError that says what
    if text.count(_MARK_JSON) != 2 * len(decimals):
        return _canonical_json_by_node(value)
    return _MARKED.sub(r"\1", text) if decimals else text


# A Decimal's text between two NUL characters (written "\u0000" in JSON), unquoted after.
_MARK = "\x00"
_MARK_JSON = "\\u0000"
_MARKED = re.compile(r'"\\u0000([-+.0-9eE]+)\\u0000"')


def _canonical_json_by_node(value):
    """:func:`canonical_json`, node by node (the definition)."""
    if isinstance(value, dict):
        parts = []
        for key in sorted(value):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {key!r}")
            parts.append(json.dumps(key) + ":" + _canonical_json_by_node(value[key]))
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canonical_json_by_node(item) for item in value) + "]"
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
