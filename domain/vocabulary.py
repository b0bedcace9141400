"""The vocabulary of Amazon's Finances payloads (pure Python, no Odoo): categories, type
spellings, event-type tables. Real data that differs from the emulator's vocabulary is a one-line
change here.
"""

# ---------------------------------------------------------------------------------------------
# Vocabulary: the ONE table of categories and of type spellings
# ---------------------------------------------------------------------------------------------

CHARGE = "Charge"
TAX_WITHHELD = "TaxWithheld"
PROMOTION = "Promotion"
FEE = "Fee"
ADJUSTMENT = "Adjustment"
RETROCHARGE = "Retrocharge"
OTHER = "Other"

# category → (v0 sources, 2024-06-19 parent ``breakdownType`` names). The v0 column documents the
# readers (domain.normalize_v0); the 2024 column is what :func:`category_for_breakdown` looks up.
CATEGORIES = {
    CHARGE: (
        ("ItemChargeAdjustmentList", "OrderChargeAdjustmentList"),
        ("ProductCharges", "Product Charges"),
    ),
    TAX_WITHHELD: (
        ("ItemTaxWithheldList[].TaxesWithheld", "RetrochargeTaxWithheldList[].TaxesWithheld"),
        ("TaxWithheld", "Tax Withheld"),
    ),
    PROMOTION: (("PromotionAdjustmentList",), ("Promotions", "Promotion")),
    FEE: (
        (
            "ItemFeeAdjustmentList",
            "ShipmentFeeAdjustmentList",
            "OrderFeeAdjustmentList",
            "ServiceFeeEvent.FeeList",
        ),
        ("AmazonFees", "Amazon Fees"),
    ),
    ADJUSTMENT: (("AdjustmentEvent.AdjustmentType",), ("Adjustment", "Adjustments")),
    RETROCHARGE: (("RetrochargeEvent.BaseTax", "RetrochargeEvent.ShippingTax"), ("Retrocharge",)),
}

# FeeTypes seen in refund data (the model lists none: the type is open-ended).
FEE_TYPES = (
    "Commission",
    "RefundCommission",
    "FBAPerUnitFulfillmentFee",
    "FBAPerOrderFulfillmentFee",
    "FBAWeightBasedFee",
    "FixedClosingFee",
    "VariableClosingFee",
    "GiftwrapCommission",
    "SalesTaxCollectionFee",
    "ShippingHB",
    "ShippingChargeback",
    "DigitalServicesFee",
)

# Canonical spellings of known type names. The first entry that matches (case-insensitively)
# gives the spelling; unknown names keep Amazon's spelling.
TYPE_NAMES = (
    # ChargeType (financesV0.json; GiftWrap spelled as in doc/event-shapes.md)
    "Principal",
    "Tax",
    "MarketplaceFacilitatorTax-Principal",
    "MarketplaceFacilitatorTax-Shipping",
    "MarketplaceFacilitatorTax-Giftwrap",
    "MarketplaceFacilitatorTax-Other",
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
    "GiftWrap",
    "GiftWrapTax",
    "RestockingFee",
    "ReturnShipping",
    "PointsFee",
    "GenericDeduction",
    "FreeReplacementReturnShipping",
    "PaymentMethodFee",
    "ExportCharge",
    "SAFE-TReimbursement",
    "TCS-CGST",
    "TCS-SGST",
    "TCS-IGST",
    "TCS-UTGST",
    "PaidthroughEBT",
    # FeeType (open-ended; seen in data)
    *FEE_TYPES,
    # AdjustmentType (financesV0.json)
    "FBAInventoryReimbursement",
    "ReserveEvent",
    "PostageBilling",
    "PostageRefund",
    "LostOrDamagedReimbursement",
    "CanceledButPickedUpReimbursement",
    "ReimbursementClawback",
    "SellerRewards",
    # Retrocharge components
    "BaseTax",
)
# Other spellings of a known name (not just a case difference): alias → canonical.
TYPE_ALIASES = {
    "Principle": "Principal",  # the 2024-06-19 model's own example spells it so
}

