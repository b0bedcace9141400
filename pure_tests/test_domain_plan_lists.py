"""Every event list of Amazon's Finances v0 model and every 2024-06-19 transaction type the
addon reads has a default rule for each amount type it produces, or waits for review by name
(``plan_rules.LEFT_FOR_REVIEW``): nothing is dropped, nothing is left unmapped by accident."""

import json
import os

import pytest

from domain.normalize import normalize_v0_events
from domain.plan import default_mapping, plan_event
from domain.plan_rules import ACCOUNT_REFS, LEFT_FOR_REVIEW, default_rules
from domain.vocabulary import (
    SALES_TRANSACTION_TYPES,
    TRANSACTION_STEMS,
    TRANSACTION_TYPES,
    V0_ADJUSTMENT_LIST,
    V0_OTHER_LISTS,
    V0_RETROCHARGE_LIST,
    V0_SALES_LISTS,
    V0_SERVICE_FEE_LIST,
    V0_SHIPMENT_LISTS,
)

MODELS = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "spapi-models")
V0_MODEL = os.path.join(MODELS, "financesV0.json")
MODEL_2024 = os.path.join(MODELS, "finances_2024-06-19.json")
# The lists read by the addon's own readers (refunds, adjustments, service fees, retrocharges,
# sales): their amount types are the vocabulary tested in test_domain_plan*.py.
CORE_LISTS = {*V0_SHIPMENT_LISTS, V0_ADJUSTMENT_LIST, V0_SERVICE_FEE_LIST, V0_RETROCHARGE_LIST}
CORE_LISTS |= set(V0_SALES_LISTS)


def _model_lists():
    if not os.path.exists(V0_MODEL):
        pytest.skip(f"Amazon's financesV0.json not found at {V0_MODEL}")
    with open(V0_MODEL, encoding="utf-8") as f:
        model = json.load(f)
    return sorted(model["definitions"]["FinancialEvents"]["properties"])


def _templates(spec):
    found = [template for _field, template in spec.money]
    if spec.items:
        found += [template for _field, template in spec.items[1]]
    return found


def _covered(mapping, amount_type):
    """How the defaults treat ``amount_type`` (a template's ``{Name}`` stands for any name):
    'rule', 'review' (left for review by name), or None (unmapped by accident)."""
    category = amount_type.split("/", 1)[0]
    if "{" in amount_type:
        if mapping.get(f"{category}/*"):
            return "rule"
        return "review" if f"{category}/*" in LEFT_FOR_REVIEW else None
    if mapping.get(amount_type):
        return "rule"
    return "review" if f"{category}/*" in LEFT_FOR_REVIEW else None


def test_every_v0_list_of_amazons_model_is_read():
    lists = _model_lists()
    unread = [name for name in lists if name not in CORE_LISTS and name not in V0_OTHER_LISTS]
    assert unread == []
    assert "DebtRecoveryEventList" in lists and "LoanServicingEventList" in lists


def test_every_amount_type_of_the_other_lists_has_a_rule_or_waits_by_name():
    mapping = default_mapping()
    outcome = {}
    for name in _model_lists():
        spec = V0_OTHER_LISTS.get(name)
        if spec is None:
            continue
        for template in _templates(spec):
            outcome[(name, template)] = _covered(mapping, template)
    assert [key for key, how in outcome.items() if how is None] == []
    reviewed = sorted({key[0] for key, how in outcome.items() if how == "review"})
    # What waits for review by name, on purpose, and nothing else. Fee/{FeeType} lists: a fee
    # type Amazon never sent before is named once; the others: LEFT_FOR_REVIEW says why.
    assert reviewed == [
        "CouponPaymentEventList",
        "ImagingServicesFeeEventList",
        "NetworkComminglingTransactionEventList",
        "PayWithAmazonEventList",
        "RentalTransactionEventList",
        "SellerDealPaymentEventList",
        "SellerReviewEnrollmentPaymentEventList",
        "ServiceProviderCreditEventList",
        "TrialShipmentEventList",
    ]


