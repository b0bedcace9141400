"""V2 flat-file settlement reports of the emulated seller (Reports API 2021-06-30).

Amazon generates one ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2`` per closed settlement; it
cannot be requested. The file is tab-separated: a header line (S04's 24 columns), one summary
row (settlement id, period, deposit date, total, currency), then one row per amount of every
event of the group, in the vocabulary of real files (``../shared/realdata`` S04, derived S02 and
S03, the INDEX's list; ``doc/emulator.md``):

- ``Order`` / ``Refund`` / ``A-to-z Guarantee Claim`` / ``Chargeback Refund`` rows: ``ItemPrice``
  (``Principal``, ``Tax``, ``Shipping``, ``ShippingTax``, ``GiftWrap``...), ``ItemWithheldTax``
  (``MarketplaceFacilitatorVAT-Principal``...), ``Promotion`` (``Principal`` / ``Shipping``, and
  their VAT ``TaxDiscount`` / ``ShippingTaxDiscount``), ``ItemFees`` (``Commission``,
  ``RefundCommission``...); refunds carry an ``amzn1:crow:`` adjustment id;
- FBA and Amazon service fees in the newer layout: ``FBAFees`` / ``AmazonFees`` rows with the
  fee's name as amount type and ``Base fee`` (and ``Tax on fee``) as description;
- ``other-transaction`` rows: ``Subscription Fee``, ``Current Reserve Amount`` (a reserve held),
  ``Previous Reserve Amount Balance`` (released), ``FBA Inventory Reimbursement`` per SKU;
- ``Order_Retrocharge`` / ``Retrocharge`` rows (``BaseTax``, ``ShippingTax``).

The rows add up to the summary's total. The settlement id is numeric and differs from the
FinancialEventGroupId, as at Amazon.
"""

import gzip
import hashlib
from datetime import timedelta

from .common import BASE64, alnum, digest
from .events import ADS_FEE, fee_tax, promotion_parts
from .v2024 import REIMBURSEMENT_TYPES

SETTLEMENT_REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
COLUMNS = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "amount-type",
    "amount-description",
    "amount",
    "fulfillment-id",
    "posted-date",
    "posted-date-time",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "promotion-id",
)
# Amazon makes the report available some time after the period closes.
REPORT_DELAY = timedelta(hours=1)
# Pre-signed document URLs expire after 5 minutes.
DOCUMENT_URL_LIFETIME = timedelta(minutes=5)

ORDER_TRANSACTION_TYPES = {
    "order": "Order",
    "refund": "Refund",
    "guarantee_claim": "A-to-z Guarantee Claim",
    "chargeback": "Chargeback Refund",
}
# v0 ChargeType → ItemPrice amount-description
CHARGE_DESCRIPTIONS = {"ShippingCharge": "Shipping"}
# promotion base → (description of the promotion, of its VAT part)
PROMOTION_DESCRIPTIONS = {
    "Principal": ("Principal", "TaxDiscount"),
    "Shipping": ("Shipping", "ShippingTaxDiscount"),
}
# Service fees in the newer layout: FeeType → (transaction-type, amount-type)
FEE_ROWS = {
    "FBAStorageFee": ("FBAFees", "FBA Storage Fee"),
    "FBALongTermStorageFee": ("FBAFees", "FBA Long Term Storage Fee"),
    "StorageRenewalBilling": ("FBAFees", "FBA Long Term Storage Fee"),
    "FBADisposalFee": ("FBAFees", "FBA Removal Order: Disposal Fee"),
    "FBARemovalFee": ("FBAFees", "FBA Removal Order: Return Fee"),
    "FBAInboundTransportationFee": ("FBAFees", "Inbound Transportation Fee"),
    "FBAInboundTransportationProgramFee": ("FBAFees", "Inbound Transportation Program Fee"),
    "FBACustomerReturnPerOrderFee": ("FBAFees", "FBA Customer Return Per Order Fee"),
    "FBACustomerReturnPerUnitFee": ("FBAFees", "FBA Customer Return Per Unit Fee"),
    "FBACustomerReturnWeightBasedFee": ("FBAFees", "FBA Customer Return Weight Based Fee"),
    "InboundDefectFee": ("FBAFees", "Inbound Defect Fee"),
    "CouponParticipationFee": ("AmazonFees", "Coupon Participation Fee"),
    "CouponPerformanceFee": ("AmazonFees", "Coupon Performance Fee"),
    "DealParticipationFee": ("AmazonFees", "Deal Participation Fee"),
    "DealPerformanceFee": ("AmazonFees", "Deal Performance Fee"),
}
# Service fees written as other-transaction rows: FeeType → amount-description
OTHER_FEE_DESCRIPTIONS = {"Subscription": "Subscription Fee"}
RESERVE_DESCRIPTIONS = {
    "ReserveDebit": "Current Reserve Amount",
    "ReserveCredit": "Previous Reserve Amount Balance",
}
OTHER = "other-transaction"


