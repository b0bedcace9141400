"""domain.plan: normalized event + mapping → documents; every cent or a review reason."""

import json
import os
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.model import NormalizedEvent, NormalizedLine
from domain.normalize import normalize_transactions, normalize_v0_events
from domain.plan import (
    ACCOUNT_REFS,
    AmountTypeRule,
    Mapping,
    PlanLine,
    default_mapping,
    default_rules,
    plan_event,
    summarize_unmapped,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
D = Decimal
POSTED = datetime(2026, 10, 1, tzinfo=timezone.utc)


def load(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return json.load(f)


def v0_events(name):
    events, failures = normalize_v0_events(load(name)["v0"], posted_date_fallback=POSTED)
    assert failures == []
    return events


def v0_event(name):
    (event,) = [ev for ev in v0_events(name) if ev.event_type != "sale"]
    return event


def make_event(lines, event_type="refund", currency="USD", total=None):
    lines = tuple(NormalizedLine(t, D(a), *rest) for t, a, *rest in lines)
    if total is None:
        total = sum((ln.amount for ln in lines), D(0))
    return NormalizedEvent(
        key="test",
        fingerprint="test",
        source_api="v0",
        event_type=event_type,
        amazon_order_id="111-0000000-0000000",
        marketplace_id=None,
        marketplace_name=None,
        posted_date=POSTED,
        currency=currency,
        total=D(total),
        lines=lines,
    )


def doc(result, kind):
    (found,) = [d for d in result.documents if d.kind == kind]
    return found


MAPPING = default_mapping()


# ---------------------------------------------------------------------------------------------
# Order events: credit note + fee entry
# ---------------------------------------------------------------------------------------------


def test_worked_example_us_marketplace_facilitator_refund():
    """accounting.md: credit note 22.00 → clearing -22.00; fee entry +2.40; net -19.60."""
    result = plan_event(v0_event("us_mf_refund.json"), MAPPING)
    assert result.review_reasons == []
    assert result.ok
    assert result.unmapped == {}
    assert [d.kind for d in result.documents] == ["credit_note", "fee_entry"]
    credit_note = doc(result, "credit_note")
    assert credit_note.currency == "USD"
    assert credit_note.lines == [
        PlanLine(
            kind="product",
            amount=D("20.00"),
            account_ref="refund_income",
            sku="WIDGET-BLUE",
            quantity=D(1),
            label="Refund WIDGET-BLUE",
            amount_types=("Charge/Principal",),
            tax_amount=D("0.00"),
        ),
        PlanLine(
            kind="account",
            amount=D("2.00"),
            account_ref="shipping",
            label="Shipping",
            amount_types=("Charge/ShippingCharge",),
            tax_amount=D("0.00"),
        ),
    ]
    assert credit_note.total == D("22.00")
    assert credit_note.clearing_amount == D("-22.00")
    fee_entry = doc(result, "fee_entry")
    assert [(ln.label, ln.account_ref, ln.amount) for ln in fee_entry.lines] == [
        ("Commission", "fees", D("-3.00")),  # clearing Dr 3.00 / fees Cr 3.00
        ("RefundCommission", "fees", D("0.60")),  # fees Dr 0.60 / clearing Cr 0.60
    ]
    assert fee_entry.clearing_amount == D("2.40")
    assert result.clearing_amount == D("-19.60")


def test_worked_example_same_plan_from_2024_06_19():
    old = plan_event(v0_event("us_mf_refund.json"), MAPPING)
    (_sale, new_event), _ = normalize_transactions(load("us_mf_refund.json")["transactions"])
    new = plan_event(new_event, MAPPING)
    assert new.documents == old.documents
    assert new.review_reasons == []


def test_uk_vat_seller_taxes_ride_on_their_lines():
    result = plan_event(v0_event("uk_vat_refund.json"), MAPPING)
    assert result.review_reasons == []
    credit_note = doc(result, "credit_note")
    got = {ln.label: (ln.amount, ln.tax_amount, ln.quantity) for ln in credit_note.lines}
    assert got == {
        "Refund MUG-RED": (D("16.67"), D("3.33"), D(1)),
        "Shipping": (D("2.50"), D("0.50"), None),
        "Refund MUG-GREEN": (D("25.00"), D("5.00"), D(2)),
        "Gift wrap": (D("3.00"), D("0.60"), None),
        "Promotion": (D("-2.50"), D("0.00"), None),  # the promotion reversal reduces the credit
    }
    red = credit_note.lines[0]
    assert red.amount_types == ("Charge/Principal", "Charge/Tax")
    assert credit_note.clearing_amount == D("-54.10")
    assert doc(result, "fee_entry").clearing_amount == D("4.75")
    assert result.clearing_amount == D("-49.35")


def test_jp_yen_plan_and_restocking_fee_kept():
    result = plan_event(v0_event("jp_refund.json"), MAPPING, currency_decimals=0)
    assert result.review_reasons == []
    credit_note = doc(result, "credit_note")
    restocking = [ln for ln in credit_note.lines if ln.account_ref == "restocking"]
    assert [(ln.amount, ln.label) for ln in restocking] == [(D(-600), "Restocking fee")]
    assert str(credit_note.clearing_amount) == "-3250"
    assert result.clearing_amount == D(-3010)


def test_amounts_finer_than_the_currency_go_to_review_never_rounded():
    event = make_event(
        [("Charge/Principal", "-1500.5", "TEA-SET"), ("Fee/Commission", "150")], currency="JPY"
    )
    result = plan_event(event, MAPPING, currency_decimals=0)
    assert result.review_reasons == [
        "Amounts with more decimals than JPY allows (0): Charge/Principal (-1500.5)"
    ]
    assert doc(result, "credit_note").lines[0].amount == D("1500.5")
    # A 2-decimal currency planned as if it had none: also review.
    usd = plan_event(v0_event("us_mf_refund.json"), MAPPING, currency_decimals=0)
    assert usd.review_reasons[0].startswith("Amounts with more decimals than USD allows (0)")


def test_claim_and_chargeback_are_credited_like_refunds():
    claim = plan_event(v0_event("atoz_claim.json"), MAPPING)
    assert claim.ok and claim.clearing_amount == D("-45.59")
    assert [d.kind for d in claim.documents] == ["credit_note", "fee_entry"]
    chargeback = plan_event(v0_event("chargeback.json"), MAPPING)
    assert chargeback.ok and chargeback.clearing_amount == D("-89.18")
    lines = doc(chargeback, "credit_note").lines
    assert [(ln.label, ln.sku, ln.amount) for ln in lines] == [
        ("Refund CHAIR-01", "CHAIR-01", D("89.99")),
        ("Shipping", None, D("9.99")),  # order-level charge
    ]


def test_principal_of_the_same_sku_in_two_items_is_one_line():
    event = make_event(
        [
            ("Charge/Principal", "-10", "SKU-1", D(1), "A1"),
            ("Charge/Tax", "-2", "SKU-1", D(1), "A1"),
            ("Charge/Principal", "-10", "SKU-1", D(2), "A2"),
            ("Charge/Tax", "-2", "SKU-1", D(2), "A2"),
        ]
    )
    result = plan_event(event, MAPPING)
    (line,) = doc(result, "credit_note").lines
    assert (line.amount, line.tax_amount, line.quantity) == (D("20.00"), D("4.00"), D(3))
    assert result.ok


def test_product_ref_override_and_default_label():
    mapping = MAPPING.merged(
        [AmountTypeRule("Charge/Principal", "principal", product_ref=42, label="Returned goods")]
    )
    result = plan_event(v0_event("us_mf_refund.json"), mapping)
    line = doc(result, "credit_note").lines[0]
    assert (line.kind, line.product_ref, line.account_ref, line.label) == (
        "product",
        42,
        None,
        "Returned goods",
    )
    no_sku = plan_event(make_event([("Charge/Principal", "-5")]), MAPPING)
    assert doc(no_sku, "credit_note").lines[0].label == "Refund"


def test_negative_credit_note_goes_to_review():
    event = make_event([("Charge/RestockingFee", "5.00", "SKU-1")])
    result = plan_event(event, MAPPING)
    assert doc(result, "credit_note").clearing_amount == D("5.00")
    assert result.review_reasons == [
        "The credit note total is negative (-5.00): the buyer got nothing back to credit"
    ]
    assert result.clearing_amount == event.total


def test_zero_amounts_are_skipped_even_when_unmapped():
    event = make_event([("Charge/Principal", "-5.00", "S"), ("Fee/BrandNewFee", "0.00", "S")])
    result = plan_event(event, MAPPING)
    assert result.ok and result.unmapped == {}
    assert [d.kind for d in result.documents] == ["credit_note"]


# ---------------------------------------------------------------------------------------------
# Taxes
# ---------------------------------------------------------------------------------------------


def test_withheld_tax_that_does_not_offset_goes_to_review():
    event = v0_event("us_mf_refund.json")
    lines = tuple(
        replace(ln, amount=D("1.50"))
        if ln.amount_type == "TaxWithheld/MarketplaceFacilitatorTax-Principal"
        else ln
        for ln in event.lines
    )
    event = replace(event, lines=lines, total=event.total - D("0.10"))
    result = plan_event(event, MAPPING)
    assert result.review_reasons == [
        (
            "Withheld tax does not offset the tax charges of item WIDGET-BLUE (50000000000001): "
            "tax -1.75, withheld 1.65, difference -0.10"
        ),
        (
            "Documents move the clearing account by -19.60, the event total is -19.70: "
            "difference -0.10"
        ),
    ]
    # Neither the taxes nor the withholding reach the credit note.
    assert all(ln.tax_amount == 0 for ln in doc(result, "credit_note").lines)


def test_withheld_tax_without_tax_charges_goes_to_review():
    event = make_event(
        [
            ("Charge/Principal", "-10.00", "S"),
            ("TaxWithheld/MarketplaceFacilitatorTax-Other", "0.80", "S"),
        ]
    )
    result = plan_event(event, MAPPING)
    assert "tax 0.00, withheld 0.80, difference 0.80" in result.review_reasons[0]
    assert not result.ok


def test_withholding_is_per_item():
    # Item A's tax is Amazon's (offset); item B's tax is the seller's (no withholding).
    event = make_event(
        [
            ("Charge/Principal", "-10.00", "A", D(1), "1"),
            ("Charge/Tax", "-0.80", "A", D(1), "1"),
            ("TaxWithheld/MarketplaceFacilitatorTax-Principal", "0.80", "A", D(1), "1"),
            ("Charge/Principal", "-20.00", "B", D(1), "2"),
            ("Charge/Tax", "-4.00", "B", D(1), "2"),
        ]
    )
    result = plan_event(event, MAPPING)
    assert result.ok
    taxes = {ln.sku: ln.tax_amount for ln in doc(result, "credit_note").lines}
    assert taxes == {"A": D("0.00"), "B": D("4.00")}
    assert result.clearing_amount == D("-34.00")


def test_seller_tax_without_its_base_line_goes_to_review():
    event = make_event([("Charge/Principal", "-10.00", "A"), ("Charge/GiftWrapTax", "-0.50", "A")])
    result = plan_event(event, MAPPING)
    assert result.review_reasons[0] == (
        "Seller tax Charge/GiftWrapTax (-0.50) of item A has no Charge/GiftWrap line to belong to"
    )
    assert "difference -0.50" in result.review_reasons[1]


def test_seller_tax_base_from_rule_override():
    mapping = MAPPING.merged(
        {
            "Charge/EcoTax": AmountTypeRule(
                "Charge/EcoTax", "seller_tax", tax_of="Charge/Principal"
            ),
        }
    )
    event = make_event([("Charge/Principal", "-10.00", "A"), ("Charge/ecotax", "-0.30", "A")])
    result = plan_event(event, mapping)
    assert result.ok
    assert doc(result, "credit_note").lines[0].tax_amount == D("0.30")


# ---------------------------------------------------------------------------------------------
# Non-order events: one entry
# ---------------------------------------------------------------------------------------------


def test_adjustments_are_entries_between_clearing_and_mapped_accounts():
    reimbursement, reserve, postage = [
        plan_event(e, MAPPING) for e in v0_events("adjustments.json")
    ]
    (entry,) = reimbursement.documents
    assert entry.kind == "entry"
    assert [(ln.account_ref, ln.sku, ln.quantity, ln.amount) for ln in entry.lines] == [
        ("reimbursement", "WIDGET-BLUE", D(2), D("-17.00")),  # reimbursement income Cr
        ("reimbursement", "WIDGET-RED", D(1), D("-8.50")),
    ]
    assert entry.clearing_amount == D("25.50")
    assert [(ln.account_ref, ln.amount) for ln in reserve.documents[0].lines] == [
        ("reserve", D("150.00"))
    ]
    assert reserve.clearing_amount == D("-150.00")
    assert postage.documents[0].lines[0].account_ref == "fees"
    assert all(r.ok for r in (reimbursement, reserve, postage))


def test_service_fees_and_retrocharge_entries():
    results = [plan_event(e, MAPPING) for e in v0_events("service_fees.json")]
    assert all(r.ok for r in results)
    assert [r.clearing_amount for r in results] == [
        D("-12.34"),
        D("-0.28"),
        D("-0.28"),
        D("-1.35"),
    ]
    retro = results[-1].documents[0]
    assert [(ln.label, ln.amount) for ln in retro.lines] == [
        ("Retrocharge tax", D("1.25")),
        ("Retrocharge shipping tax", D("0.10")),
    ]


def test_seller_tax_in_a_non_order_event_goes_to_review():
    event = make_event(
        [("Adjustment/ReserveEvent", "-10.00"), ("Charge/Tax", "-1.00")], event_type="adjustment"
    )
    result = plan_event(event, MAPPING)
    assert result.review_reasons[0] == (
        "Charge/Tax (-1.00) has role seller_tax, which needs an account in a adjustment event"
    )
    assert result.clearing_amount == D("-10.00")


def test_other_events_with_mapped_types_are_planned():
    events, _ = normalize_v0_events(load("unknown_lists.json")["v0"])
    fees = events[1]
    mapping = MAPPING.merged([AmountTypeRule("Fee/FancyFee", "fee", "fees")])
    result = plan_event(fees, mapping)
    assert result.ok
    assert result.documents[0].kind == "entry"
    assert result.clearing_amount == D("-3.00")


# ---------------------------------------------------------------------------------------------
# Every cent, unmapped types, ignore
# ---------------------------------------------------------------------------------------------


def test_unmapped_fee_type_is_not_planned_and_named_once():
    event = v0_event("unknown_fee_type.json")
    result = plan_event(event, MAPPING)
    assert result.unmapped == {"Fee/NewShinyFee": D("-1.23")}
    assert result.review_reasons == [
        "Unmapped amount type(s): Fee/NewShinyFee (-1.23)",
        (
            "Documents move the clearing account by -26.40, the event total is -27.63: "
            "difference -1.23"
        ),
    ]
    fee_types = {t for ln in doc(result, "fee_entry").lines for t in ln.amount_types}
    assert fee_types == {"Fee/Commission", "Fee/RefundCommission"}
    # Once the accountant maps it, the event posts and every cent is accounted for.
    mapped = MAPPING.merged([AmountTypeRule("Fee/NewShinyFee", "fee", "fees")])
    again = plan_event(event, mapped)
    assert again.ok and again.clearing_amount == event.total


def test_several_unmapped_types_sorted_with_totals():
    event = make_event(
        [
            ("Fee/Zed", "-1.00", "A"),
            ("Charge/Principal", "-5.00", "A"),
            ("Fee/Alpha", "-0.50", "A"),
            ("Fee/Zed", "-2.00", "B"),
        ]
    )
    result = plan_event(event, MAPPING)
    assert result.review_reasons[0] == "Unmapped amount type(s): Fee/Alpha (-0.50), Fee/Zed (-3.00)"


def test_summarize_unmapped_lists_each_type_once():
    results = [
        plan_event(make_event([("Fee/New", "-1.00"), ("Fee/Other", "2.00")]), MAPPING),
        plan_event(make_event([("Fee/New", "-0.50")]), MAPPING),
        plan_event(v0_event("us_mf_refund.json"), MAPPING),
    ]
    assert summarize_unmapped(results) == {
        "Fee/New": (2, D("-1.50")),
        "Fee/Other": (1, D("2.00")),
    }


def test_every_cent_difference_is_stated():
    event = replace(v0_event("us_mf_refund.json"), total=D("-19.61"))
    result = plan_event(event, MAPPING)
    assert result.review_reasons == [
        "Documents move the clearing account by -19.60, the event total is -19.61: difference -0.01"
    ]


def test_ignore_is_only_valid_when_it_nets_to_zero():
    mapping = MAPPING.merged([AmountTypeRule("Fee/Informational", "ignore")])
    netting = make_event(
        [
            ("Charge/Principal", "-5.00"),
            ("Fee/Informational", "1.00"),
            ("Fee/Informational", "-1.00"),
        ]
    )
    result = plan_event(netting, mapping)
    assert result.ok and result.clearing_amount == D("-5.00")
    hiding = make_event([("Charge/Principal", "-5.00"), ("Fee/Informational", "1.00")])
    result = plan_event(hiding, mapping)
    assert result.review_reasons == [
        "Ignored amount types do not net to zero: Fee/Informational (1.00)",
        "Documents move the clearing account by -5.00, the event total is -4.00: difference 1.00",
    ]


# ---------------------------------------------------------------------------------------------
# Mapping
# ---------------------------------------------------------------------------------------------


def test_rule_validation():
    with pytest.raises(ValueError, match="needs an account_ref"):
        AmountTypeRule("Fee/X", "fee")
    with pytest.raises(ValueError, match="Unknown role"):
        AmountTypeRule("Fee/X", "expense", "fees")
    with pytest.raises(ValueError, match="Category"):
        AmountTypeRule("Commission", "fee", "fees")
    with pytest.raises(ValueError, match="filed under"):
        Mapping({"Fee/Y": AmountTypeRule("Fee/X", "fee", "fees")})


def test_mapping_lookup_is_case_insensitive_with_category_wildcard():
    assert MAPPING.get("charge/giftwrap").amount_type == "Charge/GiftWrap"
    assert MAPPING.get("FEE/COMMISSION").account_ref == "fees"
    assert MAPPING.get("Promotion/AnyPromotionType").account_ref == "promotion"
    assert MAPPING.get("Fee/Unknown") is None
    assert "Fee/Unknown" not in MAPPING
    exact = MAPPING.merged([AmountTypeRule("Promotion/Shipping", "credit_note", "shipping")])
    assert exact.get("promotion/shipping").account_ref == "shipping"
    assert exact.get("Promotion/Other").account_ref == "promotion"


def test_merged_overrides_per_marketplace_without_touching_the_base():
    base = Mapping(default_rules())
    uk = base.merged(
        {
            "Charge/Goodwill": AmountTypeRule("Charge/Goodwill", "credit_note", "uk_goodwill"),
            "Fee/NewShinyFee": AmountTypeRule("Fee/NewShinyFee", "fee", "fees"),
        }
    )
    assert uk.get("Charge/Goodwill").account_ref == "uk_goodwill"
    assert base.get("Charge/Goodwill").account_ref == "refund_income"
    assert "Fee/NewShinyFee" in uk and "Fee/NewShinyFee" not in base
    assert len(uk) == len(base) + 1
    # Overrides match case-insensitively: no duplicate rule.
    lower = base.merged([AmountTypeRule("charge/goodwill", "credit_note", "x")])
    assert len(lower) == len(base)
    assert lower.get("Charge/Goodwill").account_ref == "x"
    assert Mapping(uk).rules == uk.rules


def test_default_rules_cover_the_documented_types():
    rules = default_rules()
    mapping = Mapping(rules)
    charge_types = [
        "Principal",
        "Tax",
        "Discount",
        "TaxDiscount",
        "CODItemCharge",
        "CODItemTaxCharge",
        "CODOrderCharge",
        "CODOrderTaxCharge",
        "CODShippingCharge",
        "CODShippingTaxCharge",
        "ShippingCharge",
        "ShippingTax",
        "Goodwill",
        "Giftwrap",
        "GiftwrapTax",
        "RestockingFee",
        "ReturnShipping",
        "PointsFee",
        "FreeReplacementReturnShipping",
        "PaymentMethodFee",
        "ExportCharge",
        "SAFE-TReimbursement",
    ]
    for name in charge_types:
        assert f"Charge/{name}" in mapping, name
    for name in ("GenericDeduction", "PaidthroughEBT", "TCS-CGST"):
        assert f"Charge/{name}" not in mapping, f"{name} is left for the accountant on purpose"
    for name in ("Principal", "Shipping", "Giftwrap", "Other"):
        rule = mapping.get(f"TaxWithheld/MarketplaceFacilitatorTax-{name}")
        assert rule.role == "withheld_tax"
    fee_types = [
        "Commission",
        "RefundCommission",
        "FBAPerUnitFulfillmentFee",
        "FBAPerOrderFulfillmentFee",
        "FixedClosingFee",
        "VariableClosingFee",
        "GiftwrapCommission",
        "SalesTaxCollectionFee",
        "ShippingHB",
        "ShippingChargeback",
        "DigitalServicesFee",
    ]
    for name in fee_types:
        assert mapping.get(f"Fee/{name}").role == "fee", name
    adjustment_types = [
        "FBAInventoryReimbursement",
        "ReserveEvent",
        "PostageBilling",
        "PostageRefund",
        "LostOrDamagedReimbursement",
        "CanceledButPickedUpReimbursement",
        "ReimbursementClawback",
        "SellerRewards",
    ]
    for name in adjustment_types:
        assert mapping.get(f"Adjustment/{name}").role == "adjustment", name
    for rule in rules.values():
        assert rule.account_ref is None or rule.account_ref in ACCOUNT_REFS, rule
        if rule.role == "seller_tax":
            assert rule.tax_of in rules, rule


# ---------------------------------------------------------------------------------------------
# Property: well-formed refunds with every type mapped move the clearing account by the total
# ---------------------------------------------------------------------------------------------

cents = st.integers(min_value=1, max_value=50_000).map(lambda n: D(n).scaleb(-2))


@st.composite
def refund_pages(draw):
    items = []
    for index in range(draw(st.integers(min_value=1, max_value=3))):
        charges = [("Principal", -draw(cents))]
        taxes = []
        for base, tax in (("ShippingCharge", "ShippingTax"), ("GiftWrap", "GiftWrapTax")):
            if draw(st.booleans()):
                charges.append((base, -draw(cents)))
                if draw(st.booleans()):
                    taxes.append((tax, -draw(cents)))
        if draw(st.booleans()):
            taxes.append(("Tax", -draw(cents)))
        if draw(st.booleans()):
            charges.append(("RestockingFee", draw(cents)))
        if draw(st.booleans()):
            charges.append(("Goodwill", -draw(cents)))
        item = {
            "SellerSKU": draw(st.sampled_from(["SKU-A", "SKU-B", "SKU-C"])),
            "OrderAdjustmentItemId": f"ITEM-{index}",
            "QuantityShipped": draw(st.integers(min_value=1, max_value=5)),
            "ItemChargeAdjustmentList": [
                {"ChargeType": t, "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": a}}
                for t, a in charges + taxes
            ],
            "ItemFeeAdjustmentList": [
                {"FeeType": t, "FeeAmount": {"CurrencyCode": "USD", "CurrencyAmount": a}}
                for t, a in (("Commission", draw(cents)), ("RefundCommission", -draw(cents)))
            ],
        }
        if taxes and draw(st.booleans()):  # marketplace facilitator: Amazon's tax, offset exactly
            item["ItemTaxWithheldList"] = [
                {
                    "TaxCollectionModel": "MarketplaceFacilitator",
                    "TaxesWithheld": [
                        {
                            "ChargeType": "MarketplaceFacilitatorTax-Other",
                            "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": -a},
                        }
                        for _t, a in taxes
                    ],
                }
            ]
        if draw(st.booleans()):
            item["PromotionAdjustmentList"] = [
                {
                    "PromotionType": "PromotionMetaDataDefinitionValue",
                    "PromotionAmount": {"CurrencyCode": "USD", "CurrencyAmount": draw(cents)},
                }
            ]
        items.append(item)
    event = {
        "AmazonOrderId": "111-0000000-0000000",
        "PostedDate": "2026-10-01T00:00:00Z",
        "ShipmentItemAdjustmentList": items,
    }
    if draw(st.booleans()):
        event["OrderChargeAdjustmentList"] = [
            {
                "ChargeType": "ShippingCharge",
                "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": -draw(cents)},
            }
        ]
    return {"RefundEventList": [event]}


