"""domain.plan on the real vocabulary: default rules, the VAT Amazon charges on its fees, VAT
included in promotions of VAT marketplaces, withheld retrocharge tax."""

import json
import os
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from domain.model import NormalizedEvent, NormalizedLine
from domain.normalize import normalize_transactions, normalize_v0_events
from domain.plan import ACCOUNT_REFS, AmountTypeRule, PlanLine, default_mapping, plan_event
from domain.plan_vat import infer_rate, split_included

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
D = Decimal
POSTED = datetime(2026, 11, 20, tzinfo=timezone.utc)
MAPPING = default_mapping()
IDS = {
    "Amazon.fr": "A13V1IB3VIYZZH",
    "Amazon.co.uk": "A1F83G8C2ARO7P",
    "Amazon.com": "ATVPDKIKX0DER",
}


def load():
    with open(os.path.join(FIXTURES, "real_shapes.json"), encoding="utf-8") as f:
        return json.load(f)


def transaction(transaction_id):
    events, _ = normalize_transactions(load()["transactions"])
    (event,) = [e for e in events if e.transaction_id == transaction_id]
    return event


def v0_event(source, index=0):
    events, failures = normalize_v0_events(
        load()["v0"], lambda name, _currency: IDS.get(name), posted_date_fallback=POSTED
    )
    assert failures == []
    return [e for e in events if e.source == source][index]


def doc(result, kind):
    (found,) = [d for d in result.documents if d.kind == kind]
    return found


def make_event(lines, marketplace_id="A1PA6795UKMFR9", event_type="refund", currency="EUR"):
    lines = tuple(NormalizedLine(t, D(a), *rest) for t, a, *rest in lines)
    return NormalizedEvent(
        key="test",
        fingerprint="test",
        source_api="v0",
        event_type=event_type,
        amazon_order_id="302-0000000-0000000",
        marketplace_id=marketplace_id,
        marketplace_name=None,
        posted_date=POSTED,
        currency=currency,
        total=sum((ln.amount for ln in lines), D(0)),
        lines=lines,
    )


def credit_tax(result):
    return sum((ln.tax_amount for ln in doc(result, "credit_note").lines), D(0))


# ---------------------------------------------------------------------------------------------
# The VAT Amazon charges on its fees
# ---------------------------------------------------------------------------------------------


def test_fee_vat_is_an_input_tax_line_on_the_fees_account():
    event = transaction("TXN-REAL-SE-REFUND")
    result = plan_event(event, MAPPING)
    assert result.ok and result.clearing_amount == event.total
    fee_entry = doc(result, "fee_entry")
    assert [(ln.kind, ln.label, ln.account_ref, ln.amount) for ln in fee_entry.lines] == [
        ("account", "Commission", "fees", D("-36.00")),
        ("input_tax", "Tax on Commission", "fees", D("-9.00")),
        ("account", "RefundCommission", "fees", D("7.20")),
        ("input_tax", "Tax on RefundCommission", "fees", D("1.80")),
    ]
    assert fee_entry.clearing_amount == D("36.00")
    credit_note = doc(result, "credit_note")
    assert {ln.label: (ln.amount, ln.tax_amount) for ln in credit_note.lines} == {
        "Refund LAMP-01": (D("240.00"), D("60.00")),
        "Shipping": (D("29.00"), D("7.25")),
    }


def test_fee_vat_follows_its_fees_account_or_its_own_rule():
    event = transaction("TXN-REAL-SE-REFUND")
    mapping = MAPPING.merged([AmountTypeRule("Fee/Commission", "fee", "marketplace_fees")])
    lines = doc(plan_event(event, mapping), "fee_entry").lines
    assert [ln.account_ref for ln in lines[:2]] == ["marketplace_fees", "marketplace_fees"]
    own = MAPPING.merged([AmountTypeRule("FeeTax/Commission", "fee_tax", "input_vat")])
    lines = doc(plan_event(event, own), "fee_entry").lines
    assert [ln.account_ref for ln in lines[:2]] == ["fees", "input_vat"]


def test_fee_vat_of_an_unmapped_fee_waits():
    event = make_event([("Fee/BrandNewFee", "-10.00"), ("FeeTax/BrandNewFee", "-1.90")], None)
    result = plan_event(event, MAPPING)
    assert result.review_reasons[:2] == [
        "Unmapped amount type(s): Fee/BrandNewFee (-10.00)",
        "FeeTax/BrandNewFee (-1.90) is the tax on fee Fee/BrandNewFee, which has no fee rule "
        "giving its account",
    ]


