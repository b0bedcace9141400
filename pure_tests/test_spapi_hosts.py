"""Only Amazon's hosts, short connect timeouts, and a foreign host's answers never shown."""

import socket

import pytest
import requests
from fakes import FakeClock, FakeResponse, FakeSession, error, lwa_token, ok

from spapi import (
    AuthError,
    HostNotAllowedError,
    InvalidInputError,
    LwaAuth,
    ServerError,
    SpApiClient,
    SpApiError,
    TransportError,
    const,
    hosts,
)

CUSTOM = "http://127.0.0.1:8070"
SECRET_PAGE = "<html>internal admin page of 10.0.0.5: db password hunter2</html>"


def _auth(session=None, token_url=const.LWA_TOKEN_URL, **kwargs):
    session = session or FakeSession(handler=lambda *args, **kw: lwa_token())
    return LwaAuth(
        "client-id", "client-secret-value", "test-refresh-token", token_url, session, **kwargs
    )


@pytest.mark.parametrize("url", sorted(const.API_HOSTS.values()))
def test_amazon_api_hosts_are_accepted(url):
    assert hosts.is_amazon(url, hosts.API)
    assert hosts.check_url(url + "/", hosts.API) == url + "/"


@pytest.mark.parametrize(
    "url",
    [
        "http://sellingpartnerapi-na.amazon.com",  # not https
        "https://sellingpartnerapi-na.amazon.com.evil.example",  # lookalike
        "https://sellingpartnerapi-na.amazon.com@169.254.169.254",  # userinfo trick
        "https://sellingpartnerapi-na.amazon.com:8443",  # another port
        "https://169.254.169.254/latest/meta-data",
        CUSTOM,
        "ftp://sellingpartnerapi-na.amazon.com",
        "",
    ],
)
def test_other_hosts_are_refused_without_the_permission(url):
    assert not hosts.is_amazon(url, hosts.API)
    with pytest.raises(HostNotAllowedError) as info:
        hosts.check_url(url, hosts.API)
    assert url not in str(info.value) or not url


def test_custom_hosts_only_when_allowed():
    assert hosts.check_url(CUSTOM, hosts.API, allow_custom=True) == CUSTOM
    with pytest.raises(HostNotAllowedError):  # not http(s), even when allowed
        hosts.check_url("file:///etc/passwd", hosts.API, allow_custom=True)
    with pytest.raises(HostNotAllowedError):
        SpApiClient(_auth(), api_url=CUSTOM, allow_custom_hosts=False)
    with pytest.raises(HostNotAllowedError):
        _auth(token_url=CUSTOM + "/auth/o2/token", allow_custom_hosts=False)
    # Amazon's own hosts need no permission.
    client = SpApiClient(_auth(allow_custom_hosts=False), region="eu", allow_custom_hosts=False)
    assert client.base_url == "https://sellingpartnerapi-eu.amazon.com"
    assert hosts.is_amazon("https://api.amazon.co.uk/auth/o2/token", hosts.LWA)
    assert hosts.is_amazon("https://sellercentral-europe.amazon.com/apps", hosts.CONSENT)


def test_report_documents_only_from_amazon_s3_without_the_permission():
    session = FakeSession(FakeResponse(200, text="settlement-id\n1\n"))
    client = SpApiClient(_auth(), session=session, allow_custom_hosts=False)
    with pytest.raises(HostNotAllowedError) as info:
        client.download_report_document({"url": "http://10.0.0.5/doc?sig=secret-signature"})
    assert "secret-signature" not in str(info.value)
    assert session.calls == []
    s3 = "https://tortuga-prod-na.s3-external-1.amazonaws.com/doc?X-Amz-Signature=abc"
    assert client.download_report_document({"url": s3}) == b"settlement-id\n1\n"
    assert client.health["reports"]["success"]


def test_connect_timeout_is_short_and_compares_with_a_number():
    session = FakeSession(ok({"payload": []}))
    lwa = FakeSession(lwa_token())
    client = SpApiClient(_auth(lwa), session=session)
    client.get_marketplace_participations()
    api_timeout = session.calls[0][2]["timeout"]
    lwa_timeout = lwa.calls[0][2]["timeout"]
    assert (api_timeout.connect, lwa_timeout.connect) == (5, 5)
    assert api_timeout.read == 60 and lwa_timeout.read == 30
    # Odoo's test guard raises timeouts "< 10" to 10: the longest part is compared.
    assert not api_timeout < 10 and api_timeout > 10
    assert hosts.Timeout(2, 3) < 10


