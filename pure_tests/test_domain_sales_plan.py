"""domain.plan_sales: the summary of a settlement's sales, one entry plan per company day, on the
real samples (``<repo>/../shared/realdata``, skipped when absent), this project's fixtures and
generated sales (hypothesis; 10,000 sales for the line bound)."""

import json
import os
import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.model import SALE_EVENT_TYPE, NormalizedEvent, NormalizedLine
from domain.plan_rules import AmountTypeRule
from domain.plan_sales import plan_sales, sale_mapping
from domain.sales import (
    read_sale_transactions,
    read_v0_sales,
    report_posted_dates,
    report_sales,
)
from domain.settlement_report import parse_settlement_report
from domain.tax import TaxRate

D = Decimal
HERE = os.path.dirname(os.path.abspath(__file__))
REALDATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "realdata"))
CA_FILES = (
    "50011020300.txt",
    "50018020314.txt",
    "50034020328.txt",
    "50041020342.txt",
    "50044020356.txt",
    "50051020370.txt",
    "50065020384.txt",
)
DE = "A1PA6795UKMFR9"
DE_TAXES = (TaxRate("DE7", D(7)), TaxRate("DE19", D(19)))
CENT = D("0.01")


def real(name):
    path = os.path.join(REALDATA, name)
    if not os.path.exists(path):
        pytest.skip(f"{path} is absent: the real samples are not on this machine")
    with open(path, "rb") as handle:
        content = handle.read()
    return json.loads(content) if name.endswith(".json") else content


def fixture():
    with open(os.path.join(HERE, "fixtures", "sales", "same_sale.json"), encoding="utf-8") as f:
        return json.load(f)


def shown(plan):
    """The plan's lines as comparable tuples, day by day (amount types left out: the two APIs
    name a promotion differently)."""
    return [
        (
            day.date,
            day.currency,
            day.clearing_amount,
            [
                (ln.kind, ln.account_ref, ln.category_ref, ln.tax_key, ln.label, ln.amount)
                + (ln.tax_base,)
                for ln in day.lines
            ],
        )
        for day in plan.days
    ]


def sale(number, when, lines, marketplace_id=DE, currency="EUR", status=None):
    lines = tuple(NormalizedLine(t, D(a), sku=sku) for t, a, sku in lines)
    return NormalizedEvent(
        key=f"txn:S{number}",
        fingerprint=f"fp{number}",
        source_api="2024-06-19",
        event_type=SALE_EVENT_TYPE,
        amazon_order_id=f"302-{number:07d}",
        marketplace_id=marketplace_id,
        marketplace_name=None,
        posted_date=when,
        currency=currency,
        total=sum((ln.amount for ln in lines), D(0)),
        lines=lines,
        transaction_status=status,
    )


def check_balanced(plan, events):
    assert plan.events_total == sum((e.total for e in events), D(0))
    assert plan.clearing_amount == plan.events_total
    for day in plan.days:
        assert day.balance == 0, day
    per_tax = defaultdict(D)
    for day in plan.days:
        for ln in day.lines:
            if ln.kind == "income" and ln.tax_key is not None:
                per_tax[(day.date, ln.tax_key)] += ln.amount
        for ln in day.lines:
            if ln.kind == "tax" and ln.tax_key is not None:
                assert ln.tax_base == per_tax[(day.date, ln.tax_key)]


# ---------------------------------------------------------------------------------------------
# Real samples
# ---------------------------------------------------------------------------------------------


def test_r10_real_shipment_summarised_to_the_cent():
    events, _ = read_sale_transactions(real("R10_SE_2024_shipment_airbyte.json")["data"])
    taxes = (TaxRate("SE12", D(12)), TaxRate("SE25", D(25)))
    plan = plan_sales(events, sale_mapping(), "Europe/Stockholm", taxes=taxes)
    assert plan.ok, plan.review_reasons
    check_balanced(plan, events)
    (day,) = plan.days
    assert (day.date, day.currency, day.clearing_amount) == (date(2024, 1, 18), "SEK", D("294.46"))
    assert [(ln.kind, ln.account_ref, ln.label, ln.amount, ln.tax_key) for ln in day.lines] == [
        ("income", "sales", "Sales", D("-320.00"), "SE25"),
        ("income", "shipping", "Shipping", D("-39.20"), "SE25"),
        ("tax", None, "Tax 25%", D("-89.80"), "SE25"),
        ("account", "fees", "Commission", D("60.00"), None),
        ("account", "fees", "FBAPerUnitFulfillmentFee", D("36.43"), None),
        ("account", "fees", "ShippingChargeback", D("39.20"), None),
        ("input_tax", "fees", "Tax on FBAPerUnitFulfillmentFee", D("9.11"), None),
        ("input_tax", "fees", "Tax on ShippingChargeback", D("9.80"), None),
    ]
    tax = day.lines[2]
    assert (tax.tax_base, tax.tax_rate) == (D("-359.20"), D(25))
    assert day.lines[0].quantity == D(1)
    # Without a sale tax that gives Amazon's VAT, the plan waits, naming it.
    plan = plan_sales(events, sale_mapping(), "Europe/Stockholm", taxes=(TaxRate("X", D(20)),))
    assert not plan.ok
    assert "no sale tax gives Amazon's tax 80.00 on 320.00 (Charge/Tax)" in plan.review_reasons[0]
    check_balanced(plan, events)


