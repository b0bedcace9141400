"""Finances 2024-06-19 transactions → :class:`NormalizedEvent` (pure Python, no Odoo).

See ``domain.normalize`` for the shape both readers share, and ``doc/event-shapes.md`` for the
trees Amazon really sends (parents over leaves, fees over ``Base`` and ``Tax``, transaction-level
``Sales`` / ``Expenses``, items that do not add up or carry no breakdowns).
"""

import logging
import re
from decimal import Decimal

from .identity import _number_duplicates, digest_key, fingerprint
from .lines import _as_list, _Lines, _text
from .model import (
    SALE_EVENT_TYPE,
    SOURCE_2024,
    NormalizationError,
    NormalizedEvent,
    RawFailure,
)
from .values import _DATA_ERRORS, _message, parse_date, parse_quantity, raw_sha256
from .vocabulary import (
    BREAKDOWN_WRAPPERS,
    OTHER,
    REFUND_DESCRIPTIONS,
    SERVICE_FEE_LUMP,
    TRANSACTION_DEFAULT_CATEGORY,
    TRANSACTION_STEMS,
    TRANSACTION_TYPES,
    canonical_type,
    category_for_breakdown,
    is_known_parent,
    name_key,
    path_amount_type,
)

_logger = logging.getLogger(__name__)

_TYPE_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_WRAPPERS = frozenset(name_key(name) for name in BREAKDOWN_WRAPPERS)


def _breakdown_list(value, where):
    # The model's own example wraps the transaction-level list in {"breakdowns": [...]}.
    if isinstance(value, dict) and "breakdowns" in value:
        value = value["breakdowns"]
    return _as_list(value, where)


def _leaf_nodes(breakdowns, where, path=()):
    """``(path, node)`` of every leaf of a breakdown tree, depth first, in Amazon's order."""
    for node in _breakdown_list(breakdowns, where):
        name = node.get("breakdownType")
        if not isinstance(name, str) or not name.strip():
            raise NormalizationError(f"{where}: breakdown without breakdownType")
        name = name.strip()
        children = _breakdown_list(node.get("breakdowns"), f"{where}.{name}")
        if children:
            yield from _leaf_nodes(children, f"{where}.{name}", (*path, name))
        else:
            yield (*path, name), node


class _Context:
    """What naming a leaf needs to know of its transaction."""

    def __init__(self, transaction_type, description):
        self.key = name_key(transaction_type)
        self.default_category = TRANSACTION_DEFAULT_CATEGORY.get(self.key) or (
            TRANSACTION_STEMS.get(self.key)
        )
        self.description = description
        self.item_fee_types = []

    def service_fee_lump(self):
        """R11: a service fee's bare AmazonFees amount is the one fee its items name (v0's
        FeeType), else the fee its description names when that is a type name."""
        if len(set(self.item_fee_types)) == 1:
            return self.item_fee_types[0]
        if self.description and _TYPE_NAME_RE.match(self.description):
            return f"Fee/{self.description}"
        return "Fee/AmazonFees"


def leaf_amount_type(path, ctx):
    """The amount type of a leaf from its path (``doc/event-shapes.md``, "Leaves")."""
    while len(path) > 1 and name_key(path[0]) in _WRAPPERS:
        path = path[1:]
    known = next((i for i, name in enumerate(path) if is_known_parent(name)), None)
    if known is not None:
        sub = path[known:]
        if (
            ctx.key == "servicefee"
            and len(sub) == 1
            and name_key(sub[0]) == name_key(SERVICE_FEE_LUMP)
        ):
            return ctx.service_fee_lump()
        found = path_amount_type(sub, ctx.key)
        if found:
            return found
        # A deeper shape than the table knows: the whole path, reviewed by name.
        category = category_for_breakdown(sub[0]) or sub[0]
        return "/".join([category, *(canonical_type(n) for n in sub[1:])])
    if ctx.default_category:
        return f"{ctx.default_category}/{canonical_type(path[-1])}"
    # Unknown parent: kept under its top-most name, so it goes to review by name.
    return f"{path[0]}/{canonical_type(path[-1])}"


def _add_leaves(lines, breakdowns, where, ctx, **extra):
    for path, node in _leaf_nodes(breakdowns, where):
        category, type_name = leaf_amount_type(path, ctx).split("/", 1)
        lines.add(category, type_name, node.get("breakdownAmount"), where, **extra)


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
    """2024-06-19 transactionType (+ description for Refund) → event type."""
    key = name_key(transaction_type)
    if key not in TRANSACTION_TYPES:
        return "other"
    event_type = TRANSACTION_TYPES[key]
    if event_type == "refund":
        event_type = REFUND_DESCRIPTIONS.get((description or "").strip().lower(), "refund")
    return event_type


def _item_name(extra, number):
    return extra.get("sku") or extra.get("order_adjustment_item_id") or f"#{number}"


def _sum(lines):
    return sum((line.amount for line in lines), Decimal(0))


def _item_lines(raw, lines, ctx):
    """Lines read from the items, the items read, and what does not add up in them."""
    item_lines = _Lines(lines.currency)
    items = _as_list(raw.get("items"), "items")
    extras, problems = [], []
    for number, item in enumerate(items, 1):
        extra = _item_extra(item)
        extras.append(extra)
        start = len(item_lines.lines)
        _add_leaves(item_lines, item.get("breakdowns"), "items.breakdowns", ctx, **extra)
        got = _sum(item_lines.lines[start:])
        if item.get("totalAmount") is None:
            continue
        expected = item_lines.money(item.get("totalAmount"), "items.totalAmount")
        if got != expected:
            shown = "no breakdowns" if start == len(item_lines.lines) else f"breakdowns of {got}"
            problems.append(
                f"item {_item_name(extra, number)} has {shown} for a totalAmount of {expected}"
            )
    ctx.item_fee_types = [
        ln.amount_type for ln in item_lines.lines if ln.amount_type.startswith("Fee/")
    ]
    return item_lines, extras, problems


