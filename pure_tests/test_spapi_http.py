"""The real requests path against a local http.server (127.0.0.1, port 0)."""

import json
import logging
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from spapi import LwaAuth, SpApiClient, TransportError

SECRET = "amzn1.oa2-cs.v1.http-secret"
REFRESH = "Atzr|http-refresh-token"
ACCESS = "Atza|http-access-token"


def _headers(handler):
    return {key.lower(): value for key, value in handler.headers.items()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _reply(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        form = parse_qs(self.rfile.read(length).decode())
        self.server.seen.append(("POST", self.path, _headers(self), form))
        if form.get("client_secret") != [SECRET] or form.get("refresh_token") != [REFRESH]:
            self._reply(401, {"error": "invalid_client", "error_description": "Bad client"})
            return
        self._reply(200, {"access_token": ACCESS, "token_type": "bearer", "expires_in": 3600})

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.server.seen.append(("GET", url.path, _headers(self), query))
        if url.path.endswith("/reports/slow"):
            self.server.release.wait(5)
            self._reply(200, {})
            return
        if self.headers.get("x-amz-access-token") != ACCESS:
            self._reply(403, {"errors": [{"code": "Unauthorized", "message": "Denied"}]})
            return
        if "nextToken" not in query:
            payload = {"transactions": [{"transactionId": "t1"}], "nextToken": "n1"}
        else:
            amount = {"currencyCode": "USD", "currencyAmount": -12.34}
            payload = {"transactions": [{"transactionId": "t2", "totalAmount": amount}]}
        self._reply(
            200,
            {"payload": payload},
            {"x-amzn-RequestId": f"req-{len(self.server.seen)}", "x-amzn-RateLimit-Limit": "0.25"},
        )


class RecordingSession(requests.Session):
    """A real requests.Session that notes the timeout of each call."""

    def __init__(self):
        super().__init__()
        self.timeouts = []

    def request(self, method, url, **kwargs):
        self.timeouts.append(kwargs.get("timeout"))
        return super().request(method, url, **kwargs)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.seen = []
    httpd.release = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_real_http_flow(server, caplog):
    caplog.set_level(logging.DEBUG)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    session = RecordingSession()
    auth = LwaAuth("client-id", SECRET, REFRESH, token_url=base + "/auth/o2/token", session=session)
    client = SpApiClient(
        auth, api_url=base, session=session, timeout=(3, 9), sleep=lambda seconds: None
    )
    pages = list(client.list_transactions(posted_after="2026-01-01T00:00:00Z"))
    session.close()

    assert [page.payload["transactions"][0]["transactionId"] for page in pages] == ["t1", "t2"]
    amount = pages[1].payload["transactions"][0]["totalAmount"]["currencyAmount"]
    assert amount == Decimal("-12.34")
    assert pages[1].request_id == "req-3"
    assert session.timeouts == [(5, 30), (3, 9), (3, 9)]  # LWA default, then the client's

    method, path, headers, form = server.seen[0]
    assert (method, path) == ("POST", "/auth/o2/token")
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert form["grant_type"] == ["refresh_token"]
    _method, path, headers, query = server.seen[2]
    assert path == "/finances/2024-06-19/transactions"
    assert query == {"postedAfter": ["2026-01-01T00:00:00Z"], "nextToken": ["n1"]}
    assert headers["x-amz-access-token"] == ACCESS
    assert headers["user-agent"] == "account_amazon_refund/18.0.1.0.0 (Language=Python)"
    assert len(headers["x-amz-date"]) == 16 and headers["x-amz-date"].endswith("Z")
    assert client.bucket("listTransactions").rate == 0.25
    assert client.stats.calls == 2

    for secret in (SECRET, REFRESH, ACCESS):
        assert secret not in caplog.text


def test_read_timeout_is_a_transport_error(server):
    base = f"http://127.0.0.1:{server.server_address[1]}"
    auth = LwaAuth("client-id", SECRET, REFRESH, token_url=base + "/auth/o2/token")
    client = SpApiClient(auth, api_url=base, timeout=(3, 0.2), max_attempts=1)
    with pytest.raises(TransportError) as info:
        client.get_report("slow")
    assert "did not answer in time" in str(info.value)
    assert "HTTPConnectionPool" not in str(info.value)
    assert info.value.retryable
    client.close()
