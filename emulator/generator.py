"""A seeded, realistic dataset for the emulated seller (:func:`generate_dataset`), and the
names this package has always offered from here (records, renderers, JSON).

The money of the first plan (refunds, claims, chargebacks, reimbursements, a reserve, service
fees, a retrocharge) is what it always was for a seed; a second, separately seeded plan adds
the vocabulary of real data (``doc/emulator.md``): marketplace VAT withheld in UK/EU refunds,
low-value goods tax, clawbacks and other adjustment types, FBA service fees as Amazon writes
them (with and without ``FeeList``, billed in part), a retrocharge reversal.
``sales_per_marketplace`` adds sales (off by default: the project books no sales yet).
"""

import random
from datetime import timedelta
from decimal import Decimal

from .catalog import PRODUCTS, Product, local, product, refund_item_spec, sale_item_spec
from .common import (
    MARKETPLACES,
    MARKETPLACES_BY_ID,
    TAX_RULES,
    UTC,
    V0,
    V2024,
    alnum,
    dumps,
    iso,
    quantize,
    to_decimal,
)
from .dataset import DEFAULT_MARKETPLACES, DEFAULT_QUIRK_RATES, Dataset, default_window
from .events import KINDS, ORDER_KINDS, QUIRKS, EventGroup, EventItem, FinanceEvent, RawEvent
from .v0 import V0_LIST_NAMES, to_v0_event, to_v0_events, to_v0_financial_events, to_v0_group
from .v2024 import to_transaction

__all__ = [
    "DEFAULT_MARKETPLACES",
    "DEFAULT_QUIRK_RATES",
    "KINDS",
    "MARKETPLACES",
    "MARKETPLACES_BY_ID",
    "ORDER_KINDS",
    "PRODUCTS",
    "QUIRKS",
    "TAX_RULES",
    "UTC",
    "V0",
    "V0_LIST_NAMES",
    "V2024",
    "Dataset",
    "EventGroup",
    "EventItem",
    "FinanceEvent",
    "Product",
    "RawEvent",
    "default_window",
    "dumps",
    "generate_dataset",
    "iso",
    "local",
    "product",
    "quantize",
    "to_decimal",
    "to_transaction",
    "to_v0_event",
    "to_v0_events",
    "to_v0_financial_events",
    "to_v0_group",
]


def _posted(rng, start, end):
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(max(span, 1)))


ADJUSTMENT_PLAN = (
    # (marketplace, AdjustmentType, number of SKUs, sign)
    ("US", "FBAInventoryReimbursement", 2, 1),
    ("US", "WAREHOUSE_DAMAGE", 1, 1),
    ("US", "CustomerReturn", 1, 1),
    ("US", "MISSING_FROM_INBOUND", 1, 1),
    ("US", "REVERSAL_REIMBURSEMENT", 1, -1),
    ("CA", "WAREHOUSE_LOST", 1, 1),
    ("UK", "WAREHOUSE_DAMAGE", 1, 1),
    ("DE", "WAREHOUSE_LOST", 2, 1),
    ("FR", "CustomerReturn", 1, 1),
    ("JP", "CustomerReturn", 1, 1),
)
CLAIM_PLAN = (
    ("US", "guarantee_claim"),
    ("US", "chargeback"),
    ("UK", "guarantee_claim"),
    ("DE", "chargeback"),
    ("JP", "guarantee_claim"),
)
SUBSCRIPTION_FEE = {"USD": "39.99", "CAD": "29.99", "GBP": "25.00", "EUR": "39.00", "JPY": "4900"}


def _generate_refunds(dataset, rng, marketplaces, refunds_per_marketplace):
    plan = [(m, "refund") for m in marketplaces for _ in range(refunds_per_marketplace)]
    plan += [(m, kind) for m, kind in CLAIM_PLAN if m in marketplaces]
    for marketplace, kind in plan:
        count = rng.choices((1, 2, 3), weights=(75, 20, 5))[0]
        products = rng.sample(PRODUCTS, count)
        items = [refund_item_spec(rng, marketplace, kind, p) for p in products]
        dataset.add_refund(
            marketplace,
            posted=_posted(rng, dataset.start, dataset.end),
            items=items,
            kind=kind,
        )


def _adjustment_items(rng, marketplace, count, sign):
    cur = MARKETPLACES[marketplace].currency
    items = []
    for chosen in rng.sample(PRODUCTS, count):
        per_unit = local(chosen.usd * Decimal("0.6"), cur) * sign
        items.append({"sku": chosen.sku, "quantity": rng.randint(1, 3), "per_unit": per_unit})
    return items