def test_refused_connection_fails_fast_in_plain_words():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    auth = _auth(session=requests.Session(), token_url=f"http://127.0.0.1:{port}/auth/o2/token")
    client = SpApiClient(auth, api_url=f"http://127.0.0.1:{port}", max_attempts=1)
    with pytest.raises(TransportError) as info:
        client.get_marketplace_participations()
    text = str(info.value)
    assert "The connection failed" in text
    assert "HTTPConnectionPool" not in text and "NewConnectionError" not in text
    assert info.value.operation == "lwaRefreshToken"


@pytest.mark.parametrize(
    "answer",
    [
        FakeResponse(500, text=SECRET_PAGE),
        FakeResponse(404, {"message": SECRET_PAGE}),
        error(400, "InvalidInput", SECRET_PAGE),
    ],
)
def test_a_foreign_hosts_answer_is_never_in_the_error_text(answer):
    clock = FakeClock()
    session = FakeSession(answer)
    client = SpApiClient(
        _auth(),
        api_url=CUSTOM,
        session=session,
        clock=clock,
        sleep=clock.sleep,
        max_attempts=1,
        hide_foreign_answers=True,
    )
    with pytest.raises(SpApiError) as info:
        client.get_report("r1")
    err = info.value
    for text in (str(err), repr(err), *map(str, err.args), err.public_message):
        assert "hunter2" not in text and "10.0.0.5" not in text
    assert err.status_code == answer.status_code
    assert "not Amazon's" in str(err)
    assert client.health["reports"]["failure"]


def test_amazons_own_answer_is_shown():
    session = FakeSession(error(400, "InvalidInput", "Invalid reportId"))
    client = SpApiClient(_auth(), session=session, hide_foreign_answers=True)
    with pytest.raises(InvalidInputError) as info:
        client.get_report("r1")
    assert "Invalid reportId" in str(info.value)
    assert info.value.public_message == "Invalid reportId"


def test_a_foreign_lwa_keeps_only_the_error_code():
    lwa = FakeSession(
        FakeResponse(400, {"error": "invalid_grant", "error_description": SECRET_PAGE})
    )
    auth = _auth(lwa, token_url=CUSTOM + "/auth/o2/token", hide_foreign_answers=True)
    with pytest.raises(AuthError) as info:
        auth.access_token()
    assert info.value.code == "invalid_grant"
    assert info.value.authorization_rejected
    assert "hunter2" not in str(info.value) and not info.value.public_message
    # A code that is not shaped like one is dropped too.
    lwa.add(FakeResponse(400, {"error": SECRET_PAGE}))
    with pytest.raises(AuthError) as info:
        auth.access_token()
    assert info.value.code is None and "hunter2" not in str(info.value)


def test_total_timeout_bounds_the_retries_of_a_person_waiting():
    clock = FakeClock()
    session = FakeSession(handler=lambda *args, **kw: FakeResponse(503, text=""))
    client = SpApiClient(
        _auth(),
        session=session,
        clock=clock,
        sleep=clock.sleep,
        rand=lambda: 0.0,
        backoff_base=4.0,
        max_attempts=10,
        total_timeout=20,
    )
    with pytest.raises(ServerError):
        client.get_marketplace_participations()
    # Backoffs of 2, 4, 8 s fit in 20 s; the next (16 s) would not: 4 calls, not 10.
    assert clock.sleeps == [2.0, 4.0, 8.0]
    assert len(session.calls) == 4


def test_health_notes_the_family_of_each_operation():
    session = FakeSession(ok({"payload": []}), error(403, "Unauthorized", "Access denied"))
    client = SpApiClient(_auth(), session=session)
    client.get_marketplace_participations()
    with pytest.raises(AuthError):
        client.request("listTransactions")
    assert set(client.health) == {"sellers", "finances"}
    assert "success" in client.health["sellers"] and "failure" not in client.health["sellers"]
    assert client.health["finances"]["error"].status_code == 403
    assert const.operation_family("getReports") == "reports"
    assert const.operation_family("lwaRefreshToken") == "authorization"
    assert "Finance and Accounting" in const.FAMILY_ROLES["finances"]