def test_amazon_model_shipment_event_summarised_names_what_waits():
    data = real("A01_model_sandbox_v0_byGroupId_chargeback.json")
    raw = data["response"]["payload"]["FinancialEvents"]["ChargebackEventList"][0]
    event = {k: v for k, v in raw.items() if "Adjustment" not in k and k != "DirectPaymentList"}
    item = raw["ShipmentItemList"][0]
    event["ShipmentItemList"] = [
        {k: v for k, v in item.items() if "Adjustment" not in k and "CostOfPoints" not in k}
    ]
    events, _ = read_v0_sales({"ShipmentEventList": [event]})
    plan = plan_sales(events, sale_mapping(), "UTC")
    check_balanced(plan, events)
    assert plan.clearing_amount == D("177.59") and not plan.ok
    assert plan.unmapped == {"TaxWithheld/Tax": (1, D("25.37"))}
    (reasons,) = plan.event_reasons.values()
    assert reasons[0] == "unmapped amount type(s): TaxWithheld/Tax (25.37)"
    assert (
        "seller tax Charge/Tax (25.37) of item 456454455464 has no Charge/Principal" in reasons[1]
    )
    assert any("seller tax Charge/Tax (25.37) of the order-level amounts" in why for why in reasons)
    (day,) = plan.days
    lines = {(ln.kind, ln.label): ln.amount for ln in day.lines}
    assert lines[("account", "FixedClosingFee")] == D("-76.11")
    assert lines[("income", "Promotion")] == D("-25.37")
    assert lines[("review", "Charge/Tax")] == D("-50.74")
    assert lines[("review", "TaxWithheld/Tax")] == D("-25.37")


@pytest.mark.parametrize("name", CA_FILES)
def test_ca_settlement_order_rows_summarised_per_day(name):
    content = real(f"ca_settlements_v1/{name}")
    report = parse_settlement_report(content)
    dates = report_posted_dates(content)
    events, failures = report_sales(report, dates, marketplace_id="A2EUQ1WTGCTBG2")
    assert failures == []
    toronto = ZoneInfo("America/Toronto")
    expected = defaultdict(D)
    for row in report.rows:
        if row.transaction_type == "Order":
            expected[dates[row.line].astimezone(toronto).date()] += row.amount
    plan = plan_sales(events, sale_mapping(), "America/Toronto")
    assert plan.ok, plan.review_reasons
    check_balanced(plan, events)
    assert {day.date: day.clearing_amount for day in plan.days} == dict(expected)
    assert plan.clearing_amount == sum(expected.values(), D(0))
    assert all(len(day.lines) <= 8 for day in plan.days)


# ---------------------------------------------------------------------------------------------
# One sale, two APIs
# ---------------------------------------------------------------------------------------------


def test_us_sale_via_v0_and_2024_gives_the_same_plan():
    data = fixture()["us"]
    v0, _ = read_v0_sales(data["v0"])
    v2024, _ = read_sale_transactions(data["2024"])
    plans = [plan_sales(ev, sale_mapping(), "America/Los_Angeles") for ev in (v0, v2024)]
    assert all(plan.ok for plan in plans)
    assert shown(plans[0]) == shown(plans[1])
    # Marketplace facilitator tax netted out: no tax line; Amazon's net is the clearing's.
    assert [ln.kind for ln in plans[0].days[0].lines] == ["income"] * 3 + ["account"] * 2
    assert plans[0].days[0].clearing_amount == D("19.40")