def test_service_fee_with_fee_vat_is_one_entry():
    event = make_event(
        [("Fee/FBAStorageFee", "-10.00"), ("FeeTax/FBAStorageFee", "-2.50")],
        event_type="service_fee",
    )
    result = plan_event(event, MAPPING)
    assert result.ok
    (entry,) = result.documents
    assert [(ln.kind, ln.amount) for ln in entry.lines] == [
        ("account", D("10.00")),
        ("input_tax", D("2.50")),
    ]
    assert entry.clearing_amount == D("-12.50")


# ---------------------------------------------------------------------------------------------
# VAT included in promotions
# ---------------------------------------------------------------------------------------------


def test_v0_promotion_in_a_vat_marketplace_carries_its_vat():
    event = v0_event("RefundEventList")  # Amazon.fr, free shipping in two entries
    result = plan_event(event, MAPPING)
    assert result.ok and result.clearing_amount == event.total
    lines = {ln.label: ln for ln in doc(result, "credit_note").lines}
    assert lines["Promotion"] == PlanLine(
        kind="account",
        amount=D("-4.16"),
        account_ref="promotion",
        label="Promotion",
        amount_types=("Promotion/PromotionMetaDataDefinitionValue",),
        tax_amount=D("-0.83"),
        tax_rate=D(20),
    )
    # Amazon's VAT: the charged VAT less the VAT of the free shipping.
    assert credit_tax(result) == D("8.33")


def test_promotion_with_its_own_vat_part_uses_amazons_figure():
    result = plan_event(transaction("TXN-REAL-DE-PROMO"), MAPPING)
    assert result.ok
    promotion = [ln for ln in doc(result, "credit_note").lines if ln.label == "Promotion"]
    assert [(ln.amount, ln.tax_amount, ln.tax_rate) for ln in promotion] == [
        (D("-3.99"), D("-0.76"), None)
    ]
    assert credit_tax(result) == D("9.50")


def test_promotion_outside_vat_marketplaces_has_no_tax():
    lines = [
        ("Charge/Principal", "-20.00", "S", D(1), "1"),
        ("Charge/Tax", "-1.60", "S", D(1), "1"),
        ("Promotion/PromotionMetaDataDefinitionValue", "2.00", "S", D(1), "1"),
    ]
    us = plan_event(make_event(lines, "ATVPDKIKX0DER", currency="USD"), MAPPING)
    assert credit_tax(us) == D("1.60")
    # The caller may say otherwise (e.g. a marketplace's own setting).
    forced = plan_event(
        make_event(lines, "ATVPDKIKX0DER", currency="USD"), MAPPING, prices_include_tax=True
    )
    promotion = doc(forced, "credit_note").lines[-1]
    assert (promotion.amount, promotion.tax_amount, promotion.tax_rate) == (
        D("-1.85"),
        D("-0.15"),
        D(8),
    )


def test_promotion_naming_its_charge_takes_that_charges_rate():
    event = make_event(
        [
            ("Charge/Principal", "-10.00", "BOOK", D(1), "1"),
            ("Charge/Tax", "-0.70", "BOOK", D(1), "1"),
            ("Charge/ShippingCharge", "-3.00", "BOOK", D(1), "1"),
            ("Charge/ShippingTax", "-0.57", "BOOK", D(1), "1"),
            ("Promotion/Shipping", "3.57", "BOOK", D(1), "1"),
        ]
    )
    result = plan_event(event, MAPPING)
    assert result.ok
    promotion = doc(result, "credit_note").lines[-1]
    assert (promotion.amount, promotion.tax_amount, promotion.tax_rate) == (
        D("-3.00"),
        D("-0.57"),
        D(19),
    )


def test_promotion_on_an_item_taxed_at_two_rates_waits():
    event = make_event(
        [
            ("Charge/Principal", "-10.00", "BOOK", D(1), "1"),
            ("Charge/Tax", "-0.70", "BOOK", D(1), "1"),
            ("Charge/ShippingCharge", "-3.00", "BOOK", D(1), "1"),
            ("Charge/ShippingTax", "-0.57", "BOOK", D(1), "1"),
            ("Promotion/PromotionMetaDataDefinitionValue", "1.00", "BOOK", D(1), "1"),
        ]
    )
    result = plan_event(event, MAPPING)
    assert result.review_reasons == [
        "Promotion/PromotionMetaDataDefinitionValue (1.00) of item BOOK (1) includes VAT, but no "
        "one rate gives the taxes of its item (tax 0.70 on 10.00, tax 0.57 on 3.00): Amazon's "
        "VAT cannot be reproduced"
    ]
    assert result.clearing_amount == event.total


