"""Canonical events rendered as Finances v0 ``FinancialEvents`` (financesV0.json), with the
names and irregular shapes Amazon really sends (``doc/emulator.md``)."""

import copy

from .common import iso, quantize
from .events import ADS_FEE, RawEvent, fee_tax, promotion_parts

# The FinancialEvents lists of financesV0.json, in the model's order.
V0_LIST_NAMES = (
    "ShipmentEventList",
    "ShipmentSettleEventList",
    "RefundEventList",
    "GuaranteeClaimEventList",
    "ChargebackEventList",
    "PayWithAmazonEventList",
    "ServiceProviderCreditEventList",
    "RetrochargeEventList",
    "RentalTransactionEventList",
    "ProductAdsPaymentEventList",
    "ServiceFeeEventList",
    "SellerDealPaymentEventList",
    "DebtRecoveryEventList",
    "LoanServicingEventList",
    "AdjustmentEventList",
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
    "EBTRefundReimbursementOnlyEventList",
)
V0_SHIPMENT_LIST = {
    "refund": "RefundEventList",
    "guarantee_claim": "GuaranteeClaimEventList",
    "chargeback": "ChargebackEventList",
    "order": "ShipmentEventList",
}
# ShipmentItem list names: (charges, fees, withheld, promotions) of refunds and of sales
_ADJUSTMENT_LISTS = (
    "ItemChargeAdjustmentList",
    "ItemFeeAdjustmentList",
    "ItemTaxWithheldList",
    "PromotionAdjustmentList",
)
_SALE_LISTS = ("ItemChargeList", "ItemFeeList", "ItemTaxWithheldList", "PromotionList")


def _money(amount, currency):
    return {"CurrencyCode": currency, "CurrencyAmount": amount}


def _charges(mapping, currency):
    return [{"ChargeType": k, "ChargeAmount": _money(v, currency)} for k, v in mapping.items()]


def _fees(mapping, currency):
    return [{"FeeType": k, "FeeAmount": _money(v, currency)} for k, v in mapping.items()]


def _promotions(event, item):
    """PromotionType entries; in VAT marketplaces a promotion is written as two entries of the
    same type and id, its VAT first, then the rest (R01)."""
    result = []
    for name, amount in item.promotions.items():
        net, vat = promotion_parts(event, amount)
        for part in (vat, net) if vat is not None else (net,):
            result.append(
                {
                    "PromotionType": name,
                    "PromotionId": item.promotion_ids.get(name, ""),
                    "PromotionAmount": _money(part, event.currency),
                }
            )
    return result


def _shipment_item(event, item):
    charges_list, fees_list, withheld_list, promotions_list = (
        _SALE_LISTS if event.kind == "order" else _ADJUSTMENT_LISTS
    )
    entry = {
        "SellerSKU": item.sku,
        "OrderItemId": item.order_item_id,
        "OrderAdjustmentItemId": None if event.kind == "order" else item.order_adjustment_item_id,
        "QuantityShipped": item.quantity,
    }
    entry = {k: v for k, v in entry.items() if v is not None}
    cur = event.currency
    if item.charges:
        entry[charges_list] = _charges(item.charges, cur)
    if item.fees:
        entry[fees_list] = _fees(item.fees, cur)
    if item.withheld:
        entry[withheld_list] = [
            {
                "TaxCollectionModel": "MarketplaceFacilitator",
                "TaxesWithheld": _charges(item.withheld, cur),
            }
        ]
    if item.promotions:
        entry[promotions_list] = _promotions(event, item)
    return entry


def _shipment_event(event):
    items = [_shipment_item(event, item) for item in event.items]
    result = {
        "AmazonOrderId": event.order_id,
        "SellerOrderId": event.order_id,
        "MarketplaceName": event.market.name,
        "PostedDate": iso(event.posted),
        "ShipmentItemList" if event.kind == "order" else "ShipmentItemAdjustmentList": items,
    }
    if event.fees:
        name = "OrderFeeList" if event.kind == "order" else "OrderFeeAdjustmentList"
        result[name] = _fees(event.fees, event.currency)
    return result


def _adjustment_event(event):
    cur = event.currency
    result = {"AdjustmentType": event.adjustment_type}
    # R03: some adjustments come without PostedDate and AdjustmentAmount (items only).
    if not (event.items and event.has("v0_undated")):
        result["PostedDate"] = iso(event.posted)
        result["AdjustmentAmount"] = _money(event.net, cur)
    if event.store_name:
        result["StoreName"] = event.store_name
    if event.items:
        result["AdjustmentItemList"] = [
            {
                k: v
                for k, v in {
                    "Quantity": None if item.quantity is None else str(item.quantity),
                    "PerUnitAmount": None if item.per_unit is None else _money(item.per_unit, cur),
                    "TotalAmount": _money(item.total, cur),
                    "SellerSKU": item.sku,
                    "FnSKU": item.fnsku,
                    "ProductDescription": item.description,
                    "ASIN": item.asin,
                }.items()
                if v is not None
            }
            for item in event.items
        ]
    return result


