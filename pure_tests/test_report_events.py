"""A settlement report file → events (``domain.report_events``): every cent of each real file,
stable keys, the same amount types and rules as the API's events, unreadable rows named."""

import os
from collections import Counter
from decimal import Decimal as D

import pytest

from domain.model import SOURCE_REPORT
from domain.plan_rules import default_mapping
from domain.report_events import group_id_of, report_events
from domain.sales import sale_fingerprint
from domain.settlement_report import ReportError, parse_settlement_report
from domain.sources import SOURCES, get_source, pulling_names

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REALDATA = os.path.normpath(os.path.join(ROOT, os.pardir, "shared", "realdata"))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
REAL_FILES = [
    *(f"ca_settlements_v1/{n}.txt" for n in ("50011020300", "50018020314", "50034020328")),
    *(f"ca_settlements_v1/{n}.txt" for n in ("50041020342", "50044020356", "50051020370")),
    "ca_settlements_v1/50065020384.txt",
    "derived/S02_CA_v2_converted_from_real_v1_50044020356.txt",
    "derived/S03_CA_v2_converted_from_real_v1_50018020314.txt",
]
CA = "A2EUQ1WTGCTBG2"


def resolve(name, _currency):
    return CA if name == "Amazon.ca" else None


def real(path):
    full = os.path.join(REALDATA, path)
    if not os.path.isdir(REALDATA):
        pytest.skip(f"{REALDATA} is absent: the real settlement files are not on this machine")
    if not os.path.exists(full):
        pytest.skip(f"{full} is absent from the real data folder")
    with open(full, "rb") as handle:
        return handle.read()


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read()


def events_of(content, **kwargs):
    return report_events(parse_settlement_report(content), resolve, **kwargs)


@pytest.mark.parametrize("path", REAL_FILES)
def test_every_real_file_gives_events_adding_up_to_its_total(path):
    content = real(path)
    report = parse_settlement_report(content)
    events = report_events(report, resolve, default_marketplace=("Amazon.ca", CA))
    assert sum((ev.total for ev in events), D(0)) == report.total
    # every row is in exactly one event, with its amount
    assert sum(len(ev.lines) for ev in events) == len(report.rows)
    assert sum((ln.amount for ev in events for ln in ev.lines), D(0)) == report.rows_total
    assert {ev.group_id for ev in events} == {f"report-{report.settlement_id}"}
    assert {ev.source_api for ev in events} == {SOURCE_REPORT}
    assert {ev.marketplace_id for ev in events} == {CA}
    assert len({ev.key for ev in events}) == len(events)
    assert len({ev.fingerprint for ev in events}) == len(events)
    for ev in events:
        assert ev.key.startswith(f"report:{report.settlement_id}:")
        assert ev.total == sum((ln.amount for ln in ev.lines), D(0))


@pytest.mark.parametrize("path", REAL_FILES)
def test_keys_are_stable_across_imports(path):
    content = real(path)
    assert [ev.key for ev in events_of(content)] == [ev.key for ev in events_of(content)]


def test_a_v1_file_and_its_v2_rewrite_give_the_same_money_per_event():
    v1 = events_of(real("ca_settlements_v1/50018020314.txt"))
    v2 = events_of(real("derived/S03_CA_v2_converted_from_real_v1_50018020314.txt"))

    def summary(events):
        return Counter(
            (ev.event_type, ev.amazon_order_id, ev.posted_date, ev.total, ev.fingerprint)
            for ev in events
        )

    assert summary(v1) == summary(v2)


def test_the_synthetic_v2_fixture_reproduces_the_real_shape():
    report = parse_settlement_report(fixture("settlement_report_v2.txt"))
    events = report_events(report, resolve)
    assert report.layout == "V2"
    assert sum((ev.total for ev in events), D(0)) == report.total == D("53.19")
    types = Counter(ev.event_type for ev in events)
    assert types == {"sale": 2, "refund": 1, "service_fee": 3, "adjustment": 3, "other": 2}
    no_sales = parse_settlement_report(fixture("settlement_report_v2_no_sales.txt"))
    assert sum((ev.total for ev in report_events(no_sales, resolve)), D(0)) == D("-12.94")


def test_order_rows_are_sales_with_the_api_fingerprint():
    events = events_of(fixture("settlement_report_v2.txt"))
    [sale] = [ev for ev in events if ev.amazon_order_id == "702-1101758-6751437"]
    assert sale.event_type == "sale"
    assert sale.total == D("23.09")
    assert sale.posted_date.isoformat() == "2026-10-04T06:23:59+00:00"
    assert sale.fingerprint == sale_fingerprint("702-1101758-6751437", sale.posted_date, sale.total)
    assert {ln.amount_type for ln in sale.lines} >= {"Charge/Principal", "Promotion/Shipping"}


