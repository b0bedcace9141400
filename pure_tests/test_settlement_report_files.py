"""Real settlement report files (``../shared/realdata``, read in place, never copied) and the
project's own fixtures of each layout: every file is read, its rows add up to its total line
exactly, no amount is dropped, every row type is mapped to the project's amount types."""

import csv
import os
from decimal import Decimal

import pytest

from domain.settlement_compare import compare
from domain.settlement_report import (
    REPORT_TYPE,
    V1,
    V1_REPORT_TYPE,
    V2,
    ReportError,
    parse_settlement_report,
)

D = Decimal
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REALDATA = os.path.normpath(os.path.join(ROOT, os.pardir, "shared", "realdata"))
FIXTURES = os.path.join(ROOT, "pure_tests", "fixtures", "settlement_reports")
CA_V1 = "ca_settlements_v1"
CA_V1_FILES = (
    "50011020300.txt",
    "50018020314.txt",
    "50034020328.txt",
    "50041020342.txt",
    "50044020356.txt",
    "50051020370.txt",
    "50065020384.txt",
)
REAL_FILES = {
    "S01_CA_real_v1_flatfile_50018020314.txt": V1,
    "S04_US_v2_fbafees_row_5353.txt": V2,
    "derived/S02_CA_v2_converted_from_real_v1_50044020356.txt": V2,
    "derived/S03_CA_v2_converted_from_real_v1_50018020314.txt": V2,
    **{f"{CA_V1}/{name}": V1 for name in CA_V1_FILES},
}


