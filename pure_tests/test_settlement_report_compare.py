"""The settlement report compared with the events: rows the addon does not import are named
apart (never a false difference), names that differ for the same money are noted, and every
money difference is still named."""

import os
from decimal import Decimal

from domain.settlement_compare import compare, compare_with_events
from domain.settlement_report import CATEGORIES, classify_row, parse_settlement_report

D = Decimal
FIXTURES = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "fixtures", "settlement_reports"
)


def report():
    with open(os.path.join(FIXTURES, "v2_all_row_types.txt"), "rb") as handle:
        return parse_settlement_report(handle.read())


def imported_events(**changes):
    """What the addon imports of the fixture's settlement, as the events name it: the refund
    (its promotions under their v0 PromotionType), the chargeback, the FBA fee, the
    subscription, the reimbursement, the storage and disposal fees, the retrocharge."""
    events = {
        "Charge/Principal": D("-24.99"),
        "Charge/ShippingCharge": D("-2.99"),
        "Charge/GiftWrap": D("-1.50"),
        "Promotion/PromotionMetaDataDefinitionValue": D("3.99"),
        "TaxWithheld/MarketplaceFacilitatorVAT-Principal": D("2.50"),
        "Fee/Commission": D("2.25"),
        "Fee/RefundCommission": D("-0.45"),
        "Fee/InboundDefectFee": D("-12.00"),
        "Fee/Subscription": D("-25.00"),
        "Adjustment/REVERSAL_REIMBURSEMENT": D("-6.40"),
        "Fee/StorageRenewalBilling": D("-3.10"),
        "Fee/FBADisposalFee": D("-0.75"),
        "Retrocharge/BaseTax": D("-0.40"),
    }
    events.update(changes)
    return {t: a for t, a in events.items() if a is not None}


def total(events):
    return sum(events.values(), D(0))


def test_rows_the_addon_does_not_import_are_named_and_not_compared():
    events = imported_events()
    result = compare(report(), events, total(events))
    assert result.differences == ()
    assert [(n.category, n.label, n.amount) for n in result.not_imported] == [
        ("advertising", "advertising", D("-7.20")),
        ("liquidations", "FBA liquidations", D("4.20")),
        ("reserve", "reserve", D("5.00")),
        ("sales", "sales", D("17.49")),
    ]
    sales = next(n for n in result.not_imported if n.category == "sales")
    assert dict(sales.by_type) == {
        "Charge/Principal": D("20.00"),
        "Charge/ShippingCharge": D("2.99"),
        "Fee/Commission": D("-3.00"),
        "Fee/FBAPerUnitFulfillmentFee": D("-2.50"),
    }
    assert result.compared_total == total(events) == D("-68.84")
    assert result.notes == (
        "Not imported by the addon, so not compared: advertising -7.20, FBA liquidations 4.20, "
        "reserve 5.00, sales 17.49 GBP",
        "Promotion: the report and the events name these amounts differently (Promotion/"
        "Principal, Promotion/PromotionMetaDataDefinitionValue, Promotion/Shipping); their sums "
        "agree",
    )
    # the sales' Charge/Principal is not added to the refund's and the chargeback's
    principal = next(line for line in result.lines if line.amount_type == "Charge/Principal")
    assert (principal.report, principal.events) == (D("-24.99"), D("-24.99"))
    assert not any(line.amount_type.startswith("Adjustment/Reserve") for line in result.lines)
    assert compare_with_events(report(), events, total(events)) == (result.lines, ())


def test_the_total_names_what_was_left_out():
    events = imported_events()
    result = compare(report(), events, total(events) + D("1.00"))
    assert result.differences == (
        "Report total -49.35 GBP, less 19.49 not imported by the addon, differs from the "
        "events' -67.84 by -1.00",
    )


def test_the_reserve_is_compared_once_the_events_carry_it():
    both = imported_events(
        **{"Adjustment/ReserveDebit": D("-35.00"), "Adjustment/ReserveCredit": D("40.00")}
    )
    result = compare(report(), both, total(both))
    assert result.differences == ()
    assert "reserve" not in {n.category for n in result.not_imported}
    reserve = {
        line.amount_type: line.report
        for line in result.lines
        if line.amount_type.startswith("Adjustment/Reserve")
    }
    assert reserve == {
        "Adjustment/ReserveCredit": D("40.00"),
        "Adjustment/ReserveDebit": D("-35.00"),
    }
    # the release missing from the events is a difference, not a naming one
    held = imported_events(**{"Adjustment/ReserveDebit": D("-35.00")})
    result = compare(report(), held, total(held))
    assert result.differences == (
        "Report total -49.35 GBP, less 14.49 not imported by the addon, differs from the "
        "events' -103.84 by 40.00",
        "Adjustment/ReserveCredit: not in the events (difference 40.00)",
    )
    assert CATEGORIES["reserve"].event_types >= {
        "Adjustment/ReserveDebit",
        "Adjustment/ReserveEvent",
    }