def test_de_sale_via_v0_and_2024_same_plan_but_the_fee_vat():
    data = fixture()["de"]
    v0, _ = read_v0_sales(data["v0"], lambda name, currency: DE)
    v2024, _ = read_sale_transactions(data["2024"])
    plans = [plan_sales(ev, sale_mapping(), "Europe/Berlin", taxes=DE_TAXES) for ev in (v0, v2024)]
    assert all(plan.ok for plan in plans), [plan.review_reasons for plan in plans]
    for plan in plans:
        (day,) = plan.days
        # 23:10 UTC on October 31st is November 1st in Berlin: the month-end cut is the company's
        assert day.date == date(2026, 11, 1) and day.clearing_amount == D("21.91")
    sales = [[ln for ln in shown(plan)[0][3] if ln[0] in ("income", "tax")] for plan in plans]
    assert sales[0] == sales[1]
    # v0's promotion comes whole: its 19 % VAT split out as 2024 writes it
    assert ("income", "promotion", None, "DE19", "Promotion", D("4.20"), D("0.00")) in sales[0]
    assert ("tax", None, None, "DE19", "Tax 19%", D("-4.79"), D("-25.21")) in sales[0]
    # v0 has each fee whole; 2024 writes the VAT on it apart (input tax): same money
    fees = [{ln.label: ln.amount for ln in p.days[0].lines if ln.kind != "income"} for p in plans]
    assert fees[0]["FBAPerUnitFulfillmentFee"] == D("3.57")
    assert fees[1]["FBAPerUnitFulfillmentFee"] + fees[1]["Tax on FBAPerUnitFulfillmentFee"] == (
        D("3.57")
    )


# ---------------------------------------------------------------------------------------------
# Policy details
# ---------------------------------------------------------------------------------------------

WHEN = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def test_principal_by_product_category():
    events = [
        sale(1, WHEN, [("Charge/Principal", "10.00", "A"), ("Charge/Tax", "1.90", "A")]),
        sale(2, WHEN, [("Charge/Principal", "20.00", "B"), ("Charge/Tax", "1.40", "B")]),
        sale(3, WHEN, [("Charge/Principal", "5.00", "C")], marketplace_id=None),
    ]
    plan = plan_sales(
        events, sale_mapping(), "UTC", taxes=DE_TAXES, sku_categories={"A": "toys", "B": "books"}
    )
    assert plan.ok
    check_balanced(plan, events)
    income = {(ln.category_ref, ln.tax_key): ln.amount for ln in plan.days[0].lines[:3]}
    assert income == {
        ("toys", "DE19"): D("-10.00"),
        ("books", "DE7"): D("-20.00"),
        (None, None): D("-5.00"),
    }


def test_what_cannot_be_placed_waits_and_still_balances():
    events = [
        # withheld tax that does not offset the tax charged
        sale(
            1,
            WHEN,
            [("Charge/Principal", "10", "A"), ("Charge/Tax", "1.90", "A")]
            + [("TaxWithheld/MarketplaceFacilitatorVAT-Principal", "-1.80", "A")],
        ),
        # an amount type no rule maps, and cents finer than the currency's
        sale(2, WHEN, [("Charge/Principal", "10.005", "B"), ("Fee/BrandNewFee", "-1", "B")]),
        # a sale Amazon has not released yet
        sale(3, WHEN, [("Charge/Principal", "4", "C")], status="DEFERRED"),
    ]
    plan = plan_sales(events, sale_mapping(), "UTC", taxes=DE_TAXES)
    check_balanced(plan, events)
    assert not plan.ok and plan.unmapped == {"Fee/BrandNewFee": (1, D(-1))}
    reasons = plan.event_reasons
    assert reasons["txn:S1"] == (
        "withheld tax does not offset the tax charges of item A: tax 1.90, withheld -1.80, "
        "difference 0.10",
    )
    assert (
        "amounts with more decimals than EUR allows: Charge/Principal (10.005)" in reasons["txn:S2"]
    )
    assert reasons["txn:S3"] == ("deferred by Amazon: it is booked when Amazon releases it",)
    review = {ln.label: ln.amount for ln in plan.days[0].lines if ln.kind == "review"}
    assert review == {
        "Charge/Tax": D("-1.90"),
        "TaxWithheld/MarketplaceFacilitatorVAT-Principal": D("1.80"),
        "Fee/BrandNewFee": D("1.00"),
    }
    sales_line = next(ln for ln in plan.days[0].lines if ln.label == "Sales")
    assert sales_line.amount == D("-24.005")  # never rounded here
    assert (
        plan.review_reasons[0]
        == "Unmapped amount type(s) in the sales: Fee/BrandNewFee (1 sale(s), -1.00)"
    )
    assert plan.review_reasons[1].startswith("3 sale(s) wait for review: 302-0000001: ")


