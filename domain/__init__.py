"""Pure accounting logic (no Odoo): normalize Amazon events, plan the documents."""

from .model import (
    EVENT_TYPES,
    ORDER_EVENT_TYPES,
    SOURCE_2024,
    SOURCE_V0,
    NormalizationError,
    NormalizedEvent,
    NormalizedLine,
    RawFailure,
)
from .normalize_2024 import normalize_transactions
from .normalize_v0 import normalize_v0_events
from .plan import (
    ACCOUNT_REFS,
    ROLES,
    AmountTypeRule,
    DocumentPlan,
    Mapping,
    PlanLine,
    PlanResult,
    default_mapping,
    default_rules,
    plan_event,
    summarize_unmapped,
)