def test_a_money_difference_is_named_where_the_names_agree():
    events = imported_events(**{"Charge/Principal": D("-23.99")})
    result = compare(report(), events, total(events))
    assert result.differences == (
        "Report total -49.35 GBP, less 19.49 not imported by the addon, differs from the "
        "events' -67.84 by -1.00",
        "Charge/Principal: report -24.99, events -23.99 (difference -1.00)",
    )
    # a principal booked as tax: both names on both sides, the family's sum agrees
    events = imported_events(**{"Charge/Principal": D("-23.99"), "Charge/GiftWrap": D("-2.50")})
    result = compare(report(), events, total(events))
    assert result.differences == (
        "Charge/GiftWrap: report -1.50, events -2.50 (difference 1.00)",
        "Charge/Principal: report -24.99, events -23.99 (difference -1.00)",
    )


def test_names_on_one_side_are_differences_when_their_sums_differ():
    events = imported_events(**{"Promotion/PromotionMetaDataDefinitionValue": D("2.99")})
    result = compare(report(), events, total(events))
    assert result.differences[1:] == (
        "Promotion/Principal: not in the events (difference 1.00)",
        "Promotion/PromotionMetaDataDefinitionValue: not in the report (difference -2.99)",
        "Promotion/Shipping: not in the events (difference 2.99)",
    )
    events = imported_events(**{"Promotion/PromotionMetaDataDefinitionValue": None})
    result = compare(report(), events, total(events))
    assert result.differences[1:] == (
        "Promotion/Principal: not in the events (difference 1.00)",
        "Promotion/Shipping: not in the events (difference 2.99)",
    )


def test_an_unknown_row_is_always_named():
    text = (
        "settlement-id\ttotal-amount\tcurrency\ttransaction-type\tamount-type\t"
        "amount-description\tamount\n"
        "7\t-1.00\tUSD\t\t\t\t\n"
        "7\t\t\tother-transaction\tother-transaction\tSomething Amazon invents\t2.00\n"
        "7\t\t\tRefund\tItemPrice\tPrincipal\t-3.00\n"
    )
    parsed = parse_settlement_report(text)
    # even where an event of another name has the same money
    events = {"Charge/Principal": D("-3.00"), "Other/SomethingElse": D("2.00")}
    result = compare(parsed, events, D("-1.00"))
    assert result.differences == (
        "Other/SomethingElse: not in the report (difference -2.00)",
        "Report/other-transaction/Something Amazon invents: not known to the mapping of report "
        "rows (difference 2.00)",
    )


def test_row_classification():
    assert classify_row("Order", "ItemPrice", "Principal") == ("Charge/Principal", "sales")
    assert classify_row("Refund", "ItemPrice", "Shipping") == ("Charge/ShippingCharge", "")
    assert classify_row("FBAFees", "FBA Removal Order: Disposal Fee", "Base fee") == (
        "Fee/FBADisposalFee",
        "",
    )
    assert classify_row("AmazonFees", "Coupon Performance Fee", "Tax on fee") == (
        "FeeTax/CouponPerformanceFee",
        "",
    )
    assert classify_row("other-transaction", "other-transaction", "Payable to Amazon") == (
        "Transfer/PayableToAmazon",
        "transfers",
    )
    assert classify_row("other-transaction", "other-transaction", "COMPENSATED_CLAWBACK") == (
        "Adjustment/COMPENSATED_CLAWBACK",
        "",
    )
    assert classify_row("other-transaction", "other-transaction", "PostageBilling") == (
        "Adjustment/PostageBilling",
        "",
    )
    assert classify_row("other-transaction", "other-transaction", "GetPaidFasterFee") == (
        "Fee/GetPaidFasterFee",
        "",
    )
    assert classify_row("other-transaction", "Reserve", "ReserveEvent") == (
        "Adjustment/ReserveEvent",
        "reserve",
    )
    assert classify_row("Liquidations", "ItemFees", "Commission") == (
        "Fee/Commission",
        "liquidations",
    )


def test_sales_are_compared_once_the_settlement_has_sale_events():
    # Sales are imported: the report's Order rows are compared with the sale events' lines.
    events = imported_events()
    for amount_type, amount in {
        "Charge/Principal": D("20.00"),
        "Charge/ShippingCharge": D("2.99"),
        "Fee/Commission": D("-3.00"),
        "Fee/FBAPerUnitFulfillmentFee": D("-2.50"),
    }.items():
        events[amount_type] = events.get(amount_type, D(0)) + amount
    result = compare(report(), events, total(events), event_kinds={"refund", "sale"})
    assert result.differences == ()
    assert "sales" not in {n.category for n in result.not_imported}
    assert result.compared_total == total(events)
    principal = next(line for line in result.lines if line.amount_type == "Charge/Principal")
    assert (principal.report, principal.events) == (D("-4.99"), D("-4.99"))
    # a sale the events miss is a difference, named
    short = dict(events, **{"Charge/ShippingCharge": events["Charge/ShippingCharge"] - D("2.99")})
    missing = compare(report(), short, total(short), event_kinds={"sale"})
    assert any(d.startswith("Charge/ShippingCharge") for d in missing.differences)
    # without sale events, the sales stay apart as before
    assert "sales" in {n.category for n in compare(report(), events, total(events)).not_imported}
