"""SpApiClient.request: headers, parsing, retries with backoff, token refresh, error mapping."""

import re
from decimal import Decimal

import pytest
import requests
from fakes import API_URL, FakeResponse, error, make_client, ok
from freezegun import freeze_time

from spapi import (
    AuthError,
    InvalidInputError,
    NotFoundError,
    Response,
    ServerError,
    SpApiClient,
    SpApiError,
    ThrottledError,
    TransportError,
    const,
)


def throttled(request_id="rid-429"):
    return error(
        429, "QuotaExceeded", "You exceeded your quota for the requested resource.", request_id
    )


def unavailable(request_id="rid-503"):
    return error(503, "ServiceUnavailable", "Service temporarily unavailable.", request_id)


EXPIRED = ("Unauthorized", "The access token you provided has expired.")
DENIED = ("Unauthorized", "Access to requested resource is denied.")


def test_base_url():
    assert SpApiClient(None).base_url == "https://sellingpartnerapi-na.amazon.com"
    client = SpApiClient(None, region="eu", environment="sandbox")
    assert client.base_url == "https://sandbox.sellingpartnerapi-eu.amazon.com"
    assert SpApiClient(None, api_url="http://127.0.0.1:8069/").base_url == "http://127.0.0.1:8069"
    with pytest.raises(ValueError):
        SpApiClient(None, region="moon")


@freeze_time("2026-03-04 05:06:07")
def test_request_headers_timeout_params_and_decimal_parsing():
    body = {"payload": {"transactions": [{"totalAmount": {"currencyAmount": 12.34}}]}}
    client, session, _lwa, _clock = make_client(
        ok(body, "rid-1"), timeout=(5, 30), user_agent="ua/1.0"
    )
    response = client.request(
        "listFinancialEventsByOrderId",
        path_params={"orderId": "111-2222222-3333333/x"},
        params={"MaxResultsPerPage": 10, "PostedBefore": None, "flags": ["a", "b"], "x": True},
    )
    assert isinstance(response, Response)
    amount = response.body["payload"]["transactions"][0]["totalAmount"]["currencyAmount"]
    assert amount == Decimal("12.34") and isinstance(amount, Decimal)
    assert response.request_id == "rid-1" == client.last_request_id
    assert response.headers["X-AMZN-REQUESTID"] == "rid-1"
    method, url, kwargs = session.calls[0]
    assert method == "GET"
    assert url == API_URL + "/finances/v0/orders/111-2222222-3333333%2Fx/financialEvents"
    assert kwargs["params"] == {"MaxResultsPerPage": 10, "flags": "a,b", "x": "true"}
    assert kwargs["timeout"] == (5, 30)
    headers = kwargs["headers"]
    assert headers["x-amz-access-token"] == "Atza|token-1"
    assert headers["x-amz-date"] == "20260304T050607Z"
    assert headers["user-agent"] == "ua/1.0"
    assert "json" not in kwargs


def test_default_user_agent_and_json_body():
    client, session, _lwa, _clock = make_client(
        FakeResponse(202, {"reportId": "ID1"}, {"x-amzn-RequestId": "r"})
    )
    assert client.create_report("GET_X", ["ATVPDKIKX0DER"], "2026-01-01T00:00:00Z") == "ID1"
    method, url, kwargs = session.calls[0]
    assert (method, url) == ("POST", API_URL + "/reports/2021-06-30/reports")
    assert kwargs["json"] == {
        "reportType": "GET_X",
        "marketplaceIds": ["ATVPDKIKX0DER"],
        "dataStartTime": "2026-01-01T00:00:00Z",
    }
    assert kwargs["headers"]["user-agent"] == ("account_amazon_refund/18.0.1.0.0 (Language=Python)")


def test_token_reused_between_calls():
    client, session, lwa, _clock = make_client(ok({"payload": []}), ok({"payload": []}))
    client.get_marketplace_participations()
    client.get_marketplace_participations()
    assert len(lwa.calls) == 1
    assert client.stats.token_refreshes == 1
    tokens = {kw["headers"]["x-amz-access-token"] for _m, _u, kw in session.calls}
    assert tokens == {"Atza|token-1"}


def test_unknown_operation():
    client, _session, _lwa, _clock = make_client()
    with pytest.raises(ValueError):
        client.request("deleteEverything")


def test_backoff_delay_bounds_and_jitter():
    client, _session, _lwa, _clock = make_client(backoff_base=1.0, backoff_cap=10.0)
    client.rand = lambda: 0.0
    assert [client.backoff_delay(n) for n in (1, 2, 3, 4, 5, 6)] == [0.5, 1, 2, 4, 5, 5]
    client.rand = lambda: 0.999999
    assert client.backoff_delay(1) == pytest.approx(1.0, abs=1e-5)
    assert client.backoff_delay(10) == pytest.approx(10.0, abs=1e-4)
    client.rand = lambda: 0.5
    assert client.backoff_delay(3) == pytest.approx(3.0)


