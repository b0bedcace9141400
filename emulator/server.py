"""A local Selling Partner API: LWA, the consent page, Sellers and Finances (stdlib only).

:class:`SpApiEmulator` serves one or more sellers' :class:`~.generator.Dataset` s on 127.0.0.1
with Amazon's rules: access tokens of one hour, the Finances date rules (2 minutes, 180 days),
opaque page tokens bound to their arguments, token buckets per operation and seller, error
bodies and headers like Amazon's, and injectable faults (:meth:`SpApiEmulator.inject`).

Times come from ``now`` (a callable returning an aware UTC datetime; the real time by default):
token and code expiry, the date rules, group closing and deferred releases follow it. Rate
buckets refill on ``clock`` (seconds, ``time.monotonic`` by default) so that a frozen ``now``
does not freeze the buckets.
"""

import base64
import json
import logging
import os
import re
import threading
import time
import uuid
from collections import namedtuple
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from .common import dumps
from .dataset import Dataset, default_window
from .generator import generate_dataset
from .operations import (
    DOCUMENT_PATH,
    NEXT_TOKEN_LIFETIME,
    V0_EVENT_OPERATIONS,
    ApiError,
    Operations,
    _invalid,
)

_logger = logging.getLogger(__name__)

UTC = timezone.utc

# operationId → (rate per second, burst): the models' default usage plans.
OPERATIONS = {
    "getMarketplaceParticipations": (0.016, 15),
    "listFinancialEventGroups": (0.5, 30),
    "listFinancialEventsByGroupId": (0.5, 30),
    "listFinancialEventsByOrderId": (0.5, 30),
    "listFinancialEvents": (0.5, 30),
    "listTransactions": (0.5, 10),
    "getReports": (0.0222, 10),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
    "createReport": (0.0167, 15),
}
# Reports 2021-06-30 answers are not wrapped in {"payload": ...}.
UNWRAPPED = frozenset({"getReports", "getReport", "getReportDocument", "createReport"})
LWA_OPERATION = "lwaToken"
CONSENT_OPERATION = "consent"
ROUTES = (
    (re.compile(r"^/sellers/v1/marketplaceParticipations$"), "getMarketplaceParticipations"),
    (re.compile(r"^/finances/v0/financialEventGroups$"), "listFinancialEventGroups"),
    (
        re.compile(r"^/finances/v0/financialEventGroups/(?P<eventGroupId>[^/]+)/financialEvents$"),
        "listFinancialEventsByGroupId",
    ),
    (
        re.compile(r"^/finances/v0/orders/(?P<orderId>[^/]+)/financialEvents$"),
        "listFinancialEventsByOrderId",
    ),
    (re.compile(r"^/finances/v0/financialEvents$"), "listFinancialEvents"),
    (re.compile(r"^/finances/2024-06-19/transactions$"), "listTransactions"),
    (re.compile(r"^/reports/2021-06-30/reports$"), "getReports"),
    (re.compile(r"^/reports/2021-06-30/reports/(?P<reportId>[^/]+)$"), "getReport"),
    (
        re.compile(r"^/reports/2021-06-30/documents/(?P<reportDocumentId>[^/]+)$"),
        "getReportDocument",
    ),
)
FAULT_KINDS = ("throttle", "server_error", "unavailable", "expired_token", "invalid_input_big_page")
FAULT_KINDS_EXTRA = ("empty_page", "cut_document")

ACCESS_TOKEN_LIFETIME = timedelta(seconds=3600)
CODE_LIFETIME = timedelta(minutes=5)

DENIED = "Access to requested resource is denied."
QUOTA = "You exceeded your quota for the requested resource."

Call = namedtuple("Call", "operation params status")


def _json_body(body):
    """A request's JSON object body ({} when empty or not an object)."""
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _fmt_rate(value):
    return f"{value:g}"


