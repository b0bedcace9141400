"""Every real sample of ``<repo>/../shared/realdata`` through the pure layer (issue 9, "Done
when"): it normalizes and plans with the default rules so that its documents move the clearing
account by exactly Amazon's total, or it waits for review naming what a default setup cannot
know; never a traceback, never a silently different tax.

The samples are read where they are, never copied into the repository; without them the tests
are skipped, saying so.
"""

import glob
import json
import os
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from domain.normalize import (
    SALES_TRANSACTION_TYPES,
    V0_SALES_LISTS,
    normalize_transactions,
    normalize_v0_events,
    transaction_lines,
)
from domain.plan import default_mapping, plan_event
from domain.plan_sales import plan_sales, sale_mapping
from domain.plan_vat import infer_rate
from domain.settle import parse_group
from domain.tax import TaxRate
from domain.vocabulary import VAT_MARKETPLACE_IDS
from spapi.const import marketplace_by_name

REALDATA = os.path.normpath(
    os.path.join(os.path.dirname(__file__), "..", "..", "shared", "realdata")
)
FILES = sorted(glob.glob(os.path.join(REALDATA, "*.json")))
MISSING = f"the real samples are not here ({REALDATA})"
D = Decimal
FALLBACK = datetime(2026, 1, 1, tzinfo=timezone.utc)  # the end of the window v0 was read for
DECIMALS = {"JPY": 0}
MAPPING = default_mapping()
# Sales (summary policy): the usual VAT rates a seller's Odoo has.
SALE_TAXES = tuple(TaxRate(f"VAT{rate}", D(rate)) for rate in (25, 20, 19, 12, 7, 6))

# What a default setup cannot know, per sample (the start of its name) and event source: the
# review reason must name it. Every other event posts.
WAITS = {
    # Amazon's sandbox examples: placeholder types (withheld "Tax", "Free" promotions)
    "A01": {
        "ChargebackEventList": "Unmapped amount type(s): TaxWithheld/Tax (25.37)",
        "NetworkComminglingTransactionEventList": "NetworkComminglingTransaction/TaxAmount",
    },
    "A02": {
        "RetrochargeEventList": "Unmapped amount type(s): TaxWithheld/Tax (25.37)",
        "RentalTransactionEventList": "RentalTransaction/RentalReimbursement",
    },
    # The sandbox's Shipment has no breakdowns: its total waits under its type
    "A05": {"Shipment": "unmapped amount type(s): Other/Shipment (10.00)"},
    "A03": {
        "PayWithAmazonEventList": "Unmapped amount type(s): PayWithAmazon/Tax (25.37)",
        "ServiceProviderCreditEventList": "ServiceProviderCredit/TransactionAmount",
        "RentalTransactionEventList": "RentalTransaction/RentalReimbursement",
    },
}
# Events refused whole, with the reason: the sandbox's placeholder amounts contradict their
# own total field.
FAILS = {
    "A01": ["AffordabilityExpenseReversalEventList event add up to 101.48, TotalExpense is 25.37"],
    "A02": ["ProductAdsPaymentEventList event add up to 50.74, transactionValue is 25.37"],
    "A03": ["ProductAdsPaymentEventList event add up to 50.74, transactionValue is 25.37"],
}


def sample(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f, parse_float=Decimal)


def payload(data):
    body = data["data"] if "data" in data else data["response"]
    if isinstance(body, dict) and "payload" in body:
        body = body["payload"]
    return body


def resolver(name, _currency):
    marketplace = marketplace_by_name(name)
    return marketplace["marketplace_id"] if marketplace else None


def read(path):
    """(events, failures) of a sample of events; None for a sample of groups."""
    data = sample(path)
    body = payload(data)
    if data["kind"] == "v0":
        return normalize_v0_events(body, resolver, posted_date_fallback=FALLBACK)
    if data["kind"] == "v2024":
        return normalize_transactions(body["transactions"] if isinstance(body, dict) else body)
    return None


def files():
    if not FILES:
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING))]
    return [pytest.param(path, id=os.path.basename(path)[:3]) for path in FILES]


def plan(event):
    return plan_event(event, MAPPING, DECIMALS.get(event.currency, 2))


@pytest.mark.parametrize("path", files())
def test_real_sample_posts_or_waits_naming_why(path):
    name = os.path.basename(path)[:3]
    read_back = read(path)
    if read_back is None:  # financial event groups
        data = payload(sample(path))
        groups = data["FinancialEventGroupList"] if isinstance(data, dict) else data
        for raw in groups:
            group = parse_group(raw)
            assert group.group_id == raw["FinancialEventGroupId"]
        return
    events, failures = read_back
    expected_failures = FAILS.get(name, [])
    assert len(failures) == len(expected_failures)
    for failure, expected in zip(failures, expected_failures, strict=True):
        assert expected in failure.message
    waits = WAITS.get(name, {})
    for event in events:
        if event.event_type == "sale":
            _assert_sale_summary(event, waits.get(event.source))
            continue
        result = plan(event)
        if event.source in waits:
            assert not result.ok, event.source
            assert any(waits[event.source] in reason for reason in result.review_reasons), (
                result.review_reasons
            )
            continue
        assert result.review_reasons == [], (event.source, result.review_reasons)
        assert result.clearing_amount == event.total, event.source
        _assert_taxes_reproducible(event, result)