def test_throttling_is_retried_with_backoff_and_drains_the_bucket():
    client, session, _lwa, clock = make_client(
        throttled("r1"),
        throttled("r2"),
        ok({"payload": [{"marketplace": {"id": "ATVPDKIKX0DER"}}]}, "r3"),
        rate_limits={"getMarketplaceParticipations": (0.5, 10)},
        backoff_base=1.0,
    )
    assert client.get_marketplace_participations() == [{"marketplace": {"id": "ATVPDKIKX0DER"}}]
    assert len(session.calls) == 3
    # Backoff (0.5 then 1.0 with rand=0), each followed by the drained bucket's 2 s wait.
    assert clock.sleeps == [0.5, pytest.approx(1.5), 1.0, pytest.approx(1.0)]
    stats = client.stats.as_dict()
    assert stats == {
        "calls": 3,
        "throttled": 2,
        "retries": 2,
        "rate_wait": pytest.approx(2.5),
        "backoff_wait": pytest.approx(1.5),
        "token_refreshes": 1,
    }
    assert client.last_request_id == "r3"


def test_throttling_gives_up_after_max_attempts():
    client, session, _lwa, _clock = make_client(
        handler=lambda method, url, **kw: throttled(f"r{len(session.calls)}"),
        max_attempts=4,
        backoff_base=2.0,
        backoff_cap=5.0,
    )
    with pytest.raises(ThrottledError) as info:
        list(client.list_transactions(posted_after="2026-01-01T00:00:00Z"))
    assert len(session.calls) == 4
    assert info.value.request_id == "r4"
    assert info.value.code == "QuotaExceeded"
    assert info.value.status_code == 429
    assert info.value.retryable
    # min(cap, base * 2**n) halved by rand=0: 2/2, 4/2, then the cap 5/2.
    assert client.stats.backoff_wait == pytest.approx(1.0 + 2.0 + 2.5)
    assert client.stats.throttled == 4
    assert client.bucket("listTransactions").tokens <= 0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(status):
    client, session, _lwa, _clock = make_client(
        error(status, "InternalFailure", "We encountered an internal error.", "r1"),
        ok({"payload": []}),
    )
    assert client.get_marketplace_participations() == []
    assert len(session.calls) == 2
    assert client.stats.retries == 1
    assert client.stats.throttled == 0


def test_server_error_after_max_attempts():
    client, session, _lwa, _clock = make_client(
        handler=lambda method, url, **kw: unavailable(), max_attempts=3
    )
    with pytest.raises(ServerError) as info:
        client.get_report("R1")
    assert len(session.calls) == 3
    assert info.value.request_id == "rid-503"
    assert str(info.value) == (
        "getReport: HTTP 503 ServiceUnavailable: Service temporarily unavailable. "
        "(request id rid-503)"
    )


def test_transport_errors_are_retried_then_raised():
    client, session, _lwa, clock = make_client(
        requests.exceptions.ConnectionError("refused"),
        requests.exceptions.ReadTimeout("read timed out"),
        ok({"payload": []}),
    )
    assert client.get_marketplace_participations() == []
    assert clock.sleeps == [0.5, 1.0]

    client, session, _lwa, _clock = make_client(
        handler=lambda method, url, **kw: requests.exceptions.ConnectTimeout("timed out"),
        max_attempts=2,
    )
    with pytest.raises(TransportError) as info:
        client.get_marketplace_participations()
    assert len(session.calls) == 2
    # A plain sentence, not the library's text (urllib3's pool and address stay in the log).
    assert "The connection timed out." in str(info.value)
    assert "ConnectTimeout" not in str(info.value)
    assert info.value.status_code is None


def test_other_request_exceptions_are_not_retried():
    client, session, _lwa, _clock = make_client(requests.exceptions.InvalidURL("bad url"))
    with pytest.raises(SpApiError) as info:
        client.get_marketplace_participations()
    assert not info.value.retryable
    assert len(session.calls) == 1


def test_expired_token_is_refreshed_once():
    client, session, _lwa, _clock = make_client(
        error(403, *EXPIRED, request_id="r1"), ok({"payload": []}, "r2")
    )
    assert client.get_marketplace_participations() == []
    tokens = [kw["headers"]["x-amz-access-token"] for _m, _u, kw in session.calls]
    assert tokens == ["Atza|token-1", "Atza|token-2"]
    assert client.auth.refresh_count == 2
    assert client.stats.token_refreshes == 2
    assert client.stats.retries == 1


