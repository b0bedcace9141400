"""Canonical events rendered as Finances 2024-06-19 transactions, in the tree Amazon really
sends (R10-R13 of ``../shared/realdata``; ``doc/emulator.md`` says where each name comes from).

Items nest parents over leaves: ``Tax`` (``OurPriceTax``, ``ShippingTax``, ``GiftwrapTax`` and
the withheld ``MarketplaceFacilitator…`` / ``LowValueGoodsTax-…``), ``ProductCharges``
(``OurPricePrincipal``...), ``Shipping`` (``ShippingPrincipal``), ``Giftwrap``, ``PromoRebates``
(``OurPriceDiscount``, ``ShippingDiscount`` and their VAT parts) and ``AmazonFees`` (one node
per fee over ``Base`` and, in VAT marketplaces, ``Tax``). The transaction-level breakdowns
summarize the item parents under ``Sales`` (the positive ones) and ``Expenses``.
"""

import copy
from decimal import Decimal

from .common import digest, iso, quantize
from .events import RawEvent, fee_tax, promotion_parts

ACCOUNT_TYPE = "Standard Orders"
PARENT_ORDER = ("Tax", "ProductCharges", "Shipping", "Giftwrap", "PromoRebates", "AmazonFees")
# lower-case v0 ChargeType → (parent, leaf)
CHARGE_PATHS = {
    "principal": ("ProductCharges", "OurPricePrincipal"),
    "tax": ("Tax", "OurPriceTax"),
    "shippingcharge": ("Shipping", "ShippingPrincipal"),
    "shippingtax": ("Tax", "ShippingTax"),
    "giftwrap": ("Giftwrap", "GiftwrapPrincipal"),
    "giftwraptax": ("Tax", "GiftwrapTax"),
    "restockingfee": ("ProductCharges", "RestockingDeductionPrincipal"),
    "goodwill": ("ProductCharges", "GoodwillPrincipal"),
}
# promotion base → (leaf of the promotion, leaf of its VAT part)
PROMOTION_LEAVES = {
    "Principal": ("OurPriceDiscount", "OurPriceTaxDiscount"),
    "Shipping": ("ShippingDiscount", "ShippingTaxDiscount"),
}
TRANSACTION_TYPE = {
    "order": "Shipment",
    "refund": "Refund",
    "guarantee_claim": "Refund",
    "chargeback": "Refund",
    "adjustment": "Adjustment",
    "service_fee": "ServiceFee",
    "retrocharge": "Retrocharge",
    # Named like the v0 list (public code sums transaction_type 'ProductAdsPayment'); the tree
    # under it is **assumed**: AmazonFees/CostOfAdvertising/Base|Tax, as the v0 event's fields
    "product_ads": "ProductAdsPayment",
}
DESCRIPTION = {
    "order": "Order Payment",
    "refund": "Refund Order",
    "guarantee_claim": "A-to-z Guarantee Claim",
    "chargeback": "Chargeback Refund",
}
# Inventory reimbursements and their reversals: the 2024 description names the family
# (models#4244), the leaf keeps the v0 AdjustmentType.
REIMBURSEMENT_TYPES = frozenset(
    {
        "FBAInventoryReimbursement",
        "WAREHOUSE_DAMAGE",
        "WAREHOUSE_LOST",
        "CustomerReturn",
        "MISSING_FROM_INBOUND",
        "REVERSAL_REIMBURSEMENT",
        "COMPENSATED_CLAWBACK",
        "FREE_REPLACEMENT_REFUND_ITEMS",
        "REMOVAL_ORDER_LOST",
        "INBOUND_CARRIER_DAMAGE",
        "CS_ERROR_ITEMS",
    }
)
# ServiceFee description by fee type where real data shows it (R11; V2 name of the LTSF)
SERVICE_FEE_DESCRIPTION = {
    "FBAStorageFee": "FBAStorageBilling",
    "FBALongTermStorageFee": "StorageRenewalBilling",
}
STATUS = {"RELEASED": "Released", "DEFERRED": "Deferred", "DEFERRED_RELEASED": "DeferredReleased"}

