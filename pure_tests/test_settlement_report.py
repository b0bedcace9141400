"""V2 flat-file settlement reports: the emulator serves them through the Reports API, the real
client downloads them (pre-signed URL, gzip), the pure parser reads them and the comparison
with the events names what differs."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.normalize import normalize_transactions
from domain.settlement_compare import compare, compare_with_events
from domain.settlement_report import (
    REPORT_TYPE,
    ReportError,
    amount_type_of,
    parse_amount,
    parse_date,
    parse_settlement_report,
)
from emulator import SpApiEmulator, generate_dataset
from emulator.generator import to_transaction
from emulator.reports import report_id
from spapi import LwaAuth, SpApiClient
from spapi.exceptions import SpApiError

UTC = timezone.utc
START = datetime(2026, 8, 1, tzinfo=UTC)
END = datetime(2026, 10, 15, tzinfo=UTC)
D = Decimal


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def setup():
    dataset = generate_dataset(seed=11, start=START, end=END, refunds_per_marketplace=4)
    clock = Clock(datetime(2026, 10, 20, tzinfo=UTC))
    emu = SpApiEmulator(dataset=dataset, rate_scale=None, now=clock)
    with emu:
        auth = LwaAuth(emu.client_id, emu.client_secret, emu.refresh_token, token_url=emu.lwa_url)
        client = SpApiClient(auth, region="na", api_url=emu.url, sleep=lambda s: None)
        yield dataset, emu, client, clock


def reports(client):
    found = []
    for page in client.get_reports(report_types=[REPORT_TYPE], page_size=3):
        found += page.payload["reports"]
    return found


def events_by_type(dataset, group):
    events, failures = normalize_transactions(
        [to_transaction(ev) for ev in dataset.group_events(group)]
    )
    assert failures == []
    totals = {}
    for ev in events:
        for line in ev.lines:
            totals[line.amount_type] = totals.get(line.amount_type, D(0)) + line.amount
    return totals, sum((ev.total for ev in events), D(0))


def test_every_closed_group_has_a_report_that_agrees_with_its_events(setup):
    dataset, _emu, client, clock = setup
    listed = reports(client)  # several pages of 3: the token alone carries the filters
    closed = [g for g in dataset.groups if g.end + timedelta(hours=1) <= clock.now]
    assert len(listed) == len(closed) > 3
    by_id = {report_id(g): g for g in closed}
    for entry in listed:
        group = by_id[entry["reportId"]]
        document = client.get_report_document(entry["reportDocumentId"])
        assert document["compressionAlgorithm"] == "GZIP"
        report = parse_settlement_report(client.download_report_document(document))
        assert report.settlement_id != group.group_id and report.settlement_id.isdigit()
        assert report.currency == group.currency
        assert report.start == group.start and report.end == group.end
        assert report.total == dataset.group_total(group)
        types, total = events_by_type(dataset, group)
        result = compare(report, types, total)
        assert result.differences == (), (group.currency, result.differences)
        assert compare_with_events(report, types, total) == (result.lines, ())
        # every amount type of the events has its line; a type only the report names carries
        # money the events name otherwise (Promotion/Shipping...), and a note says so
        named = {line.amount_type for line in result.lines}
        assert named >= set(types)
        for only_in_report in named - set(types):
            assert any(only_in_report in note for note in result.notes), result.notes
        assert not any(t.startswith("Report/") for t in report.totals_by_type())


def test_a_report_that_disagrees_is_named(setup):
    dataset, _emu, client, _clock = setup
    group = next(g for g in dataset.groups if g.currency == "USD" and dataset.group_events(g))
    dataset.report_total_delta[group.group_id] = D("5.00")
    dataset.report_extra_rows[group.group_id] = [
        {
            "transaction-type": "other-transaction",
            "amount-type": "Mystery",
            "amount": "5.00",
            "amount-description": "NewThing",
        }
    ]
    entry = next(
        e
        for e in reports(client)
        if e["dataStartTime"].startswith(group.start.strftime("%Y-%m-%d")) and e["reportDocumentId"]
    )
    report = parse_settlement_report(
        client.download_report_document(client.get_report_document(entry["reportDocumentId"]))
    )
    types, total = events_by_type(dataset, group)
    _lines, differences = compare_with_events(report, types, total)
    text = "\n".join(differences)
    assert f"differs from the events' {total} by 5.00" in text
    assert "Report/Mystery/NewThing: not known to the mapping of report rows" in text


def test_document_url_expires_after_five_minutes_and_settlement_reports_cannot_be_created(setup):
    _dataset, _emu, client, clock = setup
    entry = reports(client)[0]
    document = client.get_report_document(entry["reportDocumentId"])
    clock.now += timedelta(minutes=6)
    with pytest.raises(SpApiError) as info:
        client.download_report_document(document)
    assert info.value.status_code == 403
    assert document["url"] not in str(info.value)
    tampered = {**document, "url": document["url"].replace("sig=", "sig=0")}
    with pytest.raises(SpApiError):
        client.download_report_document(tampered)
    with pytest.raises(SpApiError) as info:
        client.create_report(REPORT_TYPE, ["ATVPDKIKX0DER"])
    assert "cannot be requested" in str(info.value)


def test_parser_reads_european_files_and_refuses_malformed_ones():
    columns = (
        "settlement-id settlement-start-date settlement-end-date deposit-date total-amount "
        "currency transaction-type order-id amount-type amount-description amount"
    )
    header = columns.replace(" ", "\t")
    lines = [
        header,
        (
            "123\t01.10.2026 07:00:00 UTC\t15.10.2026 07:00:00 UTC\t17.10.2026 07:00:00 UTC\t"
            "-1.234,56\tEUR\t\t\t\t\t"
        ),
        "123\t\t\t\t\t\tRefund\t302-1\tItemPrice\tPrincipal\t-1.200,00",
        "123\t\t\t\t\t\tRefund\t302-1\tItemFees\tCommission\t-34,56",
    ]
    text = "\n".join(lines)
    report = parse_settlement_report(text.encode("utf-8"))
    assert report.total == D("-1234.56") and report.currency == "EUR"
    assert report.start == datetime(2026, 10, 1, 7, tzinfo=UTC)
    assert report.totals_by_type() == {
        "Charge/Principal": D("-1200.00"),
        "Fee/Commission": D("-34.56"),
    }
    assert report.rows_total == report.total
    with pytest.raises(ReportError, match="empty"):
        parse_settlement_report(b"")
    with pytest.raises(ReportError, match="no column total-amount"):
        parse_settlement_report("settlement-id\tcurrency\tamount-type\tamount\n1\tEUR\tx\t1")
    with pytest.raises(ReportError, match="line 4: amount 'abc' is not a number"):
        parse_settlement_report(text.replace("-34,56", "abc"))
    with pytest.raises(ReportError, match="no summary row"):
        parse_settlement_report("\n".join([header, lines[2]]))


def test_amounts_dates_and_row_mapping():
    assert parse_amount("1,234.56") == D("1234.56")
    assert parse_amount("1.234,56") == D("1234.56")
    assert parse_amount("-0,40") == D("-0.40")
    assert parse_date("2026-10-01T07:00:00+00:00") == datetime(2026, 10, 1, 7, tzinfo=UTC)
    assert parse_date("2026-10-01 07:00:00 UTC") == datetime(2026, 10, 1, 7, tzinfo=UTC)
    with pytest.raises(ReportError):
        parse_date("October 1st")
    assert amount_type_of("Refund", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal") == (
        "TaxWithheld/MarketplaceFacilitatorTax-Principal"
    )
    assert amount_type_of("ServiceFee", "other-transaction", "Subscription") == "Fee/Subscription"
    assert amount_type_of("other-transaction", "FBA Inventory Reimbursement", "WAREHOUSE_LOST") == (
        "Adjustment/WAREHOUSE_LOST"
    )
    assert amount_type_of("Order", "Something", "Else") == "Report/Something/Else"
