"""domain.settle: financial event groups read as Decimals, and whether they can be paid out."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from domain.settle import (
    CARRIED_CHARGE,
    CARRIED_FAILED,
    CARRIED_RESERVE,
    GroupError,
    OdooFacts,
    carried_kind,
    check_group,
    parse_group,
)
from emulator.generator import UTC, Dataset, to_v0_group

D = Decimal
CENT = D("0.01")


def raw_group(**overrides):
    raw = {
        "FinancialEventGroupId": "G1",
        "ProcessingStatus": "Closed",
        "FundTransferStatus": "Succeeded",
        "OriginalTotal": {"CurrencyCode": "EUR", "CurrencyAmount": 1234.56},
        "ConvertedTotal": {"CurrencyCode": "GBP", "CurrencyAmount": 1058.39},
        "FundTransferDate": "2026-10-15T07:00:00Z",
        "TraceId": "TRACE1",
        "AccountTail": "123",
        "BeginningBalance": {"CurrencyCode": "EUR", "CurrencyAmount": 10.5},
        "FinancialEventGroupStart": "2026-10-01T07:00:00Z",
        "FinancialEventGroupEnd": "2026-10-15T07:00:00Z",
    }
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not None}


def test_parse_group_reads_decimals_dates_and_currencies():
    group = parse_group(raw_group())
    assert group.group_id == "G1"
    assert group.closed and group.transferred and not group.transfer_failed
    assert group.original_total == D("1234.56") and group.currency == "EUR"
    assert group.converted_total == D("1058.39") and group.converted_currency == "GBP"
    assert group.beginning_balance == D("10.5")
    assert group.fund_transfer_date == datetime(2026, 10, 15, 7, tzinfo=UTC)
    assert group.start == datetime(2026, 10, 1, 7, tzinfo=UTC)
    assert len(group.raw_sha256) == 64


def test_open_group_without_transfer_and_without_converted_total():
    group = parse_group(
        raw_group(
            ProcessingStatus="Open",
            FundTransferStatus=None,
            FundTransferDate=None,
            FinancialEventGroupEnd=None,
            ConvertedTotal=None,
        )
    )
    assert not group.closed and not group.transferred
    assert group.end is None and group.fund_transfer_date is None
    # without ConvertedTotal the payout is the original total
    assert (group.converted_currency, group.converted_total) == ("EUR", D("1234.56"))


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"FinancialEventGroupId": None}, "without FinancialEventGroupId"),
        ({"OriginalTotal": {"CurrencyCode": "EUR", "CurrencyAmount": "abc"}}, "no readable"),
        ({"FundTransferDate": "15/10/2026"}, "not an ISO 8601 date"),
        ({"BeginningBalance": {"CurrencyCode": "USD", "CurrencyAmount": 1}}, "BeginningBalance"),
    ],
)
def test_malformed_groups_are_refused_with_a_clear_message(overrides, message):
    with pytest.raises(GroupError, match=message):
        parse_group(raw_group(**overrides))


def test_sandbox_mock_statuses_count_as_transferred():
    assert parse_group(raw_group(FundTransferStatus="TRANSFERED")).transferred
    assert parse_group(raw_group(FundTransferStatus="Processed")).transferred
    assert not parse_group(raw_group(FundTransferStatus="Pending")).transferred
    assert parse_group(raw_group(FundTransferStatus="Failed")).transfer_failed


def facts(total, **kwargs):
    return OdooFacts(posted_total=D(total), **kwargs)


def test_check_matching_closed_transferred_group_is_payable():
    check = check_group(parse_group(raw_group()), facts("1234.56"), CENT)
    assert check.status == "match" and check.payable
    assert check.difference == D("0.00")


def test_check_open_group_and_group_waiting_for_its_funds():
    open_group = parse_group(raw_group(ProcessingStatus="Open"))
    assert check_group(open_group, facts("1"), CENT).status == "open"
    pending = parse_group(raw_group(FundTransferStatus="Pending"))
    assert check_group(pending, facts("1234.56"), CENT).status == "waiting_transfer"
    failed = parse_group(raw_group(FundTransferStatus="Failed"))
    check = check_group(failed, facts("1234.56"), CENT)
    assert check.status == "transfer_failed" and not check.payable
    assert "Failed" in check.reasons[0]


def test_check_mismatch_names_the_difference_and_what_explains_it():
    check = check_group(
        parse_group(raw_group()),
        facts("1200.00", waiting_count=1, waiting_total=D("30.00"), ignored_count=2),
        CENT,
    )
    assert check.status == "mismatch" and not check.payable
    assert check.difference == D("34.56")
    text = "\n".join(check.reasons)
    assert "1234.56 EUR differs from the 1200.00 posted in Odoo by 34.56" in text
    assert "1 event(s) of the group not posted (Amazon's amount 30.00)" in text
    assert "2 event(s) ignored in Odoo" in text
    assert "4.56 not explained by Odoo's events" in text
    changed = check_group(parse_group(raw_group()), facts("1232.56", changed_count=1), CENT)
    text = "\n".join(changed.reasons)
    assert "1 event(s) changed by Amazon after posting" in text
    assert "not explained" not in text  # the changed amounts are the explanation


def test_check_uses_the_currency_quantum():
    group = parse_group(
        raw_group(
            OriginalTotal={"CurrencyCode": "JPY", "CurrencyAmount": 4900},
            ConvertedTotal=None,
            BeginningBalance=None,
        )
    )
    assert group.currency == "JPY"
    assert check_group(group, facts("4900.4"), D(1)).status == "match"
    assert check_group(group, facts("4899"), D(1)).difference == D(1)


def test_emulator_groups_parse_and_carry_the_reserve_as_beginning_balance():
    now = datetime(2026, 11, 1, tzinfo=UTC)
    dataset = Dataset("A1", ("US",), now - timedelta(days=40), now - timedelta(hours=1))
    dataset.ensure_groups(["USD"])
    closed = [g for g in dataset.groups if g.is_closed(now)]
    held, released = closed[-2], closed[-1]
    dataset.add_adjustment("US", "ReserveEvent", posted=held.end - timedelta(minutes=5), amount=-50)
    dataset.add_adjustment(
        "US", "ReserveEvent", posted=released.start + timedelta(minutes=5), amount=50
    )
    released.beginning_balance = D("50.00")
    first = parse_group(to_v0_group(held, dataset.group_total(held), now))
    second = parse_group(to_v0_group(released, dataset.group_total(released), now))
    assert first.original_total == D("-50.00") and second.original_total == D("50.00")
    assert second.beginning_balance == D("50.00")
    # the release is one of the group's events: the balance is never added on top
    assert check_group(second, facts("50.00"), CENT).status == "match"
    transfers = {t["group_id"]: t for t in dataset.fund_transfers(now)}
    assert transfers[released.group_id]["amount"] == D("50.00")
    assert transfers[released.group_id]["trace_id"] == released.trace_id
    assert transfers[held.group_id]["date"] == held.end


# ---------------------------------------------------------------------------------------------
# Reserves, carried balances, charges and failed transfers (doc/accounting-settlements.md)
# ---------------------------------------------------------------------------------------------


def usd_group(group_id, total, balance=None, status="Succeeded"):
    return parse_group(
        raw_group(
            FinancialEventGroupId=group_id,
            OriginalTotal={"CurrencyCode": "USD", "CurrencyAmount": total},
            ConvertedTotal=None,
            FundTransferStatus=status,
            BeginningBalance=(
                {"CurrencyCode": "USD", "CurrencyAmount": balance} if balance is not None else None
            ),
        )
    )


def test_reserve_over_two_groups_with_the_release_among_the_events():
    # Group 1: sales 500.00, reserve held (ReserveDebit) -120.00 → total 380.00.
    first = check_group(usd_group("G1", 380.00), facts("380.00"), CENT)
    assert first.payable and first.carried == 0 and first.notes == ()
    # Group 2: its BeginningBalance is the reserve; the release (ReserveCredit +120.00) is one
    # of its events with sales 200.00: total 320.00, the balance shown, not added.
    second = check_group(usd_group("G2", 320.00, balance=120.00), facts("320.00"), CENT)
    assert second.payable and second.carried == 0
    # Over the two groups: payouts 700.00 = sales 700.00; the reserve nets to zero.
    assert first.amazon_total + second.amazon_total == D("700.00")


def test_reserve_carried_in_amazons_total_without_an_event_is_booked_by_the_payout():
    # Group 2's events hold only its sales (200.00); Amazon's total holds the 120.00 released.
    second = check_group(usd_group("G2", 320.00, balance=120.00), facts("200.00"), CENT)
    assert second.payable and second.carried == D("120.00") and second.difference == 0
    assert "includes the beginning balance 120.00" in second.notes[0]
    # Not while an event of the group waits: the difference may be that event.
    waiting = check_group(
        usd_group("G2", 320.00, balance=120.00),
        facts("200.00", waiting_count=1, waiting_total=D("120.00")),
        CENT,
    )
    assert waiting.status == "mismatch" and waiting.carried == 0
    deferred = check_group(
        usd_group("G2", 320.00, balance=120.00), facts("200.00", deferred_count=1), CENT
    )
    assert deferred.status == "mismatch"
    text = "\n".join(deferred.reasons)
    assert "1 event(s) of the group deferred by Amazon" in text
    assert "120.00 is the group's beginning balance" in text


def test_negative_total_is_a_charge_of_the_seller():
    # CA 50011020300: fees -321.69; Amazon charged the seller's card (the next file's
    # "Payable to Amazon" -321.69 and "Successful charge" +321.69 cancel out).
    check = check_group(usd_group("G1", -321.69), facts("-321.69"), CENT)
    assert check.payable and check.charge
    assert "Amazon charges 321.69 USD to the seller's card" in check.notes[0]
    pending = check_group(usd_group("G1", -321.69, status="Pending"), facts("-321.69"), CENT)
    assert pending.status == "waiting_transfer" and pending.charge
    following = check_group(usd_group("G2", -62.31, balance=-321.69), facts("-62.31"), CENT)
    assert following.payable and following.carried == 0


def test_failed_transfer_waits_and_the_next_group_carries_it():
    failed = check_group(usd_group("G1", 250.00, status="Failed"), facts("250.00"), CENT)
    assert failed.status == "transfer_failed" and not failed.payable
    assert failed.reasons == ("Amazon reports the fund transfer as Failed",)
    # Amazon pays it again with the next group: its total holds the failed one's.
    nxt = check_group(usd_group("G2", 330.00, balance=250.00), facts("80.00"), CENT)
    assert nxt.payable and nxt.carried == D("250.00")
    assert carried_kind(D("250.00"), (D("250.00"),)) == CARRIED_FAILED
    assert carried_kind(D("250.00"), ()) == CARRIED_RESERVE
    assert carried_kind(D("-321.69"), (D("250.00"),)) == CARRIED_CHARGE
