"""Value objects shared by the normalizer and the planner (pure Python, no Odoo).

Money is always ``decimal.Decimal``; signs are Amazon's, from the seller's point of view
(negative = money leaves the seller).
"""

from dataclasses import dataclass, field
from datetime import datetime
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
)
# Event types that concern a customer order: they become a credit note (plus a fee entry).
ORDER_EVENT_TYPES = ("refund", "guarantee_claim", "chargeback")


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
