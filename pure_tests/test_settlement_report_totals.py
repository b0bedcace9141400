"""A settlement report read for its totals only (``totals_only``): the rows summed per category
and amount type as they are read. It must give the comparison the very figures the full parse
gives, on the project's fixtures and on the real files of ../shared/realdata/."""

import glob
import os
import re
import tempfile
from decimal import Decimal

import pytest

from domain.settlement_compare import compare
from domain.settlement_report import ReportError, _sum_by_type, parse_settlement_report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "pure_tests", "fixtures", "settlement_reports")
REALDATA = os.path.join(os.path.dirname(ROOT), "shared", "realdata")


def _sums(report):
    sums = {}
    for row in report.rows:
        key = (row.category, row.amount_type)
        sums[key] = sums.get(key, Decimal(0)) + row.amount
    return sums


def _files():
    files = sorted(glob.glob(os.path.join(FIXTURES, "v*.txt")))
    files += sorted(glob.glob(os.path.join(REALDATA, "ca_settlements_v1", "*.txt")))
    files += sorted(glob.glob(os.path.join(REALDATA, "S0*.txt")))
    return files


@pytest.mark.parametrize("path", _files(), ids=os.path.basename)
def test_totals_only_gives_the_full_parse_sums(path):
    with open(path, "rb") as handle:
        content = handle.read()
    try:
        full = parse_settlement_report(content)
    except ReportError as exc:
        with pytest.raises(ReportError, match=re.escape(str(exc))):
            parse_settlement_report(content, totals_only=True)
        return
    totals = parse_settlement_report(content, totals_only=True)
    assert (totals.settlement_id, totals.total, totals.currency, totals.layout) == (
        full.settlement_id,
        full.total,
        full.currency,
        full.layout,
    )
    assert (totals.start, totals.end, totals.deposit_date) == (
        full.start,
        full.end,
        full.deposit_date,
    )
    assert _sums(totals) == _sums(full)
    assert len(totals.rows) == len(_sums(full)) <= len(full.rows)
    assert totals.rows_total == full.rows_total
    # the comparison reads the same figures either way
    events = _sum_by_type(row for row in full.rows if not row.category)
    events_total = sum(events.values(), Decimal(0))
    for kinds in ((), ("sale",)):
        assert compare(totals, events, events_total, kinds) == compare(
            full, events, events_total, kinds
        )


def test_the_real_files_are_there_or_the_test_says_why():
    if not os.path.isdir(os.path.join(REALDATA, "ca_settlements_v1")):
        pytest.skip(f"../shared/realdata/ is absent ({REALDATA}): real files not checked")
    assert len(glob.glob(os.path.join(REALDATA, "ca_settlements_v1", "*.txt"))) == 7


def test_a_file_without_summary_row_is_refused_in_both_modes():
    content = b"settlement-id\ttotal-amount\tcurrency\tamount-type\tamount\n\t\t\tItemPrice\t1.00\n"
    for totals_only in (False, True):
        with pytest.raises(ReportError, match="no summary row"):
            parse_settlement_report(content, totals_only=totals_only)


def _encoded_report(encoding, bom=b""):
    text = (
        "settlement-id\tsettlement-start-date\tsettlement-end-date\tdeposit-date\ttotal-amount\t"
        "currency\ttransaction-type\tamount-type\tamount-description\tamount\n"
        "42\t2026-10-01 00:00:00 UTC\t2026-10-15 00:00:00 UTC\t2026-10-17 00:00:00 UTC\t"
        "-3,10\tEUR\t\t\t\t\n"
        "42\t\t\t\t\tEUR\tother-transaction\tother-transaction\tStorage Fee\t-3,10\n"
        "42\t\t\t\t\tEUR\tother-transaction\tother-transaction\tFrais de stockage été\t0,00\n"
    )
    return bom + text.encode(encoding)


@pytest.mark.parametrize(
    "content",
    [
        _encoded_report("utf-8"),
        _encoded_report("utf-8", bom=b"\xef\xbb\xbf"),
        _encoded_report("cp1252"),  # é as one byte: not UTF-8
    ],
    ids=["utf-8", "utf-8 with BOM", "windows-1252"],
)
def test_files_are_read_in_their_encoding_in_both_modes(content):
    for totals_only in (False, True):
        report = parse_settlement_report(content, totals_only=totals_only)
        assert (report.settlement_id, report.total, report.currency) == (
            "42",
            Decimal("-3.10"),
            "EUR",
        )
        assert report.rows_total == Decimal("-3.10")
        types = {row.amount_type for row in report.rows}
        assert "Fee/FBAStorageFee" in types
        assert any("été" in t for t in types)


@pytest.mark.parametrize(
    "content",
    [
        _encoded_report("utf-8"),
        _encoded_report("utf-8", bom=b"\xef\xbb\xbf"),
        _encoded_report("cp1252"),
    ],
    ids=["utf-8", "utf-8 with BOM", "windows-1252"],
)
def test_a_binary_file_reads_as_its_bytes_and_stays_open(content):
    """The import parses a downloaded report from its temporary file (read again from its start
    when it is not UTF-8), then keeps it: the file must still be open and readable."""
    with tempfile.TemporaryFile() as file:
        file.write(content)  # left at its end: the parser reads from the start
        for totals_only in (False, True):
            from_file = parse_settlement_report(file, totals_only=totals_only)
            from_bytes = parse_settlement_report(content, totals_only=totals_only)
            assert from_file == from_bytes
            assert not file.closed
        file.seek(0)
        assert file.read() == content


@pytest.mark.parametrize("path", _files()[:3] + _files()[-3:], ids=os.path.basename)
def test_the_files_read_from_a_file_as_from_their_bytes(path):
    with open(path, "rb") as handle:
        content = handle.read()
        try:
            expected = parse_settlement_report(content, totals_only=True)
        except ReportError as exc:
            with pytest.raises(ReportError, match=re.escape(str(exc))):
                parse_settlement_report(handle, totals_only=True)
            return
        assert parse_settlement_report(handle, totals_only=True) == expected
        assert not handle.closed