_TYPE_LOOKUP = {}
for _name in TYPE_NAMES:
    _TYPE_LOOKUP.setdefault(_name.lower(), _name)
for _alias, _canonical in TYPE_ALIASES.items():
    _TYPE_LOOKUP.setdefault(_alias.lower(), _canonical)

_BREAKDOWN_LOOKUP = {}
for _category, (_v0_sources, _parents) in CATEGORIES.items():
    for _parent in _parents:
        _BREAKDOWN_LOOKUP.setdefault(_parent.lower(), _category)


def canonical_type(name):
    """Canonical spelling of an Amazon type name (case-insensitive); unknown names unchanged."""
    return _TYPE_LOOKUP.get(name.strip().lower(), name.strip())


def category_for_breakdown(breakdown_type):
    """Category of a 2024-06-19 parent ``breakdownType``, or None when unknown."""
    return _BREAKDOWN_LOOKUP.get(breakdown_type.strip().lower())


def amount_type(category, type_name):
    return f"{category}/{canonical_type(type_name)}"


def seller_amount(amount):
    """Amazon amount → line amount. Identity: lines keep Amazon's sign (seller's point of view).

    The one place to change should real data prove a source uses the opposite convention.
    """
    return amount


# ---------------------------------------------------------------------------------------------
# Event types
# ---------------------------------------------------------------------------------------------

# v0 list name → event type. Lists of ShipmentEvent shape first.
V0_SHIPMENT_LISTS = {
    "RefundEventList": "refund",
    "GuaranteeClaimEventList": "guarantee_claim",
    "ChargebackEventList": "chargeback",
}
V0_ADJUSTMENT_LIST = "AdjustmentEventList"
V0_SERVICE_FEE_LIST = "ServiceFeeEventList"
V0_RETROCHARGE_LIST = "RetrochargeEventList"
# The other lists of financesV0.json's FinancialEvents: not ours (sales, ads, loans...), ignored
# on purpose. A list name in neither set is new: its events come back as "other" events.
V0_IGNORED_LISTS = frozenset(
    {
        "ShipmentEventList",
        "ShipmentSettleEventList",
        "EBTRefundReimbursementOnlyEventList",
        "PayWithAmazonEventList",
        "ServiceProviderCreditEventList",
        "RentalTransactionEventList",
        "ProductAdsPaymentEventList",
        "SellerDealPaymentEventList",
        "DebtRecoveryEventList",
        "LoanServicingEventList",
        "SAFETReimbursementEventList",
        "SellerReviewEnrollmentPaymentEventList",
        "FBALiquidationEventList",
        "CouponPaymentEventList",
        "ImagingServicesFeeEventList",
        "NetworkComminglingTransactionEventList",
        "AffordabilityExpenseEventList",
        "AffordabilityExpenseReversalEventList",
        "RemovalShipmentEventList",
        "RemovalShipmentAdjustmentEventList",
        "TrialShipmentEventList",
        "TDSReimbursementEventList",
        "AdhocDisbursementEventList",
        "TaxWithholdingEventList",
        "ChargeRefundEventList",
        "FailedAdhocDisbursementEventList",
        "ValueAddedServiceChargeEventList",
        "CapacityReservationBillingEventList",
    }
)

# 2024-06-19 transactionType (lower case, no spaces) → event type. None = skipped (sales).
TRANSACTION_TYPES = {
    "shipment": None,
    "refund": "refund",
    "guaranteeclaim": "guarantee_claim",
    "chargeback": "chargeback",
    "adjustment": "adjustment",
    "servicefee": "service_fee",
    "retrocharge": "retrocharge",
    "retrochargereversal": "retrocharge",
}
# Amazon merges refunds, A-to-z claims and chargebacks into transactionType Refund (#4268):
# the description tells them apart (lower case).
REFUND_DESCRIPTIONS = {
    "refund order": "refund",
    "a-to-z guarantee claim": "guarantee_claim",
    "chargeback refund": "chargeback",
}