def _assert_sale_summary(event, wait):
    """A sale in the summary of its day: the entry moves the clearing account by its total, and
    it posts or waits naming why."""
    summary = plan_sales(
        [event],
        sale_mapping(),
        "UTC",
        taxes=SALE_TAXES,
        currency_decimals=DECIMALS.get(event.currency, 2),
    )
    assert sum(day.clearing_amount for day in summary.days) == event.total
    assert all(day.balance == 0 for day in summary.days)
    if wait:
        assert not summary.ok and any(wait in reason for reason in summary.review_reasons), (
            summary.review_reasons
        )
    else:
        assert summary.review_reasons == [], (event.source, summary.review_reasons)


def _assert_taxes_reproducible(event, result):
    """Never a silently different tax: each taxed credit-note line has one rate giving its tax
    to the cent (R01's total VAT is checked against Amazon's below)."""
    quantum = D(1).scaleb(-DECIMALS.get(event.currency, 2))
    for document in result.documents:
        for line in document.lines:
            if line.tax_amount:
                assert infer_rate([(line.amount, line.tax_amount)], quantum) is not None, line


@pytest.mark.parametrize("path", files())
def test_real_sample_sales_are_skipped_by_name_only(path):
    data = sample(path)
    body = payload(data)
    if data["kind"] == "v2024":
        transactions = body["transactions"] if isinstance(body, dict) else body
        events, failures = read(path)
        read_ids = {e.transaction_id for e in events} | {
            f.raw.get("transactionId") for f in failures
        }
        for raw in transactions:
            if raw.get("transactionId") not in read_ids or not raw.get("transactionId"):
                assert raw["transactionType"] in SALES_TRANSACTION_TYPES
                # Skipped, yet readable: its leaves add up to its total.
                lines = transaction_lines(raw)
                total = D(str(raw["totalAmount"]["currencyAmount"]))
                assert sum((ln.amount for ln in lines), D(0)) == total
    elif data["kind"] == "v0":
        events, failures = read(path)
        seen = {e.source for e in events} | {f.source for f in failures}
        for list_name, raw_list in body.get("FinancialEvents", body).items():
            if raw_list and list_name not in seen:
                assert list_name in V0_SALES_LISTS or list_name == "ServiceFeeEventList", list_name


def by_name(prefix):
    found = [path for path in FILES if os.path.basename(path).startswith(prefix)]
    if not found:
        pytest.skip(MISSING)
    return found[0]


def test_r01_de_refund_declares_amazons_vat():
    """The free shipping promotion includes VAT: the credit note declares 2.29, not 2.42."""
    (event,), failures = read(by_name("R01"))
    assert failures == [] and event.marketplace_id in VAT_MARKETPLACE_IDS
    result = plan(event)
    assert result.ok and result.clearing_amount == D("-12.63")
    (credit_note,) = [d for d in result.documents if d.kind == "credit_note"]
    assert sum((ln.tax_amount for ln in credit_note.lines), D(0)) == D("2.29")
    (promotion,) = [ln for ln in credit_note.lines if ln.label == "Promotion"]
    assert (promotion.amount, promotion.tax_amount, promotion.tax_rate) == (
        D("-0.71"),
        D("-0.13"),
        D(19),
    )


def test_r10_se_sale_tree_reads_leaf_by_leaf():
    (raw,) = payload(sample(by_name("R10")))
    assert [(ln.amount_type, ln.amount) for ln in transaction_lines(raw)] == [
        ("Charge/Tax", D(80)),
        ("Charge/ShippingTax", D("9.8")),
        ("Charge/Principal", D(320)),
        ("Charge/ShippingCharge", D("39.2")),
        ("Fee/FBAPerUnitFulfillmentFee", D("-36.43")),
        ("FeeTax/FBAPerUnitFulfillmentFee", D("-9.11")),
        ("Fee/Commission", D(-60)),
        ("Fee/ShippingChargeback", D("-39.2")),
        ("FeeTax/ShippingChargeback", D("-9.8")),
    ]


def test_r11_to_r13_real_2024_shapes():
    (storage,), _ = read(by_name("R11"))
    assert [(ln.amount_type, ln.amount) for ln in storage.lines] == [
        ("Fee/FBAStorageFee", D(-12609))
    ]
    (reimbursement,), _ = read(by_name("R12"))
    (line,) = reimbursement.lines
    assert (line.amount_type, line.amount, line.sku, line.quantity) == (
        "Adjustment/FBAInventoryReimbursement",
        D("6.22"),
        "HMDPS10088",
        D(1),
    )
    (retrocharge,), _ = read(by_name("R13"))
    result = plan(retrocharge)
    assert result.ok and result.documents == []