_LIST, _NULL, _ABSENT = "list", "null", "absent"


def _money(amount, currency):
    return {"currencyAmount": amount, "currencyCode": currency}


def _node(name, amount, currency, children=_LIST):
    node = {"breakdownType": name, "breakdownAmount": _money(amount, currency)}
    if children == _LIST:
        node["breakdowns"] = []
    elif children == _NULL:
        node["breakdowns"] = None
    elif children != _ABSENT:
        node["breakdowns"] = children
    return node


class _Tree:
    """Parents → leaves of one item (amounts summed per leaf), rendered in Amazon's order."""

    def __init__(self, event):
        self.event = event
        self.parents = {}

    def add(self, parent, leaf, amount, kind="leaf", tax=None):
        """``kind``: ``leaf``, ``fee`` (over Base and Tax when ``tax`` is not None) or ``bare``
        (a fee without children, R11)."""
        leaves = self.parents.setdefault(parent, {})
        entry = leaves.setdefault(leaf, {"amount": Decimal(0), "kind": kind, "tax": None})
        entry["amount"] += amount
        if tax is not None:
            entry["tax"] = (entry["tax"] or Decimal(0)) + tax

    def add_item(self, item):
        event = self.event
        for name, amount in item.charges.items():
            parent, leaf = CHARGE_PATHS.get(name.lower(), (None, name))
            if parent is None:
                parent = "Tax" if name.lower().endswith("tax") else "ProductCharges"
            self.add(parent, leaf, amount)
        for name, amount in item.withheld.items():
            self.add("Tax", name, amount)
        leaf, vat_leaf = PROMOTION_LEAVES.get(item.promotion_base, PROMOTION_LEAVES["Principal"])
        for amount in item.promotions.values():
            net, vat = promotion_parts(event, amount)
            self.add("PromoRebates", leaf, net)
            if vat is not None:
                self.add("PromoRebates", vat_leaf, vat)
        self.add_fees(item, item.fees)

    def add_fees(self, owner, fees, bare=False):
        for name, amount in fees.items():
            tax = fee_tax(self.event, owner, name, amount)
            kind = "bare" if bare and tax is None else "fee"
            self.add("AmazonFees", name, amount, kind, tax)

    def categories(self):
        order = {name: index for index, name in enumerate(PARENT_ORDER)}
        names = sorted(self.parents, key=lambda p: (order.get(p, len(order)), p))
        return [
            (p, sum((e["amount"] for e in self.parents[p].values()), Decimal(0))) for p in names
        ]

    def render(self):
        cur = self.event.currency
        result = []
        for parent, total in self.categories():
            children = []
            for leaf, entry in self.parents[parent].items():
                children.append(self._leaf(leaf, entry, cur))
            result.append(_node(parent, total, cur, children))
        return result

    @staticmethod
    def _leaf(name, entry, cur):
        if entry["kind"] == "bare":
            return _node(name, entry["amount"], cur, _ABSENT)  # R11: no children
        if entry["kind"] == "fee":
            return _fee_node(name, entry["amount"], entry["tax"], cur)
        return _node(name, entry["amount"], cur)


def _fee_node(name, amount, tax, cur):
    """A fee over ``Base`` (and ``Tax``: Amazon's VAT on its fee); R10."""
    children = [_node("Base", amount - (tax or 0), cur, _ABSENT)]
    if tax is not None:
        children.append(_node("Tax", tax, cur, _ABSENT))
    return _node(name, amount, cur, children)


