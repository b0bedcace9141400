"""domain.sales: sales read from v0 ``ShipmentEventList``, 2024-06-19 ``Shipment`` and a settlement
report's ``Order`` rows, on this project's fixtures and on the real samples of
``<repo>/../shared/realdata`` (read in place, never copied; skipped, saying so, when absent)."""

import copy
import json
import os
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from domain.model import SALE_EVENT_TYPE, event_from_json, event_to_json
from domain.normalize import normalize_transactions, normalize_v0_events
from domain.sales import (
    read_sale_transactions,
    read_v0_sales,
    report_posted_dates,
    report_sales,
    sale_fingerprint,
)
from domain.settlement_report import parse_settlement_report

D = Decimal
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures", "sales")
REALDATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "realdata"))
SPAPI_MODELS = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "spapi-models"))


def fixture():
    with open(os.path.join(FIXTURES, "same_sale.json"), encoding="utf-8") as handle:
        return json.load(handle)


def real(name):
    path = os.path.join(REALDATA, name)
    if not os.path.exists(path):
        pytest.skip(f"{path} is absent: the real samples are not on this machine")
    if name.endswith(".json"):
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    with open(path, "rb") as handle:
        return handle.read()


def lines_of(event):
    return [(ln.amount_type, ln.amount) for ln in event.lines]


def a01_shipment_event():
    """Amazon's own v0 ShipmentEvent example (A01: the model lists it under
    ChargebackEventList; a sale has the same shape)."""
    return real("A01_model_sandbox_v0_byGroupId_chargeback.json")["response"]["payload"][
        "FinancialEvents"
    ]["ChargebackEventList"][0]


# ---------------------------------------------------------------------------------------------
# 2024-06-19
# ---------------------------------------------------------------------------------------------


def test_r10_real_shipment_is_read_to_the_cent():
    data = real("R10_SE_2024_shipment_airbyte.json")
    events, failures = read_sale_transactions(data["data"])
    assert failures == []
    (event,) = events
    assert event.event_type == SALE_EVENT_TYPE and event.source == "Shipment"
    assert event.key == "txn:lo6cQ55-40s5sU4g_lSwkZV22qz-vCNVtjLLqAQyux4"
    assert event.amazon_order_id == "931-0852306-5138236"
    assert event.group_id == "_fSsCZmGkBME7DCFtbqKLcDX-KB-M-5Pdr1NaefqCks"
    assert (event.currency, event.total) == ("SEK", D("294.46"))
    assert event.posted_date == datetime(2024, 1, 18, 12, 45, 47, tzinfo=timezone.utc)
    assert event.description == "Order Payment" and event.transaction_status is None
    assert lines_of(event) == [
        ("Charge/Tax", D("80")),
        ("Charge/ShippingTax", D("9.8")),
        ("Charge/Principal", D("320")),
        ("Charge/ShippingCharge", D("39.2")),
        ("Fee/FBAPerUnitFulfillmentFee", D("-36.43")),
        ("FeeTax/FBAPerUnitFulfillmentFee", D("-9.11")),
        ("Fee/Commission", D("-60")),
        ("Fee/ShippingChargeback", D("-39.2")),
        ("FeeTax/ShippingChargeback", D("-9.8")),
    ]
    assert sum(ln.amount for ln in event.lines) == event.total
    assert {(ln.sku, ln.quantity) for ln in event.lines} == {
        ("PSMM-TEST-SKU-Aug-29_08_03_14-0898", D(1))
    }
    assert event.fingerprint == sale_fingerprint(
        "931-0852306-5138236", event.posted_date, D("294.46")
    )
    # The import stages it: normalize_transactions gives the same sale.
    assert normalize_transactions(data["data"]) == ([event], [])


def test_model_examples_of_2024_shipments():
    # The model's Transaction example: "Product Charges" / "Principle" (sic).
    path = os.path.join(SPAPI_MODELS, "finances_2024-06-19.json")
    if not os.path.exists(path):
        pytest.skip(f"{path} is absent")
    with open(path, encoding="utf-8") as handle:
        example = json.load(handle)["definitions"]["Transaction"]["example"]
    (event,), failures = read_sale_transactions([example])
    assert failures == [] and lines_of(event) == [("Charge/Principal", D(10))]
    assert event.transaction_status == "Released" and event.marketplace_id == "ATVPDKIKX0DER"
    # A05: the sandbox's Shipment has no breakdowns and no transactionId: a content key, and its
    # total kept under a name no rule maps (reviewed by name, never dropped).
    sandbox = real("A05_model_sandbox_2024_listTransactions.json")
    (event,), failures = read_sale_transactions(sandbox["response"]["payload"]["transactions"])
    assert failures == [] and event.key.startswith("v2024:")
    assert lines_of(event) == [("Other/Shipment", D(10))]


