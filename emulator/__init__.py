"""Local Selling Partner API emulator for tests and the demo (pure Python, stdlib only).

``SpApiEmulator`` serves LWA, the consent page, Sellers and Finances (v0 and 2024-06-19) on
127.0.0.1 from a seeded ``Dataset`` made by ``generate_dataset``. Run ``python3 -m emulator``.
"""

from .generator import (
    MARKETPLACES,
    Dataset,
    EventGroup,
    EventItem,
    FinanceEvent,
    RawEvent,
    dumps,
    generate_dataset,
    to_transaction,
    to_v0_event,
    to_v0_financial_events,
    to_v0_group,
)
from .server import ApiError, Call, SpApiEmulator

__all__ = [
    "MARKETPLACES",
    "ApiError",
    "Call",
    "Dataset",
    "EventGroup",
    "EventItem",
    "FinanceEvent",
    "RawEvent",
    "SpApiEmulator",
    "dumps",
    "generate_dataset",
    "to_transaction",
    "to_v0_event",
    "to_v0_financial_events",
    "to_v0_group",
]
