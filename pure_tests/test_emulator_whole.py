"""The whole-settlement scenario: its groups add up, both APIs and the reports carry the same
money, the reserve, the deferred order and the failed transfer show as Amazon shows them."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from emulator.dataset import Dataset
from emulator.reports import render_settlement_report
from emulator.scenarios import RESERVE, add_whole_settlement, whole_dataset
from emulator.v0 import to_v0_financial_events, to_v0_group
from emulator.v2024 import to_transaction

NOW = datetime(2026, 9, 30, 12, 0, tzinfo=UTC)
D = Decimal


@pytest.fixture
def story():
    dataset = Dataset("A1WHOLE", ("US", "DE"), NOW - timedelta(days=80), NOW, seed=7)
    return dataset, add_whole_settlement(dataset, NOW)


def _money(node):
    return D(str(node["CurrencyAmount"]))


def _v0_net(list_name, event):
    """The money of one v0 event, read field by field as Amazon writes it."""
    if list_name == "ProductAdsPaymentEventList":
        assert _money(event["baseValue"]) + _money(event["taxValue"]) == _money(
            event["transactionValue"]
        )
        return _money(event["transactionValue"])
    if list_name == "AdjustmentEventList":
        if "AdjustmentAmount" in event:
            return _money(event["AdjustmentAmount"])
        return sum(_money(i["TotalAmount"]) for i in event["AdjustmentItemList"])
    if list_name == "ServiceFeeEventList":
        return sum((_money(f["FeeAmount"]) for f in event.get("FeeList") or []), D(0))
    total = D(0)
    for item in event.get("ShipmentItemList", []) + event.get("ShipmentItemAdjustmentList", []):
        for key, amount_key in (
            ("ItemChargeList", "ChargeAmount"),
            ("ItemChargeAdjustmentList", "ChargeAmount"),
            ("ItemFeeList", "FeeAmount"),
            ("ItemFeeAdjustmentList", "FeeAmount"),
            ("PromotionList", "PromotionAmount"),
        ):
            total += sum((_money(c[amount_key]) for c in item.get(key, [])), D(0))
        for withheld in item.get("ItemTaxWithheldList", []):
            total += sum(_money(c["ChargeAmount"]) for c in withheld["TaxesWithheld"])
    return total


def _v2024_leaves(nodes):
    total = D(0)
    for node in nodes or []:
        children = node.get("breakdowns")
        if children:
            total += _v2024_leaves(children)
        else:
            total += D(str(node["breakdownAmount"]["currencyAmount"]))
    return total


def _report(dataset, group):
    rows = list(
        csv.DictReader(io.StringIO(render_settlement_report(dataset, group)), delimiter="\t")
    )
    return rows[0], rows[1:]


def test_the_realistic_group_adds_up_to_its_events(story):
    dataset, whole = story
    kinds = sorted(ev.kind for ev in dataset.group_events(whole.main))
    assert kinds == sorted(
        ["order", "order", "refund", "product_ads", "service_fee", "adjustment", "adjustment"]
    )
    # sales 255.49 + 73.27, refund -26.39, ads -37.25, subscription -39.99, damage 18.40,
    # reserve held -60.00
    assert dataset.group_total(whole.main) == D("183.53")
    rendered = to_v0_group(whole.main, dataset.group_total(whole.main), NOW)
    assert rendered["ProcessingStatus"] == "Closed"
    assert rendered["FundTransferStatus"] == "Succeeded"
    assert rendered["OriginalTotal"] == {"CurrencyCode": "USD", "CurrencyAmount": D("183.53")}
    assert rendered["ConvertedTotal"] == rendered["OriginalTotal"]
    assert rendered["BeginningBalance"]["CurrencyAmount"] == 0
    assert rendered["TraceId"] == whole.main.trace_id
    for group in whole.groups:
        events = sum((ev.net for ev in dataset.group_events(group)), D(0))
        assert dataset.group_total(group) == events + group.carried_in


def test_both_apis_carry_the_same_money(story):
    dataset, whole = story
    later = NOW  # every group closed, the deferred order released
    for event in whole.events.values():
        ((list_name, v0),) = [
            (name, obj) for name, objs in to_v0_financial_events([event]).items() for obj in objs
        ]
        transaction = to_transaction(event, later)
        total = D(str(transaction["totalAmount"]["currencyAmount"]))
        assert _v0_net(list_name, v0) == event.net == total, event.event_id
        assert _v2024_leaves(transaction["breakdowns"]) == total, event.event_id
        if transaction["items"]:
            items = sum(D(str(i["totalAmount"]["currencyAmount"])) for i in transaction["items"])
            assert items == total, event.event_id
        group_ids = [
            r["relatedIdentifierValue"]
            for r in transaction["relatedIdentifiers"]
            if r["relatedIdentifierName"] == "FINANCIAL_EVENT_GROUP_ID"
        ]
        assert group_ids == [event.group_id]


def test_advertising_is_written_as_amazon_writes_it(story):
    dataset, whole = story
    de = whole.events["ads_de"]
    (v0,) = to_v0_financial_events([de])["ProductAdsPaymentEventList"]
    assert set(v0) == {
        "postedDate",
        "transactionType",
        "invoiceId",
        "baseValue",
        "taxValue",
        "transactionValue",
    }
    assert (v0["transactionType"], _money(v0["baseValue"]), _money(v0["taxValue"])) == (
        "Charge",
        D("-10.00"),
        D("-1.90"),
    )
    transaction = to_transaction(de, NOW)
    assert transaction["transactionType"] == "ProductAdsPayment"
    (fees,) = transaction["breakdowns"]
    assert [n["breakdownType"] for n in fees["breakdowns"][0]["breakdowns"]] == ["Base", "Tax"]
    _summary, rows = _report(dataset, whole.eur)
    ads = [r for r in rows if r["amount-type"] == "Cost of Advertising"]
    assert [(r["transaction-type"], r["amount-description"], r["amount"]) for r in ads] == [
        ("ServiceFee", "TransactionTotalAmount", "-10.00"),
        ("ServiceFee", "TaxAmount", "-1.90"),
    ]


def test_reports_carry_the_same_rows_and_total(story):
    dataset, whole = story
    for group in whole.groups:
        summary, rows = _report(dataset, group)
        total = D(summary["total-amount"])
        assert total == dataset.group_total(group)
        assert sum(D(r["amount"]) for r in rows) == total
    _summary, rows = _report(dataset, whole.main)
    orders = {r["order-id"] for r in rows if r["transaction-type"] == "Order"}
    assert orders == {whole.events["sale_us"].order_id, whole.events["sale_us_2"].order_id}
    descriptions = {r["amount-description"] for r in rows if r["transaction-type"] == "Order"}
    assert {"Principal", "Tax", "Shipping", "ShippingTax", "Commission"} <= descriptions
    assert ("other-transaction", "Subscription Fee") in {
        (r["transaction-type"], r["amount-description"]) for r in rows
    }
    assert ("FBA Inventory Reimbursement", "WAREHOUSE_DAMAGE") in {
        (r["amount-type"], r["amount-description"]) for r in rows
    }


def test_reserve_held_in_one_group_is_released_in_the_next(story):
    dataset, whole = story
    held = [
        ev.adjustment_type
        for ev in dataset.group_events(whole.main)
        if ev.kind == "adjustment" and ev.adjustment_type.startswith("Reserve")
    ]
    released = [
        ev
        for ev in dataset.group_events(whole.released)
        if ev.kind == "adjustment" and ev.adjustment_type.startswith("Reserve")
    ]
    assert held == ["ReserveDebit"]
    assert [(ev.adjustment_type, ev.net) for ev in released] == [("ReserveCredit", RESERVE)]
    rendered = to_v0_group(whole.released, dataset.group_total(whole.released), NOW)
    assert rendered["BeginningBalance"]["CurrencyAmount"] == RESERVE
    _summary, rows = _report(dataset, whole.main)
    assert [r["amount"] for r in rows if r["amount-description"] == "Current Reserve Amount"] == [
        "-60.00"
    ]
    _summary, rows = _report(dataset, whole.released)
    assert [
        r["amount"] for r in rows if r["amount-description"] == "Previous Reserve Amount Balance"
    ] == ["60.00"]


def test_deferred_order_is_paid_by_the_group_of_its_release(story):
    dataset, whole = story
    deferred = whole.events["deferred_us"]
    assert whole.main.start <= deferred.posted < whole.main.end
    assert deferred.group_id == whole.released.group_id
    before = to_transaction(deferred, deferred.posted + timedelta(hours=1))
    assert before["transactionStatus"] == "Deferred"
    assert "FINANCIAL_EVENT_GROUP_ID" not in {
        r["relatedIdentifierName"] for r in before["relatedIdentifiers"]
    }
    assert before["contexts"][0]["contextType"] == "DeferredContext"
    after = to_transaction(deferred, NOW)
    assert after["transactionStatus"] == "DeferredReleased"
    assert deferred.visible("v0", NOW) and not deferred.visible("v0", deferred.posted)
    assert deferred not in dataset.group_events(whole.main)
    _summary, rows = _report(dataset, whole.released)
    assert deferred.order_id in {r["order-id"] for r in rows}


def test_failed_transfer_is_paid_again_by_the_next_group(story):
    dataset, whole = story
    failed_total = sum((ev.net for ev in dataset.group_events(whole.released)), D(0))
    rendered = to_v0_group(whole.released, dataset.group_total(whole.released), NOW)
    assert rendered["FundTransferStatus"] == "Failed"
    transfers = {t["group_id"]: t for t in dataset.fund_transfers(NOW)}
    assert whole.released.group_id not in transfers
    assert whole.paid_again.carried_in == failed_total
    events = sum((ev.net for ev in dataset.group_events(whole.paid_again)), D(0))
    nxt = to_v0_group(whole.paid_again, dataset.group_total(whole.paid_again), NOW)
    assert nxt["OriginalTotal"]["CurrencyAmount"] == events + failed_total
    assert nxt["BeginningBalance"]["CurrencyAmount"] == failed_total
    assert transfers[whole.paid_again.group_id]["amount"] == events + failed_total
    _summary, rows = _report(dataset, whole.paid_again)
    carried = [r for r in rows if r["amount-description"] == "Failed Disbursement"]
    assert [D(r["amount"]) for r in carried] == [failed_total]


def test_whole_dataset_holds_the_story_only():
    dataset = whole_dataset(seed=3, now=NOW)
    assert len(dataset.events) == 13
    assert {ev.marketplace for ev in dataset.events} == {"US", "DE"}
    closed = [g for g in dataset.groups if g.is_closed(NOW) and dataset.group_events(g)]
    assert len(closed) == 4


# -- against Amazon's models and the real samples ----------------------------------------------


def test_the_story_uses_the_models_names_and_the_real_samples_shapes(story):
    from test_emulator_real_shapes import _check, _model, report_file, sample, shape, wire

    dataset, whole = story
    v0_model = _model("financesV0.json")["definitions"]
    events = wire(to_v0_financial_events(dataset.events))
    _check(events, v0_model["FinancialEvents"], v0_model, "FinancialEvents")
    # A03 (Amazon's sandbox example) is the one ProductAdsPaymentEvent published: same keys
    a03 = sample("A03")["payload"]["FinancialEvents"]["ProductAdsPaymentEventList"][0]
    for ads in events["ProductAdsPaymentEventList"]:
        assert set(ads) == set(a03) and shape(ads) == shape(a03)
    g03 = sample("G03")[0]
    for group in whole.groups:
        rendered = wire(to_v0_group(group, dataset.group_total(group), NOW))
        _check(rendered, v0_model["FinancialEventGroup"], v0_model, group.group_id)
        assert set(rendered) == set(g03) and shape(rendered) == shape(g03)
    model = _model("finances_2024-06-19.json")["definitions"]
    for event in dataset.events:
        for moment in (event.posted, NOW):
            _check(wire(to_transaction(event, moment)), model["Transaction"], model, event.event_id)
    # the advertising rows of the real CA settlements (S02, derived from a real V1 file)
    _header, real = report_file("derived/S02_CA_v2_converted_from_real_v1_50044020356.txt")
    real_ads = {
        (r["transaction-type"], r["amount-type"], r["amount-description"])
        for r in real
        if r.get("amount-type") == "Cost of Advertising"
    }
    _summary, rows = _report(dataset, whole.eur)
    ours = {
        (r["transaction-type"], r["amount-type"], r["amount-description"])
        for r in rows
        if r["amount-type"] == "Cost of Advertising"
    }
    assert ours == real_ads
