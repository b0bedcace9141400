"""Finances 2024-06-19 transactions → :class:`NormalizedEvent` (pure Python, no Odoo).

See ``domain.normalize`` for the shape both readers share.
"""

import logging
import re

from .identity import _number_duplicates, digest_key, fingerprint
from .lines import _as_list, _Lines, _text
from .model import SOURCE_2024, NormalizationError, NormalizedEvent, RawFailure
from .values import _DATA_ERRORS, _message, parse_date, parse_quantity, raw_sha256
from .vocabulary import OTHER, REFUND_DESCRIPTIONS, TRANSACTION_TYPES, category_for_breakdown

_logger = logging.getLogger(__name__)


def _breakdown_list(value, where):
    # The model's own example wraps the transaction-level list in {"breakdowns": [...]}.
    if isinstance(value, dict) and "breakdowns" in value:
        value = value["breakdowns"]
    return _as_list(value, where)


def _leaves(lines, breakdowns, where, known=None, top_name=None, **extra):
    """Add one line per leaf breakdown.

    Category of a leaf: its deepest ancestor whose ``breakdownType`` is a known category, else
    the top-level parent's own name (unknown category: kept, so it goes to review). A top-level
    breakdown without children is a leaf of its own category, type = its name.
    """
    for node in _breakdown_list(breakdowns, where):
        name = node.get("breakdownType")
        if not isinstance(name, str) or not name.strip():
            raise NormalizationError(f"{where}: breakdown without breakdownType")
        name = name.strip()
        children = _breakdown_list(node.get("breakdowns"), f"{where}.{name}")
        node_category = category_for_breakdown(name)
        if children:
            _leaves(
                lines,
                children,
                f"{where}.{name}",
                known=node_category or known,
                top_name=top_name or name,
                **extra,
            )
        else:
            category = known or (node_category if top_name is None else None)
            category = category or top_name or name
            lines.add(category, name, node.get("breakdownAmount"), where, **extra)


def _item_extra(item):
    extra = {"sku": None, "quantity": None, "order_adjustment_item_id": None}
    for ident in _as_list(item.get("relatedIdentifiers"), "item relatedIdentifiers"):
        if ident.get("itemRelatedIdentifierName") == "ORDER_ADJUSTMENT_ITEM_ID":
            extra["order_adjustment_item_id"] = _text(ident.get("itemRelatedIdentifierValue"))
    extra.update(_product_context(item.get("contexts")))
    extra["description"] = _text(item.get("description"))
    return extra


def _product_context(contexts):
    for ctx in _as_list(contexts, "contexts"):
        if ctx.get("contextType") == "ProductContext" or "sku" in ctx:
            return {
                "sku": _text(ctx.get("sku")),
                "quantity": parse_quantity(ctx.get("quantityShipped")),
            }
    return {}


def _object(value):
    return value if isinstance(value, dict) else {}


def _related(transaction, name):
    for ident in _as_list(transaction.get("relatedIdentifiers"), "relatedIdentifiers"):
        if ident.get("relatedIdentifierName") == name:
            return _text(ident.get("relatedIdentifierValue"))
    return None


def transaction_event_type(transaction_type, description):
    """2024-06-19 transactionType (+ description for Refund) → event type; None = skip."""
    key = re.sub(r"[\s_-]", "", transaction_type).lower()
    if key not in TRANSACTION_TYPES:
        return "other"
    event_type = TRANSACTION_TYPES[key]
    if event_type == "refund":
        event_type = REFUND_DESCRIPTIONS.get((description or "").strip().lower(), "refund")
    return event_type


def _transaction(raw):
    transaction_type = _text(raw.get("transactionType"))
    if not transaction_type:
        raise NormalizationError("transaction without transactionType")
    description = _text(raw.get("description"))
    event_type = transaction_event_type(transaction_type, description)
    if event_type is None:
        return None
    posted = parse_date(raw.get("postedDate"), "postedDate")
    lines = _Lines()
    total = lines.money(raw.get("totalAmount"), "totalAmount")
    for item in _as_list(raw.get("items"), "items"):
        _leaves(lines, item.get("breakdowns"), "items.breakdowns", **_item_extra(item))
    if not lines.lines:
        _leaves(
            lines,
            raw.get("breakdowns"),
            "breakdowns",
            **_product_context(raw.get("contexts")),
        )
    if not lines.lines and event_type == "other" and total != 0:
        lines.add(OTHER, transaction_type, raw.get("totalAmount"), "totalAmount")
    if lines.total() != total:
        raise NormalizationError(
            f"breakdown leaves add up to {lines.total()}, totalAmount is {total}"
        )
    order_id = _related(raw, "ORDER_ID")
    details = _object(raw.get("marketplaceDetails"))
    metadata = _object(raw.get("sellingPartnerMetadata"))
    transaction_id = _text(raw.get("transactionId"))
    if transaction_id:
        key = f"txn:{transaction_id}"
    else:
        # No transactionId (the model's own sandbox example has none): a content digest.
        key = "v2024:" + digest_key(event_type, order_id, posted, lines.lines)[3:]
    return NormalizedEvent(
        key=key,
        fingerprint=fingerprint(event_type, order_id, posted, lines.lines, total),
        source_api=SOURCE_2024,
        event_type=event_type,
        amazon_order_id=order_id,
        marketplace_id=_text(details.get("marketplaceId")) or _text(metadata.get("marketplaceId")),
        marketplace_name=_text(details.get("marketplaceName")),
        posted_date=posted,
        currency=lines.currency,
        total=total,
        lines=tuple(lines.lines),
        group_id=_related(raw, "FINANCIAL_EVENT_GROUP_ID"),
        transaction_id=transaction_id,
        transaction_status=_text(raw.get("transactionStatus")),
        description=description,
        raw=raw,
        raw_sha256=raw_sha256(raw),
        source=transaction_type,
    )


def normalize_transactions(transactions):
    """Finances 2024-06-19 transactions → (events, failures).

    ``Shipment`` transactions (sales) are skipped; an unknown ``transactionType`` becomes an
    ``"other"`` event. The breakdown leaves (from the items when there are items, else from the
    transaction-level breakdowns) must add up to ``totalAmount``, else the transaction fails.
    """
    events, failures = [], []
    for raw in transactions or []:
        if not isinstance(raw, dict):
            failures.append(RawFailure("transactions", raw, "transaction is not an object"))
            continue
        source = _text(raw.get("transactionType")) or "transactions"
        try:
            event = _transaction(raw)
        except _DATA_ERRORS as exc:
            _logger.info("Unreadable transaction %s: %s", raw.get("transactionId"), exc)
            failures.append(RawFailure(source, raw, _message(exc)))
            continue
        if event is not None:
            events.append(event)
    # The same transactionId twice is the same transaction; distinct ones are numbered apart.
    events = _number_duplicates(events, lambda ev: ev.transaction_id or id(ev))
    return events, failures
