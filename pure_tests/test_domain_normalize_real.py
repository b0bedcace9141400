"""domain.normalize on the shapes Amazon really sends (fixtures/real_shapes.json reproduces them
in this project's own words): the 2024-06-19 tree, items that do not add up, the v0 edge shapes
and every v0 list."""

import json
import os
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from domain.model import NormalizedLine
from domain.normalize import (
    V0_OTHER_LISTS,
    V0_SALES_LISTS,
    normalize_transactions,
    normalize_v0_events,
    path_amount_type,
    transaction_lines,
)
from domain.vocabulary import TRANSACTION_STEMS, name_key

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
SPAPI_MODELS = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "spapi-models")
D = Decimal
FALLBACK = datetime(2026, 11, 20, tzinfo=timezone.utc)


def load():
    with open(os.path.join(FIXTURES, "real_shapes.json"), encoding="utf-8") as f:
        return json.load(f)


def transactions():
    events, failures = normalize_transactions(load()["transactions"])
    return {e.transaction_id: e for e in events}, failures


def lines_of(event):
    return [(ln.amount_type, ln.amount) for ln in event.lines]


# ---------------------------------------------------------------------------------------------
# 2024-06-19: the real tree
# ---------------------------------------------------------------------------------------------


def test_2024_nested_tree_leaves_keep_their_path():
    events, _ = transactions()
    event = events["TXN-REAL-SE-REFUND"]
    assert event.event_type == "refund" and event.total == D("-300.25")
    assert lines_of(event) == [
        ("Charge/Tax", D("-60.0")),  # Tax/OurPriceTax
        ("Charge/ShippingTax", D("-7.25")),  # Tax/ShippingTax
        ("Charge/Principal", D("-240.0")),  # ProductCharges/OurPricePrincipal
        ("Charge/ShippingCharge", D("-29.0")),  # Shipping/ShippingPrincipal
        ("Fee/Commission", D("36.0")),  # AmazonFees/Commission/Base
        ("FeeTax/Commission", D("9.0")),  # AmazonFees/Commission/Tax: Amazon's VAT on its fee
        ("Fee/RefundCommission", D("-7.2")),
        ("FeeTax/RefundCommission", D("-1.8")),
    ]
    assert {(ln.sku, ln.quantity, ln.order_adjustment_item_id) for ln in event.lines} == {
        ("LAMP-01", D(1), "77000000000001")
    }
    assert event.transaction_status == "Released"


def test_2024_vocabulary_table_paths():
    assert path_amount_type(("ProductCharges", "OurPricePrincipal")) == "Charge/Principal"
    assert path_amount_type(("Tax", "OurPriceTax")) == "Charge/Tax"
    assert path_amount_type(("Tax", "GiftwrapTax")) == "Charge/GiftWrapTax"
    assert path_amount_type(("Giftwrap", "GiftwrapPrincipal")) == "Charge/GiftWrap"
    assert path_amount_type(("AmazonFees", "FBAPerUnitFulfillmentFee", "Base")) == (
        "Fee/FBAPerUnitFulfillmentFee"
    )
    assert path_amount_type(("Amazon Fees", "FBAPerUnitFulfillmentFee", "Tax")) == (
        "FeeTax/FBAPerUnitFulfillmentFee"
    )
    assert path_amount_type(("Tax", "MarketplaceFacilitatorVAT-Principal")) == (
        "TaxWithheld/MarketplaceFacilitatorVAT-Principal"
    )
    assert path_amount_type(("Tax", "LowValueGoodsTax-Shipping")) == (
        "TaxWithheld/LowValueGoodsTax-Shipping"
    )
    assert path_amount_type(("PromoRebates", "ShippingTaxDiscount")) == (
        "Promotion/ShippingTaxDiscount"
    )
    # A bare parent: every tax in one amount, its bases unknown (never taken for Charge/Tax).
    assert path_amount_type(("Tax",)) == "Charge/Taxes"
    assert path_amount_type(("Tax",), "retrocharge") == "Retrocharge/Tax"
    assert path_amount_type(("Mystery", "Thing")) is None


def test_paths_looked_up_again_give_the_same_types_from_a_bounded_cache():
    """Paths come as lists from the normalizer; the answers are kept per (path, transaction
    type), never mixed between transaction types, in a cache that does not grow without end."""
    from domain import vocabulary

    for _ in range(2):
        assert path_amount_type(["Tax"]) == "Charge/Taxes"
        assert path_amount_type(["Tax"], "retrocharge") == "Retrocharge/Tax"
        assert path_amount_type(["AmazonFees", "FBAPerUnitFulfillmentFee", "Tax"]) == (
            "FeeTax/FBAPerUnitFulfillmentFee"
        )
        assert name_key("Amazon Fees") == name_key("amazon_fees") == "amazonfees"
    assert vocabulary._path_amount_type.cache_info().hits >= 3
    for number in range(vocabulary._CACHE_SIZE + 100):
        path_amount_type([f"Parent{number}", "Leaf"])
    assert vocabulary._path_amount_type.cache_info().currsize <= vocabulary._CACHE_SIZE
    assert vocabulary.name_key.cache_info().maxsize == vocabulary._CACHE_SIZE


