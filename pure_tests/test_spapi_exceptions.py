"""spapi.exceptions: HTTP answers mapped to the error hierarchy (spapi-facts.md §6)."""

import pytest

from spapi import exceptions as exc


@pytest.mark.parametrize(
    "status, cls, retryable",
    [
        (400, exc.InvalidInputError, False),
        (401, exc.AuthError, False),
        (403, exc.AuthError, False),
        (404, exc.NotFoundError, False),
        (413, exc.InvalidInputError, False),
        (415, exc.InvalidInputError, False),
        (429, exc.ThrottledError, True),
        (500, exc.ServerError, True),
        (503, exc.ServerError, True),
        (418, exc.SpApiError, False),
    ],
)
def test_status_mapping(status, cls, retryable):
    error = exc.error_from_response("listTransactions", status, {"errors": []}, "rid-1")
    assert type(error) is cls
    assert error.retryable is retryable
    assert isinstance(error, exc.SpApiError)
    assert (error.status_code, error.request_id, error.operation) == (
        status,
        "rid-1",
        "listTransactions",
    )


def test_amazon_errors_are_kept():
    body = {
        "errors": [
            {
                "code": "QuotaExceeded",
                "message": "You exceeded your quota for the requested resource.",
            },
            {"code": "Other", "message": "Second", "details": "more"},
        ]
    }
    error = exc.error_from_response("listTransactions", 429, body, "abc")
    assert error.code == "QuotaExceeded"
    assert error.errors == body["errors"]
    assert error.message == "You exceeded your quota for the requested resource.; Second (more)"
    assert str(error) == (
        "listTransactions: HTTP 429 QuotaExceeded: You exceeded your quota for the requested "
        "resource.; Second (more) (request id abc)"
    )


def test_bodies_without_errors():
    error = exc.error_from_response("getReport", 403, {"message": "Forbidden"}, None)
    assert str(error) == "getReport: HTTP 403 Forbidden"
    error = exc.error_from_response("getReport", 502, "<html>Bad gateway</html>", "r")
    assert type(error) is exc.ServerError
    assert error.message == "<html>Bad gateway</html>"
    error = exc.error_from_response("getReport", 503, None, None)
    assert str(error) == "getReport: HTTP 503 HTTP 503"
    assert error.code is None and error.errors == []


def test_transport_error_string():
    error = exc.TransportError("ConnectTimeout: timed out", operation="listTransactions")
    assert error.retryable
    assert str(error) == "listTransactions: ConnectTimeout: timed out"
    assert "TransportError" in repr(error)
