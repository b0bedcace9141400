"""Login with Amazon (LWA): access tokens from a refresh token or an OAuth authorization code.

Docs: spapi-facts.md §4. The access token lives one hour; it is cached and refreshed ``margin``
seconds before it expires. Nothing here logs or puts in an error message the client secret, the
refresh token, an access token or an authorization code.
"""

import json
import logging
import threading
import time

import requests
from requests.structures import CaseInsensitiveDict

from . import const, hosts
from .exceptions import (
    AuthError,
    ServerError,
    SpApiError,
    ThrottledError,
    TransportError,
    scrub,
)

_logger = logging.getLogger(__name__)

TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)

DEFAULT_EXPIRES_IN = 3600
# Connect fast (an unreachable host fails in seconds), then leave LWA time to answer.
DEFAULT_TIMEOUT = hosts.Timeout(5, 30)


def transport_error(error, operation, hidden=(), log_detail=True):
    """The TransportError of a ``requests`` failure, in plain words.

    The library's own text (urllib3's pool, address and cause) goes to the server log only,
    scrubbed of ``hidden``; ``log_detail=False`` when the URL itself is a secret (pre-signed).
    """
    if isinstance(error, requests.exceptions.ConnectTimeout):
        text = "The connection timed out."
    elif isinstance(error, requests.exceptions.Timeout):
        text = "The server did not answer in time."
    elif isinstance(error, requests.exceptions.ChunkedEncodingError):
        text = "The answer was cut off."
    else:
        text = "The connection failed (refused, reset, or the host is unknown)."
    if log_detail:
        _logger.warning("%s: no answer: %s", operation, scrub(error, hidden))
    else:
        _logger.warning("%s: no answer (%s)", operation, type(error).__name__)
    return TransportError(text, operation=operation)


