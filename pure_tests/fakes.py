"""Test doubles for the spapi client: a scripted HTTP session and a fake clock.

The client and LwaAuth take any object with ``request(method, url, **kwargs)``; nothing here
patches ``requests``.
"""

import json
from collections import deque
from urllib.parse import urlsplit

import requests


class FakeResponse:
    """The part of ``requests.Response`` the client reads."""

    def __init__(self, status_code=200, body=None, headers=None, text=None, content=None):
        self.status_code = status_code
        self.headers = dict(headers or {})
        if text is None:
            text = "" if body is None else json.dumps(body)
        self.text = text
        self.content = content if content is not None else text.encode()
        self.closed = False

    def iter_content(self, chunk_size=1):
        """The body in chunks of ``chunk_size`` bytes (``stream=True``)."""
        for start in range(0, len(self.content), chunk_size):
            yield self.content[start : start + chunk_size]

    def close(self):
        self.closed = True


def ok(body, request_id="rid-ok", **headers):
    return FakeResponse(200, body, {"x-amzn-RequestId": request_id, **headers})


def error(status, code, message, request_id="rid-err", details="", **headers):
    body = {"errors": [{"code": code, "message": message, "details": details}]}
    return FakeResponse(status, body, {"x-amzn-RequestId": request_id, **headers})


def lwa_token(access_token="Atza|access-1", expires_in=3600, refresh_token=None):
    body = {"access_token": access_token, "token_type": "bearer", "expires_in": expires_in}
    if refresh_token:
        body["refresh_token"] = refresh_token
    return FakeResponse(200, body, {"x-amzn-RequestId": "lwa-rid"})


class FakeSession:
    """Answers requests from a queue (responses or exceptions to raise) or a handler.

    ``calls`` records ``(method, url, kwargs)`` of every request.
    """

    def __init__(self, *responses, handler=None):
        self.queue = deque(responses)
        self.handler = handler
        self.calls = []
        self.closed = False

    def add(self, *responses):
        self.queue.extend(responses)

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        if self.handler is not None:
            answer = self.handler(method, url, **kwargs)
        else:
            if not self.queue:
                raise AssertionError(f"Unexpected request {method} {urlsplit(url).path}")
            answer = self.queue.popleft()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def close(self):
        self.closed = True

    # Helpers for assertions
    def paths(self):
        return [urlsplit(url).path for _method, url, _kwargs in self.calls]

    def params(self, index):
        return self.calls[index][2].get("params")


class FakeClock:
    """A monotonic clock that only moves when the code sleeps (or the test advances it)."""

    def __init__(self, start=1000.0):
        self.now = float(start)
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds):
        self.now += seconds


CONNECTION_ERROR = requests.exceptions.ConnectionError("Connection refused")
READ_TIMEOUT = requests.exceptions.ReadTimeout("Read timed out.")


LWA_URL = "https://lwa.test/auth/o2/token"
API_URL = "https://sp.test"
CLIENT_SECRET = "amzn1.oa2-cs.v1.client-secret-value"
REFRESH_TOKEN = "Atzr|fake-refresh-1"


class LwaServer:
    """Handler for a FakeSession: every refresh answers a new access token Atza|token-<n>."""

    def __init__(self):
        self.issued = []

    def __call__(self, method, url, **kwargs):
        token = f"Atza|token-{len(self.issued) + 1}"
        self.issued.append(token)
        return lwa_token(token)


def make_client(*responses, handler=None, clock=None, **kwargs):
    """(client, api_session, lwa_session, clock) with fake sessions, clock and sleep.

    ``rand`` defaults to 0 (backoff = half of the exponential delay).
    """
    from spapi import LwaAuth, SpApiClient

    clock = clock or FakeClock()
    lwa_session = FakeSession(handler=LwaServer())
    auth = LwaAuth(
        "amzn1.application-oa2-client.test",
        CLIENT_SECRET,
        refresh_token=REFRESH_TOKEN,
        token_url=LWA_URL,
        session=lwa_session,
        clock=clock,
    )
    api_session = FakeSession(*responses, handler=handler)
    kwargs.setdefault("rand", lambda: 0.0)
    client = SpApiClient(
        auth, api_url=API_URL + "/", session=api_session, clock=clock, sleep=clock.sleep, **kwargs
    )
    return client, api_session, lwa_session, clock