def test_expired_token_twice_raises_auth_error():
    client, session, lwa, _clock = make_client(
        error(401, *EXPIRED, request_id="r1"),
        error(403, *EXPIRED, request_id="r2"),
        ok({"payload": []}),
    )
    with pytest.raises(AuthError) as info:
        client.get_marketplace_participations()
    assert len(session.calls) == 2
    assert len(lwa.calls) == 2
    assert info.value.request_id == "r2"
    assert info.value.status_code == 403


def test_expired_token_detected_in_details():
    client, session, _lwa, _clock = make_client(
        error(403, "Unauthorized", "Access denied", details="The access token has expired"),
        ok({"payload": []}),
    )
    client.get_marketplace_participations()
    assert len(session.calls) == 2


def test_denied_is_not_retried():
    client, session, lwa, _clock = make_client(
        error(403, *DENIED, request_id="r-denied", details="The access token you provided is "
              "revoked, malformed or invalid."),
    )  # fmt: skip
    with pytest.raises(AuthError) as info:
        client.get_marketplace_participations()
    assert len(session.calls) == 1
    assert len(lwa.calls) == 1
    assert info.value.code == "Unauthorized"
    assert info.value.request_id == "r-denied"


def test_lwa_failure_during_request():
    client, session, lwa, _clock = make_client()
    lwa.handler = lambda method, url, **kw: FakeResponse(
        400, {"error": "invalid_grant", "error_description": "Refresh token revoked"}
    )
    with pytest.raises(AuthError) as info:
        client.get_marketplace_participations()
    assert info.value.code == "invalid_grant"
    assert session.calls == []


def test_lwa_outage_is_retried():
    client, session, lwa, _clock = make_client(ok({"payload": []}))
    answers = [
        requests.exceptions.ConnectionError("down"),
        FakeResponse(200, {"access_token": "A"}),
    ]
    lwa.handler = lambda method, url, **kw: answers.pop(0)
    assert client.get_marketplace_participations() == []
    assert len(lwa.calls) == 2
    assert session.calls[0][2]["headers"]["x-amz-access-token"] == "A"


@pytest.mark.parametrize(
    "answer, cls",
    [
        (error(400, "InvalidInput", "Date range is invalid.", "r400"), InvalidInputError),
        (error(404, "NotFound", "Not found", "r404"), NotFoundError),
        (error(413, "RequestTooLarge", "Too large", "r413"), InvalidInputError),
    ],
)
def test_client_errors_are_not_retried(answer, cls):
    client, session, _lwa, _clock = make_client(answer)
    with pytest.raises(cls) as info:
        client.get_report("R1")
    assert type(info.value) is cls
    assert len(session.calls) == 1
    assert info.value.request_id == answer.headers["x-amzn-RequestId"]
    assert info.value.operation == "getReport"
    assert re.search(r"\(request id r4\d\d\)$", str(info.value))


def test_non_json_answers():
    client, _session, _lwa, _clock = make_client(
        FakeResponse(502, text="<html>Bad Gateway</html>"),
        FakeResponse(200, text="not json", headers={"x-amzn-RequestId": "r"}),
        max_attempts=2,
    )
    with pytest.raises(ServerError) as info:
        client.get_report("R1")
    assert info.value.status_code == 200
    assert client.stats.calls == 2


def test_empty_body_is_an_empty_dict():
    client, _session, _lwa, _clock = make_client(FakeResponse(204, text=""))
    assert client.request("cancelReport", {"reportId": "R1"}).body == {}


def test_datetime_arguments_are_iso_utc():
    from datetime import datetime, timedelta, timezone

    client, session, _lwa, _clock = make_client(ok({"payload": {}}))
    paris = timezone(timedelta(hours=1))
    list(
        client.list_financial_events(
            datetime(2026, 1, 1, 1, 0, 0, 123, tzinfo=paris), "2026-01-02T00:00:00.5+02:00"
        )
    )
    assert session.params(0) == {
        "PostedAfter": "2026-01-01T00:00:00Z",
        "PostedBefore": "2026-01-01T22:00:00Z",
        "MaxResultsPerPage": 100,
    }
    with pytest.raises(ValueError):
        list(client.list_financial_events("yesterday"))


def test_report_download_without_token():
    import gzip

    client, session, _lwa, _clock = make_client(
        FakeResponse(200, content=gzip.compress(b"settlement-id\tamount\n"))
    )
    document = {"url": "https://s3.test/doc?X-Amz-Signature=sig", "compressionAlgorithm": "GZIP"}
    assert client.download_report_document(document) == b"settlement-id\tamount\n"
    headers = session.calls[0][2]["headers"]
    assert "x-amz-access-token" not in headers
    assert session.calls[0][2]["timeout"] == client.timeout


def test_constants_reexported():
    assert const.OPERATIONS["getReport"].rate == 2