def _digits(text, length):
    number = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    return str(number)[:length]


def settlement_id(group):
    return _digits("settlement:" + group.group_id, 11)


def report_id(group):
    return _digits("report:" + group.group_id, 11)


def document_id(group):
    return "amzn1.spdoc.1.4.na." + _digits("document:" + group.group_id, 30)


def adjustment_id(event):
    """A refund's or reimbursement's adjustment id as real files write it (S03, S02)."""
    return "amzn1:crow:" + alnum(digest("crow", event.transaction_id), 22, BASE64)


def _report_shipment_id(event):
    return alnum(digest("report-shipment", event.transaction_id), 9, BASE64[:62])


def _date(moment):
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _amount(value, currency):
    places = 0 if currency == "JPY" else 2
    return f"{value:.{places}f}"


class _Rows:
    """The rows of one event: a base (ids, dates) and one row per amount."""

    def __init__(self, event, transaction_type, **base):
        self.event = event
        self.rows = []
        self.base = {
            "transaction-type": transaction_type,
            "posted-date": event.posted.strftime("%Y-%m-%d"),
            "posted-date-time": _date(event.posted),
            **base,
        }

    def add(self, amount_type, description, amount, **extra):
        row = dict(self.base)
        row.update(extra)
        row["amount-type"] = amount_type
        row["amount-description"] = description
        row["amount"] = _amount(amount, self.event.currency)
        self.rows.append(row)

    def fee(self, owner, name, amount, **extra):
        """A fee of ``owner`` (an item, or the event) as ``Base fee`` / ``Tax on fee`` rows."""
        tax = fee_tax(self.event, owner, name, amount)
        kind, amount_type = FEE_ROWS[name]
        self.base["transaction-type"] = kind
        self.add(amount_type, "Base fee", amount - (tax or 0), **extra)
        if tax is not None:
            self.add(amount_type, "Tax on fee", tax, **extra)


def _order_rows(event):
    base = {
        "order-id": event.order_id or "",
        "merchant-order-id": event.order_id or "",
        "marketplace-name": event.market.name,
        "fulfillment-id": "AFN",
    }
    if event.kind == "order":
        base["shipment-id"] = _report_shipment_id(event)
    else:
        base["adjustment-id"] = adjustment_id(event)
    rows = _Rows(event, ORDER_TRANSACTION_TYPES[event.kind], **base)
    for item in event.items:
        extra = {"order-item-code": item.order_item_id or "", "sku": item.sku or ""}
        if event.kind != "order":
            extra["merchant-adjustment-item-id"] = item.order_adjustment_item_id or ""
        for name, amount in item.charges.items():
            rows.add("ItemPrice", CHARGE_DESCRIPTIONS.get(name, name), amount, **extra)
        for name, amount in item.withheld.items():
            rows.add("ItemWithheldTax", name, amount, **extra)
        for name, amount in item.promotions.items():
            description, vat_description = PROMOTION_DESCRIPTIONS.get(
                item.promotion_base, PROMOTION_DESCRIPTIONS["Principal"]
            )
            net, vat = promotion_parts(event, amount)
            promo = {**extra, "promotion-id": item.promotion_ids.get(name, "")}
            rows.add("Promotion", description, net, **promo)
            if vat is not None:
                rows.add("Promotion", vat_description, vat, **promo)
        for name, amount in item.fees.items():
            rows.add("ItemFees", name, amount, **extra)
    for name, amount in event.fees.items():
        rows.add("ItemFees", name, amount)
    return rows.rows


def _adjustment_rows(event):
    kind = event.adjustment_type
    if kind in RESERVE_DESCRIPTIONS:
        rows = _Rows(event, OTHER)
        rows.add(OTHER, RESERVE_DESCRIPTIONS[kind], event.net)
        return rows.rows
    rows = _Rows(event, OTHER, **{"adjustment-id": adjustment_id(event)})
    amount_type = "FBA Inventory Reimbursement" if kind in REIMBURSEMENT_TYPES else OTHER
    if not event.items:
        rows.add(amount_type, kind, event.net)
    for item in event.items:
        quantity = "" if item.quantity is None else str(item.quantity)
        rows.add(
            amount_type, kind, item.total, sku=item.sku or "", **{"quantity-purchased": quantity}
        )
    return rows.rows


