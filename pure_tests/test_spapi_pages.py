"""SpApiClient pagination: v0 NextToken, 2024-06-19 nextToken, reports, page-size halving."""

from datetime import datetime, timezone

import pytest
from fakes import error, make_client, ok

from spapi import InvalidInputError, Page

AFTER = datetime(2026, 1, 1, tzinfo=timezone.utc)
BEFORE = datetime(2026, 1, 15, tzinfo=timezone.utc)


def v0_page(events, token=None, request_id="rid"):
    payload = {"FinancialEvents": {"RefundEventList": events}}
    if token:
        payload["NextToken"] = token
    return ok({"payload": payload}, request_id)


def tx_page(transactions, token=None, request_id="rid"):
    payload = {"transactions": transactions}
    if token:
        payload["nextToken"] = token
    return ok({"payload": payload}, request_id)


def test_v0_pages_repeat_the_same_arguments_with_next_token():
    client, session, _lwa, _clock = make_client(
        v0_page([{"AmazonOrderId": "1"}], "T1", "r1"),
        v0_page([], "T2", "r2"),  # empty page, more to come
        v0_page([{"AmazonOrderId": "3"}], None, "r3"),
    )
    pages = list(client.list_financial_events(AFTER, BEFORE, max_results=50))
    assert [page.next_token for page in pages] == ["T1", "T2", None]
    assert [page.request_id for page in pages] == ["r1", "r2", "r3"]
    assert all(isinstance(page, Page) for page in pages)
    assert pages[0].payload["FinancialEvents"]["RefundEventList"] == [{"AmazonOrderId": "1"}]
    assert pages[1].payload["FinancialEvents"]["RefundEventList"] == []
    base = {
        "PostedAfter": "2026-01-01T00:00:00Z",
        "PostedBefore": "2026-01-15T00:00:00Z",
        "MaxResultsPerPage": 50,
    }
    assert session.params(0) == base
    assert session.params(1) == dict(base, NextToken="T1")
    assert session.params(2) == dict(base, NextToken="T2")
    assert set(session.paths()) == {"/finances/v0/financialEvents"}


def test_pages_are_fetched_lazily():
    client, session, _lwa, _clock = make_client(v0_page([], "T1"), v0_page([]))
    pages = client.list_financial_events(AFTER)
    assert session.calls == []
    first = next(pages)
    assert first.next_token == "T1"
    assert len(session.calls) == 1


def test_transactions_pages_use_lowercase_next_token():
    client, session, _lwa, _clock = make_client(
        tx_page([{"transactionId": "a"}], "n1"), tx_page([], "n2"), tx_page([])
    )
    pages = list(
        client.list_transactions(
            posted_after="2026-01-01T00:00:00Z",
            posted_before=BEFORE,
            marketplace_id="ATVPDKIKX0DER",
            transaction_status="RELEASED",
        )
    )
    assert len(pages) == 3
    assert pages[0].payload["transactions"] == [{"transactionId": "a"}]
    assert pages[2].next_token is None
    base = {
        "postedAfter": "2026-01-01T00:00:00Z",
        "postedBefore": "2026-01-15T00:00:00Z",
        "marketplaceId": "ATVPDKIKX0DER",
        "transactionStatus": "RELEASED",
    }
    assert session.params(0) == base
    assert session.params(1) == dict(base, nextToken="n1")
    assert session.params(2) == dict(base, nextToken="n2")
    assert session.paths()[0] == "/finances/2024-06-19/transactions"


def test_start_token_resumes_a_window():
    client, session, _lwa, _clock = make_client(tx_page([], "n9"), tx_page([]))
    pages = list(
        client.list_transactions(
            related_identifier_name="ORDER_ID",
            related_identifier_value="111-2222222-3333333",
            start_token="saved",
        )
    )
    assert len(pages) == 2
    assert session.params(0) == {
        "relatedIdentifierName": "ORDER_ID",
        "relatedIdentifierValue": "111-2222222-3333333",
        "nextToken": "saved",
    }
    assert session.params(1)["nextToken"] == "n9"


