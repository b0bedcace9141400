"""No secret in any log record or error message, through a whole flow with failures."""

import logging

import pytest
import requests
from fakes import FakeClock, FakeResponse, FakeSession, error, ok

from spapi import LwaAuth, SpApiClient, SpApiError

CLIENT_ID = "amzn1.application-oa2-client.public-id"
SECRET = "amzn1.oa2-cs.v1.TOP-SECRET-client-secret"
CODE = "ANcodeSpapiOauth0123456789"
REFRESH = "Atzr|never-logged-1"


class EchoingLwa:
    """An LWA that echoes what it got into its error descriptions (worst case)."""

    def __init__(self):
        self.issued = []
        self.fail_next = False

    def __call__(self, method, url, **kwargs):
        form = kwargs["data"]
        if self.fail_next:
            return FakeResponse(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": f"bad {form.get('refresh_token')} {form['client_secret']}",
                },
                {"x-amzn-RequestId": "lwa-fail"},
            )
        token = f"Atza|ACCESS-TOKEN-{len(self.issued) + 1}-secret"
        self.issued.append(token)
        body = {"access_token": token, "token_type": "bearer", "expires_in": 3600}
        if form["grant_type"] == "authorization_code":
            body["refresh_token"] = REFRESH
        return FakeResponse(200, body)


def test_no_secret_in_logs_or_errors(caplog):
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    lwa = EchoingLwa()
    auth = LwaAuth(
        CLIENT_ID,
        SECRET,
        token_url="https://lwa.test/auth/o2/token",
        session=FakeSession(handler=lwa),
        clock=clock,
    )
    errors = []

    def echo_token_error(method, url, **kwargs):
        token = kwargs["headers"]["x-amz-access-token"]
        return error(403, "Unauthorized", f"Token {token} is revoked", "r-revoked")

    api = FakeSession(
        error(429, "QuotaExceeded", "You exceeded your quota", "r1"),
        error(503, "ServiceUnavailable", "Unavailable", "r2"),
        requests.exceptions.ConnectionError("Connection reset by peer"),
        error(403, "Unauthorized", "The access token you provided has expired.", "r3"),
        ok({"payload": {"transactions": [], "nextToken": "n1"}}, "r4"),
        error(400, "InvalidInput", "Too big", "r5"),
        ok({"payload": {"FinancialEvents": {}}}, "r6"),
        error(404, "NotFound", "No such report", "r7"),
    )
    client = SpApiClient(
        auth, api_url="https://sp.test", session=api, clock=clock, sleep=clock.sleep
    )

    tokens = auth.exchange_code(CODE, redirect_uri="https://odoo.test/cb")
    assert tokens["refresh_token"] == REFRESH
    pages = client.list_transactions(posted_after="2026-01-01T00:00:00Z")
    assert next(pages).next_token == "n1"
    assert len(list(client.list_financial_events("2026-01-01T00:00:00Z"))) == 1
    with pytest.raises(SpApiError) as info:
        client.get_report("R1")
    errors.append(info.value)
    api.handler = echo_token_error
    with pytest.raises(SpApiError) as info:
        client.get_report("R2")
    errors.append(info.value)
    auth.invalidate()
    lwa.fail_next = True
    with pytest.raises(SpApiError) as info:
        client.get_report("R3")
    errors.append(info.value)
    with pytest.raises(SpApiError) as info:
        auth.exchange_code(CODE)
    errors.append(info.value)

    assert client.stats.throttled == 1
    assert len(lwa.issued) == 2  # the code's token, then one after the expired answer
    secrets = [SECRET, CODE, REFRESH, *lwa.issued]
    texts = [caplog.text, repr(auth), repr(client)]
    for record in caplog.records:
        texts.append(record.getMessage())
        texts.append(repr(record.args))
    for exc in errors:
        texts += [str(exc), repr(exc), repr(exc.errors), repr(exc.args), exc.message]
    assert len(caplog.records) >= 8
    assert any("r-revoked" in text for text in texts)
    for text in texts:
        for secret in secrets:
            assert secret not in text
