"""spapi.auth.LwaAuth: token cache, refresh before expiry, code exchange, LWA errors."""

import pytest
import requests
from fakes import FakeClock, FakeResponse, FakeSession, lwa_token

from spapi import AuthError, LwaAuth, ServerError, ThrottledError, TransportError

SECRET = "amzn1.oa2-cs.v1.s3cr3t-client-secret"
REFRESH = "Atzr|fake-refresh-2"
CODE = "ANdNAVhyhqirUelHGEHA"


def make_auth(*responses, refresh_token=REFRESH, **kwargs):
    session = FakeSession(*responses)
    clock = FakeClock(start=50_000.0)
    auth = LwaAuth(
        "amzn1.application-oa2-client.abc",
        SECRET,
        refresh_token=refresh_token,
        token_url="https://lwa.test/auth/o2/token",
        session=session,
        clock=clock,
        **kwargs,
    )
    return auth, session, clock


def test_refresh_request_is_a_form_post_with_timeout():
    auth, session, _clock = make_auth(lwa_token("Atza|one"), timeout=(3, 7))
    assert auth.access_token() == "Atza|one"
    method, url, kwargs = session.calls[0]
    assert (method, url) == ("POST", "https://lwa.test/auth/o2/token")
    assert kwargs["data"] == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": "amzn1.application-oa2-client.abc",
        "client_secret": SECRET,
    }
    assert kwargs["timeout"] == (3, 7)
    assert "json" not in kwargs
    assert auth.refresh_count == 1


def test_token_cached_until_expiry_minus_margin():
    auth, session, clock = make_auth(lwa_token("Atza|one"), lwa_token("Atza|two"), margin=120)
    assert auth.access_token() == "Atza|one"
    assert auth.expires_at == clock.now + 3600
    clock.advance(3600 - 120 - 1)
    assert auth.access_token() == "Atza|one"
    assert len(session.calls) == 1
    clock.advance(1)  # exactly expiry - margin
    assert auth.access_token() == "Atza|two"
    assert len(session.calls) == 2
    assert auth.refresh_count == 2


def test_short_lived_token_and_missing_expires_in():
    auth, _session, clock = make_auth(
        lwa_token("Atza|short", expires_in=200),
        FakeResponse(200, {"access_token": "Atza|default"}),
        margin=120,
    )
    assert auth.access_token() == "Atza|short"
    clock.advance(80)
    assert auth.access_token() == "Atza|default"  # 200 - 120 reached
    assert auth.expires_at == clock.now + 3600


def test_invalidate_forces_a_refresh():
    auth, _session, _clock = make_auth(lwa_token("Atza|one"), lwa_token("Atza|two"))
    auth.access_token()
    auth.invalidate()
    assert auth.expires_at == 0
    assert auth.access_token() == "Atza|two"
    assert auth.refresh_count == 2


def test_exchange_code_returns_tokens_and_caches_access_token():
    auth, session, _clock = make_auth(
        lwa_token("Atza|from-code", refresh_token="Atzr|new-refresh"), refresh_token=None
    )
    tokens = auth.exchange_code(CODE, redirect_uri="https://odoo.test/amazon_sp/oauth")
    assert tokens == {
        "refresh_token": "Atzr|new-refresh",
        "access_token": "Atza|from-code",
        "expires_in": 3600,
        "token_type": "bearer",
    }
    form = session.calls[0][2]["data"]
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == CODE
    assert form["redirect_uri"] == "https://odoo.test/amazon_sp/oauth"
    assert form["client_secret"] == SECRET
    assert auth.refresh_token == "Atzr|new-refresh"
    assert auth.access_token() == "Atza|from-code"  # cached: no second call
    assert len(session.calls) == 1


def test_no_refresh_token_fails_without_calling():
    auth, session, _clock = make_auth(refresh_token=None)
    with pytest.raises(AuthError):
        auth.access_token()
    assert session.calls == []


def test_lwa_error_reply_maps_to_auth_error_without_secrets():
    reply = FakeResponse(
        400,
        {
            "error": "invalid_grant",
            "error_description": f"The request has an invalid grant parameter : {REFRESH}",
        },
        {"x-amzn-RequestId": "lwa-rid-1"},
    )
    auth, _session, _clock = make_auth(reply)
    with pytest.raises(AuthError) as info:
        auth.access_token()
    error = info.value
    assert error.code == "invalid_grant"
    assert error.status_code == 400
    assert error.request_id == "lwa-rid-1"
    assert error.message.startswith("The request has an invalid grant parameter")
    for secret in (SECRET, REFRESH):
        assert secret not in str(error)
        assert secret not in repr(error)
        assert secret not in repr(error.errors)
        assert secret not in repr(auth)


def test_code_exchange_error_hides_the_code():
    reply = FakeResponse(
        400, {"error": "invalid_grant", "error_description": f"Code {CODE} expired"}
    )
    auth, _session, _clock = make_auth(reply, refresh_token=None)
    with pytest.raises(AuthError) as info:
        auth.exchange_code(CODE)
    assert CODE not in str(info.value)
    assert info.value.operation == "lwaExchangeCode"


@pytest.mark.parametrize(
    "answer, cls",
    [
        (FakeResponse(401, {"error": "invalid_client", "error_description": "Bad"}), AuthError),
        (FakeResponse(500, text="oops"), ServerError),
        (FakeResponse(429, {"error": "slow_down"}), ThrottledError),
        (FakeResponse(200, {"token_type": "bearer"}), AuthError),
        (FakeResponse(400, text="<html>not json</html>"), AuthError),
        (requests.exceptions.ConnectTimeout("timed out"), TransportError),
    ],
)
def test_lwa_failures(answer, cls):
    auth, _session, _clock = make_auth(answer)
    with pytest.raises(cls) as info:
        auth.access_token()
    assert type(info.value) is cls
    assert SECRET not in str(info.value)
    assert auth.refresh_count == 0


def test_repr_hides_secrets():
    auth, _session, _clock = make_auth(lwa_token("Atza|in-memory-only"))
    auth.access_token()
    text = repr(auth)
    for secret in (SECRET, REFRESH, "Atza|in-memory-only"):
        assert secret not in text


def test_token_cache_follows_the_wall_clock_under_freezegun():
    """The default clock is the real time: frozen and moved with freezegun, not injected."""
    from freezegun import freeze_time

    session = FakeSession(lwa_token("Atza|first"), lwa_token("Atza|second"))
    with freeze_time("2026-11-22 10:00:00") as frozen:
        auth = LwaAuth("client", SECRET, refresh_token=REFRESH, session=session, margin=120)
        assert auth.access_token() == "Atza|first"
        frozen.tick(3600 - 121)
        assert auth.access_token() == "Atza|first"
        assert len(session.calls) == 1
        frozen.tick(1)  # expiry minus the margin: refreshed
        assert auth.access_token() == "Atza|second"
        assert len(session.calls) == 2
