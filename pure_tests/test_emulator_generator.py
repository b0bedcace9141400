"""The emulator's canonical events, their two renderings, and the generated dataset."""

import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from emulator import Dataset, dumps, generate_dataset, to_transaction, to_v0_financial_events
from emulator.generator import (
    MARKETPLACES,
    TAX_RULES,
    V0_LIST_NAMES,
    RawEvent,
    to_v0_event,
    to_v0_group,
)

UTC = timezone.utc
START = datetime(2026, 8, 1, tzinfo=UTC)
END = datetime(2026, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset(seed=42, start=START, end=END)


def _loads(obj):
    """Through JSON text, as a client sees it (numbers as Decimal)."""
    return json.loads(dumps(obj), parse_float=Decimal)


def _v0_amounts(obj):
    """Every CurrencyAmount of a v0 event except summaries (AdjustmentAmount, PerUnitAmount)."""
    found = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in ("AdjustmentAmount", "PerUnitAmount"):
                continue
            if key == "CurrencyAmount":
                found.append(Decimal(value))
            else:
                found.extend(_v0_amounts(value))
    elif isinstance(obj, list):
        for value in obj:
            found.extend(_v0_amounts(value))
    return found


def _leaves(breakdowns):
    """The leaves of a breakdown tree (``breakdowns`` absent, null or empty), checking that
    every parent is the sum of its children."""
    result = []
    for node in breakdowns or []:
        if node.get("breakdowns"):
            children = _leaves(node["breakdowns"])
            assert sum(a for _n, a in children) == node["breakdownAmount"]["currencyAmount"]
            result.extend(children)
        else:
            result.append((node["breakdownType"], node["breakdownAmount"]["currencyAmount"]))
    return result


def _v0_item_ids(v0_event):
    return sorted(
        item["OrderAdjustmentItemId"] for item in v0_event.get("ShipmentItemAdjustmentList", [])
    )


def _txn_item_ids(txn):
    return sorted(
        ident["itemRelatedIdentifierValue"]
        for item in txn["items"]
        for ident in item.get("relatedIdentifiers") or []
        if ident["itemRelatedIdentifierName"] == "ORDER_ADJUSTMENT_ITEM_ID"
    )


def test_same_seed_same_dataset_other_seed_other_dataset(dataset):
    again = generate_dataset(seed=42, start=START, end=END)
    other = generate_dataset(seed=7, start=START, end=END)

    def text(ds):
        return dumps([to_transaction(ev) for ev in ds.events]) + dumps(
            [to_v0_group(g, ds.group_total(g), END) for g in ds.groups]
        )

    assert text(again) == text(dataset)
    assert text(other) != text(dataset)


def test_content_covers_every_kind(dataset):
    kinds = {ev.kind for ev in dataset.events}
    assert kinds == {
        "refund",
        "guarantee_claim",
        "chargeback",
        "adjustment",
        "service_fee",
        "retrocharge",
    }
    refunds = [ev for ev in dataset.events if ev.kind == "refund"]
    assert len(refunds) == 6 * 8 + 5  # and 5 with taxes Amazon withheld (MF VAT, LVG)
    assert {ev.marketplace for ev in refunds} == {"US", "CA", "UK", "DE", "FR", "IT", "ES", "JP"}
    assert any(len(ev.items) > 1 for ev in refunds)
    types = {ev.adjustment_type for ev in dataset.events if ev.kind == "adjustment"}
    assert {"FBAInventoryReimbursement", "CustomerReturn", "WAREHOUSE_DAMAGE"} <= types
    assert {"MISSING_FROM_INBOUND", "REVERSAL_REIMBURSEMENT", "ReserveDebit"} <= types
    assert {"ReserveCredit", "COMPENSATED_CLAWBACK", "REMOVAL_ORDER_LOST"} <= types
    assert "ReserveEvent" not in types  # documented, never sent (models#1363)
    fees = {name for ev in dataset.events for name in ev.fees}
    assert {"Subscription", "FBAStorageFee", "FBACustomerReturnPerOrderFee"} <= fees
    # sales only on request
    assert "order" not in kinds
    sales = generate_dataset(seed=42, start=START, end=END, sales_per_marketplace=1)
    assert len([ev for ev in sales.events if ev.kind == "order"]) == 8
    charges = {name for ev in refunds for item in ev.items for name in item.charges}
    assert {"Principal", "Tax", "ShippingCharge", "GiftWrap", "RestockingFee"} <= charges
    assert any(item.promotions for ev in refunds for item in ev.items)


def test_every_event_adds_up_and_both_renderings_agree(dataset):
    for ev in dataset.events:
        assert ev.net == sum(amount for _f, _t, amount, _i in ev.components())
        list_name, v0 = to_v0_event(ev)
        v0 = _loads(v0)
        txn = _loads(to_transaction(ev))
        # v0: the components add up to the net (adjustments: and to AdjustmentAmount)
        if "AdjustmentAmount" in v0:
            assert v0["AdjustmentAmount"]["CurrencyAmount"] == ev.net
        else:
            assert list_name != "AdjustmentEventList" or ev.has("v0_undated")
        if list_name != "AdjustmentEventList" or v0.get("AdjustmentItemList"):
            assert sum(_v0_amounts(v0)) == ev.net, ev
        # 2024-06-19: the transaction-level breakdowns add up to totalAmount; so do the
        # items, but for the quirks real data has (parts billed, breakdowns null)
        total = txn["totalAmount"]["currencyAmount"]
        assert total == ev.net
        assert sum(a for _n, a in _leaves(txn["breakdowns"])) == total
        for item in txn["items"]:
            if item["breakdowns"] is not None:
                assert (
                    sum(a for _n, a in _leaves(item["breakdowns"]))
                    == item["totalAmount"]["currencyAmount"]
                )
        if txn["items"] and not ev.has("items_partial"):
            assert sum(i["totalAmount"]["currencyAmount"] for i in txn["items"]) == total
        # same ids and dates
        assert txn["transactionId"] == ev.transaction_id
        assert _v0_item_ids(v0) == _txn_item_ids(txn)
        related = {
            r["relatedIdentifierName"]: r["relatedIdentifierValue"]
            for r in txn["relatedIdentifiers"]
        }
        assert related["FINANCIAL_EVENT_GROUP_ID"] == ev.group_id
        assert related.get("ORDER_ID") == v0.get("AmazonOrderId")
        if "PostedDate" in v0:
            assert v0["PostedDate"] == txn["postedDate"]
        else:  # Amazon sends none for service fees (#449) and some adjustments (R03)
            assert list_name == "ServiceFeeEventList" or ev.has("v0_undated")
        assert (
            txn["marketplaceDetails"]["marketplaceId"]
            == MARKETPLACES[ev.marketplace].marketplace_id
        )


def test_refund_vocabulary_matches_the_event_shapes_contract(dataset):
    claims = [ev for ev in dataset.events if ev.kind != "refund" and ev.order_id]
    descriptions = {
        to_transaction(ev)["description"]
        for ev in claims
        if to_transaction(ev)["transactionType"] == "Refund"
    }
    assert descriptions == {"A-to-z Guarantee Claim", "Chargeback Refund"}
    lists = {to_v0_event(ev)[0] for ev in dataset.events}
    assert {"RefundEventList", "GuaranteeClaimEventList", "ChargebackEventList"} <= lists
    assert {"AdjustmentEventList", "ServiceFeeEventList", "RetrochargeEventList"} <= lists
    rendered = to_v0_financial_events(dataset.events[:3])
    assert set(V0_LIST_NAMES) <= set(rendered)


def test_taxes_per_marketplace(dataset):
    for ev in dataset.events:
        if ev.kind not in ("refund", "guarantee_claim", "chargeback"):
            continue
        for item in ev.items:
            if item.withheld:  # Amazon collected the tax: it withholds what the buyer gets back
                tax = sum(v for k, v in item.charges.items() if k.endswith("Tax"))
                assert tax < 0
                assert tax + sum(item.withheld.values()) == 0
                stems = {k.rsplit("-", 1)[0] for k in item.withheld}
                assert len(stems) == 1 and stems <= {
                    "MarketplaceFacilitatorTax",
                    "MarketplaceFacilitatorVAT",
                    "LowValueGoodsTax",
                }
                assert ev.marketplace == "US" or stems != {"MarketplaceFacilitatorTax"}
            if ev.marketplace == "US":
                assert item.withheld
                continue
            mode, rate = TAX_RULES[ev.marketplace]
            rate = Decimal(rate)
            gross = -(item.charges["Principal"] + item.charges["Tax"])
            expected = (
                gross * rate / (1 + rate)
                if mode == "included"
                else -item.charges["Principal"] * rate
            )
            exp = Decimal(1) if ev.currency == "JPY" else Decimal("0.01")
            assert -item.charges["Tax"] == expected.quantize(exp), (ev.marketplace, item)


def test_fees_and_jpy_amounts(dataset):
    for ev in dataset.events:
        for item in ev.items:
            if "Commission" not in item.fees:
                continue
            commission = item.fees["Commission"]
            assert commission > 0
            if ev.kind == "chargeback":
                assert "RefundCommission" not in item.fees
                continue
            expected = min(Decimal(5), commission * Decimal("0.2"))
            assert -item.fees["RefundCommission"] == expected.quantize(
                Decimal(1) if ev.currency == "JPY" else Decimal("0.01")
            )
        if ev.currency == "JPY":
            for _f, _t, amount, _i in ev.components():
                assert amount.as_tuple().exponent == 0
            # JSON integers: a plain json.loads gives ints, not floats
            text = dumps(to_transaction(ev)) + dumps(to_v0_event(ev)[1])
            amounts = re.findall(r'"[cC]urrencyAmount":(-?[0-9.]+)', text)
            assert amounts and all(isinstance(json.loads(a), int) for a in amounts)


def test_groups_hold_their_events_and_totals(dataset):
    now = END + timedelta(days=3)
    by_id = {g.group_id: g for g in dataset.groups}
    for ev in dataset.events:
        group = by_id[ev.group_id]
        assert group.currency == ev.currency
        assert group.start <= ev.posted < group.end
    currencies = {}
    for group in dataset.groups:
        currencies[group.currency] = currencies.get(group.currency, 0) + 1
        total = sum((ev.net for ev in dataset.events if ev.group_id == group.group_id), Decimal(0))
        rendered = _loads(to_v0_group(group, dataset.group_total(group), now))
        assert rendered["OriginalTotal"] == {
            "CurrencyCode": group.currency,
            "CurrencyAmount": total,
        }
        closed = group.end <= now
        assert rendered["ProcessingStatus"] == ("Closed" if closed else "Open")
        assert (rendered.get("FundTransferStatus") == "Succeeded") == closed
        assert ("FundTransferDate" in rendered) == closed
    assert set(currencies) == {"USD", "CAD", "GBP", "EUR", "JPY"}
    assert all(n >= 3 for n in currencies.values())
    converted = [
        to_v0_group(g, dataset.group_total(g), now)["ConvertedTotal"]
        for g in dataset.groups
        if g.currency == "EUR"
    ]
    assert [c["CurrencyCode"] for c in converted].count("GBP") == 1
    # The reserve: held in one USD period, released into the next, carried as its balance.
    reserves = [
        ev for ev in dataset.events if ev.adjustment_type in ("ReserveDebit", "ReserveCredit")
    ]
    assert len(reserves) == 2 and sum(ev.net for ev in reserves) == 0
    debit, credit = sorted(reserves, key=lambda ev: ev.net)
    assert (debit.adjustment_type, credit.adjustment_type) == ("ReserveDebit", "ReserveCredit")
    assert by_id[debit.group_id].end <= by_id[credit.group_id].start
    assert by_id[credit.group_id].beginning_balance == credit.net


def test_dumps_writes_decimals_as_exact_numbers():
    text = dumps({"a": Decimal("-20.00"), "b": Decimal(-1500), "c": [Decimal("0.10"), 1, None]})
    assert text == '{"a":-20.00,"b":-1500,"c":[0.10,1,null]}'
    assert json.loads(text, parse_float=Decimal)["c"][0] == Decimal("0.10")


def test_hand_made_worked_example_and_upstream_change():
    ds = Dataset(seller_id="A1TESTSELLER", marketplaces=("US",), start=START, end=END)
    posted = datetime(2026, 9, 1, 12, 34, 56, tzinfo=UTC)
    ev = ds.add_refund(
        "US",
        order_id="111-1234567-1234567",
        posted=posted,
        items=[
            {
                "sku": "WIDGET-BLUE",
                "quantity": 1,
                "order_adjustment_item_id": "50000000000001",
                "charges": {
                    "Principal": Decimal("-20.00"),
                    "Tax": Decimal("-1.60"),
                    "ShippingCharge": Decimal("-2.00"),
                    "ShippingTax": Decimal("-0.15"),
                },
                "withheld": {
                    "MarketplaceFacilitatorTax-Principal": Decimal("1.60"),
                    "MarketplaceFacilitatorTax-Shipping": Decimal("0.15"),
                },
                "fees": {"Commission": Decimal("3.00"), "RefundCommission": "-0.60"},
            }
        ],
    )
    assert ev.net == Decimal("-19.60")
    txn = _loads(to_transaction(ev))
    assert txn["totalAmount"] == {"currencyCode": "USD", "currencyAmount": Decimal("-19.60")}
    assert txn["postedDate"] == "2026-09-01T12:34:56Z"
    assert _txn_item_ids(txn) == ["50000000000001"]
    group = ds.group(ev.group_id)
    assert group.start <= posted < group.end and ds.group_total(group) == Decimal("-19.60")

    before = ev.transaction_id
    ds.change_amount(ev, "charges", "Principal", Decimal("-25.00"))
    assert ev.transaction_id == before
    assert to_transaction(ev)["totalAmount"]["currencyAmount"] == Decimal("-24.60")
    assert ds.group_total(group) == Decimal("-24.60")

    claim = ds.add_refund("US", posted=posted, kind="chargeback")
    assert to_v0_event(claim)[0] == "ChargebackEventList"
    assert claim.items and claim.net < 0  # a realistic item when none is given

    adj = ds.add_adjustment(
        "US",
        "WAREHOUSE_DAMAGE",
        posted=posted,
        items=[{"sku": "MUG-SET-4", "quantity": 2, "per_unit": "7.50"}],
    )
    v0 = _loads(to_v0_event(adj)[1])
    assert v0["AdjustmentItemList"][0]["Quantity"] == "2"
    assert v0["AdjustmentAmount"]["CurrencyAmount"] == Decimal("15.00")
    ds.change_amount(adj, "adjustment", None, "16.00")
    assert adj.net == Decimal("16.00")


def test_raw_events_render_verbatim_in_their_api_only():
    ds = Dataset(seller_id="A1TESTSELLER", marketplaces=("US",), start=START, end=END)
    raw = {"AmazonOrderId": "111-0000000-0000001", "PostedDate": "2026-09-02T00:00:00Z", "Oops": 1}
    event = ds.add_raw_v0("RefundEventList", raw)
    assert isinstance(event, RawEvent) and event.posted == datetime(2026, 9, 2, tzinfo=UTC)
    weird = ds.add_raw_v0(
        "BrandNewEventList", {"PostedDate": "2026-09-03T00:00:00Z"}, currency="USD"
    )
    rendered = to_v0_financial_events([event, weird])
    assert rendered["RefundEventList"] == [raw]
    assert rendered["BrandNewEventList"] == [{"PostedDate": "2026-09-03T00:00:00Z"}]
    txn = ds.add_raw_transaction({"transactionId": "T-RAW", "postedDate": "2026-09-04T00:00:00Z"})
    assert to_transaction(txn) == {"transactionId": "T-RAW", "postedDate": "2026-09-04T00:00:00Z"}
    assert to_v0_financial_events([txn]) == {name: [] for name in V0_LIST_NAMES}


def test_renderings_normalize_to_the_same_events(dataset):
    """Contract with domain/normalize.py: the same money, ids and (dated events) fingerprints
    from both APIs, whatever irregular shape each one has."""
    normalize = pytest.importorskip("domain.normalize")
    v0_page = _loads(to_v0_financial_events(dataset.events))
    v0_events, v0_failures = normalize.normalize_v0_events(v0_page, posted_date_fallback=END)
    txns, txn_failures = normalize.normalize_transactions(
        _loads([to_transaction(ev) for ev in dataset.events])
    )
    assert not v0_failures and not txn_failures
    v0_events = [ev for ev in v0_events if ev.total or ev.lines]  # R02's twin has no money
    assert len(v0_events) == len(txns) == len(dataset.events)
    assert sorted(ev.total for ev in v0_events) == sorted(ev.total for ev in txns)
    canonical = {ev.transaction_id: ev for ev in dataset.events}
    v0_by_fp = {ev.fingerprint: ev for ev in v0_events}
    for txn in txns:
        event = canonical[txn.transaction_id]
        if event.kind == "service_fee" or event.has("v0_undated"):
            continue  # v0 gives them no PostedDate: their fingerprints cannot match
        twin = v0_by_fp[txn.fingerprint]
        assert (twin.total, twin.currency, twin.event_type) == (
            txn.total,
            txn.currency,
            txn.event_type,
        )
        assert twin.order_adjustment_item_ids == txn.order_adjustment_item_ids