def _service_fee_event(event, with_fees=True):
    # Amazon's v0 ServiceFeeEvent has no PostedDate (selling-partner-api-models #449).
    result = {
        "AmazonOrderId": event.order_id,
        "FeeReason": event.fee_reason,
        "FeeList": _fees(event.fees, event.currency) if with_fees else None,
        "SellerSKU": event.sku,
        "FeeDescription": event.fee_description,
    }
    return {k: v for k, v in result.items() if v is not None}


def _retrocharge_event(event):
    cur = event.currency
    result = {
        "RetrochargeEventType": event.retrocharge_type,
        "AmazonOrderId": event.order_id,
        "PostedDate": iso(event.posted),
        "BaseTax": None if event.base_tax is None else _money(event.base_tax, cur),
        "ShippingTax": None if event.shipping_tax is None else _money(event.shipping_tax, cur),
        "MarketplaceName": event.market.name,
    }
    return {k: v for k, v in result.items() if v is not None}


def _product_ads_event(event):
    """A ProductAdsPaymentEvent in the model's keys (financesV0.json: lower camel case, R05's
    fields): the fee's base and Amazon's tax on it, seller's signs (a charge is negative)."""
    cur = event.currency
    total = event.net
    tax = fee_tax(event, event, ADS_FEE, total) or 0
    result = {
        "postedDate": iso(event.posted),
        "transactionType": event.ads_transaction_type,
        "invoiceId": event.invoice_id,
        "baseValue": _money(total - tax, cur),
        "taxValue": _money(quantize(tax, cur), cur),
        "transactionValue": _money(total, cur),
    }
    return {k: v for k, v in result.items() if v is not None}


def to_v0_event(event):
    """Canonical event → ``(list_name, v0 event object)`` (the one carrying the money)."""
    if event.kind in V0_SHIPMENT_LIST:
        return V0_SHIPMENT_LIST[event.kind], _shipment_event(event)
    if event.kind == "adjustment":
        return "AdjustmentEventList", _adjustment_event(event)
    if event.kind == "service_fee":
        return "ServiceFeeEventList", _service_fee_event(event)
    if event.kind == "retrocharge":
        return "RetrochargeEventList", _retrocharge_event(event)
    if event.kind == "product_ads":
        return "ProductAdsPaymentEventList", _product_ads_event(event)
    raise ValueError(f"no v0 rendering for event kind {event.kind!r}")


def to_v0_events(event):
    """Canonical event → every v0 ``(list_name, object)`` Amazon sends for it: a service fee
    with the ``v0_feeless_twin`` quirk comes after a twin without FeeList (R02, R04)."""
    main = to_v0_event(event)
    if event.kind == "service_fee" and event.has("v0_feeless_twin"):
        return [("ServiceFeeEventList", _service_fee_event(event, with_fees=False)), main]
    return [main]


def to_v0_financial_events(events):
    """Events (canonical, or raw v0) → a v0 ``FinancialEvents`` object (every list present).

    Raw 2024-06-19 events are skipped. A raw v0 event of an unknown list adds that list.
    """
    result = {name: [] for name in V0_LIST_NAMES}
    for event in events:
        if isinstance(event, RawEvent):
            if event.api == "v0":
                result.setdefault(event.list_name, []).append(copy.deepcopy(event.raw))
            continue
        for list_name, obj in to_v0_events(event):
            result[list_name].append(obj)
    return result


def to_v0_group(group, total, now):
    """Group → v0 ``FinancialEventGroup`` at ``now`` (closed once its end has passed)."""
    cur = group.currency
    closed = group.is_closed(now)
    result = {
        "FinancialEventGroupId": group.group_id,
        "ProcessingStatus": "Closed" if closed else "Open",
    }
    if closed:
        result["FundTransferStatus"] = group.fund_transfer_status or "Succeeded"
    result["OriginalTotal"] = _money(total, cur)
    if group.converted_currency:
        converted = quantize(total * group.conversion_rate, group.converted_currency)
        result["ConvertedTotal"] = _money(converted, group.converted_currency)
    else:
        result["ConvertedTotal"] = _money(total, cur)
    if closed:
        result["FundTransferDate"] = iso(group.end)
        result["TraceId"] = group.trace_id
        result["AccountTail"] = group.account_tail
    result["BeginningBalance"] = _money(group.beginning_balance, cur)
    result["FinancialEventGroupStart"] = iso(group.start)
    if closed:
        result["FinancialEventGroupEnd"] = iso(group.end)
    return result