def test_2024_items_short_of_the_total_fall_back_to_the_transaction_level():
    events, _ = transactions()
    # R11's shape: the item shows 1500 of a 23456 storage bill, and names the fee.
    assert lines_of(events["TXN-REAL-JP-STORAGE"]) == [("Fee/FBAStorageFee", D(-23456))]
    # No item to name it: the description, when it is a type name.
    assert lines_of(events["TXN-REAL-JP-STORAGE-2"]) == [("Fee/StorageRenewalBilling", D(-9000))]
    # An item whose breakdowns miss part of its own total: the transaction level, its SKU kept.
    (line,) = events["TXN-REAL-TX-LEVEL"].lines
    assert (line.amount_type, line.amount, line.sku, line.quantity) == (
        "Charge/Principal",
        D("-10.0"),
        "CAP-01",
        D(1),
    )


def test_2024_null_item_breakdowns_keep_the_items_sku_and_quantity():
    events, _ = transactions()
    event = events["TXN-REAL-UK-REIMB"]
    assert event.event_type == "adjustment"
    assert list(event.lines) == [
        NormalizedLine(
            "Adjustment/FBAInventoryReimbursement",
            D("12.4"),
            sku="SCARF-RED",
            quantity=D(2),
            description="Red scarf",
        )
    ]


def test_2024_retrocharge_bare_tax_breakdowns():
    events, _ = transactions()
    event = events["TXN-REAL-US-RETRO"]
    assert event.event_type == "retrocharge" and event.total == 0
    assert lines_of(event) == [("Retrocharge/Tax", D("2.1")), ("Retrocharge/Tax", D("-2.1"))]


def test_2024_nothing_adds_up_fails_naming_the_amounts():
    events, failures = transactions()
    assert "TXN-REAL-NO-SUM" not in events
    (failure,) = failures
    assert failure.source == "Refund"
    assert failure.message == (
        "breakdown leaves add up to -10.0, totalAmount is -10.5 (gap -0.5); the "
        "transaction-level breakdowns add up to -10.0 (gap -0.5)"
    )


def test_2024_withheld_vat_and_promotion_vat_parts():
    events, _ = transactions()
    assert ("TaxWithheld/MarketplaceFacilitatorVAT-Principal", D("4.0")) in lines_of(
        events["TXN-REAL-UK-MF"]
    )
    promo = lines_of(events["TXN-REAL-DE-PROMO"])
    assert ("Promotion/ShippingDiscount", D("3.99")) in promo
    assert ("Promotion/ShippingTaxDiscount", D("0.76")) in promo


def test_sales_are_staged_as_sale_events_every_cent():
    data = load()
    events, failures = transactions()
    assert [f.raw["transactionId"] for f in failures] == ["TXN-REAL-NO-SUM"]
    sale = events["TXN-REAL-SALE"]
    assert sale.event_type == "sale" and sale.source == "Shipment"
    (raw,) = [t for t in data["transactions"] if t["transactionType"] == "Shipment"]
    assert [(ln.amount_type, ln.amount) for ln in transaction_lines(raw)] == [
        ("Charge/Principal", D("16.0")),
        ("Fee/Commission", D("-2.0")),
    ]
    assert lines_of(sale) == [("Charge/Principal", D("16.0")), ("Fee/Commission", D("-2.0"))]
    assert sale.total == D("14.0")
    events, _ = normalize_v0_events(data["v0"], posted_date_fallback=FALLBACK)
    sales = [e for e in events if e.source in V0_SALES_LISTS]
    listed = [raw for name in V0_SALES_LISTS for raw in data["v0"].get(name) or []]
    assert len(sales) == len(listed)
    assert {e.event_type for e in sales} <= {"sale"}
    for event in sales:
        assert event.total == sum(ln.amount for ln in event.lines)
    assert V0_SALES_LISTS == ("ShipmentEventList", "ShipmentSettleEventList")


# ---------------------------------------------------------------------------------------------
# v0: edge shapes and every list
# ---------------------------------------------------------------------------------------------


def v0_events():
    events, failures = normalize_v0_events(load()["v0"], posted_date_fallback=FALLBACK)
    assert failures == []
    by_source = {}
    for event in events:
        by_source.setdefault(event.source, []).append(event)
    return by_source


def test_v0_service_fee_without_fee_list_carries_no_money():
    (fee,) = v0_events()["ServiceFeeEventList"]
    assert lines_of(fee) == [("Fee/FBACustomerReturnPerOrderFee", D("-1.0"))]