class LwaAuth:
    """LWA credentials of one application and (optionally) one selling partner.

    :param str client_id: LWA client identifier of the SP-API application
    :param str client_secret: LWA client secret
    :param str refresh_token: the seller's refresh token (``Atzr|...``); None until the OAuth
        code has been exchanged
    :param str token_url: LWA token endpoint (the emulator's in tests)
    :param session: ``requests.Session``-like object (``request(method, url, **kwargs)``)
    :param clock: wall clock in seconds (default: ``time.time`` at each call)
    :param timeout: ``requests`` timeout of every LWA call, ``(connect, read)``
    :param margin: seconds before expiry at which the cached token is refreshed
    :param bool allow_custom_hosts: accept a ``token_url`` that is not Amazon's LWA host
        (the emulator, a proxy)
    :param bool hide_foreign_answers: never put the answers of a host that is not Amazon's in an
        error's text (what the account sets)
    :raise HostNotAllowedError: ``token_url`` is not Amazon's and custom hosts are not allowed
    """

    def __init__(
        self,
        client_id,
        client_secret,
        refresh_token=None,
        token_url=const.LWA_TOKEN_URL,
        session=None,
        clock=None,
        timeout=DEFAULT_TIMEOUT,
        margin=120,
        allow_custom_hosts=True,
        hide_foreign_answers=False,
    ):
        hosts.check_url(token_url, hosts.LWA, allow_custom=allow_custom_hosts)
        self.foreign = hide_foreign_answers and not hosts.is_amazon(token_url, hosts.LWA)
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self.token_url = token_url
        self.session = session if session is not None else requests.Session()
        # time.time looked up at each call (not bound here), so that freezegun and the like apply
        self.clock = clock or (lambda: time.time())
        self.timeout = timeout
        self.margin = margin
        self.refresh_count = 0
        self.last_request_id = None
        self._access_token = None
        self._expires_at = 0.0
        self._lock = threading.RLock()

    def __repr__(self):
        return (
            f"LwaAuth(token_url={self.token_url!r}, "
            f"refresh_token={'set' if self._refresh_token else 'unset'}, "
            f"access_token={'cached' if self._access_token else 'none'})"
        )

    # ------------------------------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------------------------------

    @property
    def refresh_token(self):
        return self._refresh_token

    @refresh_token.setter
    def refresh_token(self, value):
        with self._lock:
            if value != self._refresh_token:
                self._refresh_token = value
                self._access_token = None

    @property
    def expires_at(self):
        """When the cached access token expires (``clock`` seconds), 0 without one."""
        return self._expires_at if self._access_token else 0.0

    def access_token(self):
        """A valid access token: the cached one, or a new one from the refresh token.

        :raise AuthError: no refresh token, or LWA refused it
        :raise TransportError | ServerError | ThrottledError: LWA unreachable or failing
        """
        with self._lock:
            if self._access_token and self.clock() < self._expires_at - self.margin:
                return self._access_token
            if not self._refresh_token:
                raise AuthError(
                    "No refresh token: the account must be authorized first.",
                    operation="lwaRefreshToken",
                )
            reply = self._call(
                "lwaRefreshToken",
                {"grant_type": "refresh_token", "refresh_token": self._refresh_token},
            )
            self._store(reply)
            self.refresh_count += 1
            _logger.debug(
                "LWA access token refreshed (valid %s s, request id %s)",
                reply.get("expires_in"),
                self.last_request_id,
            )
            return self._access_token

    def invalidate(self):
        """Forget the cached access token: the next call gets a new one."""
        with self._lock:
            self._access_token = None
            self._expires_at = 0.0

    def exchange_code(self, code, redirect_uri=None):
        """Exchange an OAuth authorization code (``spapi_oauth_code``) for tokens.

        The returned refresh token becomes this object's refresh token and the access token is
        cached.

        :return: ``{"refresh_token", "access_token", "expires_in", "token_type"}``
        :raise AuthError: LWA refused the code (expired after 5 minutes, already used...)
        """
        form = {"grant_type": "authorization_code", "code": code}
        if redirect_uri:
            form["redirect_uri"] = redirect_uri
        with self._lock:
            reply = self._call("lwaExchangeCode", form, secrets=(code,))
            self._store(reply)
            if reply.get("refresh_token"):
                self._refresh_token = reply["refresh_token"]
        _logger.debug("LWA authorization code exchanged (request id %s)", self.last_request_id)
        return {
            "refresh_token": reply.get("refresh_token"),
            "access_token": reply.get("access_token"),
            "expires_in": reply.get("expires_in"),
            "token_type": reply.get("token_type"),
        }

    # ------------------------------------------------------------------------------------------
    # Internals
    # ------------------------------------------------------------------------------------------

    def _secrets(self, extra=()):
        return (self._client_secret, self._refresh_token, self._access_token, *extra)

    def _store(self, reply):
        try:
            expires_in = float(reply.get("expires_in") or DEFAULT_EXPIRES_IN)
        except (TypeError, ValueError):
            expires_in = DEFAULT_EXPIRES_IN
        self._access_token = reply["access_token"]
        self._expires_at = self.clock() + expires_in

    def _call(self, operation, form, secrets=()):
        """POST the form to LWA; the parsed reply, or an SpApiError."""
        data = dict(form, client_id=self.client_id, client_secret=self._client_secret)
        hidden = self._secrets(secrets)
        try:
            response = self.session.request(
                "POST",
                self.token_url,
                data=data,
                headers={"accept": "application/json"},
                timeout=self.timeout,
            )
        except TRANSPORT_ERRORS as error:
            raise transport_error(error, operation, hidden) from None
        except requests.exceptions.RequestException as error:
            _logger.warning("LWA %s failed: %s", operation, scrub(error, hidden))
            raise SpApiError("The request could not be sent.", operation=operation) from None
        status = response.status_code
        self.last_request_id = CaseInsensitiveDict(response.headers or {}).get(
            const.HEADER_REQUEST_ID
        )
        try:
            reply = json.loads(response.text or "{}")
        except ValueError:
            reply = {}
        if not isinstance(reply, dict):
            reply = {}
        if 200 <= status < 300 and reply.get("access_token"):
            return reply
        code = reply.get("error") or None
        description = reply.get("error_description") or reply.get("message") or ""
        if self.foreign:  # a host that is not Amazon's: its words are never shown
            description = ""
        if 200 <= status < 300:
            description = "LWA answered without an access token."
        if status == 429:
            cls = ThrottledError
        elif status >= 500:
            cls = ServerError
        else:
            cls = AuthError
        error = cls(
            scrub(description, hidden) or f"LWA answered HTTP {status}",
            status_code=status,
            request_id=self.last_request_id,
            code=code,
            errors=[{"code": code, "message": scrub(description, hidden)}] if code else [],
            operation=operation,
            foreign=self.foreign,
        )
        _logger.warning(
            "LWA %s failed: HTTP %s %s (request id %s)",
            operation,
            status,
            error.code,
            self.last_request_id,
        )
        raise error