def real_path(name):
    if not os.path.isdir(REALDATA):
        pytest.skip(f"{REALDATA} is absent: the real settlement files are not on this machine")
    path = os.path.join(REALDATA, name)
    if not os.path.exists(path):
        pytest.skip(f"{path} is absent from the real data folder")
    return path


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def money_cells(path):
    """The filled amount cells of a flat file, read apart from the parser (summary excluded)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.reader(handle, delimiter="\t") if any(c.strip() for c in r)]
    header = [c.strip() for c in rows[0]]
    columns = [i for i, c in enumerate(header) if c.endswith("amount") and c != "total-amount"]
    total_at = header.index("total-amount")
    cells = []
    for row in rows[1:]:
        if total_at < len(row) and row[total_at].strip():
            continue
        cells += [row[i].strip() for i in columns if i < len(row) and row[i].strip()]
    return cells


def test_every_real_settlement_file_is_listed():
    folder = os.path.join(real_path(CA_V1), os.pardir)
    found = {
        os.path.relpath(os.path.join(base, name), folder)
        for base, _dirs, names in os.walk(folder)
        for name in names
        if name.endswith(".txt")
    }
    assert found == set(REAL_FILES)


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_a_real_file_is_read_and_its_rows_add_up_to_its_total(name):
    path = real_path(name)
    report = parse_settlement_report(read(path))
    assert report.layout == REAL_FILES[name]
    assert report.report_type == (REPORT_TYPE if report.layout == V2 else V1_REPORT_TYPE)
    assert isinstance(report.total, Decimal)
    assert report.rows_total == report.total
    # no amount is dropped: one row per filled amount cell, the same money
    cells = money_cells(path)
    assert len(report.rows) == len(cells)
    assert sum((D(c) for c in cells), D(0)) == report.total
    # every row type is known to the mapping
    assert [r for r in report.rows if r.amount_type.startswith("Report/")] == []
    refunds = [r for r in report.rows if r.transaction_type == "Refund"]
    assert all(r.adjustment_id.startswith("amzn1:crow:") for r in refunds)
    assert report.currency in ("CAD", "USD")


@pytest.mark.parametrize(
    ("v1_name", "v2_name"),
    [
        (f"{CA_V1}/50018020314.txt", "derived/S03_CA_v2_converted_from_real_v1_50018020314.txt"),
        (f"{CA_V1}/50044020356.txt", "derived/S02_CA_v2_converted_from_real_v1_50044020356.txt"),
        ("S01_CA_real_v1_flatfile_50018020314.txt", f"{CA_V1}/50018020314.txt"),
    ],
)
def test_a_real_v1_file_reads_as_its_v2_rewrite(v1_name, v2_name):
    v1 = parse_settlement_report(read(real_path(v1_name)))
    v2 = parse_settlement_report(read(real_path(v2_name)))
    assert (v1.settlement_id, v1.total, v1.currency) == (v2.settlement_id, v2.total, v2.currency)
    assert v1.totals_by_type() == v2.totals_by_type()
    categories = {(r.amount_type, r.category) for r in v1.rows}
    assert categories == {(r.amount_type, r.category) for r in v2.rows}


def test_the_real_ca_settlement_agrees_with_the_events_the_addon_imports():
    """S01: a sale, a refund, a subscription fee, advertising and a card charge that pays the
    previous negative settlement. The addon imports the refund and the subscription fee."""
    report = parse_settlement_report(read(real_path("S01_CA_real_v1_flatfile_50018020314.txt")))
    refund = [r for r in report.rows if r.order_id == "702-1278184-4976266"]
    assert {r.adjustment_id for r in refund} == {"amzn1:crow:0UcGz5LNTCm+rGIQEkAv5g"}
    events = {
        "Charge/Principal": D("-60.00"),
        "Fee/Commission": D("9.63"),
        "Fee/RefundCommission": D("-1.93"),
        "Fee/DigitalServicesFee": D("0.29"),
        "Fee/Subscription": D("-32.09"),
    }
    result = compare(report, events, D("-84.10"))
    assert result.differences == ()
    assert {(n.label, n.amount) for n in result.not_imported} == {
        ("sales", D("23.09")),
        ("advertising", D("-1.30")),
        ("transfers and card charges", D("0.00")),
    }
    assert result.compared_total == D("-84.10")
    assert result.notes[0] == (
        "Not imported by the addon, so not compared: advertising -1.30, sales 23.09, "
        "transfers and card charges 0.00 CAD"
    )
    assert {line.amount_type for line in result.lines} == set(events)


def test_the_real_fba_fee_row_in_the_newer_layout():
    report = parse_settlement_report(read(real_path("S04_US_v2_fbafees_row_5353.txt")))
    (row,) = report.rows
    assert (row.transaction_type, row.raw_amount_type, row.raw_description) == (
        "FBAFees",
        "Inbound Defect Fee",
        "Base fee",
    )
    assert (row.amount_type, row.amount, row.category) == ("Fee/InboundDefectFee", D("-128.00"), "")
    assert row.order_id == "FBA19CD9HGQ8"  # an FBA shipment id in the order-id column (#5353)


# ---------------------------------------------------------------------------------------------
# The project's fixtures (own words, the shapes of the real files)
# ---------------------------------------------------------------------------------------------


def fixture(name):
    return parse_settlement_report(read(os.path.join(FIXTURES, name)))


# INDEX.md's table of real V2 rows, and where each lands
V2_ROWS = {
    ("Order", "ItemPrice", "Principal"): ("Charge/Principal", "sales"),
    ("Order", "ItemPrice", "Shipping"): ("Charge/ShippingCharge", "sales"),
    ("Order", "ItemFees", "Commission"): ("Fee/Commission", "sales"),
    ("Order", "ItemFees", "FBAPerUnitFulfillmentFee"): ("Fee/FBAPerUnitFulfillmentFee", "sales"),
    ("Refund", "ItemPrice", "Principal"): ("Charge/Principal", ""),
    ("Refund", "ItemPrice", "Shipping"): ("Charge/ShippingCharge", ""),
    ("Refund", "ItemPrice", "GiftWrap"): ("Charge/GiftWrap", ""),
    ("Refund", "Promotion", "Principal"): ("Promotion/Principal", ""),
    ("Refund", "Promotion", "Shipping"): ("Promotion/Shipping", ""),
    ("Refund", "ItemWithheldTax", "MarketplaceFacilitatorVAT-Principal"): (
        "TaxWithheld/MarketplaceFacilitatorVAT-Principal",
        "",
    ),
    ("Refund", "ItemFees", "Commission"): ("Fee/Commission", ""),
    ("Refund", "ItemFees", "RefundCommission"): ("Fee/RefundCommission", ""),
    ("ServiceFee", "Cost of Advertising", "TransactionTotalAmount"): (
        "Fee/CostOfAdvertising",
        "advertising",
    ),
    ("FBAFees", "Inbound Defect Fee", "Base fee"): ("Fee/InboundDefectFee", ""),
    ("other-transaction", "other-transaction", "Subscription Fee"): ("Fee/Subscription", ""),
    ("other-transaction", "other-transaction", "Previous Reserve Amount Balance"): (
        "Adjustment/ReserveCredit",
        "reserve",
    ),
    ("other-transaction", "other-transaction", "Current Reserve Amount"): (
        "Adjustment/ReserveDebit",
        "reserve",
    ),
    ("other-transaction", "FBA Inventory Reimbursement", "REVERSAL_REIMBURSEMENT"): (
        "Adjustment/REVERSAL_REIMBURSEMENT",
        "",
    ),
    ("other-transaction", "other-transaction", "StorageRenewalBilling"): (
        "Fee/StorageRenewalBilling",
        "",
    ),
    ("other-transaction", "other-transaction", "DisposalComplete"): ("Fee/FBADisposalFee", ""),
    ("Liquidations", "ItemPrice", "Principal"): ("Charge/Principal", "liquidations"),
    ("Chargeback Refund", "ItemPrice", "Principal"): ("Charge/Principal", ""),
    ("Order_Retrocharge", "Retrocharge", "BaseTax"): ("Retrocharge/BaseTax", ""),
}


def test_v2_every_real_row_type_is_mapped():
    report = fixture("v2_all_row_types.txt")
    assert (report.layout, report.settlement_id, report.currency) == (V2, "24011700123", "GBP")
    mapped = {
        (r.transaction_type, r.raw_amount_type, r.raw_description): (r.amount_type, r.category)
        for r in report.rows
    }
    assert mapped == V2_ROWS
    assert report.rows_total == report.total == D("-49.35")
    crow = {r.adjustment_id for r in report.rows if r.transaction_type == "Refund"}
    assert crow == {"amzn1:crow:Fx7bQ2mKTa+Zr9LpVw3nEq"}
    fba = next(r for r in report.rows if r.transaction_type == "FBAFees")
    assert fba.order_id == "FBA15XYZ8QWE"


def test_v2_reserve_rows_keep_amazons_sign():
    """The reserve released from the previous settlement is money in (ReserveCredit, positive),
    the reserve held now money out (ReserveDebit, negative): the total counts them as written."""
    report = fixture("v2_all_row_types.txt")
    reserve = {r.amount_type: r.amount for r in report.rows if r.category == "reserve"}
    assert reserve == {
        "Adjustment/ReserveCredit": D("40.00"),
        "Adjustment/ReserveDebit": D("-35.00"),
    }
    others = sum((r.amount for r in report.rows if r.category != "reserve"), D(0))
    assert others + D("40.00") - D("35.00") == report.total


def test_v2_fees_in_both_layouts_give_the_same_fees():
    older = fixture("v2_fees_older_layout.txt")
    newer = fixture("v2_fees_newer_layout.txt")
    assert older.total == newer.total == D("-1087.10")  # "-1.087,10": decimal comma, thousands
    assert older.rows_total == older.total and newer.rows_total == newer.total
    assert older.start == newer.start and older.start.day == 1 and older.start.month == 8
    old, new = older.totals_by_type(), newer.totals_by_type()
    for fee in ("FBAInboundTransportationFee", "FBAInboundTransportationProgramFee"):
        assert old[f"Fee/{fee}"] == new[f"Fee/{fee}"] + new[f"FeeTax/{fee}"]
    assert new["FeeTax/FBAInboundTransportationFee"] == D("-4.82")
    assert old["Charge/Principal"] == new["Charge/Principal"] == D("-1234.45")
    # events named as v0 names them (the VAT inside the fee) agree with the newer layout
    result = compare(newer, old, older.total)
    assert result.differences == ()
    assert result.notes == (
        "Fee: the report and the events name these amounts differently (Fee/"
        "FBAInboundTransportationFee, Fee/FBAInboundTransportationProgramFee, FeeTax/"
        "FBAInboundTransportationFee, FeeTax/FBAInboundTransportationProgramFee); their sums agree",
    )


V1_TYPES = {
    ("Charge/Principal", "sales"): D("48.00"),
    ("Charge/ShippingCharge", "sales"): D("5.99"),
    ("Fee/Commission", "sales"): D("-7.20"),
    ("Fee/FBAPerUnitFulfillmentFee", "sales"): D("-11.04"),
    ("Promotion/Shipping", "sales"): D("-5.99"),
    ("Fee/FBATransportationFee", "sales"): D("-0.84"),
    ("Fee/GiftwrapChargeback", "sales"): D("-1.10"),
    ("Charge/Principal", ""): D("-24.00"),
    ("Fee/Commission", ""): D("3.60"),
    ("Fee/RefundCommission", ""): D("-0.72"),
    ("Fee/CostOfAdvertising", "advertising"): D("-3.48"),
    ("FeeTax/CostOfAdvertising", "advertising"): D("-0.45"),
    ("Fee/Subscription", ""): D("-32.09"),
    ("Fee/FBAStorageFee", ""): D("-2.16"),
    ("Fee/FBAInboundTransportationFee", ""): D("-18.40"),
    ("Adjustment/WAREHOUSE_DAMAGE", ""): D("7.35"),
    ("Adjustment/ReserveCredit", "reserve"): D("25.00"),
    ("Adjustment/ReserveDebit", "reserve"): D("-20.00"),
    ("Transfer/PayableToAmazon", "transfers"): D("-15.22"),
    ("Transfer/SuccessfulCharge", "transfers"): D("15.22"),
}


def test_v1_every_amount_column_is_mapped():
    report = fixture("v1_all_columns.txt")
    assert (report.layout, report.report_type) == (V1, V1_REPORT_TYPE)
    assert report.rows_total == report.total == D("-37.53")
    assert {(r.amount_type, r.category): r.amount for r in report.rows} == V1_TYPES
    assert len(report.rows) == len(V1_TYPES)  # the quantity-only sale line carries no money
    assert {r.column for r in report.rows} == {
        "price-amount",
        "item-related-fee-amount",
        "shipment-fee-amount",
        "order-fee-amount",
        "promotion-amount",
        "other-fee-amount",
        "other-amount",
    }
    damage = next(r for r in report.rows if r.amount_type == "Adjustment/WAREHOUSE_DAMAGE")
    assert damage.adjustment_id == "amzn1:crow:Jd5Tp9Xa3k+Rn2QwLf7hVc"
    assert damage.sku == "TEA-TIN-GREEN"
    assert damage.raw_description == "WAREHOUSE_DAMAGE"  # V1 names it in transaction-type


def test_v1_money_in_a_column_without_an_amount_type_refuses_the_file():
    with pytest.raises(ReportError) as info:
        fixture("v1_misc_fee_amount.txt")
    assert str(info.value) == (
        "V1 settlement flat file (GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE, no amount-type column): "
        "line 4: column misc-fee-amount holds -4.50 but cannot be mapped to an amount type "
        "(it has no type column); the file is not compared"
    )


def test_the_layout_is_told_by_the_header():
    v1_header = "settlement-id\ttotal-amount\tcurrency\tprice-type\tprice-amount"
    with pytest.raises(ReportError, match=r"V1 settlement flat file .*: no column transaction-"):
        parse_settlement_report(v1_header + "\n1\t1.00\tCAD\t\t\n")
    with pytest.raises(ReportError, match="no column amount-type, amount"):
        parse_settlement_report("settlement-id\ttotal-amount\tcurrency\n1\t1.00\tCAD\n")
    unknown = "settlement-id\ttotal-amount\tcurrency\ttransaction-type\tbonus-amount\tother-amount"
    text = "\n".join([unknown, "1\t2.00\tCAD\t\t\t", "1\t\t\tOther\t2.00\t"])
    with pytest.raises(ReportError, match=r"column bonus-amount .*\(the column is not known\)"):
        parse_settlement_report(text.encode())
    report = parse_settlement_report("\ufeff" + unknown + "\n1\t2.00\tCAD\t\t\t\n1\t\t\tX\t\t2.00")
    (row,) = report.rows
    assert (report.layout, row.amount_type, row.category) == (V1, "Report/other-transaction/X", "")
