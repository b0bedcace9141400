"""domain.normalize: v0 events and 2024-06-19 transactions → one event shape."""

import copy
import hashlib
import json
import os
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from domain.model import NormalizationError, NormalizedLine
from domain.normalize import (
    canonical_json,
    canonical_type,
    normalize_transactions,
    normalize_v0_events,
    parse_amount,
    parse_date,
    raw_sha256,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
D = Decimal
FALLBACK = datetime(2026, 10, 8, 23, 59, 59, tzinfo=timezone.utc)


def load(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return json.load(f)


def v0(name, **kwargs):
    kwargs.setdefault("posted_date_fallback", FALLBACK)
    return normalize_v0_events(load(name)["v0"], **kwargs)


def v2024(name):
    return normalize_transactions(load(name)["transactions"])


def line_set(event):
    return Counter((ln.amount_type, ln.amount, ln.sku) for ln in event.lines)


# ---------------------------------------------------------------------------------------------
# v0
# ---------------------------------------------------------------------------------------------


def test_v0_us_refund_worked_example_lines():
    events, failures = v0("us_mf_refund.json")
    assert failures == []
    refunds = [e for e in events if e.event_type == "refund"]
    assert len(events) == 2 and len(refunds) == 1, "a refund and its sale (ShipmentEventList)"
    event = refunds[0]
    assert event.source_api == "v0"
    assert event.source == "RefundEventList"
    assert event.event_type == "refund"
    assert event.amazon_order_id == "111-0000001-0000001"
    assert event.marketplace_name == "Amazon.com"
    assert event.marketplace_id is None
    assert event.currency == "USD"
    assert event.total == D("-19.60")
    assert event.posted_date == datetime(2026, 10, 1, 12, 34, 56, 789000, tzinfo=timezone.utc)
    assert event.posted_date.tzinfo is not None
    assert event.group_id is None and event.transaction_id is None
    common = {"sku": "WIDGET-BLUE", "quantity": D(1), "order_adjustment_item_id": "50000000000001"}
    assert list(event.lines) == [
        NormalizedLine("Charge/Principal", D("-20.0"), **common),
        NormalizedLine("Charge/Tax", D("-1.6"), **common),
        NormalizedLine("Charge/ShippingCharge", D("-2.0"), **common),
        NormalizedLine("Charge/ShippingTax", D("-0.15"), **common),
        NormalizedLine("Fee/Commission", D("3.0"), **common),
        NormalizedLine("Fee/RefundCommission", D("-0.6"), **common),
        NormalizedLine("TaxWithheld/MarketplaceFacilitatorTax-Principal", D("1.6"), **common),
        NormalizedLine("TaxWithheld/MarketplaceFacilitatorTax-Shipping", D("0.15"), **common),
    ]
    assert event.order_adjustment_item_ids == ("50000000000001",)
    assert event.key.startswith("v0:") and len(event.key) == 3 + 64
    assert len(event.fingerprint) == 64


def test_the_sale_of_the_worked_example_is_staged_from_both_apis_every_cent():
    """ShipmentEventList and the 2024-06-19 Shipment are sales now: the same event, same
    fingerprint, every amount of the sale in its lines."""
    (old,) = [e for e in v0("us_mf_refund.json")[0] if e.event_type == "sale"]
    (new,) = [e for e in v2024("us_mf_refund.json")[0] if e.event_type == "sale"]
    assert (old.source, new.source) == ("ShipmentEventList", "Shipment")
    assert old.key.startswith("v0:") and new.key == "txn:TXN-EXAMPLE-US-SALE"
    assert old.fingerprint == new.fingerprint
    expected = Counter(
        {
            ("Charge/Principal", D("20.0"), "WIDGET-BLUE"): 1,
            ("Charge/Tax", D("1.6"), "WIDGET-BLUE"): 1,
            ("Fee/Commission", D("-3.0"), "WIDGET-BLUE"): 1,
        }
    )
    for sale in (old, new):
        assert sale.event_type == "sale" and sale.amazon_order_id == "111-0000001-0000001"
        assert sale.total == D("18.6") == sum(ln.amount for ln in sale.lines)
        assert line_set(sale) == expected


def test_v0_raw_kept_with_its_sha256():
    page = load("us_mf_refund.json")["v0"]
    (event, sale), _ = normalize_v0_events(page)
    assert event.raw is page["RefundEventList"][0]
    assert sale.raw is page["ShipmentEventList"][0]
    expected = json.dumps(event.raw, sort_keys=True, separators=(",", ":"))
    assert event.raw_sha256 == hashlib.sha256(expected.encode()).hexdigest()


def test_v0_marketplace_resolver_and_group_id():
    calls = []

    def resolver(name, currency):
        calls.append((name, currency))
        return "A1F83G8C2ARO7P" if name == "Amazon.co.uk" else None

    (event,), _ = normalize_v0_events(
        load("uk_vat_refund.json")["v0"], resolver, group_id="GRP-EXAMPLE-UK01"
    )
    assert calls == [("Amazon.co.uk", "GBP")]
    assert event.marketplace_id == "A1F83G8C2ARO7P"
    assert event.group_id == "GRP-EXAMPLE-UK01"


def test_v0_accepts_the_whole_payload():
    payload = {"NextToken": None, "FinancialEvents": load("us_mf_refund.json")["v0"]}
    events, failures = normalize_v0_events(payload)
    assert failures == [] and [e.total for e in events] == [D("-19.60"), D("18.6")]


def test_v0_uk_two_items_promotion_and_giftwrap_spelling():
    (event,), _ = v0("uk_vat_refund.json")
    assert event.total == D("-49.35")
    by_sku = {}
    for ln in event.lines:
        by_sku.setdefault(ln.sku, []).append((ln.amount_type, ln.amount))
    assert ("Charge/GiftWrap", D("-3.0")) in by_sku["MUG-GREEN"]
    assert ("Charge/GiftWrapTax", D("-0.6")) in by_sku["MUG-GREEN"]
    assert ("Promotion/PromotionMetaDataDefinitionValue", D("2.5")) in by_sku["MUG-GREEN"]
    assert ("Charge/Principal", D("-16.67")) in by_sku["MUG-RED"]
    assert {ln.quantity for ln in event.lines if ln.sku == "MUG-GREEN"} == {D(2)}
    assert event.order_adjustment_item_ids == ("60000000000001", "60000000000002")


def test_v0_jp_yen_integers_and_offset_date():
    (event,), _ = v0("jp_refund.json")
    assert event.currency == "JPY"
    assert event.total == D(-3010)
    assert event.posted_date == datetime(2026, 10, 2, 16, 2, 3, tzinfo=timezone.utc)
    assert ("Charge/RestockingFee", D(600), "TEA-SET") in line_set(event)


def test_v0_claim_chargeback_and_order_level_lines():
    (claim,), _ = v0("atoz_claim.json")
    assert claim.event_type == "guarantee_claim"
    assert claim.total == D("-45.59")
    (chargeback,), _ = v0("chargeback.json")
    assert chargeback.event_type == "chargeback"
    assert chargeback.total == D("-89.18")
    order_level = [ln for ln in chargeback.lines if ln.sku is None]
    assert order_level == [NormalizedLine("Charge/ShippingCharge", D("-9.99"))]


def test_v0_adjustments_per_sku_and_without_items():
    events, failures = v0("adjustments.json")
    assert failures == []
    reimbursement, reserve, postage = events
    assert reimbursement.event_type == "adjustment"
    assert reimbursement.amazon_order_id is None
    assert reimbursement.description == "FBAInventoryReimbursement"
    assert reimbursement.total == D("25.5")
    assert [(ln.amount_type, ln.amount, ln.sku, ln.quantity) for ln in reimbursement.lines] == [
        ("Adjustment/FBAInventoryReimbursement", D("17.0"), "WIDGET-BLUE", D(2)),
        ("Adjustment/FBAInventoryReimbursement", D("8.5"), "WIDGET-RED", D(1)),
    ]
    assert list(reserve.lines) == [NormalizedLine("Adjustment/ReserveEvent", D("-150.0"))]
    assert postage.total == D("-7.35")


def test_v0_adjustment_items_not_adding_up_fail():
    page = copy.deepcopy(load("adjustments.json")["v0"])
    page["AdjustmentEventList"][0]["AdjustmentAmount"]["CurrencyAmount"] = 26.5
    events, failures = normalize_v0_events(page)
    assert len(events) == 2
    assert len(failures) == 1
    assert "add up to 25.5, AdjustmentAmount is 26.5" in failures[0].message


def test_v0_service_fees_need_a_date_and_stay_distinct():
    page = load("service_fees.json")["v0"]
    events, failures = normalize_v0_events(page)
    assert [e.event_type for e in events] == ["retrocharge"]
    assert len(failures) == 3
    assert all("PostedDate" in f.message for f in failures)

    events, failures = normalize_v0_events(page, posted_date_fallback=FALLBACK)
    assert failures == []
    storage, disposal1, disposal2, retro = events
    assert storage.posted_date == FALLBACK
    assert storage.description == "FBA Inventory Storage Fee"
    assert list(storage.lines) == [NormalizedLine("Fee/FBAStorageFee", D("-12.34"))]
    # Two identical disposal fees are two Amazon events: numbered apart, never merged.
    assert disposal2.key == disposal1.key + "#2"
    assert disposal2.fingerprint == disposal1.fingerprint + "#2"
    # The fallback date is not part of the identity: another window gives the same keys.
    later = datetime(2026, 10, 9, tzinfo=timezone.utc)
    again, _ = normalize_v0_events(page, posted_date_fallback=later)
    assert [e.key for e in again] == [e.key for e in events]
    assert retro.total == D("-1.35")
    assert retro.description == "Retrocharge"
    assert {ln.amount_type for ln in retro.lines} == {
        "Retrocharge/BaseTax",
        "Retrocharge/ShippingTax",
    }


def test_v0_duplicates_across_pages_are_numbered():
    page = load("service_fees.json")["v0"]
    one = {"ServiceFeeEventList": page["ServiceFeeEventList"][1:2]}
    events, _ = normalize_v0_events([one, copy.deepcopy(one)], posted_date_fallback=FALLBACK)
    assert events[1].key == events[0].key + "#2"


def test_v0_malformed_events_do_not_stop_the_others():
    events, failures = v0("malformed.json")
    assert [e.amazon_order_id for e in events] == ["115-0000008-0000008", "115-0000012-0000012"]
    assert [f.source for f in failures] == ["RefundEventList"] * 3
    messages = [f.message for f in failures]
    assert "missing PostedDate" in messages[0]
    assert not any(f.missing_posted_date for f in failures)  # a refund must have its date
    assert "is not a number: 'abc'" in messages[1]
    assert "currency mismatch inside one event" in messages[2]
    assert "CAD" in messages[2] and "USD" in messages[2]
    assert failures[0].raw["AmazonOrderId"] == "115-0000009-0000009"


def test_v0_unknown_list_names_become_other_events():
    events, failures = v0("unknown_lists.json")
    refund, fees, total_only, safet = events
    assert refund.event_type == "refund"
    assert fees.event_type == "other" and fees.source == "NewFancyEventList"
    assert fees.amazon_order_id == "116-0000013-0000013"
    assert fees.total == D("-3.0")
    assert {ln.amount_type for ln in fees.lines} == {"Fee/FancyFee", "Fee/FixedClosingFee"}
    assert total_only.total == D("4.2")
    assert list(total_only.lines) == [NormalizedLine("NewFancy/TotalAmount", D("4.2"))]
    # Two amount fields and none a total: cannot tell, reported (not guessed, not crashed).
    assert len(failures) == 1
    assert failures[0].source == "NewFancyEventList"
    assert "cannot determine the total" in failures[0].message
    # SAFETReimbursementEventList (issue 9: no longer dropped) is read like 2024-06-19 reads it.
    assert safet.event_type == "other" and safet.source == "SAFETReimbursementEventList"
    assert safet.description == "Refunds"
    assert list(safet.lines) == [NormalizedLine("SAFETReimbursement/ReimbursedAmount", D("30.0"))]


def test_v0_unknown_list_that_is_not_a_list_fails_softly():
    events, failures = normalize_v0_events({"WeirdEventList": {"x": 1}, "RefundEventList": []})
    assert events == []
    assert failures[0].source == "WeirdEventList"


def test_v0_sale_amounts_inside_a_refund_are_rejected_zero_ones_accepted():
    page = copy.deepcopy(load("us_mf_refund.json")["v0"])
    refund = page["RefundEventList"][0]
    refund["OrderChargeList"] = [
        {"ChargeType": "Principal", "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": 0}}
    ]
    events, failures = normalize_v0_events(page)
    assert failures == [] and events[0].total == D("-19.60")
    refund["ShipmentItemAdjustmentList"][0]["ItemChargeList"] = [
        {"ChargeType": "Principal", "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": 5}}
    ]
    events, failures = normalize_v0_events(page)
    assert [e.event_type for e in events] == ["sale"]  # the sale of the page is still read
    assert "unexpected amounts in ItemChargeList" in failures[0].message