def test_untaxed_shipping_beside_a_taxed_principal_waits_in_a_vat_marketplace():
    lines = [
        ("Charge/Principal", "-10.00", "S", D(1), "1"),
        ("Charge/Tax", "-1.90", "S", D(1), "1"),
        ("Charge/ShippingCharge", "-2.00", "S", D(1), "1"),
    ]
    result = plan_event(make_event(lines), MAPPING)
    assert result.review_reasons == [
        "Charge/ShippingCharge (2.00) of item S (1) carries no VAT while its principal does "
        "(1.90 on 10.00): Amazon's VAT cannot be reproduced"
    ]
    assert plan_event(make_event(lines, "ATVPDKIKX0DER"), MAPPING).ok


def test_withheld_vat_leaves_no_tax_on_the_credit_note():
    for event in (transaction("TXN-REAL-UK-MF"), v0_event("RefundEventList", 1)):
        result = plan_event(event, MAPPING)
        assert result.ok and result.clearing_amount == event.total
        assert credit_tax(result) == 0


def test_promotion_vat_part_of_an_item_whose_vat_amazon_withheld():
    lines = [
        ("Charge/Principal", "-47.92", "BAG", D(1), "1"),
        ("Charge/Tax", "-9.58", "BAG", D(1), "1"),
        ("Promotion/OurPriceDiscount", "4.79", "BAG", D(1), "1"),
        ("Promotion/OurPriceTaxDiscount", "0.96", "BAG", D(1), "1"),
    ]
    uk = "A1F83G8C2ARO7P"
    # Amazon withheld the charged VAT: the promotion's VAT part is Amazon's too, in its price.
    whole = make_event(
        [*lines, ("TaxWithheld/MarketplaceFacilitatorVAT-Principal", "9.58", "BAG", D(1), "1")], uk
    )
    result = plan_event(whole, MAPPING)
    assert result.ok and result.clearing_amount == whole.total
    assert [(ln.amount, ln.tax_amount) for ln in doc(result, "credit_note").lines] == [
        (D("47.92"), D("0.00")),
        (D("-5.75"), D("0.00")),
    ]
    # Amazon withheld the VAT net of the promotion's: both VAT parts are Amazon's.
    net = make_event(
        [*lines, ("TaxWithheld/MarketplaceFacilitatorVAT-Principal", "8.62", "BAG", D(1), "1")], uk
    )
    result = plan_event(net, MAPPING)
    assert result.ok and result.clearing_amount == net.total
    assert credit_tax(result) == 0


@pytest.mark.parametrize(
    ("pairs", "rate"),
    [
        ([("12.06", "2.29"), ("0.71", "0.13")], 19),
        ([("27.55", "5.24")], 19),  # VAT computed on the price including it
        ([("1918", "192")], 10),  # yen, planned with two decimals
        ([("10.00", "0")], 0),
        ([("10.00", "0.70"), ("3.00", "0.57")], None),
    ],
)
def test_infer_rate(pairs, rate):
    found = infer_rate([(D(b), D(t)) for b, t in pairs], D("0.01"))
    assert found == (None if rate is None else D(rate))


def test_split_included_rounds_the_vat_half_up():
    assert split_included(D("0.84"), D(19), D("0.01")) == (D("0.71"), D("0.13"))
    assert split_included(D(211), D(10), D(1)) == (D(192), D(19))


# ---------------------------------------------------------------------------------------------
# Withheld tax of retrocharges, zero documents
# ---------------------------------------------------------------------------------------------


def test_marketplace_facilitator_retrocharge_and_its_reversal_post():
    for index in (0, 1):
        event = v0_event("RetrochargeEventList", index)
        result = plan_event(event, MAPPING)
        assert result.ok and result.documents == [] and result.clearing_amount == 0


def test_retrocharge_whose_withheld_tax_does_not_offset_waits():
    event = make_event(
        [
            ("Retrocharge/BaseTax", "-1.23"),
            ("TaxWithheld/MarketplaceFacilitatorTax-Principal", "1.20"),
        ],
        "ATVPDKIKX0DER",
        "retrocharge",
        "USD",
    )
    result = plan_event(event, MAPPING)
    assert result.review_reasons[0] == (
        "Withheld tax does not offset the tax charges of the order-level amounts: tax -1.23, "
        "withheld 1.20, difference -0.03"
    )