def test_vat_that_cannot_be_reproduced_waits():
    ignore = [AmountTypeRule("Charge/Mystery", "ignore")]
    events = [
        # shipping without VAT beside a taxed principal, in a VAT marketplace
        sale(
            1,
            WHEN,
            [("Charge/Principal", "10", "A"), ("Charge/Tax", "1.90", "A")]
            + [("Charge/ShippingCharge", "3", "A")],
        ),
        # a whole promotion over charges taxed at two rates: no one VAT to take out of it
        sale(
            2,
            WHEN,
            [("Charge/Principal", "10", "B"), ("Charge/Tax", "1.90", "B")]
            + [("Charge/GiftWrap", "2", "B"), ("Charge/GiftWrapTax", "0.14", "B")]
            + [("Promotion/PromotionMetaDataDefinitionValue", "-1", "B")],
        ),
        # an ignored type that hides money
        sale(3, WHEN, [("Charge/Principal", "5", "C"), ("Charge/Mystery", "0.50", "C")]),
    ]
    plan = plan_sales(events, sale_mapping(ignore), "UTC", taxes=DE_TAXES)
    check_balanced(plan, events)
    reasons = plan.event_reasons
    assert reasons["txn:S1"] == (
        "Charge/ShippingCharge (3.00) of item A carries no VAT while its principal does: "
        "Amazon's VAT cannot be reproduced",
    )
    assert reasons["txn:S2"] == (
        "Promotion/PromotionMetaDataDefinitionValue (-1.00) of item B includes VAT, but its "
        "item's taxes give no one sale tax: Amazon's VAT cannot be reproduced",
    )
    assert reasons["txn:S3"] == ("ignored amount types do not net to zero: Charge/Mystery (0.50)",)
    review = [(ln.label, ln.amount) for ln in plan.days[0].lines if ln.kind == "review"]
    assert review == [("Charge/Mystery", D("-0.50"))]


def test_a_non_sale_event_is_not_summarised():
    refund = sale(1, WHEN, [("Charge/Principal", "-10", "A")])
    refund = NormalizedEvent(**{**refund.__dict__, "event_type": "refund"})
    plan = plan_sales([refund], sale_mapping(), "UTC")
    check_balanced(plan, [refund])
    assert plan.event_reasons == {"txn:S1": ("not a sale (refund): its lines wait",)}
    assert [(ln.kind, ln.amount) for ln in plan.days[0].lines] == [("review", D(10))]


def test_fee_tax_follows_its_fee_account_or_waits():
    overrides = [AmountTypeRule("Fee/Commission", "fee", "selling_fees")]
    lines = [("Charge/Principal", "10", "A"), ("Fee/Commission", "-1.50", "A")]
    lines += [("FeeTax/Commission", "-0.29", "A"), ("FeeTax/Mystery", "-0.10", "A")]
    events = [sale(1, WHEN, lines, marketplace_id=None)]
    plan = plan_sales(events, sale_mapping(overrides), "UTC")
    check_balanced(plan, events)
    by_label = {ln.label: (ln.kind, ln.account_ref, ln.amount) for ln in plan.days[0].lines}
    assert by_label["Tax on Commission"] == ("input_tax", "selling_fees", D("0.29"))
    assert by_label["FeeTax/Mystery"] == ("review", None, D("0.10"))
    assert plan.event_reasons["txn:S1"] == (
        "FeeTax/Mystery is the tax on Fee/Mystery, which has no fee account",
    )


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

SKUS = ("A", "B", "C", "D")


@st.composite
def sale_events(draw):
    events = []
    for number in range(draw(st.integers(1, 25))):
        when = draw(
            st.datetimes(
                datetime(2026, 1, 1), datetime(2026, 2, 1), timezones=st.just(timezone.utc)
            )
        )
        sku = draw(st.sampled_from(SKUS))
        rate = draw(st.sampled_from((D(0), D(7), D(19))))

        def cents(low, high):
            return D(draw(st.integers(low, high))) / 100

        principal = cents(1, 100000)
        tax = (principal * rate / 100).quantize(CENT, ROUND_HALF_UP)
        lines = [("Charge/Principal", principal, sku), ("Charge/Tax", tax, sku)]
        if draw(st.booleans()):
            lines.append(("Charge/ShippingCharge", cents(0, 2000), sku))
        if draw(st.booleans()):  # marketplace facilitator: withheld, sometimes a cent off
            off = draw(st.sampled_from((D(0), D(0), CENT)))
            lines.append(("TaxWithheld/MarketplaceFacilitatorVAT-Principal", -tax + off, sku))
        if draw(st.booleans()):
            lines.append(("Promotion/PromotionMetaDataDefinitionValue", -cents(0, 500), sku))
        lines.append(("Fee/Commission", -cents(0, 5000), sku))
        if draw(st.booleans()):
            lines.append(("FeeTax/Commission", -cents(0, 900), sku))
        if draw(st.integers(0, 9)) == 0:
            lines.append(("Fee/BrandNewFee", -cents(1, 900), sku))
        market = draw(st.sampled_from((DE, None)))
        events.append(sale(number, when, [(t, str(a), s) for t, a, s in lines], market))
    return events