def test_v0_key_ignores_order_and_changes_with_amounts():
    page = load("uk_vat_refund.json")["v0"]
    (event,), _ = normalize_v0_events(page)
    shuffled = copy.deepcopy(page)
    items = shuffled["RefundEventList"][0]["ShipmentItemAdjustmentList"]
    items.reverse()
    items[0]["ItemChargeAdjustmentList"].reverse()
    (same,), _ = normalize_v0_events(shuffled)
    assert same.key == event.key and same.fingerprint == event.fingerprint
    assert same.raw_sha256 != event.raw_sha256
    changed = copy.deepcopy(page)
    item = changed["RefundEventList"][0]["ShipmentItemAdjustmentList"][0]
    item["ItemFeeAdjustmentList"][0]["FeeAmount"]["CurrencyAmount"] = 2.57
    (other,), _ = normalize_v0_events(changed)
    assert other.key != event.key
    assert other.fingerprint != event.fingerprint


def test_v0_refund_without_amounts_fails():
    page = {"RefundEventList": [{"AmazonOrderId": "1", "PostedDate": "2026-10-01T00:00:00Z"}]}
    events, failures = normalize_v0_events(page)
    assert events == [] and "without any amount" in failures[0].message


def test_v0_decimals_from_json_parse_float_are_kept_exactly():
    text = json.dumps(load("us_mf_refund.json")["v0"]).replace("-0.15", "-0.150")
    page = json.loads(text, parse_float=Decimal)
    (event, _sale), _ = normalize_v0_events(page)
    assert ("Charge/ShippingTax", D("-0.150"), "WIDGET-BLUE") in line_set(event)
    assert event.total == D("-19.600")
    assert '"CurrencyAmount":-0.150' in canonical_json(event.raw)
    (plain, _sale), _ = normalize_v0_events(load("us_mf_refund.json")["v0"])
    assert plain.fingerprint == event.fingerprint  # -19.600 and -19.60 are the same total


