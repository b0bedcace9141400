"""Integrity of the SP-API client: a truncated 2xx body is retried, a looping token stops."""

from datetime import datetime, timezone

import pytest
from fakes import FakeResponse, make_client, ok

from spapi import ServerError, SpApiError
from spapi.client import TOKEN_REPEATS

AFTER = datetime(2026, 1, 1, tzinfo=timezone.utc)
BEFORE = datetime(2026, 1, 15, tzinfo=timezone.utc)


def v0_page(events, token=None):
    payload = {"FinancialEvents": {"RefundEventList": events}}
    if token:
        payload["NextToken"] = token
    return ok({"payload": payload})


def test_truncated_2xx_body_is_retried_like_a_5xx():
    client, session, _lwa, _clock = make_client(
        FakeResponse(200, text='{"payload": {"FinancialEvents": {"Refu'),
        v0_page([{"AmazonOrderId": "1"}]),
        max_attempts=3,
    )
    pages = list(client.list_financial_events(AFTER, BEFORE))
    assert len(session.calls) == 2
    assert client.stats.retries == 1
    assert pages[0].payload["FinancialEvents"]["RefundEventList"] == [{"AmazonOrderId": "1"}]


def test_non_json_2xx_fails_clearly_after_the_retries():
    client, session, _lwa, _clock = make_client(
        *[FakeResponse(200, text="<html>proxy</html>") for _ in range(3)], max_attempts=3
    )
    with pytest.raises(ServerError, match="not JSON") as info:
        list(client.list_financial_events(AFTER, BEFORE))
    assert info.value.status_code == 200
    assert len(session.calls) == 3


def test_a_token_looping_back_to_itself_fails_the_window():
    # Amazon answers the same token again and again: the window stops instead of reading forever.
    calls = []

    def handler(*_args, **_kwargs):
        calls.append(1)
        assert len(calls) < 50, "read forever"
        return v0_page([{"AmazonOrderId": "1"}], "LOOP")

    client, session, _lwa, _clock = make_client(handler=handler)
    with pytest.raises(SpApiError, match="same next token"):
        list(client.list_financial_events(AFTER, BEFORE))
    assert len(session.calls) == TOKEN_REPEATS + 1  # the first page, then the repeats


def test_a_token_repeated_after_an_empty_page_is_still_read():
    client, _session, _lwa, _clock = make_client(
        v0_page([{"AmazonOrderId": "1"}], "T1"),
        v0_page([], "T1"),  # "try again": the same place
        v0_page([{"AmazonOrderId": "2"}]),
    )
    pages = list(client.list_financial_events(AFTER, BEFORE))
    assert [page.next_token for page in pages] == ["T1", "T1", None]