class _Bucket:
    """Token bucket: ``burst`` tokens, refilled at ``rate`` per second of ``clock``."""

    def __init__(self, rate, burst, clock):
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.stamp = clock()

    def take(self):
        now = self.clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class _Fault:
    def __init__(self, kind, count, operation, after):
        self.kind = kind
        self.remaining = count
        self.operation = operation
        self.after = after


class _Seller:
    def __init__(self, dataset, marketplaces):
        self.dataset = dataset
        self.marketplaces = tuple(marketplaces)


class SpApiEmulator(Operations):
    """Local SP-API + LWA server. ``start()`` serves in a daemon thread; also a context manager.

    ``dataset``: the main seller's :class:`Dataset` (default: ``generate_dataset(seed)`` over
    the last 60 days of ``now``). ``rate_scale`` multiplies every operation's rate (``None`` or
    0: no rate limiting). ``page_size_v2024``: transactions per listTransactions page.
    ``next_token_lifetime``: how long a v0 financial events ``NextToken`` stays valid (Amazon:
    3 minutes; ``None``: for ever).
    """

    client_id = "amzn1.application-oa2-client.emulator"
    client_secret = "emulator-client-secret"
    application_id = "amzn1.sellerapps.app.emulator"
    refresh_token = "emulator-refresh-token"

    def __init__(
        self,
        dataset=None,
        seed=42,
        rate_scale=1.0,
        now=None,
        host="127.0.0.1",
        port=0,
        page_size_v2024=100,
        clock=None,
        next_token_lifetime=NEXT_TOKEN_LIFETIME,
    ):
        self.now = now or (lambda: datetime.now(UTC))
        self.clock = clock or time.monotonic
        self.rate_scale = rate_scale
        self.page_size_v2024 = page_size_v2024
        self.next_token_lifetime = next_token_lifetime
        self.host = host
        self.port = port
        if dataset is None:
            start, end = default_window(self._now())
            dataset = generate_dataset(seed=seed, start=start, end=end)
        self.dataset = dataset
        self.redirect_uri = None
        self.consent_seller_id = dataset.seller_id
        self.calls = []
        self._lock = threading.RLock()
        self._secret = os.urandom(16)
        self._sellers = {dataset.seller_id: _Seller(dataset, dataset.marketplaces)}
        self._refresh_tokens = {self.refresh_token: dataset.seller_id}
        self._access_tokens = {}  # token → [seller_id or None, expires_at]
        self._codes = {}  # code → [seller_id, expires_at, used]
        self._buckets = {}
        self._faults = []
        self._counter = 0
        self._server = None
        self._thread = None
        self.url = None
        self.lwa_url = None
        self.consent_url = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self):
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.port = port
        self.url = f"http://{host}:{port}"
        self.lwa_url = self.url + "/auth/o2/token"
        self.consent_url = self.url + "/apps/authorize/consent"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="spapi-emulator",
            daemon=True,
        )
        self._thread.start()
        _logger.info("SP-API emulator listening on %s", self.url)
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start() if self._server is None else self

    def __exit__(self, *exc):
        self.stop()

    # -- sellers, tokens, faults ---------------------------------------------------------------

    def _now(self):
        moment = self.now()
        if moment.tzinfo is None:
            raise ValueError("the emulator clock must return aware datetimes")
        return moment.astimezone(UTC)

    def _next(self):
        self._counter += 1
        return self._counter

    def add_seller(self, selling_partner_id, marketplaces=("US",), dataset=None):
        """Another seller (empty dataset unless given); returns its refresh token."""
        with self._lock:
            if dataset is None:
                dataset = Dataset(seller_id=selling_partner_id, marketplaces=marketplaces)
            self._sellers[selling_partner_id] = _Seller(dataset, marketplaces)
            token = f"emulator-refresh-{self._next()}"
            self._refresh_tokens[token] = selling_partner_id
            return token

    def seller_dataset(self, selling_partner_id):
        return self._sellers[selling_partner_id].dataset

    def issue_authorization_code(self, selling_partner_id):
        """An ``spapi_oauth_code`` for the seller: single use, valid 5 minutes (emulator clock)."""
        with self._lock:
            if selling_partner_id not in self._sellers:
                raise ValueError(f"unknown selling partner {selling_partner_id!r}")
            code = f"emu-code-{self._next()}-{uuid.uuid4().hex[:8]}"
            self._codes[code] = [selling_partner_id, self._now() + CODE_LIFETIME, False]
            return code

    def revoke_refresh_token(self, token):
        with self._lock:
            self._refresh_tokens.pop(token, None)

    def expire_access_tokens(self):
        """Every access token issued so far is expired from now on."""
        with self._lock:
            now = self._now()
            for entry in self._access_tokens.values():
                entry[1] = min(entry[1], now)

    def inject(self, kind, count=1, operation=None, after=0):
        """Make the next ``count`` matching calls fail (``count=None``: every one).

        Kinds: ``throttle`` (429 QuotaExceeded), ``server_error`` (500 InternalFailure),
        ``unavailable`` (503 ServiceUnavailable), ``expired_token`` (all current access tokens
        expire: the call gets the expired-token 403), ``invalid_input_big_page`` (400 while
        ``MaxResultsPerPage`` > 10 on the v0 financialEvents operations), ``empty_page`` (an
        empty page whose token resumes at the same place), ``cut_document`` (half the file of a
        ``downloadReportDocument``). ``operation``: an operationId (None: every SP-API
        operation), or ``"lwaToken"`` for the LWA token endpoint (throttle, server_error,
        unavailable). ``after``: let that many matching calls pass first.
        """
        if kind not in FAULT_KINDS + FAULT_KINDS_EXTRA:
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._faults.append(_Fault(kind, count, operation, after))

    def reset_faults(self):
        with self._lock:
            self._faults.clear()

    def count(self, operation=None, status=None):
        """How many recorded calls match ``operation`` and ``status`` (None: any)."""
        with self._lock:
            return sum(
                1
                for call in self.calls
                if (operation is None or call.operation == operation)
                and (status is None or call.status == status)
            )

    def _fire(self, kind, operation, params):
        """Does a fault of ``kind`` hit this call? (consumes it)"""
        for fault in list(self._faults):
            if fault.kind != kind:
                continue
            if fault.operation is None:
                if operation not in OPERATIONS:
                    continue
            elif fault.operation != operation:
                continue
            if kind == "invalid_input_big_page":
                if operation not in V0_EVENT_OPERATIONS:
                    continue
                try:
                    size = int(params.get("MaxResultsPerPage") or 100)
                except ValueError:
                    continue
                if size <= 10:
                    continue
            if fault.after > 0:
                fault.after -= 1
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
            return True
        return False

    # -- request entry point (used by the HTTP handler; callable directly) ---------------------

    def handle(self, method, target, headers=None, body=b""):
        """One request → ``(status, headers, body bytes)``."""
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        path = parts.path.rstrip("/") or "/"
        with self._lock:
            request_id = str(uuid.uuid4())
            if path == "/auth/o2/token":
                status, out_headers, payload = self._lwa(method, headers, body)
            elif path == "/apps/authorize/consent":
                return self._consent(method, query, request_id)
            elif path.startswith(DOCUMENT_PATH):
                return self._document(path[len(DOCUMENT_PATH) :], query, request_id)
            else:
                status, out_headers, payload = self._api(method, path, query, headers, body)
            out_headers = {
                "Content-Type": "application/json",
                "x-amzn-RequestId": request_id,
                **out_headers,
            }
            # Numbers as Amazon writes them: 89.8, -20 (R10)
            return status, out_headers, dumps(payload, amazon=True).encode()

    def _record(self, operation, params, status):
        self.calls.append(Call(operation, dict(params), status))

    # -- LWA --------------------------------------------------------------------------------

    def _lwa(self, method, headers, body):
        def error(status, code, description):
            self._record(LWA_OPERATION, {"grant_type": grant}, status)
            return status, {}, {"error": code, "error_description": description}

        params = self._form(headers, body)
        grant = params.get("grant_type")
        if method != "POST":
            return error(405, "invalid_request", "The token endpoint only accepts POST.")
        for kind, status, code in (
            ("throttle", 429, "slow_down"),
            ("server_error", 500, "server_error"),
            ("unavailable", 503, "temporarily_unavailable"),
        ):
            if self._fire(kind, LWA_OPERATION, params):
                return error(status, code, "Injected fault.")
        client_id, client_secret = self._client_credentials(params, headers)
        if not grant:
            return error(400, "invalid_request", "The request is missing a grant_type.")
        if client_id != self.client_id or client_secret != self.client_secret:
            return error(401, "invalid_client", "Client authentication failed")
        now = self._now()
        if grant == "refresh_token":
            token = params.get("refresh_token")
            if not token:
                return error(400, "invalid_request", "The request is missing refresh_token.")
            seller = self._refresh_tokens.get(token)
            if seller is None:
                return error(
                    400,
                    "invalid_grant",
                    "The request has an invalid grant parameter : refresh_token",
                )
            refresh = token
        elif grant == "authorization_code":
            code = params.get("code")
            if not code:
                return error(400, "invalid_request", "The request is missing code.")
            entry = self._codes.get(code)
            if entry is None or entry[2] or now >= entry[1]:
                return error(
                    400, "invalid_grant", "The request has an invalid grant parameter : code"
                )
            entry[2] = True
            seller = entry[0]
            refresh = f"emulator-refresh-{self._next()}"
            self._refresh_tokens[refresh] = seller
        elif grant == "client_credentials":
            if not params.get("scope"):
                return error(400, "invalid_scope", "The request is missing a scope.")
            seller, refresh = None, None
        else:
            return error(400, "unsupported_grant_type", f"Unsupported grant_type: {grant}")
        access = f"Atza|emu-{self._next()}-{uuid.uuid4().hex[:8]}"
        self._access_tokens[access] = [seller, now + ACCESS_TOKEN_LIFETIME]
        self._record(LWA_OPERATION, {"grant_type": grant}, 200)
        answer = {"access_token": access, "token_type": "bearer", "expires_in": 3600}
        if refresh:
            answer["refresh_token"] = refresh
        return 200, {}, answer

    @staticmethod
    def _form(headers, body):
        text = (body or b"").decode("utf-8", "replace")
        if "json" in headers.get("content-type", ""):
            try:
                data = json.loads(text)
            except ValueError:
                return {}
            return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    @staticmethod
    def _client_credentials(params, headers):
        auth = headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(auth[6:]).decode()
            except ValueError:
                return None, None
            client_id, _, client_secret = decoded.partition(":")
            return client_id, client_secret
        return params.get("client_id"), params.get("client_secret")

    # -- consent ------------------------------------------------------------------------------

    def _consent(self, method, query, request_id):
        def page(status, text):
            self._record(CONSENT_OPERATION, recorded, status)
            html = f"<html><body><h1>Authorization failed</h1><p>{text}</p></body></html>"
            return (
                status,
                {"Content-Type": "text/html", "x-amzn-RequestId": request_id},
                html.encode(),
            )

        recorded = {
            k: query[k] for k in ("application_id", "redirect_uri", "version") if k in query
        }
        if method != "GET":
            return page(405, "Use GET.")
        if query.get("application_id") != self.application_id:
            return page(400, "Unknown application_id.")
        redirect = query.get("redirect_uri") or self.redirect_uri
        if not redirect:
            return page(400, "No redirect URI is configured for this application.")
        code = self.issue_authorization_code(self.consent_seller_id)
        answer = {}
        if "state" in query:
            answer["state"] = query["state"]
        answer["selling_partner_id"] = self.consent_seller_id
        answer["spapi_oauth_code"] = code
        location = redirect + ("&" if "?" in redirect else "?") + urlencode(answer)
        self._record(CONSENT_OPERATION, recorded, 302)
        return 302, {"Location": location, "x-amzn-RequestId": request_id}, b""

    # -- SP-API -------------------------------------------------------------------------------

    def _route(self, path):
        for pattern, operation in ROUTES:
            match = pattern.match(path)
            if match:
                return operation, match.groupdict()
        return None, {}

    def _api(self, method, path, query, headers, body=b""):
        operation, path_params = self._route(path)
        params = {**query, **path_params}
        if operation == "getReports" and method == "POST":
            operation = "createReport"
            params.update(_json_body(body))
        if operation is None or (method != "GET" and operation != "createReport"):
            status = 404 if operation is None else 405
            self._record(operation or path, params, status)
            error = ApiError(status, "NotFound", "Resource not found.", path)
            return status, {}, error.body()
        rate, burst = OPERATIONS[operation]
        scale = self.rate_scale or 1.0
        rate_header = {"x-amzn-RateLimit-Limit": _fmt_rate(rate * scale)}
        try:
            if self._fire("expired_token", operation, params):
                self.expire_access_tokens()
            seller = self._authenticate(headers.get("x-amz-access-token"))
            if self._fire("throttle", operation, params):
                raise ApiError(429, "QuotaExceeded", QUOTA)
            if self._fire("server_error", operation, params):
                raise ApiError(500, "InternalFailure", "We encountered an internal error.")
            if self._fire("unavailable", operation, params):
                raise ApiError(503, "ServiceUnavailable", "Service temporarily unavailable.")
            if self._fire("invalid_input_big_page", operation, params):
                raise _invalid(
                    "Invalid input: response too large.",
                    "The response exceeds the size limit; retry with a smaller MaxResultsPerPage.",
                )
            if self.rate_scale and not self._bucket(operation, seller, rate, burst).take():
                raise ApiError(429, "QuotaExceeded", QUOTA)
            handler = getattr(self, "_op_" + operation)
            payload = handler(self._sellers[seller], operation, params)
        except ApiError as exc:
            self._record(operation, params, exc.status)
            headers = rate_header if exc.status in (400, 404) else {}
            return exc.status, headers, exc.body()
        except Exception:
            _logger.exception("Emulator failure on %s", operation)
            self._record(operation, params, 500)
            error = ApiError(500, "InternalFailure", "We encountered an internal error.")
            return 500, {}, error.body()
        self._record(operation, params, 200)
        if operation in UNWRAPPED:
            return 200, rate_header, payload
        return 200, rate_header, {"payload": payload}

    def _authenticate(self, token):
        if not token:
            raise ApiError(
                403, "Unauthorized", DENIED, "Access token is missing in the request header."
            )
        entry = self._access_tokens.get(token)
        if entry is None:
            raise ApiError(
                403,
                "Unauthorized",
                DENIED,
                "The access token you provided is revoked, malformed or invalid.",
            )
        seller, expires = entry
        if self._now() >= expires:
            raise ApiError(
                403, "Unauthorized", DENIED, "The access token you provided has expired."
            )
        if seller is None or seller not in self._sellers:
            raise ApiError(
                403, "Unauthorized", DENIED, "The access token is not valid for this operation."
            )
        return seller

    def _bucket(self, operation, seller, rate, burst):
        key = (operation, seller)
        if key not in self._buckets:
            self._buckets[key] = _Bucket(rate * self.rate_scale, burst, self.clock)
        return self._buckets[key]


class _Handler(BaseHTTPRequestHandler):
    emulator = None  # set per server by SpApiEmulator.start
    protocol_version = "HTTP/1.1"
    server_version = "SpApiEmulator/1.0"

    def _serve(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.emulator.handle(method, self.path, dict(self.headers), body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(payload)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_DELETE(self):
        self._serve("DELETE")

    def log_message(self, format, *args):
        # The request line can carry page tokens and OAuth state: debug level only.
        _logger.debug("%s %s", self.address_string(), format % args)