# ---------------------------------------------------------------------------------------------
# 2024-06-19
# ---------------------------------------------------------------------------------------------


def test_2024_us_refund_fields():
    events, failures = v2024("us_mf_refund.json")
    assert failures == []
    assert [e.event_type for e in events] == ["sale", "refund"], "the Shipment is a sale"
    event = events[1]
    assert event.source_api == "2024-06-19"
    assert event.key == "txn:TXN-EXAMPLE-US-REFUND"
    assert event.transaction_id == "TXN-EXAMPLE-US-REFUND"
    assert event.transaction_status == "RELEASED"
    assert event.description == "Refund Order"
    assert event.marketplace_id == "ATVPDKIKX0DER"
    assert event.marketplace_name == "Amazon.com"
    assert event.group_id == "GRP-EXAMPLE-0001"
    assert event.total == D("-19.6")
    assert {ln.order_adjustment_item_id for ln in event.lines} == {"50000000000001"}
    assert {ln.quantity for ln in event.lines} == {D(1)}
    assert {ln.description for ln in event.lines} == {"Blue widget"}


@pytest.mark.parametrize(
    "name",
    [
        "us_mf_refund.json",
        "uk_vat_refund.json",
        "jp_refund.json",
        "atoz_claim.json",
        "chargeback.json",
        "adjustments.json",
        "unknown_fee_type.json",
    ],
)
def test_same_event_from_both_apis(name):
    old, old_failures = v0(name)
    new, new_failures = v2024(name)
    assert old_failures == [] and new_failures == []
    assert len(old) == len(new) > 0
    # v0 reads its sales after the other lists: compare in date order.
    old = sorted(old, key=lambda e: e.posted_date)
    new = sorted(new, key=lambda e: e.posted_date)
    for a, b in zip(old, new, strict=True):
        assert a.event_type == b.event_type
        assert a.amazon_order_id == b.amazon_order_id
        assert a.currency == b.currency
        assert a.total == b.total
        assert line_set(a) == line_set(b)
        assert a.order_adjustment_item_ids == b.order_adjustment_item_ids
        assert a.posted_date.replace(microsecond=0) == b.posted_date
        assert a.fingerprint == b.fingerprint
        assert a.key != b.key