def totals(plan):
    """Every line's sums over all days, per line identity."""
    found = defaultdict(lambda: [D(0), D(0)])
    for day in plan.days:
        for ln in day.lines:
            key = (ln.kind, ln.account_ref, ln.category_ref, ln.tax_key, ln.label)
            found[key][0] += ln.amount
            found[key][1] += ln.tax_base
    return {key: tuple(value) for key, value in found.items() if any(value)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sale_events())
def test_day_plans_always_sum_to_the_events_total(events):
    plan = plan_sales(events, sale_mapping(), "Europe/Berlin", taxes=DE_TAXES)
    check_balanced(plan, events)
    assert sum(len(day.event_keys) for day in plan.days) == len(events)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sale_events(), st.integers(0, 25))
def test_splitting_the_same_sales_into_days_changes_no_total(events, cut):
    whole = plan_sales(events, sale_mapping(), "UTC", taxes=DE_TAXES)
    for tz in ("Pacific/Kiritimati", "America/Los_Angeles"):
        other = plan_sales(events, sale_mapping(), tz, taxes=DE_TAXES)
        assert other.clearing_amount == whole.clearing_amount
        assert totals(other) == totals(whole)
    parts = [
        plan_sales(part, sale_mapping(), "UTC", taxes=DE_TAXES)
        for part in (events[:cut], events[cut:])
    ]
    assert sum(p.clearing_amount for p in parts) == whole.clearing_amount
    merged = defaultdict(lambda: (D(0), D(0)))
    for part in parts:
        for key, (amount, base) in totals(part).items():
            merged[key] = (merged[key][0] + amount, merged[key][1] + base)
    assert {k: v for k, v in merged.items() if any(v)} == totals(whole)


def test_ten_thousand_sales_give_a_bounded_plan():
    rng = random.Random(10)
    skus = [f"SKU-{n:03d}" for n in range(300)]
    categories = {sku: f"cat{n % 4}" for n, sku in enumerate(skus)}
    start = datetime(2026, 5, 1, tzinfo=timezone.utc)
    events = []
    for number in range(10000):
        sku = rng.choice(skus)
        rate = D(19) if int(sku[-3:]) % 3 else D(7)
        principal = D(rng.randint(100, 20000)) / 100
        shipping = D(rng.choice((0, 0, 299, 499))) / 100
        lines = [("Charge/Principal", principal, sku)]
        lines.append(("Charge/Tax", (principal * rate / 100).quantize(CENT, ROUND_HALF_UP), sku))
        if shipping:
            lines.append(("Charge/ShippingCharge", shipping, sku))
            lines.append(
                ("Charge/ShippingTax", (shipping * rate / 100).quantize(CENT, ROUND_HALF_UP), sku)
            )
            if rng.random() < 0.3:
                lines.append(("Promotion/PromotionMetaDataDefinitionValue", -shipping, sku))
        fee = (principal * D("0.15")).quantize(CENT, ROUND_HALF_UP)
        lines += [("Fee/Commission", -fee, sku), ("Fee/FBAPerUnitFulfillmentFee", D("-3.07"), sku)]
        lines.append(("FeeTax/FBAPerUnitFulfillmentFee", D("-0.58"), sku))
        when = start + timedelta(seconds=rng.randint(0, 14 * 86400 - 1))
        events.append(sale(number, when, [(t, str(a), s) for t, a, s in lines]))
    plan = plan_sales(
        events, sale_mapping(), "Europe/Berlin", taxes=DE_TAXES, sku_categories=categories
    )
    assert plan.ok, plan.review_reasons[:2]
    check_balanced(plan, events)
    assert len(plan.days) == 15  # 14 UTC days reach into a 15th Berlin day
    # Sales by 4 categories x 2 taxes, shipping and promotions by 2 taxes, 2 tax lines, 2 fees,
    # 1 input tax: at most 17 lines a day, whatever the number of sales.
    assert max(len(day.lines) for day in plan.days) <= 17
    assert plan.line_count <= 17 * len(plan.days)
    assert sum(len(day.event_keys) for day in plan.days) == 10000