def _summary(categories, currency, children=_NULL):
    """Transaction-level breakdowns: ``Sales`` (positive categories) and ``Expenses`` (R10)."""
    sales = [(n, a) for n, a in categories if a >= 0]
    expenses = [(n, a) for n, a in categories if a < 0]
    result = []
    for name, members in (("Sales", sales), ("Expenses", expenses)):
        if members:
            total = sum((a for _n, a in members), Decimal(0))
            nodes = [_node(n, a, currency, children) for n, a in members]
            result.append(_node(name, total, currency, nodes))
    return result


def _merge(categories):
    merged = {}
    for name, amount in categories:
        merged[name] = merged.get(name, Decimal(0)) + amount
    return list(merged.items())


def _product_context(sku, asin, quantity, network="AFN"):
    context = {"asin": asin, "quantityShipped": quantity, "sku": sku}
    context = {k: v for k, v in context.items() if v is not None}
    context["fulfillmentNetwork"] = network
    context["contextType"] = "ProductContext"
    return context


def _item_ids(item):
    if not item.order_adjustment_item_id:
        return None
    return [
        {
            "itemRelatedIdentifierName": "ORDER_ADJUSTMENT_ITEM_ID",
            "itemRelatedIdentifierValue": item.order_adjustment_item_id,
        }
    ]


def _order_items(event):
    """Items of a sale or a refund, and their categories."""
    cur = event.currency
    items, categories = [], []
    for item in event.items:
        tree = _Tree(event)
        tree.add_item(item)
        categories += tree.categories()
        entry = {"description": item.description or "", "totalAmount": _money(item.total, cur)}
        ids = _item_ids(item)
        if ids:
            entry["relatedIdentifiers"] = ids
        entry["breakdowns"] = tree.render()
        entry["contexts"] = [
            _product_context(item.sku, item.asin, item.quantity, item.fulfillment_network)
        ]
        items.append(entry)
    if event.fees:
        # Order-level fees (v0 OrderFeeAdjustmentList) travel as an item without product.
        tree = _Tree(event)
        tree.add_fees(event, event.fees)
        categories += tree.categories()
        total = sum(event.fees.values(), Decimal(0))
        items.append(
            {
                "description": "Order-level amounts",
                "totalAmount": _money(total, cur),
                "breakdowns": tree.render(),
                "contexts": [],
            }
        )
    return items, _summary(_merge(categories), cur)


def _adjustment_items(event):
    cur = event.currency
    items = []
    for item in event.items:
        entry = {
            "description": item.description or "",
            "totalAmount": _money(item.total, cur),
            "relatedIdentifiers": None,  # R12
            "breakdowns": None
            if event.has("items_null")
            else [_node(event.adjustment_type, item.total, cur)],
        }
        entry["contexts"] = [_product_context(item.sku, item.asin, item.quantity, None)]
        items.append(entry)
    return items, _summary([(event.adjustment_type, event.net)], cur)


def partial_amount(event):
    """What the items of a service fee with the ``items_partial`` quirk show of its total (R11:
    -618 of -12609), or None when the quirk does not apply."""
    if not event.has("items_partial") or len(event.fees) != 1:
        return None
    total = event.net
    share = Decimal(500 + int(digest(event.transaction_id, "part")[:8], 16) % 4501) / 10000
    part = quantize(total * share, event.currency)  # 5 % to 50 % of the bill
    if not part or part == total:
        return None
    return part


def _service_fee_items(event):
    cur = event.currency
    bare = event.marketplace == "JP"
    tree = _Tree(event)
    part = partial_amount(event)
    if part is not None:
        name = next(iter(event.fees))
        tree.add_fees(event, {name: part}, bare=bare)
    else:
        tree.add_fees(event, event.fees, bare=bare)
    item = {
        "description": event.fee_description or "",
        "totalAmount": _money(part if part is not None else event.net, cur),
        "breakdowns": tree.render(),
    }
    if event.sku:
        item["contexts"] = [_product_context(event.sku, None, None)]
    return [item], _summary([("AmazonFees", event.net)], cur, _ABSENT)


def _product_ads_breakdowns(event):
    tree = _Tree(event)
    tree.add_fees(event, event.fees)
    return tree.render()


