"""Local Selling Partner API emulator for tests and the demo (pure Python, stdlib only).

``SpApiEmulator`` serves LWA, the consent page, Sellers, Finances (v0 and 2024-06-19) and
settlement reports on 127.0.0.1 from a seeded ``Dataset`` made by ``generate_dataset``, in the
shapes Amazon really sends (``doc/emulator.md``). Run ``python3 -m emulator``.
"""

from .generator import (
    MARKETPLACES,
    QUIRKS,
    Dataset,
    EventGroup,
    EventItem,
    FinanceEvent,
    RawEvent,
    dumps,
    generate_dataset,
    to_transaction,
    to_v0_event,
    to_v0_events,
    to_v0_financial_events,
    to_v0_group,
)
from .server import ApiError, Call, SpApiEmulator

__all__ = [
    "MARKETPLACES",
    "QUIRKS",
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
    "to_v0_events",
    "to_v0_financial_events",
    "to_v0_group",
]