def _service_fee_rows(event):
    base = {"order-id": event.order_id or "", "sku": event.sku or ""}
    result = []
    for name, amount in event.fees.items():
        rows = _Rows(event, OTHER, **base)
        if name in FEE_ROWS:
            rows.fee(event, name, amount)
        else:
            rows.add(OTHER, OTHER_FEE_DESCRIPTIONS.get(name, name), amount)
        result += rows.rows
    return result


def _retrocharge_rows(event):
    rows = _Rows(
        event,
        "Order_Retrocharge",
        **{"order-id": event.order_id or "", "marketplace-name": event.market.name},
    )
    for name, amount in (("BaseTax", event.base_tax), ("ShippingTax", event.shipping_tax)):
        if amount is not None:
            rows.add("Retrocharge", name, amount)
    return rows.rows


def _product_ads_rows(event):
    """S02/S03 (real CA files): ``ServiceFee / Cost of Advertising / TransactionTotalAmount``
    (the base) and ``TaxAmount`` (Amazon's tax on it)."""
    rows = _Rows(event, "ServiceFee")
    total = event.net
    tax = fee_tax(event, event, ADS_FEE, total)
    rows.add("Cost of Advertising", "TransactionTotalAmount", total - (tax or 0))
    if tax:
        rows.add("Cost of Advertising", "TaxAmount", tax)
    return rows.rows


def event_rows(event):
    """The report rows of one canonical event (dicts keyed by column)."""
    if event.kind in ORDER_TRANSACTION_TYPES:
        return _order_rows(event)
    if event.kind == "adjustment":
        return _adjustment_rows(event)
    if event.kind == "service_fee":
        return _service_fee_rows(event)
    if event.kind == "product_ads":
        return _product_ads_rows(event)
    return _retrocharge_rows(event)


# The previous transfer, returned by the bank and paid again with this settlement: an
# other-transaction row in the style of the real "Payable to Amazon" / "Successful charge" rows
# (ca_settlements_v1); its description is **assumed** (no real file shows a failed transfer).
FAILED_TRANSFER_DESCRIPTION = "Failed Disbursement"


def carried_row(group):
    return {
        "transaction-type": OTHER,
        "amount-type": OTHER,
        "amount-description": FAILED_TRANSFER_DESCRIPTION,
        "amount": _amount(group.carried_in, group.currency),
        "posted-date": group.start.strftime("%Y-%m-%d"),
        "posted-date-time": _date(group.start),
    }


def report_rows(dataset, group):
    """The amount rows of a group's events (dicts keyed by column)."""
    rows = []
    for event in dataset.group_events(group):
        rows += event_rows(event)
    if group.carried_in:
        rows.append(carried_row(group))
    rows += [dict(r) for r in dataset.report_extra_rows.get(group.group_id, ())]
    return rows


def render_settlement_report(dataset, group):
    """The flat file (str) of a closed group."""
    cur = group.currency
    rows = report_rows(dataset, group)
    total = dataset.group_total(group) + dataset.report_total_delta.get(group.group_id, 0)
    sid = settlement_id(group)
    lines = ["\t".join(COLUMNS)]
    summary = {
        "settlement-id": sid,
        "settlement-start-date": _date(group.start),
        "settlement-end-date": _date(group.end),
        "deposit-date": _date(group.end),
        "total-amount": _amount(total, cur),
        "currency": cur,
    }
    lines.append("\t".join(summary.get(c, "") for c in COLUMNS))
    for row in rows:
        row = {**row, "settlement-id": sid}
        lines.append("\t".join(str(row.get(c, "")) for c in COLUMNS))
    return "\n".join(lines) + "\n"


def report_entry(dataset, group):
    """The ``Report`` object getReports lists for a closed group."""
    markets = sorted(
        {ev.market.marketplace_id for ev in dataset.group_events(group)}
        or {m.marketplace_id for m in dataset.markets_of(group.currency)}
    )
    created = group.end + REPORT_DELAY
    return {
        "reportId": report_id(group),
        "reportType": SETTLEMENT_REPORT_TYPE,
        "marketplaceIds": markets,
        "dataStartTime": group.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dataEndTime": group.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "createdTime": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "processingStatus": "DONE",
        "processingStartTime": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "processingEndTime": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reportDocumentId": document_id(group),
    }


def available_reports(dataset, now):
    """Reports of the groups closed (and reported) at ``now``, oldest first."""
    return [
        (group, report_entry(dataset, group))
        for group in dataset.groups
        if group.is_closed(now) and group.end + REPORT_DELAY <= now
    ]


def gzip_document(text):
    return gzip.compress(text.encode("utf-8"), mtime=0)