def _retrocharge_breakdowns(event):
    cur = event.currency
    leaves = [
        _node(name, amount, cur)
        for name, amount in (("BaseTax", event.base_tax), ("ShippingTax", event.shipping_tax))
        if amount is not None
    ]
    return [_node("Tax", event.net, cur, leaves)]  # R13: the tax of a retrocharge is "Tax"


def _description(event):
    if event.kind in DESCRIPTION:
        return DESCRIPTION[event.kind]
    if event.kind == "adjustment":
        if event.adjustment_type in REIMBURSEMENT_TYPES:
            return "FBAInventoryReimbursement"
        return event.adjustment_type
    if event.kind == "service_fee":
        first = next(iter(event.fees), None)
        return (
            SERVICE_FEE_DESCRIPTION.get(first)
            or event.fee_reason
            or event.fee_description
            or first
            or "ServiceFee"
        )
    if event.kind == "product_ads":
        return event.ads_transaction_type
    if event.retrocharge_type == "RetrochargeReversal":
        return "RetroChargeRefund"  # R13
    return event.retrocharge_type


def transaction_status(event, now=None):
    """``transactionStatus`` as Amazon writes it: ``Released`` (R11, R13), null (R10)..."""
    status = event.status(now)
    if status == "RELEASED" and event.has("status_null"):
        return None
    return STATUS[status]


def to_transaction(event, now=None):
    """Canonical event → a 2024-06-19 transaction; raw: a copy.

    ``now`` decides ``transactionStatus`` of deferred events (default: the real time).
    """
    if isinstance(event, RawEvent):
        return copy.deepcopy(event.raw)
    cur = event.currency
    market = event.market
    related = []
    if event.order_id:
        related.append(
            {"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": event.order_id}
        )
    if event.shipment_id:
        related.append(
            {"relatedIdentifierName": "SHIPMENT_ID", "relatedIdentifierValue": event.shipment_id}
        )
    # A deferred transaction belongs to no group until Amazon releases it into the one that
    # pays it (the Deferred Transactions report; models: DEFERRED_TRANSACTION_ID)
    if event.group_id and event.status(now) != "DEFERRED":
        related.append(
            {
                "relatedIdentifierName": "FINANCIAL_EVENT_GROUP_ID",
                "relatedIdentifierValue": event.group_id,
            }
        )
    contexts = None
    if event.kind in ("order", *DESCRIPTION):
        items, breakdowns = _order_items(event)
    elif event.kind == "adjustment":
        items, breakdowns = _adjustment_items(event)
        contexts = []  # R12
    elif event.kind == "service_fee":
        items, breakdowns = _service_fee_items(event)
        contexts = _ABSENT  # R11
    elif event.kind == "product_ads":
        items, breakdowns = [], _product_ads_breakdowns(event)
        contexts = _ABSENT
    else:
        items, breakdowns = [], _retrocharge_breakdowns(event)
        contexts = _ABSENT
    if event.deferred_until is not None:
        contexts = [
            {
                "contextType": "DeferredContext",
                "deferralReason": "DD7",
                "maturityDate": iso(event.deferred_until),
            }
        ]
    result = {
        "sellingPartnerMetadata": {
            "sellingPartnerId": event.seller_id,
            "marketplaceId": market.marketplace_id,
            "accountType": ACCOUNT_TYPE,
        },
        "transactionType": TRANSACTION_TYPE[event.kind],
        "transactionId": event.transaction_id,
        "transactionStatus": transaction_status(event, now),
        "relatedIdentifiers": related,
        "totalAmount": _money(event.net, cur),
        "description": _description(event),
        "postedDate": iso(event.posted),
        "marketplaceDetails": {
            "marketplaceId": market.marketplace_id,
            "marketplaceName": market.name,
        },
        "items": items,
        "breakdowns": breakdowns,
    }
    if contexts != _ABSENT:
        result["contexts"] = contexts
    return result