def test_every_2024_transaction_type_has_a_rule_or_waits_by_name():
    if not os.path.exists(MODEL_2024):
        pytest.skip(f"Amazon's finances_2024-06-19.json not found at {MODEL_2024}")
    with open(MODEL_2024, encoding="utf-8") as f:
        text = f.read()
    # The model names one transaction type (Shipment): read as sales.
    for name in SALES_TRANSACTION_TYPES:
        assert f'"transactionType": "{name}"' in text
    mapping = default_mapping()
    # Transaction types named like a v0 list: their leaves under no known parent take the
    # list's name as category.
    for stem in TRANSACTION_STEMS.values():
        how = _covered(mapping, f"{stem}/{{Leaf}}")
        assert how is not None, stem
    # The others are read by the addon's own readers (refund, adjustment, service fee...).
    assert set(TRANSACTION_TYPES) >= {"refund", "adjustment", "servicefee", "retrocharge"}


def test_new_defaults_book_an_accountants_accounts():
    rules = default_rules()
    mapping = default_mapping()
    expected = {
        "LoanServicing/LoanAmount": "loan",
        "TaxWithholding/WithheldAmount": "withheld_tax",
        "TDSReimbursement/ReimbursedAmount": "withheld_tax",
        "FBALiquidation/LiquidationProceedsAmount": "liquidation",
        "FBALiquidation/LiquidationFeeAmount": "fees",
        "RemovalShipment/Revenue": "liquidation",
        "RemovalShipment/FeeAmount": "fees",
        "AdhocDisbursement/TransactionAmount": "transfers",
        "FailedAdhocDisbursement/TransferAmount": "transfers",
        "DebtRecovery/RecoveryAmount": "transfers",
        "DebtRecovery/OverPaymentCredit": "transfers",
        "Fee/AffordabilityExpense": "advertising",
        "CouponPayment/Clip": "advertising",
        "SAFETReimbursement/ReimbursedAmount": "reimbursement",
        "CapacityReservationBilling/TransactionAmount": "fees",
        "ValueAddedServiceCharge/TransactionAmount": "fees",
    }
    for amount_type, ref in expected.items():
        assert mapping.get(amount_type).account_ref == ref, amount_type
    for rule in rules.values():
        assert rule.account_ref is None or rule.account_ref in ACCOUNT_REFS, rule
    assert {"loan", "withheld_tax", "liquidation", "transfers", "reserve"} <= set(ACCOUNT_REFS)


def _removal(tax, withheld):
    money = {"CurrencyCode": "USD"}
    raw = {
        "PostedDate": "2026-10-01T10:00:00Z",
        "MerchantOrderId": "R-1",
        "OrderId": "R-1",
        "TransactionType": "WHOLESALE_LIQUIDATION",
        "RemovalShipmentItemList": [
            {
                "RemovalShipmentItemId": "1",
                "TaxCollectionModel": "MarketplaceFacilitator",
                "FulfillmentNetworkSKU": "X001",
                "Quantity": 2,
                "Revenue": {**money, "CurrencyAmount": 40.0},
                "FeeAmount": {**money, "CurrencyAmount": -3.0},
                "TaxAmount": {**money, "CurrencyAmount": tax},
                "TaxWithheld": {**money, "CurrencyAmount": withheld},
            }
        ],
    }
    events, failures = normalize_v0_events({"FinancialEvents": {"RemovalShipmentEventList": [raw]}})
    assert failures == []
    return events[0]


def test_removal_shipment_books_revenue_and_fee_and_tax_only_when_it_cancels_out():
    event = _removal(2.4, -2.4)
    plan = plan_event(event, default_mapping())
    assert plan.ok, plan.reasons
    # The seller owes the tax (no facilitator withholding): it waits for review.
    assert not plan_event(_removal(2.4, 0.0), default_mapping()).ok