def _generate_adjustments(dataset, rng, marketplaces):
    for marketplace, adjustment_type, count, sign in ADJUSTMENT_PLAN:
        if marketplace not in marketplaces:
            continue
        items = _adjustment_items(rng, marketplace, count, sign)
        dataset.add_adjustment(
            marketplace,
            adjustment_type,
            posted=_posted(rng, dataset.start, dataset.end),
            items=items,
        )


def _generate_reserve(dataset, rng, marketplaces):
    """A reserve held at the end of a USD period (ReserveDebit) and released into the next one
    (ReserveCredit), carried as that period's beginning balance."""
    if "US" not in marketplaces:
        return
    groups = [g for g in dataset.groups if g.currency == "USD"]
    if len(groups) < 2:
        return
    held, released = groups[-2], groups[-1]
    hold_at = held.end - timedelta(minutes=5)
    release_at = released.start + timedelta(minutes=5)
    if hold_at < dataset.start or release_at >= dataset.end:
        return
    amount = local(Decimal(rng.randrange(80, 300)), "USD")
    dataset.add_adjustment("US", "ReserveDebit", posted=hold_at, amount=-amount)
    dataset.add_adjustment("US", "ReserveCredit", posted=release_at, amount=amount)
    released.beginning_balance = amount


def _generate_fees(dataset, rng, marketplaces):
    seen = set()
    for marketplace in marketplaces:
        cur = MARKETPLACES[marketplace].currency
        if cur in seen or cur not in SUBSCRIPTION_FEE:
            continue
        seen.add(cur)
        dataset.add_service_fee(
            marketplace,
            fees={"Subscription": -Decimal(SUBSCRIPTION_FEE[cur])},
            posted=_posted(rng, dataset.start, dataset.end),
            fee_reason="Subscription Fee",
            fee_description="Subscription Fee",
        )
    if "US" in marketplaces:
        chosen = rng.choice(PRODUCTS)
        dataset.add_service_fee(
            "US",
            fees={"FBAStorageFee": -local(Decimal(rng.randrange(500, 2500)) / 100, "USD")},
            posted=_posted(rng, dataset.start, dataset.end),
            sku=chosen.sku,
            fee_reason="FBA storage fee",
            fee_description="FBA Inventory Storage Fee",
        )
        dataset.add_retrocharge(
            "US",
            posted=_posted(rng, dataset.start, dataset.end),
            base_tax=-local(Decimal(rng.randrange(50, 400)) / 100, "USD"),
            shipping_tax=-local(Decimal(rng.randrange(5, 60)) / 100, "USD"),
        )


# -- the vocabulary of real data (a second seeded plan) ----------------------------------------

# (marketplace, withheld tax stem): refunds where Amazon collected the tax itself
WITHHELD_PLAN = (
    ("UK", "MarketplaceFacilitatorVAT"),
    ("UK", "MarketplaceFacilitatorVAT"),
    ("DE", "MarketplaceFacilitatorVAT"),
    ("FR", "MarketplaceFacilitatorVAT"),
    ("US", "LowValueGoodsTax"),
)
# (marketplace, AdjustmentType, number of SKUs (0: an amount), sign, quirks)
REAL_ADJUSTMENT_PLAN = (
    ("US", "COMPENSATED_CLAWBACK", 1, -1, {"items_null"}),
    ("US", "FREE_REPLACEMENT_REFUND_ITEMS", 1, 1, {"v0_undated"}),
    ("US", "BuyerRecharge", 1, 1, set()),
    ("DE", "REMOVAL_ORDER_LOST", 1, 1, {"items_null", "v0_undated"}),
    ("UK", "INCORRECT_FEES_NON_ITEMIZED", 0, 1, set()),
)
# (marketplace, {FeeType: USD amount}, with SKU, order id (None, "order", "removal"), quirks)
REAL_FEE_PLAN = (
    (
        "US",
        {
            "FBACustomerReturnPerOrderFee": "1.00",
            "FBACustomerReturnPerUnitFee": "1.06",
            "FBACustomerReturnWeightBasedFee": "0.50",
        },
        True,
        None,
        {"v0_feeless_twin"},
    ),
    ("DE", {"FBACustomerReturnPerUnitFee": "2.60"}, True, "order", {"v0_feeless_twin"}),
    (
        "DE",
        {"FBAInboundTransportationFee": "32.83", "FBAInboundTransportationProgramFee": "3.28"},
        False,
        None,
        set(),
    ),
    ("FR", {"FBADisposalFee": "4.87"}, False, "removal", set()),
    ("IT", {"FBARemovalFee": "0.27"}, False, "removal", set()),
    ("UK", {"FBALongTermStorageFee": "18.40"}, True, None, set()),
    ("US", {"CouponParticipationFee": "5.00", "CouponPerformanceFee": "21.31"}, False, None, set()),
    ("JP", {"FBAStorageFee": "84.06"}, False, None, {"items_partial"}),
)