def test_service_fees_from_both_apis_have_the_same_lines():
    old, _ = v0("service_fees.json")
    new, failures = v2024("service_fees.json")
    assert failures == []
    assert [line_set(e) for e in old] == [line_set(e) for e in new]
    assert [e.total for e in old] == [e.total for e in new]
    # The retrocharge is dated in both: same fingerprint.
    assert old[-1].fingerprint == new[-1].fingerprint
    # Distinct transactions with equal content are numbered apart.
    assert new[2].fingerprint == new[1].fingerprint + "#2"
    assert new[2].key == "txn:TXN-EXAMPLE-SF-3"


def test_2024_same_transaction_twice_is_one_identity():
    transactions = load("atoz_claim.json")["transactions"]
    events, _ = normalize_transactions(transactions + copy.deepcopy(transactions))
    assert events[0].key == events[1].key
    assert events[0].fingerprint == events[1].fingerprint


def test_2024_event_types_from_description_and_type():
    base = load("atoz_claim.json")["transactions"][0]
    cases = {
        ("Refund", "Refund Order"): "refund",
        ("Refund", "A-to-z Guarantee Claim"): "guarantee_claim",
        ("Refund", "Chargeback Refund"): "chargeback",
        ("Refund", "Something else"): "refund",
        ("GuaranteeClaim", "x"): "guarantee_claim",
        ("Chargeback", "x"): "chargeback",
        ("REFUND", "refund order"): "refund",
    }
    for (ttype, description), expected in cases.items():
        raw = dict(base, transactionType=ttype, description=description)
        (event,), _ = normalize_transactions([raw])
        assert event.event_type == expected, (ttype, description)


