"""Value objects shared by the normalizer and the planner (pure Python, no Odoo).

Money is always ``decimal.Decimal``; signs are Amazon's, from the seller's point of view
(negative = money leaves the seller).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

SOURCE_V0 = "v0"
SOURCE_2024 = "2024-06-19"

EVENT_TYPES = (
    "refund",
    "guarantee_claim",
    "chargeback",
    "adjustment",
    "service_fee",
    "retrocharge",
    "other",
    "sale",
)
# Event types that concern a customer order: they become a credit note (plus a fee entry).
ORDER_EVENT_TYPES = ("refund", "guarantee_claim", "chargeback")
# A sale (v0 ShipmentEventList / ShipmentSettleEventList, 2024-06-19 Shipment), read by
# domain.sales and summarised by domain.plan_sales (doc/sales.md).
SALE_EVENT_TYPE = "sale"
# A sale read from a settlement report's rows rather than from a Finances API.
SOURCE_REPORT = "settlement-report"


class NormalizationError(ValueError):
    """A raw Amazon event cannot be read: the message names what is wrong."""


class MissingPostedDate(NormalizationError):
    """A v0 event without PostedDate (ServiceFeeEventList) listed without a fallback date."""


@dataclass(frozen=True)
class NormalizedLine:
    """One money component of an event, ``amount_type`` = ``"<Category>/<Type>"``."""

    amount_type: str
    amount: Decimal
    sku: str | None = None
    quantity: Decimal | None = None
    order_adjustment_item_id: str | None = None
    description: str | None = None

    @property
    def category(self):
        return self.amount_type.split("/", 1)[0]


@dataclass(frozen=True)
class NormalizedEvent:
    """One Amazon money movement that is not a sale, read from either Finances API."""

    key: str
    fingerprint: str
    source_api: str
    event_type: str
    amazon_order_id: str | None
    marketplace_id: str | None
    marketplace_name: str | None
    posted_date: datetime
    currency: str
    total: Decimal
    lines: tuple = ()
    group_id: str | None = None
    transaction_id: str | None = None
    transaction_status: str | None = None
    description: str | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)
    raw_sha256: str = ""
    # Where it came from: the v0 list name ("RefundEventList") or the 2024 transactionType.
    source: str | None = None

    @property
    def order_adjustment_item_ids(self):
        """Sorted distinct ``OrderAdjustmentItemId`` values of the lines."""
        ids = {ln.order_adjustment_item_id for ln in self.lines}
        return tuple(sorted(i for i in ids if i))

    @property
    def skus(self):
        return tuple(sorted({ln.sku for ln in self.lines if ln.sku}))


@dataclass(frozen=True)
class RawFailure:
    """A raw event that could not be normalized; the others of the page still are."""

    source: str
    raw: object
    message: str
    # v0 event without PostedDate: dated only when read by its group (``posted_date_fallback``)
    missing_posted_date: bool = False


# ---------------------------------------------------------------------------------------------
# The normalized event, stored exactly (JSON: Decimal as text, dates ISO 8601 in UTC)
# ---------------------------------------------------------------------------------------------

_EVENT_TEXT_FIELDS = (
    "key",
    "fingerprint",
    "source_api",
    "event_type",
    "amazon_order_id",
    "marketplace_id",
    "marketplace_name",
    "currency",
    "group_id",
    "transaction_id",
    "transaction_status",
    "description",
    "raw_sha256",
    "source",
)
_LINE_TEXT_FIELDS = ("amount_type", "sku", "order_adjustment_item_id", "description")


def _decimal_or_none(value, what):
    if value is None:
        return None
    if not isinstance(value, str):
        raise NormalizationError(f"{what}: expected a decimal as text, got {value!r}")
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise NormalizationError(f"{what}: {value!r} is not a decimal") from None
    if not number.is_finite():
        raise NormalizationError(f"{what}: {value!r} is not a finite decimal")
    return number


def event_to_json(event):
    """A :class:`NormalizedEvent` as a JSON-ready dict, without its raw payload (stored beside
    it). Amounts keep their exponent (``"1.50"``); the date is UTC with its offset."""
    if event.posted_date is None or event.posted_date.tzinfo is None:
        raise NormalizationError(f"event {event.key}: posted date missing or without timezone")
    data = {name: getattr(event, name) for name in _EVENT_TEXT_FIELDS}
    data["posted_date"] = event.posted_date.astimezone(UTC).isoformat()
    data["total"] = str(event.total)
    data["lines"] = [
        {
            **{name: getattr(line, name) for name in _LINE_TEXT_FIELDS},
            "amount": str(line.amount),
            "quantity": None if line.quantity is None else str(line.quantity),
        }
        for line in event.lines
    ]
    return data


def _fields(mapping, names, where):
    """The text fields ``names`` of ``mapping``: each must be there, as text or null."""
    values = {}
    for name in names:
        if name not in mapping:
            raise NormalizationError(f"{where}: {name} missing")
        value = mapping[name]
        if value is not None and not isinstance(value, str):
            raise NormalizationError(f"{where}: {name} is not text: {value!r}")
        values[name] = value
    return values


def event_from_json(data, raw=None):
    """The :class:`NormalizedEvent` that :func:`event_to_json` gave ``data`` (``raw``: its raw
    payload, when the caller has it). A missing or malformed field raises
    :class:`NormalizationError`; nothing is filled in."""
    if not isinstance(data, dict):
        raise NormalizationError("stored event is not an object")
    where = f"stored event {data.get('key')}"
    try:
        posted = datetime.fromisoformat(data["posted_date"])
    except (KeyError, TypeError, ValueError):
        raise NormalizationError(f"{where}: posted date missing or malformed") from None
    if posted.tzinfo is None:
        raise NormalizationError(f"{where}: posted date without timezone")
    if not isinstance(data.get("lines"), list):
        raise NormalizationError(f"{where}: lines missing or not a list")
    lines = []
    for number, line in enumerate(data["lines"], 1):
        if not isinstance(line, dict) or not line.get("amount_type"):
            raise NormalizationError(f"{where}: line {number} malformed")
        texts = _fields(line, _LINE_TEXT_FIELDS, f"{where}: line {number}")
        if "quantity" not in line:
            raise NormalizationError(f"{where}: line {number}: quantity missing")
        lines.append(
            NormalizedLine(
                **texts,
                amount=_decimal_or_none(line.get("amount"), f"line {number} amount"),
                quantity=_decimal_or_none(line["quantity"], f"line {number} quantity"),
            )
        )
    if any(line.amount is None for line in lines):
        raise NormalizationError(f"{where}: a line has no amount")
    total = _decimal_or_none(data.get("total"), "total")
    if total is None or not data.get("key") or not data.get("currency"):
        raise NormalizationError("stored event: key, currency or total missing")
    values = _fields(data, _EVENT_TEXT_FIELDS, where)
    for name in ("source_api", "event_type"):
        if not values[name]:
            raise NormalizationError(f"{where}: {name} missing")
    values["fingerprint"] = values["fingerprint"] or ""
    values["raw_sha256"] = values["raw_sha256"] or ""
    return NormalizedEvent(
        **values,
        posted_date=posted.astimezone(UTC),
        total=total,
        lines=tuple(lines),
        raw=raw if raw is not None else {},
    )
