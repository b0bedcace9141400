"""SP-API client errors: one small hierarchy, mapped once from HTTP answers.

``retryable`` tells a caller (a cron, a job queue) whether trying again later may help; the client
itself already retried throttling, server and transport errors before raising them.

A *foreign* error comes from a host that is not Amazon's (the emulator, a proxy, or a host set by
mistake): its body never goes into the error's text (``str()``, ``args``, ``public_message``);
only the status and an error code shaped like Amazon's are kept there.
"""

import re

# An error code as Amazon writes them ("InvalidInput", "invalid_grant", "QuotaExceeded").
CODE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,63}$")


def scrub(text, secrets):
    """``text`` with every secret (of 4 characters or more) replaced by ``***``."""
    text = str(text or "")
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


class SpApiError(Exception):
    """An SP-API or LWA call failed.

    :ivar str message: Amazon's explanation (never a secret or a token)
    :ivar int status_code: HTTP status, None when no answer came
    :ivar str request_id: ``x-amzn-RequestId`` of the answer (give it to Amazon support)
    :ivar str code: first Amazon error code ("InvalidInput", "QuotaExceeded", "invalid_grant"...)
    :ivar list errors: Amazon's error dicts (``{"code", "message", "details"}``)
    :ivar str operation: the operation that failed ("listTransactions", "lwaRefreshToken"...)
    :ivar bool foreign: the answer came from a host that is not Amazon's; ``message`` and
        ``errors`` then serve the client's own decisions only and are never shown
    """

    retryable = False

    def __init__(
        self,
        message,
        status_code=None,
        request_id=None,
        code=None,
        errors=None,
        operation=None,
        foreign=False,
    ):
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.foreign = bool(foreign)
        self.code = code if not foreign or CODE_PATTERN.match(str(code or "")) else None
        self.errors = list(errors or [])
        self.operation = operation
        super().__init__(self.public_message or str(self))

    @property
    def public_message(self):
        """Amazon's explanation, fit to show a user; empty for a foreign host's answer."""
        return "" if self.foreign else str(self.message or "").strip()

    def __str__(self):
        text = ""
        if self.operation:
            text += f"{self.operation}: "
        if self.status_code is not None:
            text += f"HTTP {self.status_code} "
        if self.code:
            text += f"{self.code}: "
        if self.foreign:
            text += "answer of a host that is not Amazon's (not shown)"
        else:
            text += str(self.message or "").strip() or "error"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text

    def __repr__(self):
        return f"{type(self).__name__}({str(self)!r})"

    def token_expired(self, error_type=None):
        """Does this 401/403 say that the access token expired (not revoked, not a missing
        role)? ``error_type``: the ``x-amzn-ErrorType`` header."""
        if "expired" in (error_type or "").lower():
            return True
        texts = [self.message or ""]
        for item in self.errors:
            texts += [str(item.get("message") or ""), str(item.get("details") or "")]
        return any("expired" in text.lower() for text in texts)

    def scrub(self, secrets):
        """Replace the given secrets wherever Amazon echoed them (message and errors)."""
        self.message = scrub(self.message, secrets)
        self.args = (self.public_message or str(self),)
        self.errors = [
            {
                key: scrub(value, secrets) if isinstance(value, str) else value
                for key, value in error.items()
            }
            for error in self.errors
        ]
        return self


class AuthError(SpApiError):
    """LWA refused the credentials, or SP-API answered 401/403 (missing role, revoked grant)."""

    @property
    def authorization_rejected(self):
        """LWA refused the seller's refresh token (``invalid_grant``): only the seller can fix
        it, by authorizing the application again."""
        return self.code == "invalid_grant"


class HostNotAllowedError(SpApiError):
    """The URL is not one of Amazon's hosts and custom hosts are not allowed."""


class ThrottledError(SpApiError):
    """HTTP 429 QuotaExceeded, still throttled after the client's retries."""

    retryable = True


class InvalidInputError(SpApiError):
    """HTTP 400 (or 413/415/422): Amazon refused the request's parameters."""


class NotFoundError(SpApiError):
    """HTTP 404."""


class ServerError(SpApiError):
    """HTTP 5xx, still failing after the client's retries."""

    retryable = True


class TransportError(SpApiError):
    """No HTTP answer: connection refused or reset, DNS failure, timeout.

    ``message`` is a plain sentence; the library's own text goes to the server log only.
    """

    retryable = True


class DocumentError(TransportError):
    """A report document arrived damaged or cut off (its GZIP data does not read to its end):
    nothing of it is kept; the next download gets it again."""


def error_messages(errors):
    """Amazon's error messages (with their details) joined in one line."""
    parts = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        message = str(error.get("message") or "").strip()
        details = str(error.get("details") or "").strip()
        if details and details != message:
            message = f"{message} ({details})" if message else details
        if message:
            parts.append(message)
    return "; ".join(parts)


def error_class(status):
    """The SpApiError subclass of an HTTP status."""
    if status in (401, 403):
        return AuthError
    if status == 429:
        return ThrottledError
    if status == 404:
        return NotFoundError
    if status in (400, 413, 415, 422):
        return InvalidInputError
    if status is not None and status >= 500:
        return ServerError
    return SpApiError


def error_from_response(operation, status, body, request_id, foreign=False):
    """Build the error of an SP-API answer.

    :param str operation: operation name
    :param int status: HTTP status
    :param body: the parsed JSON body (``{"errors": [...]}``), or anything else
    :param str request_id: ``x-amzn-RequestId``
    :param bool foreign: the answer came from a host that is not Amazon's: only an
        ``{"errors": [...]}`` body in Amazon's shape is read (for the client's decisions), and
        the error's text shows none of it
    :rtype: SpApiError
    """
    errors = []
    message = ""
    if isinstance(body, dict):
        raw = body.get("errors")
        if isinstance(raw, dict):
            raw = [raw]
        if isinstance(raw, list):
            errors = [error for error in raw if isinstance(error, dict)]
        message = error_messages(errors)
        if not message and not foreign:
            # API gateway answers such as {"message": "..."}.
            message = str(body.get("message") or body.get("Message") or "").strip()
    elif isinstance(body, str) and not foreign:
        message = body.strip()[:300]
    code = next((error.get("code") for error in errors if error.get("code")), None)
    return error_class(status)(
        message or f"HTTP {status}",
        status_code=status,
        request_id=request_id,
        code=code,
        errors=errors,
        operation=operation,
        foreign=foreign,
    )