def test_v0_adjustment_without_posted_date_nor_amount():
    (adjustment,) = v0_events()["AdjustmentEventList"]
    assert adjustment.total == D("6.75") and adjustment.posted_date == FALLBACK
    assert [(ln.sku, ln.amount) for ln in adjustment.lines] == [
        ("BOOT-01", D("4.5")),
        ("CAP-01", D("2.25")),
    ]
    events, failures = normalize_v0_events(
        {"AdjustmentEventList": load()["v0"]["AdjustmentEventList"]}
    )
    assert events == [] and failures[0].missing_posted_date


def test_v0_chargeback_repeating_its_sale_is_read():
    (chargeback,) = v0_events()["ChargebackEventList"]
    assert lines_of(chargeback) == [("Charge/Principal", D("-30.0")), ("Fee/Commission", D("4.5"))]


def test_v0_other_lists_are_read_like_2024_reads_them():
    by_source = v0_events()
    expected = {
        "SAFETReimbursementEventList": [("SAFETReimbursement/ReimbursedAmount", D("30.0"))],
        "ChargeRefundEventList": [("ChargeRefund/SubscriptionFee", D("39.99"))],
        "PerformanceBondRefundEventList": [("PerformanceBondRefund/RefundAmount", D("100.0"))],
        "ProductAdsPaymentEventList": [
            ("Fee/CostOfAdvertising", D("-100.0")),
            ("FeeTax/CostOfAdvertising", D("-19.0")),
        ],
        "SellerDealPaymentEventList": [
            ("Fee/DealPerformanceFee", D("-50.0")),
            ("FeeTax/DealPerformanceFee", D("-9.5")),
        ],
        "CouponPaymentEventList": [
            ("Fee/CouponRedemptionFee", D("-0.6")),
            ("CouponPayment/Tax", D("-0.12")),
        ],
        "DebtRecoveryEventList": [("DebtRecovery/RecoveryAmount", D("-25.0"))],
        "RemovalShipmentEventList": [
            ("RemovalShipment/Revenue", D("15.0")),
            ("RemovalShipment/FeeAmount", D("-1.0")),
            ("RemovalShipment/TaxAmount", D("1.2")),
            ("RemovalShipment/TaxWithheld", D("-1.2")),
        ],
    }
    for source, lines in expected.items():
        (event,) = by_source[source]
        assert event.event_type == "other", source
        assert lines_of(event) == lines, source
    assert by_source["SellerDealPaymentEventList"][0].description == "Autumn deal"
    assert by_source["DebtRecoveryEventList"][0].posted_date == FALLBACK  # no date field
    # The same SAFE-T reimbursement read by 2024-06-19: the same amount type.
    events, _ = transactions()
    assert lines_of(events["TXN-REAL-SAFET"]) == expected["SAFETReimbursementEventList"]


def test_v0_listed_event_whose_total_disagrees_fails():
    page = {
        "SellerDealPaymentEventList": [
            {
                "postedDate": "2026-11-17T00:00:00Z",
                "feeType": "DealPerformanceFee",
                "feeAmount": {"CurrencyCode": "USD", "CurrencyAmount": -50.0},
                "taxAmount": {"CurrencyCode": "USD", "CurrencyAmount": -9.5},
                "totalAmount": {"CurrencyCode": "USD", "CurrencyAmount": -50.0},
            }
        ]
    }
    events, failures = normalize_v0_events(page)
    assert events == []
    assert failures[0].message == (
        "the amounts of a SellerDealPaymentEventList event add up to -59.5, totalAmount is -50.0"
    )


def test_v0_retrocharge_with_withheld_tax_and_its_reversal():
    retro, reversal = v0_events()["RetrochargeEventList"]
    assert retro.total == 0 and reversal.total == 0
    assert lines_of(retro) == [
        ("Retrocharge/BaseTax", D("-1.23")),
        ("TaxWithheld/MarketplaceFacilitatorTax-Principal", D("1.23")),
    ]
    assert reversal.description == "RetrochargeReversal"


def test_every_list_of_the_v0_model_is_read_or_skipped_by_name():
    path = os.path.join(SPAPI_MODELS, "financesV0.json")
    if not os.path.exists(path):
        pytest.skip(f"Amazon's models are not here ({os.path.abspath(SPAPI_MODELS)})")
    with open(path, encoding="utf-8") as f:
        model = json.load(f)
    lists = set(model["definitions"]["FinancialEvents"]["properties"])
    dedicated = {
        "RefundEventList",
        "GuaranteeClaimEventList",
        "ChargebackEventList",
        "AdjustmentEventList",
        "ServiceFeeEventList",
        "RetrochargeEventList",
    }
    assert lists - dedicated - set(V0_SALES_LISTS) == set(V0_OTHER_LISTS)
    # Each of them, as a 2024-06-19 transactionType, reads into the same category.
    for name, spec in V0_OTHER_LISTS.items():
        assert TRANSACTION_STEMS[name_key(name.removesuffix("EventList"))] == spec.category or (
            name == "AffordabilityExpenseReversalEventList"
        )