def test_only_sale_transactions_are_read_and_failures_are_named():
    data = fixture()
    sale = data["us"]["2024"][0]
    refund = {**copy.deepcopy(sale), "transactionType": "Refund", "transactionId": "R-1"}
    broken = copy.deepcopy(sale)
    broken["transactionId"] = "TXN-BROKEN"
    broken["totalAmount"]["currencyAmount"] = 20.0
    undated = {**copy.deepcopy(sale), "transactionId": "TXN-UNDATED", "postedDate": None}
    events, failures = read_sale_transactions([sale, refund, "junk", broken, undated])
    assert [e.key for e in events] == ["txn:TXN-SALE-US-1"]
    assert [(f.source, f.raw["transactionId"]) for f in failures] == [
        ("Shipment", "TXN-BROKEN"),
        ("Shipment", "TXN-UNDATED"),
    ]
    assert "breakdown leaves add up to 19.4, totalAmount is 20.0" in failures[0].message
    assert failures[1].message == "missing postedDate"


# ---------------------------------------------------------------------------------------------
# v0
# ---------------------------------------------------------------------------------------------


def test_v0_sale_is_read_from_its_sale_lists():
    events, failures = read_v0_sales(fixture()["us"]["v0"], group_id="GRP-US-1")
    assert failures == []
    (event,) = events
    assert event.key.startswith("v0:") and event.source == "ShipmentEventList"
    assert (event.amazon_order_id, event.group_id, event.total) == (
        "111-0000001-0000001",
        "GRP-US-1",
        D("19.4"),
    )
    assert lines_of(event) == [
        ("Charge/Principal", D("30.0")),
        ("Charge/Tax", D("2.4")),
        ("Charge/ShippingCharge", D("5.0")),
        ("Charge/ShippingTax", D("0.4")),
        ("Fee/Commission", D("-4.5")),
        ("Fee/FBAPerUnitFulfillmentFee", D("-6.1")),
        ("TaxWithheld/MarketplaceFacilitatorTax-Principal", D("-2.4")),
        ("TaxWithheld/MarketplaceFacilitatorTax-Shipping", D("-0.4")),
        ("Promotion/PromotionMetaDataDefinitionValue", D("-5.0")),
    ]
    assert {(ln.sku, ln.quantity) for ln in event.lines} == {("MUG-01", D(2))}
    # The import stages it: normalize_v0_events gives the same sale (without the group id
    # only when the page was not listed by group).
    assert normalize_v0_events(fixture()["us"]["v0"], group_id="GRP-US-1") == ([event], [])


@pytest.mark.parametrize("market", ["us", "de"])
def test_same_sale_through_both_apis_has_one_fingerprint(market):
    data = fixture()[market]
    (v0,), _ = read_v0_sales(data["v0"])
    (v2024,), _ = read_sale_transactions(data["2024"])
    assert v0.key != v2024.key  # each API keys its own events
    assert v0.fingerprint == v2024.fingerprint
    assert (v0.total, v0.amazon_order_id) == (v2024.total, v2024.amazon_order_id)


def test_fingerprint_tells_sales_apart():
    when = datetime(2026, 10, 3, 23, 30, tzinfo=timezone.utc)
    base = sale_fingerprint("111-1", when, D("19.40"))
    assert base == sale_fingerprint("111-1", when.replace(microsecond=120000), D("19.4"))
    assert base != sale_fingerprint("111-2", when, D("19.40"))
    assert base != sale_fingerprint("111-1", when.replace(second=1), D("19.40"))
    assert base != sale_fingerprint("111-1", when, D("19.41"))
    assert base != sale_fingerprint("111-1", when, D("19.40"), "sale:ShipmentSettleEventList")


def test_settle_events_are_sales_with_their_own_family():
    page = fixture()["us"]["v0"]["FinancialEvents"]
    events, failures = read_v0_sales({"ShipmentSettleEventList": page["ShipmentEventList"]})
    assert failures == [] and events[0].source == "ShipmentSettleEventList"
    (sale,), _ = read_v0_sales(page)
    # Not known to repeat a ShipmentEventList sale: never taken for one.
    assert events[0].fingerprint != sale.fingerprint and events[0].key != sale.key


def test_two_equal_sales_on_a_page_are_numbered_apart():
    page = fixture()["us"]["v0"]["FinancialEvents"]
    twice = {"ShipmentEventList": page["ShipmentEventList"] * 2}
    events, _ = read_v0_sales(twice)
    assert events[1].key == events[0].key + "#2"
    assert events[1].fingerprint == events[0].fingerprint + "#2"


def test_amazon_model_examples_hold_no_sale_lists():
    for name in (
        "A01_model_sandbox_v0_byGroupId_chargeback.json",
        "A02_model_sandbox_v0_byOrderId.json",
        "A03_model_sandbox_v0_listFinancialEvents.json",
    ):
        payload = real(name)["response"]["payload"]
        assert read_v0_sales(payload) == ([], []), name


