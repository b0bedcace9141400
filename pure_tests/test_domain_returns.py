"""Returns and reimbursements reports: parsing (real column headers of Amazon's report attribute
pages), reasons, dispositions, and the emulator's files read back through the real client."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain import returns
from emulator import Dataset, SpApiEmulator
from emulator import returns as emulator_returns
from spapi import LwaAuth, SpApiClient

# Headers exactly as Amazon's report attribute pages list the columns.
FBA_HEADER = (
    "return-date\torder-id\tsku\tasin\tfnsku\tproduct-name\tquantity\tfulfillment-center-id\t"
    "detailed-disposition\treason\tstatus\tlicense-plate-number\tcustomer-comments"
)
FBA_FILE = (
    FBA_HEADER
    + "\n2026-10-02T08:15:20+00:00\t114-3941689-8772232\tWIDGET-BLUE\tB0ABCDEFGH\tX001ABCDEF\t"
    "Blue widget\t1\tPHX7\tCARRIER_DAMAGED\tDAMAGED_BY_CARRIER\tUnit returned to inventory\t"
    "LPNRR123456789\tbox crushed\n"
    "2026-10-03T10:00:00-07:00\t114-3941689-8772232\tWIDGET-RED\tB0ABCDEFGI\tX001ABCDEG\t"
    "Red widget\t2\tONT8\tSELLABLE\tUNWANTED_ITEM\tUnit returned to inventory\tLPNRR123456790\t\n"
    "not a date\t114-0000000-0000000\tWIDGET-RED\t\t\t\t1\t\t\t\t\t\t\n"
    "2026-10-04T10:00:00+00:00\t114-0000000-0000001\tWIDGET-RED\t\t\t\tmany\t\t\t\t\t\t\n"
    "2026-10-02T08:15:20+00:00\t114-3941689-8772232\tWIDGET-BLUE\tB0ABCDEFGH\tX001ABCDEF\t"
    "Blue widget\t1\tPHX7\tCARRIER_DAMAGED\tDAMAGED_BY_CARRIER\tReimbursed\t"
    "LPNRR123456789\tbox crushed\n"
)
MERCHANT_HEADER = "\t".join(emulator_returns.MERCHANT_COLUMNS)
REIMBURSEMENT_HEADER = (
    "approval-date\treimbursement-id\tcase-id\tamazon-order-id\treason\tsku\tfnsku\tasin\t"
    "product-name\tcondition\tcurrency-unit\tamount-per-unit\tamount-total\t"
    "quantity-reimbursed-cash\tquantity-reimbursed-inventory\tquantity-reimbursed-total\t"
    "original-reimbursement-id\toriginal-reimbursement-type"
)


def test_headers_are_amazons():
    assert "\t".join(returns.FBA_RETURN_COLUMNS) == FBA_HEADER
    assert "\t".join(returns.REIMBURSEMENT_COLUMNS) == REIMBURSEMENT_HEADER
    assert returns.MERCHANT_RETURN_COLUMNS == emulator_returns.MERCHANT_COLUMNS
    assert returns.COLUMNS[returns.FBA_RETURNS] == emulator_returns.FBA_COLUMNS
    assert len(returns.MERCHANT_RETURN_COLUMNS) == 32


def test_fba_returns_rows_errors_and_repeats():
    parsed = returns.parse_report(returns.FBA_RETURNS, FBA_FILE.encode())
    assert [row.sku for row in parsed.rows] == ["WIDGET-BLUE", "WIDGET-RED"]
    first, second = parsed.rows
    assert first.source == "fba"
    assert first.return_date == datetime(2026, 10, 2, 8, 15, 20, tzinfo=UTC)
    assert first.disposition == "CARRIER_DAMAGED" and first.reason_code == "DAMAGED_BY_CARRIER"
    assert first.license_plate == "LPNRR123456789" and first.customer_comments == "box crushed"
    assert first.fulfillment_center == "PHX7" and first.line == 2
    assert first.key == "fba|114-3941689-8772232|WIDGET-BLUE|LPNRR123456789"
    # the Pacific offset is read: 10:00 -07:00 is 17:00 UTC
    assert second.return_date == datetime(2026, 10, 3, 17, 0, tzinfo=UTC)
    assert second.quantity == 2
    # lines 4 and 5 are named; line 6 repeats line 2's unit (same license plate): kept once
    assert [(e.line, e.message) for e in parsed.errors] == [
        (4, "unreadable date 'not a date'"),
        (5, "quantity 'many' is not a number"),
    ]


def test_a_file_without_a_required_column_is_refused():
    with pytest.raises(returns.ReportError, match="order-id"):
        returns.parse_report(returns.FBA_RETURNS, "return-date\tsku\tquantity\n")
    with pytest.raises(returns.ReportError, match="empty"):
        returns.parse_report(returns.REIMBURSEMENTS, b"")


def test_merchant_returns():
    values = dict.fromkeys(emulator_returns.MERCHANT_COLUMNS, "")
    values.update(
        {
            "Order ID": "302-1234567-1234567",
            "Return request date": "05-Oct-2026",
            "Amazon RMA ID": "DkqZt8bRRRMA",
            "A-to-Z Claim": "Y",
            "Merchant SKU": "KETTLE-1L",
            "Return quantity": "1",
            "Return Reason": "CR-DEFECTIVE",
            "Currency code": "EUR",
        }
    )
    row = "\t".join(values[c] for c in emulator_returns.MERCHANT_COLUMNS)
    content = (MERCHANT_HEADER + "\n" + row + "\n").encode("cp1252")
    parsed = returns.parse_report(returns.MERCHANT_RETURNS, content)
    (ret,) = parsed.rows
    assert not parsed.errors
    assert ret.source == "merchant" and ret.atoz and ret.rma_id == "DkqZt8bRRRMA"
    assert ret.return_date == datetime(2026, 10, 5, tzinfo=UTC)
    assert ret.key == "merchant|302-1234567-1234567|DkqZt8bRRRMA|KETTLE-1L"
    assert returns.reason_of(ret.reason_code) == "defective"


def test_reimbursements():
    content = (
        REIMBURSEMENT_HEADER + "\n"
        "2026-10-06T04:11:00+00:00\t2996387831\t\t\tLost_Warehouse\tMUG-SET-4\tX002ABC\tB0XYZ\t"
        "Mug set\tNewItem\tEUR\t12,50\t25,00\t2\t0\t2\t\t\n"
        "2026-10-07T04:11:00+00:00\t2996387832\t\t114-1\tReimbursement_Reversal\tMUG-SET-4\t"
        "X002ABC\t\t\tNewItem\tEUR\t-12.50\t-12.50\t1\t0\t1\t2996387831\tLost_Warehouse\n"
        "2026-10-08T04:11:00+00:00\t2996387833\t\t\tLost_Warehouse\tMUG-SET-4\t\t\t\t\tEUR\t\t"
        "abc\t1\t0\t1\t\t\n"
    )
    parsed = returns.parse_report(returns.REIMBURSEMENTS, content)
    first, reversal = parsed.rows
    assert first.amount_total == Decimal("25.00") and first.amount_per_unit == Decimal("12.50")
    assert first.quantity_cash == 2 and first.quantity_total == 2 and first.currency == "EUR"
    assert reversal.original_reimbursement_id == "2996387831" and reversal.order_id == "114-1"
    assert reversal.amount_total == Decimal("-12.50")
    assert [(e.line, e.message) for e in parsed.errors] == [(4, "unreadable amount 'abc'")]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("UNWANTED_ITEM", "changed_mind"),
        ("CR-DEFECTIVE", "defective"),
        ("DAMAGED_BY_CARRIER", "damaged_carrier"),
        ("DAMAGED_BY_FC", "damaged_warehouse"),
        ("SWITCHEROO", "wrong_item"),
        ("AMZ-PG-BAD-DESC", "not_as_described"),
        ("MISSED_ESTIMATED_DELIVERY", "late"),
        ("SOMETHING_NEW", "other"),
        ("", "other"),
    ],
)
def test_reason_of(code, reason):
    assert returns.reason_of(code) == reason
    assert reason in dict(returns.REASON_SELECTION)


@pytest.mark.parametrize(
    ("disposition", "who"),
    [
        ("CARRIER_DAMAGED", "carrier"),
        ("CarrierDamaged", "carrier"),
        ("DAMAGED", "warehouse"),
        ("FulfillerDamaged", "warehouse"),
        ("SELLABLE", None),
        ("CUSTOMER_DAMAGED", None),
        ("DEFECTIVE", None),
        (None, None),
    ],
)
def test_damaged_by(disposition, who):
    assert returns.damaged_by(disposition) == who


def test_dates_amazon_writes():
    assert returns.parse_date("2026-10-02 08:15:20 PDT") == datetime(
        2026, 10, 2, 15, 15, 20, tzinfo=UTC
    )
    assert returns.parse_date("2026-10-02T08:15:20Z") == datetime(
        2026, 10, 2, 8, 15, 20, tzinfo=UTC
    )
    with pytest.raises(ValueError):
        returns.parse_date("")


NOW = datetime(2026, 10, 20, tzinfo=UTC)


@pytest.fixture(scope="module")
def emu():
    dataset = Dataset(
        seller_id="A1RETURNSSELLER",
        marketplaces=("US",),
        start=NOW - timedelta(days=20),
        end=NOW - timedelta(days=1),
    )
    dataset.add_refund("US", order_id="114-1111111-1111111", posted=NOW - timedelta(days=5))
    mfn = {"sku": "KETTLE-1L", "quantity": 1, "charges": {"Principal": Decimal("-34.99")}}
    dataset.add_refund(
        "US",
        order_id="114-2222222-2222222",
        posted=NOW - timedelta(days=4),
        items=[{**mfn, "fulfillment_network": "MFN"}],
    )
    dataset.add_adjustment(
        "US",
        "WAREHOUSE_DAMAGE",
        posted=NOW - timedelta(days=3),
        items=[{"sku": "MUG-SET-4", "quantity": 2, "per_unit": Decimal("8.25")}],
    )
    emulator = SpApiEmulator(dataset=dataset, rate_scale=None, now=lambda: NOW)
    with emulator:
        yield emulator


def _download(emu, report_type):
    auth = LwaAuth(emu.client_id, emu.client_secret, emu.refresh_token, token_url=emu.lwa_url)
    client = SpApiClient(auth, region="na", api_url=emu.url, sleep=lambda s: None)
    report_id = client.create_report(
        report_type, ["ATVPDKIKX0DER"], NOW - timedelta(days=30), NOW - timedelta(minutes=5)
    )
    report = client.get_report(report_id)
    assert report["processingStatus"] == "DONE" and report["reportType"] == report_type
    document = client.get_report_document(report["reportDocumentId"])
    assert document["compressionAlgorithm"] == "GZIP"
    return client.download_report_document(document)


def test_emulator_serves_the_three_reports(emu):
    fba = returns.parse_report(returns.FBA_RETURNS, _download(emu, returns.FBA_RETURNS))
    (row,) = fba.rows
    assert row.order_id == "114-1111111-1111111" and row.license_plate.startswith("LPN")
    assert row.return_date < NOW - timedelta(days=5)
    assert row.reason_code in returns.REASONS
    merchant = returns.parse_report(
        returns.MERCHANT_RETURNS, _download(emu, returns.MERCHANT_RETURNS)
    )
    (row,) = merchant.rows
    assert row.order_id == "114-2222222-2222222" and row.sku == "KETTLE-1L"
    assert row.reason_code.startswith("CR-")
    paid = returns.parse_report(returns.REIMBURSEMENTS, _download(emu, returns.REIMBURSEMENTS))
    (row,) = paid.rows
    assert (row.sku, row.amount_total, row.quantity_total) == ("MUG-SET-4", Decimal("16.50"), 2)
    assert row.reason == "Damaged_Warehouse"
    assert not (fba.errors or merchant.errors or paid.errors)