def test_2024_malformed_transactions_do_not_stop_the_others():
    events, failures = v2024("malformed.json")
    assert [e.key for e in events] == ["txn:TXN-EXAMPLE-GOOD"]
    assert "breakdown leaves add up to -8.79, totalAmount is -9.0" in failures[0].message
    assert "missing postedDate" in failures[1].message
    assert failures[0].source == "Refund"


def test_2024_unknown_types_and_categories_are_kept():
    events, failures = v2024("unknown_lists.json")
    assert failures == []
    fancy, transfer = events
    assert fancy.event_type == "other" and fancy.source == "FancyNewThing"
    assert list(fancy.lines) == [NormalizedLine("FancyCharges/Sparkle", D("-2.0"))]
    assert transfer.event_type == "other"
    assert list(transfer.lines) == [NormalizedLine("Other/Transfer", D("-500.0"))]
    assert transfer.total == D("-500.0")


def test_2024_known_type_without_breakdowns_fails():
    raw = copy.deepcopy(load("atoz_claim.json")["transactions"][0])
    raw["items"] = []
    raw["breakdowns"] = []
    events, failures = normalize_transactions([raw])
    assert events == [] and "add up to 0" in failures[0].message


def test_2024_leaves_from_transaction_breakdowns_nested_and_bare_parents():
    raw = {
        "transactionType": "ServiceFee",
        "transactionId": "TXN-NESTED",
        "postedDate": "2026-10-01T00:00:00Z",
        "totalAmount": {"currencyCode": "USD", "currencyAmount": -3.5},
        # The model's own example wraps the transaction-level list in an object.
        "breakdowns": {
            "breakdowns": [
                {
                    "breakdownType": "Expenses",
                    "breakdownAmount": {"currencyCode": "USD", "currencyAmount": -3.0},
                    "breakdowns": [
                        {
                            "breakdownType": "Amazon Fees",
                            "breakdownAmount": {"currencyCode": "USD", "currencyAmount": -3.0},
                            "breakdowns": [
                                {
                                    "breakdownType": "commission",
                                    "breakdownAmount": {
                                        "currencyCode": "USD",
                                        "currencyAmount": -3.0,
                                    },
                                }
                            ],
                        }
                    ],
                },
                {
                    "breakdownType": "AmazonFees",
                    "breakdownAmount": {"currencyCode": "USD", "currencyAmount": -0.25},
                    "breakdowns": [],
                },
                {
                    "breakdownType": "Mystery",
                    "breakdownAmount": {"currencyCode": "USD", "currencyAmount": -0.25},
                    "breakdowns": [
                        {
                            "breakdownType": "Thing",
                            "breakdownAmount": {"currencyCode": "USD", "currencyAmount": -0.25},
                        }
                    ],
                },
            ]
        },
        "contexts": [{"contextType": "ProductContext", "sku": "SKU-X", "quantityShipped": 3}],
    }
    (event,), failures = normalize_transactions([raw])
    assert failures == []
    assert event.event_type == "service_fee"
    assert event.amazon_order_id is None and event.marketplace_id is None
    assert [(ln.amount_type, ln.amount, ln.sku) for ln in event.lines] == [
        ("Fee/Commission", D("-3.0"), "SKU-X"),
        ("Fee/AmazonFees", D("-0.25"), "SKU-X"),
        ("Mystery/Thing", D("-0.25"), "SKU-X"),
    ]


