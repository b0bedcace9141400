"""Scenarios: hand-built stories of a seller's settlements, the same in both Finances APIs and
in the settlement reports (``doc/emulator.md``, "The whole settlement").

``add_whole_settlement(dataset, now)`` adds to a dataset the groups a real seller's books must
reconcile (issue 10): a closed USD group holding two sales with FBA fees and marketplace
facilitator tax, a refund, an advertising charge, the subscription fee, a warehouse-damage
reimbursement and a reserve held at its end; the next group releasing that reserve (its
``BeginningBalance``) and a deferred order, whose transfer fails; the group after it paying the
failed transfer again; a closed EUR group with a German sale (VAT, Amazon's VAT on its fees) and
an advertising charge with VAT. ``whole_dataset(seed)`` is a dataset holding only that story
(``python3 -m emulator --scenario whole``).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from .dataset import Dataset, default_window

D = Decimal
WHOLE_MARKETPLACES = ("US", "DE")
RESERVE = D("60.00")


def us_sale_item(sku, quantity, principal, tax, shipping=None, shipping_tax=None):
    """A US FBA sale item: tax collected and withheld by Amazon (marketplace facilitator), the
    referral fee (15 %) and the FBA fulfilment fee per unit."""
    charges = {"Principal": D(principal), "Tax": D(tax)}
    withheld = {"MarketplaceFacilitatorTax-Principal": -D(tax)}
    if shipping is not None:
        charges["ShippingCharge"] = D(shipping)
        charges["ShippingTax"] = D(shipping_tax)
        withheld["MarketplaceFacilitatorTax-Shipping"] = -D(shipping_tax)
    referral = (D(principal) + D(shipping or 0)) * D("0.15")
    return {
        "sku": sku,
        "quantity": quantity,
        "charges": charges,
        "withheld": withheld,
        "fees": {
            "Commission": -referral.quantize(D("0.01")),
            "FBAPerUnitFulfillmentFee": -(D("3.22") * quantity),
        },
    }


def de_sale_item(sku, principal, tax):
    """A German FBA sale item: the seller's VAT (19 %), fees carrying Amazon's VAT (R10)."""
    return {
        "sku": sku,
        "quantity": 1,
        "charges": {"Principal": D(principal), "Tax": D(tax)},
        "fees": {"Commission": D("-7.14"), "FBAPerUnitFulfillmentFee": D("-4.50")},
    }


US_REFUND_ITEM = {
    "sku": "SKU-WHOLE-US-1",
    "quantity": 1,
    "charges": {"Principal": D("-29.99"), "Tax": D("-2.40")},
    "withheld": {"MarketplaceFacilitatorTax-Principal": D("2.40")},
    "fees": {"Commission": D("4.50"), "RefundCommission": D("-0.90")},
}


@dataclass
class WholeSettlement:
    """What :func:`add_whole_settlement` made: ``main`` (the realistic closed USD group, a
    reserve held at its end), ``released`` (the reserve released, the deferred order paid, its
    transfer failed), ``paid_again`` (pays the failed transfer again), ``eur`` (the German
    group); ``events`` by name."""

    main: object
    released: object
    paid_again: object
    eur: object
    events: dict = field(default_factory=dict)
    reserve: Decimal = RESERVE

    @property
    def usd_groups(self):
        return (self.main, self.released, self.paid_again)

    @property
    def groups(self):
        return (*self.usd_groups, self.eur)


def _closed_groups(dataset, currency, now, count):
    """The ``count`` last groups of ``currency`` closed at ``now``, oldest first."""
    group = dataset.group_for(currency, now - timedelta(hours=1))
    result = []
    for _i in range(count):
        group = dataset.group_for(currency, group.start - timedelta(seconds=1))
        result.insert(0, group)
    return result


def add_whole_settlement(dataset, now=None):
    """Add the whole-settlement story to ``dataset`` (its marketplaces must include US and DE);
    the groups are the last ones closed at ``now`` (default: the real time). Returns a
    :class:`WholeSettlement`."""
    now = now or datetime.now(UTC)
    main, released, paid_again = _closed_groups(dataset, "USD", now, 3)
    (eur,) = _closed_groups(dataset, "EUR", now, 1)

    def at(group, hours):
        return group.start + timedelta(hours=hours)

    add = dataset
    events = {}
    # The realistic group: sales, a refund, Amazon's charges, a reimbursement, a reserve held
    events["sale_us"] = add.add_order(
        "US",
        posted=at(main, 20),
        items=[us_sale_item("SKU-WHOLE-US-1", 3, "299.97", "24.00", "11.97", "0.96")],
    )
    events["sale_us_2"] = add.add_order(
        "US", posted=at(main, 44), items=[us_sale_item("SKU-WHOLE-US-2", 1, "89.99", "7.20")]
    )
    events["refund_us"] = add.add_refund("US", posted=at(main, 70), items=[US_REFUND_ITEM])
    events["ads_us"] = add.add_product_ads("US", amount="-37.25", posted=at(main, 90))
    events["subscription_us"] = add.add_service_fee(
        "US",
        fees={"Subscription": D("-39.99")},
        posted=at(main, 100),
        fee_reason="Subscription Fee",
        fee_description="Subscription Fee",
    )
    events["damage_us"] = add.add_adjustment(
        "US",
        "WAREHOUSE_DAMAGE",
        posted=at(main, 120),
        items=[{"sku": "SKU-WHOLE-US-1", "quantity": 1, "per_unit": D("18.40")}],
    )
    # Deferred by Amazon (delivery-date policy) when posted, released into the next group
    events["deferred_us"] = add.add_order(
        "US",
        posted=at(main, 150),
        items=[us_sale_item("SKU-WHOLE-US-2", 1, "24.99", "2.00")],
        deferred_until=at(released, 30),
    )
    events["reserve_held"] = add.add_adjustment(
        "US", "ReserveDebit", posted=main.end - timedelta(minutes=5), amount=-RESERVE
    )
    # The next group: the reserve released (its beginning balance), a sale; its transfer fails
    events["reserve_released"] = add.add_adjustment(
        "US", "ReserveCredit", posted=released.start + timedelta(minutes=5), amount=RESERVE
    )
    released.beginning_balance += RESERVE
    events["sale_us_3"] = add.add_order(
        "US", posted=at(released, 60), items=[us_sale_item("SKU-WHOLE-US-1", 1, "29.99", "2.40")]
    )
    # The group after pays the failed transfer again with its own sale
    events["sale_us_4"] = add.add_order(
        "US", posted=at(paid_again, 40), items=[us_sale_item("SKU-WHOLE-US-2", 1, "24.99", "2.00")]
    )
    dataset.fail_transfer(released)
    # The German group: a sale with VAT and fee VAT, an advertising charge with VAT
    events["sale_de"] = add.add_order(
        "DE", posted=at(eur, 30), items=[de_sale_item("SKU-WHOLE-DE-1", "42.02", "7.98")]
    )
    events["ads_de"] = add.add_product_ads("DE", amount="-11.90", posted=at(eur, 80))
    dataset.events.sort(key=lambda ev: (ev.posted, ev.event_id))
    return WholeSettlement(main, released, paid_again, eur, events)


def whole_dataset(seed=42, seller_id="A1EMULATORSELLER", now=None):
    """A dataset holding the whole-settlement story only (its window: the last 60 days)."""
    now = now or datetime.now(UTC)
    start, end = default_window(now)
    dataset = Dataset(seller_id, WHOLE_MARKETPLACES, start - timedelta(days=14), end, seed=seed)
    add_whole_settlement(dataset, now)
    return dataset


SCENARIOS = {"whole": whole_dataset}