def test_amounts_that_net_to_nothing_make_no_document():
    result = plan_event(transaction("TXN-REAL-US-RETRO"), MAPPING)
    assert result.ok and result.documents == []


# ---------------------------------------------------------------------------------------------
# Default rules for the real vocabulary
# ---------------------------------------------------------------------------------------------

# The amount types real data carries (../shared/realdata/INDEX.md and the samples), with the
# account an accountant would book them on.
REAL_VOCABULARY = {
    "Charge/LowValueGoodsTax-Principal": None,
    "Charge/LowValueGoodsTax-Shipping": None,
    "TaxWithheld/MarketplaceFacilitatorVAT-Principal": None,
    "TaxWithheld/MarketplaceFacilitatorVAT-Shipping": None,
    "TaxWithheld/LowValueGoodsTax-Principal": None,
    "Fee/DigitalServicesFee": "fees",
    "Fee/DigitalServicesFeeFBA": "fees",
    "Fee/GiftwrapChargeback": "fees",
    "Fee/ShippingChargeback": "fees",
    "Fee/RemoteFulfillmentCredit": "fees",
    "Fee/GetPaidFasterFee": "fees",
    "Fee/FBACustomerReturnPerOrderFee": "fees",
    "Fee/FBACustomerReturnWeightBasedFee": "fees",
    "Fee/FBAInboundTransportationFee": "fees",
    "Fee/FBAInboundTransportationProgramFee": "fees",
    "Fee/FBARemovalFee": "fees",
    "Fee/CouponParticipationFee": "advertising",
    "Fee/CouponPerformanceFee": "advertising",
    "Fee/DealParticipationFee": "advertising",
    "Fee/DealPerformanceFee": "advertising",
    "Fee/StorageRenewalBilling": "fees",
    "Fee/FBAStorageBilling": "fees",
    "FeeTax/FBAPerUnitFulfillmentFee": None,
    "Adjustment/ReserveDebit": "reserve",
    "Adjustment/ReserveCredit": "reserve",
    "Adjustment/COMPENSATED_CLAWBACK": "reimbursement",
    "Adjustment/FREE_REPLACEMENT_REFUND_ITEMS": "reimbursement_return",
    "Adjustment/REMOVAL_ORDER_LOST": "reimbursement_damage",
    "Adjustment/INCORRECT_FEES_NON_ITEMIZED": "fees",
    "Adjustment/BuyerRecharge": "reimbursement_return",
    "Adjustment/REVERSAL_REIMBURSEMENT": "reimbursement_return",
    "Adjustment/WAREHOUSE_DAMAGE": "reimbursement_damage",
    "Adjustment/WAREHOUSE_LOST": "reimbursement_damage",
    "Promotion/PromotionMetaDataDefinitionValue": "promotion",
    "Charge/Goodwill": "refund_income",
    "Charge/RestockingFee": "restocking",
    "Retrocharge/Tax": "fees",
    "SAFETReimbursement/ReimbursedAmount": "reimbursement",
    "ChargeRefund/SubscriptionFee": "fees",
}


def test_default_rules_cover_the_real_vocabulary():
    for amount_type, account in REAL_VOCABULARY.items():
        rule = MAPPING.get(amount_type)
        assert rule is not None, amount_type
        assert rule.account_ref == account, amount_type
    assert MAPPING.get("Charge/LowValueGoodsTax-Principal").tax_of == "Charge/Principal"
    assert MAPPING.get("TaxWithheld/LowValueGoodsTax-Principal").role == "withheld_tax"
    assert MAPPING.get("FeeTax/Anything").role == "fee_tax"
    assert "advertising" in ACCOUNT_REFS
    # R05's TDS and affordability expense: a withheld-tax receivable and advertising
    assert MAPPING.get("TDSReimbursement/ReimbursedAmount").account_ref == "withheld_tax"
    assert MAPPING.get("Fee/AffordabilityExpense").account_ref == "advertising"
    assert MAPPING.get("DebtRecovery/RecoveryAmount").account_ref == "transfers"
    for left in ("PayWithAmazon/Tax", "ServiceProviderCredit/TransactionAmount"):
        assert left not in MAPPING, f"{left} is left for the accountant on purpose"