def _generate_real_vocabulary(dataset, rng, marketplaces):
    def when():
        return _posted(rng, dataset.start, dataset.end)

    for marketplace, stem in WITHHELD_PLAN:
        if marketplace in marketplaces:
            chosen = rng.choice(PRODUCTS)
            spec = refund_item_spec(rng, marketplace, "refund", chosen, withheld_vat=stem)
            dataset.add_refund(marketplace, posted=when(), items=[spec])
    for marketplace, adjustment_type, count, sign, quirks in REAL_ADJUSTMENT_PLAN:
        if marketplace not in marketplaces:
            continue
        if count:
            items = _adjustment_items(rng, marketplace, count, sign)
            dataset.add_adjustment(
                marketplace, adjustment_type, posted=when(), items=items, quirks=quirks
            )
        else:
            cur = MARKETPLACES[marketplace].currency
            amount = local(Decimal(rng.randrange(200, 2000)) / 100, cur) * sign
            dataset.add_adjustment(
                marketplace, adjustment_type, posted=when(), amount=amount, quirks=quirks
            )
    for marketplace, fees, with_sku, order, quirks in REAL_FEE_PLAN:
        if marketplace not in marketplaces:
            continue
        cur = MARKETPLACES[marketplace].currency
        chosen = rng.choice(PRODUCTS)
        if order == "order":
            order_id = dataset._order_id(marketplace, f"fee-{len(dataset.events)}")
        elif order == "removal":  # removal orders have their own ids (R06, R08)
            order_id = alnum(dataset._hash("removal", len(dataset.events)), 10, _REMOVAL_ID)
        else:
            order_id = None
        dataset.add_service_fee(
            marketplace,
            fees={name: -local(Decimal(usd), cur) for name, usd in fees.items()},
            posted=when(),
            order_id=order_id,
            sku=chosen.sku if with_sku else None,
            fee_description=chosen.title if with_sku else None,
            quirks=quirks,
        )
    if "US" in marketplaces:
        dataset.add_retrocharge(
            "US",
            posted=when(),
            base_tax=local(Decimal(rng.randrange(50, 400)) / 100, "USD"),
            retrocharge_type="RetrochargeReversal",
        )


_REMOVAL_ID = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _generate_sales(dataset, rng, marketplaces, sales_per_marketplace):
    for marketplace in marketplaces:
        for _ in range(sales_per_marketplace):
            count = rng.choices((1, 2), weights=(85, 15))[0]
            items = [sale_item_spec(rng, marketplace, p) for p in rng.sample(PRODUCTS, count)]
            dataset.add_order(
                marketplace, posted=_posted(rng, dataset.start, dataset.end), items=items
            )


def generate_dataset(
    seed=42,
    start=None,
    end=None,
    seller_id="A1EMULATORSELLER",
    marketplaces=DEFAULT_MARKETPLACES,
    refunds_per_marketplace=6,
    sales_per_marketplace=0,
):
    """A deterministic dataset for ``seed``: refunds, claims, chargebacks, reimbursements, a
    reserve, service fees, retrocharges, the real vocabulary's events, optional sales, and the
    financial event groups holding them.

    ``start``/``end`` (aware) default to now - 60 days .. now - 1 hour (now floored to the
    hour). The same seed, window and arguments give the same dataset.
    """
    rng = random.Random(seed)
    dataset = Dataset(seller_id, marketplaces, start, end, seed=seed)
    currencies = sorted({MARKETPLACES[m].currency for m in dataset.marketplaces})
    for currency in currencies:
        dataset.group_offsets[currency] = rng.randrange(14)
    dataset.ensure_groups(currencies)
    _generate_refunds(dataset, rng, dataset.marketplaces, refunds_per_marketplace)
    _generate_adjustments(dataset, rng, dataset.marketplaces)
    _generate_reserve(dataset, rng, dataset.marketplaces)
    _generate_fees(dataset, rng, dataset.marketplaces)
    _generate_real_vocabulary(dataset, random.Random(f"{seed}:real"), dataset.marketplaces)
    if sales_per_marketplace:
        _generate_sales(
            dataset, random.Random(f"{seed}:sales"), dataset.marketplaces, sales_per_marketplace
        )
    eur = [g for g in dataset.groups if g.currency == "EUR"]
    if eur:
        # One EUR settlement paid out to a GBP bank account.
        eur[0].converted_currency = "GBP"
        eur[0].conversion_rate = Decimal("0.8573")
    dataset.events.sort(key=lambda ev: (ev.posted, ev.event_id))
    return dataset