def test_refund_rows_are_one_refund_with_the_api_amount_types():
    events = events_of(fixture("settlement_report_v2.txt"))
    [refund] = [ev for ev in events if ev.event_type == "refund"]
    assert refund.amazon_order_id == "702-1278184-4976266"
    assert refund.total == D("-26.40")
    assert sorted(ln.amount_type for ln in refund.lines) == [
        "Charge/Principal",
        "Fee/Commission",
        "Fee/RefundCommission",
    ]
    assert {ln.sku for ln in refund.lines} == {"SALTT30-MELN"}


def test_the_default_rules_book_every_non_sale_row():
    """Fees, advertising with its tax, reimbursements, the reserve and the transfers all have a
    rule: nothing of these rows waits for a mapping."""
    mapping = default_mapping()
    events = events_of(fixture("settlement_report_v2.txt"))
    by_type = {ln.amount_type: mapping.get(ln.amount_type) for ev in events for ln in ev.lines}
    unmapped = [t for t, rule in by_type.items() if rule is None]
    sale_only = {"Fee/FBAPerUnitFulfillmentFee", "Fee/DigitalServicesFee"}
    assert [t for t in unmapped if t not in sale_only] == []
    assert by_type["Adjustment/ReserveCredit"].account_ref == "reserve"
    assert by_type["Adjustment/ReserveDebit"].account_ref == "reserve"
    # "Successful charge": Amazon charged the seller's card to cover a negative balance
    assert by_type["Transfer/SuccessfulCharge"].account_ref == "transfers"
    assert by_type["Transfer/PayableToAmazon"].account_ref == "transfers"
    assert by_type["Fee/CostOfAdvertising"].account_ref == "advertising"
    assert by_type["FeeTax/CostOfAdvertising"].role == "fee_tax"


def test_rows_without_marketplace_take_the_file_one_or_the_default():
    events = events_of(fixture("settlement_report_v2_no_sales.txt"))
    assert {ev.marketplace_id for ev in events} == {CA}  # the refund names Amazon.ca
    content = real("ca_settlements_v1/50011020300.txt")  # names no marketplace at all
    assert {ev.marketplace_id for ev in events_of(content)} == {None}
    defaulted = events_of(content, default_marketplace=("Amazon.ca", CA))
    assert {ev.marketplace_id for ev in defaulted} == {CA}


def _replace_line(content, number, old, new):
    lines = content.decode().split("\n")
    assert old in lines[number - 1]
    lines[number - 1] = lines[number - 1].replace(old, new)
    return "\n".join(lines).encode()


def test_a_row_without_posted_date_refuses_the_file_naming_its_line():
    content = fixture("settlement_report_v2_no_sales.txt")
    broken = _replace_line(content, 5, "2026-10-03 04:09:26 UTC", "")
    broken = _replace_line(broken, 5, "2026-10-03", "")
    with pytest.raises(ReportError, match="line 5: no posted-date"):
        events_of(broken)


def test_an_unreadable_amount_or_date_names_its_line():
    content = fixture("settlement_report_v2_no_sales.txt")
    with pytest.raises(ReportError, match="line 5"):
        events_of(_replace_line(content, 5, "-39.99", "-39,9x"))
    with pytest.raises(ReportError, match="line 6"):
        events_of(_replace_line(content, 6, "2026-10-05 10:11:12 UTC", "yesterday"))


def test_a_refund_row_without_order_id_refuses_the_file():
    content = fixture("settlement_report_v2_no_sales.txt")
    number = next(
        i for i, line in enumerate(content.decode().split("\n"), 1) if "\tRefund\t" in line
    )
    broken = _replace_line(content, number, "\t702-1278184-4976266\t702-", "\t\t702-")
    with pytest.raises(ReportError, match=f"line {number}: Refund row without order-id"):
        events_of(broken)


def test_rows_that_do_not_add_up_to_the_total_refuse_the_file():
    content = fixture("settlement_report_v2_no_sales.txt")
    with pytest.raises(ReportError, match="add up to -12.94 CAD, its total-amount says -13.94"):
        events_of(_replace_line(content, 2, "-12.94", "-13.94"))


def test_the_report_source_never_pulls():
    source = get_source(SOURCE_REPORT)
    assert source.label == "Settlement report file"
    assert source.pulls is False
    assert SOURCE_REPORT not in pulling_names()
    assert set(pulling_names()) == {name for name in SOURCES if name != SOURCE_REPORT}

    class NoClient:
        def __getattr__(self, name):
            raise AssertionError(f"the report source called the client: {name}")

    client = NoClient()
    assert list(source.window_pages(client, None, None)) == []
    assert list(source.order_pages(client, "O")) == []
    assert list(source.group_pages(client, "G")) == []
    assert source.normalize({"transactions": [{}]}) == ([], [])


def test_group_id_of_a_report_settlement():
    assert group_id_of("23874397121") == "report-23874397121"