def test_2024_principle_alias_and_leaf_currency_mismatch():
    raw = copy.deepcopy(load("jp_refund.json")["transactions"][0])
    leaves = raw["items"][0]["breakdowns"][0]["breakdowns"]
    leaves[0]["breakdownType"] = "Principle"
    (event,), _ = normalize_transactions([raw])
    assert event.lines[0].amount_type == "Charge/Principal"
    leaves[1]["breakdownAmount"]["currencyCode"] = "USD"
    events, failures = normalize_transactions([raw])
    assert events == [] and "currency mismatch" in failures[0].message


def test_2024_transaction_without_id_gets_a_digest_key():
    raw = copy.deepcopy(load("atoz_claim.json")["transactions"][0])
    del raw["transactionId"]
    (event,), _ = normalize_transactions([raw])
    assert event.key.startswith("v2024:") and len(event.key) == 6 + 64
    (again,), _ = normalize_transactions([copy.deepcopy(raw)])
    assert again.key == event.key


def test_2024_non_object_transaction_is_a_failure():
    events, failures = normalize_transactions(["nope", {"transactionId": "X"}])
    assert events == []
    assert [f.message for f in failures] == [
        "transaction is not an object",
        "transaction without transactionType",
    ]


# ---------------------------------------------------------------------------------------------
# Parsers
# ---------------------------------------------------------------------------------------------


def test_parse_amount_accepts_json_numbers_without_binary_float():
    assert parse_amount(-19) == D(-19)
    assert parse_amount(-19.6) == D("-19.6")
    assert str(parse_amount(0.1 + 0.2)) == "0.30000000000000004"
    assert parse_amount(D("-19.60")) == D("-19.60")
    assert str(parse_amount(" -19.60 ")) == "-19.60"
    assert parse_amount("1e2") == D(100)
    for bad in (True, None, "abc", "1_000", "", float("nan"), D("Infinity"), "NaN", [1]):
        with pytest.raises(NormalizationError, match="number"):
            parse_amount(bad)


def test_parse_date_variants():
    utc = timezone.utc
    assert parse_date("2026-10-01T12:34:56Z") == datetime(2026, 10, 1, 12, 34, 56, tzinfo=utc)
    assert parse_date("2026-10-01T12:34:56.123456789Z").microsecond == 123456
    assert parse_date("2026-10-01T14:34:56+02:00") == datetime(2026, 10, 1, 12, 34, 56, tzinfo=utc)
    assert parse_date("2026-10-01T12:34:56") == datetime(2026, 10, 1, 12, 34, 56, tzinfo=utc)
    for bad in (None, "", "yesterday", "2026-13-01T00:00:00Z", 12):
        with pytest.raises(NormalizationError):
            parse_date(bad)


def test_canonical_type_is_case_insensitive():
    assert canonical_type("giftwrap") == "GiftWrap"
    assert canonical_type("GIFTWRAPTAX") == "GiftWrapTax"
    assert canonical_type("marketplacefacilitatortax-principal") == (
        "MarketplaceFacilitatorTax-Principal"
    )
    assert canonical_type("BrandNewFee") == "BrandNewFee"


def test_raw_sha256_canonical_json_with_decimals_as_received():
    raw = json.loads('{"b": -19.60, "a": [1, "x", null, true]}', parse_float=Decimal)
    assert canonical_json(raw) == '{"a":[1,"x",null,true],"b":-19.60}'
    expected = hashlib.sha256(b'{"a":[1,"x",null,true],"b":-19.60}').hexdigest()
    assert raw_sha256(raw) == expected
    with pytest.raises(NormalizationError):
        raw_sha256({"a": object()})


def test_undated_v0_service_fees_are_flagged_without_a_fallback():
    page = load("service_fees.json")["v0"]
    dated, _failures = normalize_v0_events(page, posted_date_fallback=FALLBACK)
    events, failures = normalize_v0_events(page)
    undated = [f for f in failures if f.missing_posted_date]
    assert undated and all(f.source == "ServiceFeeEventList" for f in undated)
    assert len(events) + len(undated) == len(dated)