def test_amazon_model_shipment_event_as_a_sale_names_the_money_it_cannot_place():
    events, (failure,) = read_v0_sales({"ShipmentEventList": [a01_shipment_event()]})
    assert events == []
    assert failure.message.startswith("a sale with money outside its sale lists: ")
    for where in (
        "OrderChargeAdjustmentList 25.37",
        "DirectPaymentList 25.37",
        "ShipmentItemList.456454455464.CostOfPointsGranted 25.37",
        "ShipmentItemList.456454455464.ItemFeeAdjustmentList 25.37",
        "ShipmentItemAdjustmentList.456454455464.TaxWithheld/Tax 25.37",
    ):
        assert where in failure.message


def a01_sale_lists_only():
    """The sale lists of Amazon's ShipmentEvent example (adjustments, direct payments and the
    cost of points left out): what a sale of that shape carries."""
    raw = a01_shipment_event()
    sale = {k: v for k, v in raw.items() if "Adjustment" not in k and k != "DirectPaymentList"}
    item = raw["ShipmentItemList"][0]
    sale["ShipmentItemList"] = [
        {k: v for k, v in item.items() if "Adjustment" not in k and "CostOfPoints" not in k}
    ]
    return sale


def test_amazon_model_shipment_event_sale_lists_read_to_the_cent():
    (event,), failures = read_v0_sales({"ShipmentEventList": [a01_sale_lists_only()]})
    assert failures == []
    assert lines_of(event) == [
        ("Charge/Tax", D("25.37")),
        ("Fee/FixedClosingFee", D("25.37")),
        ("TaxWithheld/Tax", D("25.37")),
        ("Promotion/Free", D("25.37")),
        ("Charge/Tax", D("25.37")),
        ("Fee/FixedClosingFee", D("25.37")),
        ("Fee/FixedClosingFee", D("25.37")),
    ]
    assert event.total == D("177.59") and event.amazon_order_id == "444-555-3343433"
    assert event.posted_date == datetime(2020, 2, 5, 13, 56, 0, 363000, tzinfo=timezone.utc)


def test_v0_failures_are_named():
    page = fixture()["us"]["v0"]["FinancialEvents"]
    sale = page["ShipmentEventList"][0]
    undated = {k: v for k, v in sale.items() if k != "PostedDate"}
    empty = {"AmazonOrderId": "1", "PostedDate": "2026-10-03T00:00:00Z"}
    mixed = copy.deepcopy(sale)
    mixed["ShipmentItemList"][0]["ItemFeeList"][0]["FeeAmount"]["CurrencyCode"] = "EUR"
    events, failures = read_v0_sales(
        [{"ShipmentEventList": [undated, empty, mixed, "junk"]}, {"ShipmentSettleEventList": {}}]
    )
    assert events == []
    assert [f.message for f in failures] == [
        "missing PostedDate",
        "sale without any amount",
        "currency mismatch inside one event: ItemFeeList Commission is in EUR, the event is in USD",
        "event is not an object",
        "ShipmentSettleEventList is not a list",
    ]


def test_sale_events_are_stored_exactly():
    for events, _ in (
        read_v0_sales(fixture()["de"]["v0"]),
        read_sale_transactions(fixture()["de"]["2024"]),
    ):
        (event,) = events
        assert event_from_json(json.loads(json.dumps(event_to_json(event)))) == event


# ---------------------------------------------------------------------------------------------
# Settlement reports
# ---------------------------------------------------------------------------------------------


def test_ca_report_order_rows_become_sales():
    content = real("ca_settlements_v1/50018020314.txt")
    report = parse_settlement_report(content)
    dates = report_posted_dates(content)
    events, failures = report_sales(report, dates, marketplace_id="A2EUQ1WTGCTBG2")
    assert failures == []
    orders = [row for row in report.rows if row.transaction_type == "Order"]
    assert sum(e.total for e in events) == sum(row.amount for row in orders) == D("23.09")
    (event,) = events
    assert event.source_api == "settlement-report" and event.group_id == report.settlement_id
    assert event.currency == "CAD" and event.key.startswith("report:")
    assert sorted(lines_of(event)) == sorted((row.amount_type, row.amount) for row in orders)
    assert event.fingerprint == sale_fingerprint(
        event.amazon_order_id, event.posted_date, event.total
    )
    again, _ = report_sales(parse_settlement_report(content), dates)
    assert [e.key for e in again] == [e.key for e in events]


def test_report_sale_row_without_a_date_is_named():
    content = real("ca_settlements_v1/50018020314.txt")
    report = parse_settlement_report(content)
    events, failures = report_sales(report, {})
    assert events == [] and failures
    assert failures[0].message.endswith("no posted-date")
