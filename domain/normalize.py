"""Amazon Finances payloads → :class:`NormalizedEvent` (pure Python, no Odoo).

Two readers share one output shape (``doc/event-shapes.md`` is the contract):

- :func:`normalize_v0_events` reads the ``FinancialEvents`` object of Finances v0 pages;
- :func:`normalize_transactions` reads 2024-06-19 ``listTransactions`` transactions.

Every money component becomes a :class:`NormalizedLine` whose ``amount_type`` is
``"<Category>/<Type>"``. The categories live in :data:`CATEGORIES`, the canonical type spellings
in :data:`TYPE_NAMES` (compared case-insensitively), the 2024-06-19 leaf paths in
:data:`BREAKDOWN_PATHS` and the v0 lists in :data:`V0_OTHER_LISTS`: real data that differs is a
one-line change there. Unknown names are kept as Amazon spells them
and become unmapped amount types for the planner (the event waits for review; nothing is dropped).

Signs: the normalizer never changes a sign. Amounts stay as Amazon sends them, from the seller's
point of view (negative = money leaves the seller); see :func:`seller_amount`, the only place that
would change if that ever proved wrong. The planner converts to document signs.

A malformed event raises :class:`NormalizationError` inside the reader, which turns it into a
:class:`RawFailure`; the other events of the page are still normalized.

This module only gathers the public names; the code lives in:

- ``domain.vocabulary``: categories, type spellings, breakdown paths, v0 lists, event types;
- ``domain.values``: amounts, quantities, dates, canonical JSON and its digest;
- ``domain.lines``: the lines of one event being read (one currency);
- ``domain.identity``: key, fingerprint, numbering of repeats;
- ``domain.normalize_v0`` and ``domain.normalize_2024``: the two readers.
"""

from .identity import digest_key, fingerprint
from .normalize_2024 import normalize_transactions, transaction_event_type, transaction_lines
from .normalize_v0 import normalize_v0_events
from .values import (
    canonical_json,
    decimal_text,
    parse_amount,
    parse_date,
    parse_quantity,
    raw_sha256,
)
from .vocabulary import (
    ADJUSTMENT,
    BREAKDOWN_PATHS,
    CATEGORIES,
    CHARGE,
    FEE,
    FEE_TAX,
    FEE_TYPES,
    OTHER,
    PROMOTION,
    REFUND_DESCRIPTIONS,
    RETROCHARGE,
    SALES_TRANSACTION_TYPES,
    TAX_WITHHELD,
    TRANSACTION_TYPES,
    TYPE_ALIASES,
    TYPE_NAMES,
    V0_ADJUSTMENT_LIST,
    V0_IGNORED_LISTS,
    V0_OTHER_LISTS,
    V0_RETROCHARGE_LIST,
    V0_SALES_LISTS,
    V0_SERVICE_FEE_LIST,
    V0_SHIPMENT_LISTS,
    amount_type,
    canonical_type,
    category_for_breakdown,
    path_amount_type,
    seller_amount,
)

__all__ = [
    "ADJUSTMENT",
    "BREAKDOWN_PATHS",
    "CATEGORIES",
    "CHARGE",
    "FEE",
    "FEE_TAX",
    "FEE_TYPES",
    "OTHER",
    "PROMOTION",
    "REFUND_DESCRIPTIONS",
    "RETROCHARGE",
    "SALES_TRANSACTION_TYPES",
    "TAX_WITHHELD",
    "TRANSACTION_TYPES",
    "TYPE_ALIASES",
    "TYPE_NAMES",
    "V0_ADJUSTMENT_LIST",
    "V0_IGNORED_LISTS",
    "V0_OTHER_LISTS",
    "V0_RETROCHARGE_LIST",
    "V0_SALES_LISTS",
    "V0_SERVICE_FEE_LIST",
    "V0_SHIPMENT_LISTS",
    "amount_type",
    "canonical_json",
    "canonical_type",
    "category_for_breakdown",
    "decimal_text",
    "digest_key",
    "fingerprint",
    "normalize_transactions",
    "normalize_v0_events",
    "parse_amount",
    "parse_date",
    "parse_quantity",
    "path_amount_type",
    "raw_sha256",
    "seller_amount",
    "transaction_event_type",
    "transaction_lines",
]