def _transaction_lines(raw, lines, ctx, total, event_type, transaction_type):
    """Add the transaction's lines to ``lines``: from its items when they add up to its total,
    else from its transaction-level breakdowns when those do (keeping the SKU and quantity of a
    single item), else the transaction fails naming the amounts."""
    item_lines, extras, problems = _item_lines(raw, lines, ctx)
    if item_lines.lines and not problems and item_lines.total() == total:
        lines.lines.extend(item_lines.lines)
        return
    extra = extras[0] if len(extras) == 1 else _product_context(raw.get("contexts"))
    summary = _Lines(lines.currency)
    _add_leaves(summary, raw.get("breakdowns"), "breakdowns", ctx, **extra)
    for candidate in (summary, item_lines):
        if candidate.lines and candidate.total() == total:
            lines.lines.extend(candidate.lines)
            return
    if not item_lines.lines and not summary.lines:
        if total == 0:
            return  # nothing moved: an event without lines
        if event_type == "other":
            category = TRANSACTION_STEMS.get(ctx.key, OTHER)
            lines.add(category, transaction_type, raw.get("totalAmount"), "totalAmount", **extra)
            return
    first = item_lines if item_lines.lines or not summary.lines else summary
    message = (
        f"breakdown leaves add up to {first.total()}, totalAmount is {total} "
        f"(gap {total - first.total()})"
    )
    if first is item_lines and summary.lines:
        message += (
            f"; the transaction-level breakdowns add up to {summary.total()} "
            f"(gap {total - summary.total()})"
        )
    if problems:
        message += "; " + "; ".join(problems)
    raise NormalizationError(message)


def _transaction(raw):
    transaction_type = _text(raw.get("transactionType"))
    if not transaction_type:
        raise NormalizationError("transaction without transactionType")
    description = _text(raw.get("description"))
    event_type = transaction_event_type(transaction_type, description)
    if event_type == SALE_EVENT_TYPE:
        # domain.sales reads through this module's line readers: imported here, not at the top.
        from .sales import sale_transaction

        return sale_transaction(raw)
    posted = parse_date(raw.get("postedDate"), "postedDate")
    lines = _Lines()
    total = lines.money(raw.get("totalAmount"), "totalAmount")
    ctx = _Context(transaction_type, description)
    _transaction_lines(raw, lines, ctx, total, event_type, transaction_type)
    order_id = _related(raw, "ORDER_ID")
    return transaction_event(
        raw,
        event_type,
        posted,
        lines.currency,
        total,
        tuple(lines.lines),
        fingerprint(event_type, order_id, posted, lines.lines, total),
    )


def transaction_event(raw, event_type, posted, currency, total, lines, event_fingerprint):
    """The :class:`NormalizedEvent` of the 2024-06-19 transaction ``raw`` read as ``lines``:
    its key (``transactionId``, else a content digest), identifiers, marketplace and status."""
    order_id = _related(raw, "ORDER_ID")
    details = _object(raw.get("marketplaceDetails"))
    metadata = _object(raw.get("sellingPartnerMetadata"))
    transaction_id = _text(raw.get("transactionId"))
    if transaction_id:
        key = f"txn:{transaction_id}"
    else:
        # No transactionId (the model's own sandbox example has none): a content digest.
        key = "v2024:" + digest_key(event_type, order_id, posted, lines)[3:]
    return NormalizedEvent(
        key=key,
        fingerprint=event_fingerprint,
        source_api=SOURCE_2024,
        event_type=event_type,
        amazon_order_id=order_id,
        marketplace_id=_text(details.get("marketplaceId")) or _text(metadata.get("marketplaceId")),
        marketplace_name=_text(details.get("marketplaceName")),
        posted_date=posted,
        currency=currency,
        total=total,
        lines=lines,
        group_id=_related(raw, "FINANCIAL_EVENT_GROUP_ID"),
        transaction_id=transaction_id,
        transaction_status=_text(raw.get("transactionStatus")),
        description=_text(raw.get("description")),
        raw=raw,
        raw_sha256=raw_sha256(raw),
        source=_text(raw.get("transactionType")),
    )


def transaction_lines(raw):
    """The lines a transaction's breakdowns give, whatever its type (a sale's are read with
    it). Raises :class:`NormalizationError`."""
    transaction_type = _text(raw.get("transactionType")) or ""
    lines = _Lines()
    total = lines.money(raw.get("totalAmount"), "totalAmount")
    ctx = _Context(transaction_type, _text(raw.get("description")))
    _transaction_lines(raw, lines, ctx, total, "other", transaction_type)
    return tuple(lines.lines)


def normalize_transactions(transactions):
    """Finances 2024-06-19 transactions → (events, failures).

    ``Shipment`` transactions (:data:`SALES_TRANSACTION_TYPES`) become ``"sale"`` events, read
    by ``domain.sales``; an unknown ``transactionType`` becomes an ``"other"`` event. The
    breakdown leaves come from the items when they add up to ``totalAmount``, else from the
    transaction-level breakdowns when those do; otherwise the transaction fails, naming the
    amounts.
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
        events.append(event)
    # The same transactionId twice is the same transaction; distinct ones are numbered apart.
    events = _number_duplicates(events, lambda ev: ev.transaction_id or id(ev))
    return events, failures