@settings(max_examples=200, deadline=None)
@given(refund_pages())
def test_property_documents_move_clearing_by_the_event_total(page):
    (event,), failures = normalize_v0_events(page)
    assert failures == []
    result = plan_event(event, MAPPING)
    assert result.unmapped == {}
    assert result.clearing_amount == event.total
    assert sum((d.clearing_amount for d in result.documents), D(0)) == event.total
    allowed = ("The credit note total is negative",)
    assert [r for r in result.review_reasons if not r.startswith(allowed)] == []


# ---------------------------------------------------------------------------------------------
# The emulator's seller: every non-order event is mapped by default
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["v2024", "v0"])
def test_default_mapping_covers_every_event_of_the_emulated_seller(api):
    from emulator.generator import generate_dataset, to_transaction, to_v0_financial_events

    dataset = generate_dataset(seed=42)
    if api == "v2024":
        events, failures = normalize_transactions([to_transaction(e) for e in dataset.events])
    else:
        events, failures = normalize_v0_events(
            to_v0_financial_events(dataset.events), posted_date_fallback=POSTED
        )
    assert failures == []
    results = [(e, plan_event(e, MAPPING)) for e in events]
    waiting = [(e.event_type, r.unmapped) for e, r in results if not r.ok]
    assert waiting == []
    accounts = {}
    for event, result in results:
        for document in result.documents:
            for line in document.lines:
                for typ in {ln.amount_type for ln in event.lines}:
                    if typ.startswith("Adjustment/") and event.event_type == "adjustment":
                        accounts.setdefault(typ, set()).add(line.account_ref)
    assert accounts["Adjustment/CustomerReturn"] == {"reimbursement_return"}
    assert accounts["Adjustment/REVERSAL_REIMBURSEMENT"] == {"reimbursement_return"}
    assert accounts["Adjustment/WAREHOUSE_DAMAGE"] == {"reimbursement_damage"}
    assert accounts["Adjustment/WAREHOUSE_LOST"] == {"reimbursement_damage"}
    assert accounts["Adjustment/MISSING_FROM_INBOUND"] == {"reimbursement_damage"}
    assert accounts["Adjustment/FBAInventoryReimbursement"] == {"reimbursement"}
    # Amazon sends the reserve as ReserveDebit / ReserveCredit (never ReserveEvent)
    assert accounts["Adjustment/ReserveDebit"] == {"reserve"}
    assert accounts["Adjustment/ReserveCredit"] == {"reserve"}
    assert "Adjustment/ReserveEvent" not in accounts