def test_group_and_order_operations():
    client, session, _lwa, _clock = make_client(v0_page([]), v0_page([]), v0_page([], "G2"))
    list(client.list_financial_events_by_group_id("GRP 1", posted_after=AFTER))
    list(client.list_financial_events_by_order_id("111-2222222-3333333", max_results=20))
    groups = client.list_financial_event_groups(started_after=AFTER, max_results=10)
    assert next(groups).next_token == "G2"
    assert session.paths() == [
        "/finances/v0/financialEventGroups/GRP%201/financialEvents",
        "/finances/v0/orders/111-2222222-3333333/financialEvents",
        "/finances/v0/financialEventGroups",
    ]
    assert session.params(0) == {"PostedAfter": "2026-01-01T00:00:00Z", "MaxResultsPerPage": 100}
    assert session.params(1) == {"MaxResultsPerPage": 20}
    assert session.params(2) == {
        "FinancialEventGroupStartedAfter": "2026-01-01T00:00:00Z",
        "MaxResultsPerPage": 10,
    }


def test_get_reports_sends_the_token_alone():
    client, session, _lwa, _clock = make_client(
        ok({"reports": [{"reportId": "1"}], "nextToken": "R2"}), ok({"reports": []})
    )
    pages = list(
        client.get_reports(
            report_types=["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"], page_size=100
        )
    )
    assert pages[0].payload["reports"] == [{"reportId": "1"}]
    assert pages[0].next_token == "R2"
    assert session.params(0) == {
        "reportTypes": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
        "pageSize": 100,
    }
    assert session.params(1) == {"nextToken": "R2"}


def test_iter_pages_generic():
    client, _session, _lwa, _clock = make_client(tx_page([], "x"), tx_page([]))
    pages = list(client.iter_pages("listTransactions", {"postedAfter": "2026-01-01T00:00:00Z"}))
    assert len(pages) == 2
    with pytest.raises(ValueError):
        list(client.iter_pages("getReport", path_params={"reportId": "1"}))


TOO_BIG = ("InvalidInput", "Invalid input: response too large, update MaxResultsPerPage")


def test_invalid_input_halves_the_page_size_and_retries_the_same_token():
    client, session, _lwa, _clock = make_client(
        v0_page([{"AmazonOrderId": "1"}], "T1"),
        error(400, *TOO_BIG),
        error(400, *TOO_BIG),
        v0_page([{"AmazonOrderId": "2"}], "T2"),
        v0_page([]),
    )
    pages = list(client.list_financial_events(AFTER))
    assert len(pages) == 3
    sizes = [session.params(i)["MaxResultsPerPage"] for i in range(5)]
    tokens = [session.params(i).get("NextToken") for i in range(5)]
    assert sizes == [100, 100, 50, 25, 25]  # the smaller size is kept
    assert tokens == [None, "T1", "T1", "T1", "T2"]


def test_invalid_input_gives_up_at_one_result_per_page():
    client, session, _lwa, _clock = make_client(
        handler=lambda method, url, **kw: error(400, *TOO_BIG, request_id="r-big")
    )
    with pytest.raises(InvalidInputError) as info:
        list(client.list_financial_events_by_group_id("G1"))
    sizes = [session.params(i)["MaxResultsPerPage"] for i in range(len(session.calls))]
    assert sizes == [100, 50, 25, 12, 6, 3, 1]
    assert info.value.request_id == "r-big"


@pytest.mark.parametrize(
    "message", ["Date range is invalid.", "Start date cannot be null", "PostedAfter is too late"]
)
def test_date_errors_are_not_page_size_errors(message):
    client, session, _lwa, _clock = make_client(error(400, "InvalidInput", message))
    with pytest.raises(InvalidInputError):
        list(client.list_financial_events_by_order_id("111-2222222-3333333"))
    assert len(session.calls) == 1


def test_transactions_do_not_halve():
    client, session, _lwa, _clock = make_client(error(400, *TOO_BIG))
    with pytest.raises(InvalidInputError):
        list(client.list_transactions(posted_after=AFTER))
    assert len(session.calls) == 1
