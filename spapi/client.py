"""SP-API client: one request method through which every operation goes.

``SpApiClient.request`` waits on the operation's rate bucket, sends the call with a fresh LWA
access token and a timeout, parses JSON with ``Decimal`` numbers, retries throttling (429), server
errors (500/502/503/504) and transport errors with exponential backoff and jitter, retries once
with a new token when Amazon says the token expired, and maps every other failure to an
``SpApiError`` carrying Amazon's request id. Facts: doc/spapi-facts.md §4-§6.

Nothing here logs headers, tokens or secrets; DEBUG logs give operation, status, request id and
elapsed time, WARNING logs each retry.
"""

import contextlib
import io
import logging
import random
import re
import time
from datetime import datetime, timezone
from urllib.parse import quote

import requests
from requests.structures import CaseInsensitiveDict

from . import const, hosts
from .auth import TRANSPORT_ERRORS, transport_error
from .bucket import TokenBucket
from .documents import DOWNLOAD_CHUNK, gunzipped
from .exceptions import (
    AuthError,
    InvalidInputError,
    ServerError,
    SpApiError,
    error_from_response,
    scrub,
)
from .params import _clean_params, _parse_json, format_datetime
from .results import ClientStats, Page, Response

_logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "account_amazon_refund/18.0.1.0.0 (Language=Python)"
PAGE_SIZE_PARAM = "MaxResultsPerPage"
# InvalidInput messages about dates ("Date range is invalid.") are not about the page size.
DATE_ERROR = re.compile(r"\bdates?\b|posted(after|before)", re.IGNORECASE)
# Times one next token may come back in a window (after empty pages) before the window fails.
TOKEN_REPEATS = 3
# Connect fast (an unreachable host fails in seconds), then leave Amazon time to answer a page.
DEFAULT_TIMEOUT = hosts.Timeout(5, 60)


# ----------------------------------------------------------------------------------------------
# Client
# ----------------------------------------------------------------------------------------------


class SpApiClient:
    """SP-API client of one seller account in one region.

    :param LwaAuth auth: gives access tokens
    :param str region: ``na``, ``eu`` or ``fe``
    :param str environment: ``production`` or ``sandbox``
    :param str api_url: base URL overriding the region's host (the local emulator)
    :param session: ``requests.Session``-like object (``request(method, url, **kwargs)``)
    :param clock: monotonic clock for rate buckets and elapsed times
    :param sleep: how to wait (injected in tests)
    :param rand: random number in [0, 1) for the backoff jitter
    :param int max_attempts: requests sent at most for one call when retrying 429/5xx/transport
        errors (one more may follow an expired-token answer)
    :param float backoff_base: first backoff, seconds (doubled on each failure)
    :param float backoff_cap: longest backoff, seconds
    :param timeout: ``requests`` timeout (connect, read) of every call
    :param float total_timeout: seconds one call may take with its retries (a person waiting);
        None: only ``max_attempts`` bounds it
    :param bool allow_custom_hosts: accept an ``api_url`` (and report document URLs) that are
        not Amazon's hosts
    :param bool hide_foreign_answers: never put the answers of a host that is not Amazon's in an
        error's text (what the account sets; off by default for the emulator's own tests)
    :param str user_agent: ``User-Agent`` header
    :param dict rate_limits: ``{operation: (rate, burst)}`` replacing the documented usage plans
    :param dict buckets: ``{operation: TokenBucket}`` to share buckets between clients of the same
        seller and application (Amazon's buckets are per application and selling partner)
    """

    def __init__(
        self,
        auth,
        region="na",
        environment="production",
        api_url=None,
        session=None,
        clock=time.monotonic,
        sleep=time.sleep,
        rand=random.random,
        max_attempts=6,
        backoff_base=1.0,
        backoff_cap=60.0,
        timeout=DEFAULT_TIMEOUT,
        user_agent=DEFAULT_USER_AGENT,
        rate_limits=None,
        buckets=None,
        total_timeout=None,
        allow_custom_hosts=True,
        hide_foreign_answers=False,
    ):
        if api_url:
            hosts.check_url(api_url, hosts.API, allow_custom=allow_custom_hosts)
            self.base_url = api_url.rstrip("/")
        else:
            try:
                self.base_url = const.API_HOSTS[(region, environment)]
            except KeyError:
                raise ValueError(
                    f"Unknown SP-API region/environment: {region!r}/{environment!r}"
                ) from None
        self.auth = auth
        self.region = region
        self.environment = environment
        self.session = session if session is not None else requests.Session()
        self.clock = clock
        self.sleep = sleep
        self.rand = rand
        self.max_attempts = max(1, int(max_attempts))
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.timeout = timeout
        self.user_agent = user_agent
        self.rate_limits = dict(rate_limits or {})
        self.buckets = buckets if buckets is not None else {}
        self.total_timeout = total_timeout
        self.allow_custom_hosts = allow_custom_hosts
        self.foreign = hide_foreign_answers and not hosts.is_amazon(self.base_url, hosts.API)
        self.stats = ClientStats()
        self.last_request_id = None
        # {family: {"success": datetime, "failure": datetime, "error": SpApiError}}
        self.health = {}

    def __repr__(self):
        return f"SpApiClient({self.base_url!r})"

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # ------------------------------------------------------------------------------------------
    # Choke point
    # ------------------------------------------------------------------------------------------

    def operation(self, operation):
        """The ``const.Operation`` of a name (or the Operation itself)."""
        if isinstance(operation, const.Operation):
            return operation
        try:
            return const.OPERATIONS[operation]
        except KeyError:
            raise ValueError(f"Unknown SP-API operation: {operation!r}") from None

    def bucket(self, operation):
        """The rate bucket of an operation (created on first use)."""
        op = self.operation(operation)
        bucket = self.buckets.get(op.name)
        if bucket is None:
            rate, burst = self.rate_limits.get(op.name, (op.rate, op.burst))
            bucket = self.buckets[op.name] = TokenBucket(rate, burst, clock=self.clock)
        return bucket

    def request(self, operation, path_params=None, params=None, json_body=None):
        """Send one SP-API operation; retry what can be retried; return its ``Response``.

        The outcome is noted in ``health`` under the operation's API family.

        :param operation: operation name of ``const.OPERATIONS`` (or a ``const.Operation``)
        :param dict path_params: values of the path's ``{placeholders}``
        :param dict params: query parameters (None values dropped, lists comma-joined)
        :param json_body: JSON request body
        :rtype: Response
        :raise SpApiError: a subclass telling what went wrong
        """
        op = self.operation(operation)
        try:
            response = self._request(op, path_params, params, json_body)
        except SpApiError as error:
            self._note(error.operation or op.name, error)
            raise
        self._note(op.name)
        return response

    def _note(self, operation, error=None):
        """Note the last success or failure of ``operation``'s API family in ``health``."""
        family = const.operation_family(operation)
        if family:
            entry = self.health.setdefault(family, {})
            entry["failure" if error else "success"] = datetime.now(timezone.utc)
            if error:
                entry["error"] = error

    def _request(self, op, path_params, params, json_body):
        url = self.base_url + op.path.format(
            **{key: quote(str(value), safe="") for key, value in (path_params or {}).items()}
        )
        query = _clean_params(params)
        bucket = self.bucket(op)
        failures = 0
        refreshed = False
        began = self.clock()
        while True:
            wait = bucket.take()
            if wait > 0:
                self.stats.rate_wait += wait
                self.sleep(wait)
                began += wait  # waiting for the rate limit is not time lost to failures
            try:
                token = self._access_token()
                response, headers, elapsed = self._send(op, url, query, json_body, token)
            except SpApiError as error:
                if not error.retryable:
                    raise
                failures += 1
                self._retry_or_raise(op, error, failures, began=began)
                continue
            status = response.status_code
            request_id = headers.get(const.HEADER_REQUEST_ID)
            self.last_request_id = request_id
            _logger.debug(
                "SP-API %s: HTTP %s (request id %s) in %.3f s", op.name, status, request_id, elapsed
            )
            try:
                body = _parse_json(response.text)
            except ValueError:
                body = None
            if 200 <= status < 300 or status in (400, 404):
                self._apply_rate_limit(op, bucket, headers)
            if 200 <= status < 300 and body is not None:
                return Response(body, request_id, headers)
            if 200 <= status < 300:  # a truncated or non-JSON body: retried like a 5xx
                failures += 1
                error = ServerError("The body is not JSON.", status, request_id, operation=op.name)
                self._retry_or_raise(op, error, failures, headers, began)
                continue
            error = error_from_response(
                op.name,
                status,
                body if body is not None else response.text,
                request_id,
                foreign=self.foreign,
            )
            error.scrub((token,))
            if status == 429:
                self.stats.throttled += 1
                bucket.drain()
            if (
                status in (401, 403)
                and not refreshed
                and error.token_expired(headers.get(const.HEADER_ERROR_TYPE))
            ):
                refreshed = True
                self.auth.invalidate()
                self.stats.retries += 1
                _logger.warning(
                    "SP-API %s: access token expired (request id %s); retrying with a new one",
                    op.name,
                    request_id,
                )
                continue
            if status in const.RETRY_STATUSES:
                failures += 1
                self._retry_or_raise(op, error, failures, headers, began)
                continue
            if isinstance(error, AuthError):
                _logger.warning("SP-API %s refused: %s", op.name, error)
            raise error

    def _access_token(self):
        before = getattr(self.auth, "refresh_count", 0)
        try:
            return self.auth.access_token()
        finally:
            after = getattr(self.auth, "refresh_count", 0)
            self.stats.token_refreshes += max(0, after - before)

    def _send(self, op, url, query, json_body, token):
        """One HTTP request; (response, case-insensitive headers, elapsed seconds)."""
        headers = {
            "x-amz-access-token": token,
            "x-amz-date": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
            "user-agent": self.user_agent,
            "accept": "application/json",
        }
        kwargs = {"params": query, "headers": headers, "timeout": self.timeout}
        if json_body is not None:
            kwargs["json"] = json_body
        self.stats.calls += 1
        started = self.clock()
        try:
            response = self.session.request(op.method, url, **kwargs)
        except TRANSPORT_ERRORS as error:
            raise transport_error(error, op.name, (token,)) from None
        except requests.exceptions.RequestException as error:
            _logger.warning("SP-API %s failed: %s", op.name, scrub(error, (token,)))
            raise SpApiError("The request could not be sent.", operation=op.name) from None
        return response, CaseInsensitiveDict(response.headers or {}), self.clock() - started

    def _apply_rate_limit(self, op, bucket, headers):
        """Follow the rate Amazon says it applied (``x-amzn-RateLimit-Limit``)."""
        value = headers.get(const.HEADER_RATE_LIMIT)
        if not value:
            return
        try:
            rate = float(value)
        except ValueError:
            return
        if rate > 0 and rate != bucket.rate:
            _logger.debug("SP-API %s: rate limit %s/s applied by Amazon", op.name, rate)
            bucket.rate = rate

    def backoff_delay(self, failures):
        """Seconds to wait after the ``failures``-th failure: exponential, capped, jittered.

        ``min(cap, base * 2 ** (failures - 1))`` scaled by a factor in [0.5, 1) drawn from ``rand``.
        """
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1))
        return delay * (0.5 + 0.5 * self.rand())

    def _retry_or_raise(self, op, error, failures, headers=None, began=None):
        if failures >= self.max_attempts:
            _logger.warning(
                "SP-API %s failed after %s attempts: %s", op.name, failures, type(error).__name__
            )
            raise error
        delay = self.backoff_delay(failures)
        if (
            self.total_timeout is not None
            and began is not None
            and self.clock() - began + delay > self.total_timeout
        ):
            _logger.warning(
                "SP-API %s: %s after %s attempts; no time left to retry within %s s",
                op.name,
                type(error).__name__,
                failures,
                self.total_timeout,
            )
            raise error
        retry_after = (headers or {}).get("retry-after")
        if retry_after:
            try:
                delay = max(delay, min(float(retry_after), self.backoff_cap))
            except ValueError:  # an HTTP date: keep our own backoff
                _logger.debug("SP-API %s: Retry-After %r is not in seconds", op.name, retry_after)
        _logger.warning(
            "SP-API %s: %s (HTTP %s, request id %s), attempt %s of %s; retrying in %.1f s",
            op.name,
            type(error).__name__,
            error.status_code,
            error.request_id,
            failures,
            self.max_attempts,
            delay,
        )
        self.stats.retries += 1
        self.stats.backoff_wait += delay
        self.sleep(delay)

    # ------------------------------------------------------------------------------------------
    # Pagination
    # ------------------------------------------------------------------------------------------

    def iter_pages(self, operation, params=None, path_params=None, start_token=None):
        """Pages of a paginated operation, from ``start_token`` (or the first page) to the last.

        Each next page repeats the same arguments with the token (only the token for
        operations that want it alone). Pages can be empty.

        :rtype: Iterator[Page]
        """
        return self._iter_pages(operation, params, path_params, start_token)

    def _iter_pages(self, operation, params, path_params, start_token, shrink=False):
        op = self.operation(operation)
        if not op.next_token_param:
            raise ValueError(f"{op.name} is not paginated.")
        params = dict(params or {})
        token = start_token or None
        seen = {}
        while True:
            if token and op.token_only:
                query = {op.next_token_param: token}
            else:
                query = dict(params)
                if token:
                    query[op.next_token_param] = token
            try:
                response = self.request(op, path_params=path_params, params=query)
            except InvalidInputError as error:
                if not shrink or not self._shrink_page(op, params, error):
                    raise
                continue
            page = self._page(op, response)
            yield page
            token = page.next_token
            if not token:
                return
            seen[token] = seen.get(token, 0) + 1
            if seen[token] > TOKEN_REPEATS:
                raise SpApiError("Amazon keeps sending the same next token.", operation=op.name)

    def _shrink_page(self, op, params, error):
        """Halve ``MaxResultsPerPage`` after an InvalidInput that may mean "page too big".

        Date errors ("Date range is invalid.", "Start date cannot be null") are not about size.
        """
        size = int(params.get(PAGE_SIZE_PARAM) or 100)
        if size <= 1 or DATE_ERROR.search(error.message or ""):
            return False
        params[PAGE_SIZE_PARAM] = max(1, size // 2)
        _logger.warning(
            "SP-API %s: InvalidInput (request id %s) with %s results per page; retrying with %s",
            op.name,
            error.request_id,
            size,
            params[PAGE_SIZE_PARAM],
        )
        return True

    def _page(self, op, response):
        body = response.body if isinstance(response.body, dict) else {}
        payload = body.get("payload", body)
        if payload is None:
            payload = {}
        token = None
        if isinstance(payload, dict):
            token = payload.get(op.next_token_param)
        if not token:
            token = body.get(op.next_token_param)
        return Page(payload=payload, next_token=token or None, request_id=response.request_id)

    # ------------------------------------------------------------------------------------------
    # Operations
    # ------------------------------------------------------------------------------------------

    def get_marketplace_participations(self):
        """The seller's marketplaces: list of ``{marketplace, participation, storeName}``."""
        body = self.request("getMarketplaceParticipations").body
        payload = body.get("payload") if isinstance(body, dict) else None
        return list(payload or [])

    def list_financial_event_groups(
        self, started_after=None, started_before=None, max_results=None, start_token=None
    ):
        """Finances v0 event groups (settlement periods), page by page."""
        params = {
            "FinancialEventGroupStartedAfter": format_datetime(started_after),
            "FinancialEventGroupStartedBefore": format_datetime(started_before),
            PAGE_SIZE_PARAM: max_results,
        }
        return self.iter_pages("listFinancialEventGroups", params, start_token=start_token)

    def list_financial_events(
        self, posted_after, posted_before=None, max_results=100, start_token=None
    ):
        """Finances v0 events posted in [posted_after, posted_before), page by page."""
        params = {
            "PostedAfter": format_datetime(posted_after),
            "PostedBefore": format_datetime(posted_before),
            PAGE_SIZE_PARAM: max_results,
        }
        return self._iter_pages("listFinancialEvents", params, None, start_token, shrink=True)

    def list_financial_events_by_group_id(
        self, group_id, posted_after=None, posted_before=None, max_results=100, start_token=None
    ):
        """Finances v0 events of one event group, page by page."""
        params = {
            "PostedAfter": format_datetime(posted_after),
            "PostedBefore": format_datetime(posted_before),
            PAGE_SIZE_PARAM: max_results,
        }
        return self._iter_pages(
            "listFinancialEventsByGroupId",
            params,
            {"eventGroupId": group_id},
            start_token,
            shrink=True,
        )

    def list_financial_events_by_order_id(self, order_id, max_results=100, start_token=None):
        """Finances v0 events of one order, page by page."""
        return self._iter_pages(
            "listFinancialEventsByOrderId",
            {PAGE_SIZE_PARAM: max_results},
            {"orderId": order_id},
            start_token,
            shrink=True,
        )

    def list_transactions(
        self,
        posted_after=None,
        posted_before=None,
        marketplace_id=None,
        transaction_status=None,
        related_identifier_name=None,
        related_identifier_value=None,
        start_token=None,
    ):
        """Finances 2024-06-19 transactions, page by page."""
        params = {
            "postedAfter": format_datetime(posted_after),
            "postedBefore": format_datetime(posted_before),
            "marketplaceId": marketplace_id,
            "transactionStatus": transaction_status,
            "relatedIdentifierName": related_identifier_name,
            "relatedIdentifierValue": related_identifier_value,
        }
        return self.iter_pages("listTransactions", params, start_token=start_token)

    # Reports 2021-06-30 (settlement and returns reports)

    def get_reports(
        self,
        report_types=None,
        processing_statuses=None,
        marketplace_ids=None,
        created_since=None,
        created_until=None,
        page_size=None,
        start_token=None,
    ):
        """Reports matching the filters, page by page (``payload`` = ``{reports, nextToken}``)."""
        params = {
            "reportTypes": report_types,
            "processingStatuses": processing_statuses,
            "marketplaceIds": marketplace_ids,
            "createdSince": format_datetime(created_since),
            "createdUntil": format_datetime(created_until),
            "pageSize": page_size,
        }
        return self.iter_pages("getReports", params, start_token=start_token)

    def get_report(self, report_id):
        """``{reportId, reportType, processingStatus, reportDocumentId?, ...}``."""
        return self.request("getReport", {"reportId": report_id}).body

    def create_report(
        self,
        report_type,
        marketplace_ids,
        data_start_time=None,
        data_end_time=None,
        report_options=None,
    ):
        """Ask Amazon for a report; its ``reportId``."""
        body = {"reportType": report_type, "marketplaceIds": list(marketplace_ids)}
        if data_start_time is not None:
            body["dataStartTime"] = format_datetime(data_start_time)
        if data_end_time is not None:
            body["dataEndTime"] = format_datetime(data_end_time)
        if report_options:
            body["reportOptions"] = dict(report_options)
        return self.request("createReport", json_body=body).body.get("reportId")

    def get_report_document(self, report_document_id):
        """``{reportDocumentId, url, compressionAlgorithm?}``; the URL expires in 5 minutes."""
        return self.request("getReportDocument", {"reportDocumentId": report_document_id}).body

    def download_report_document(self, document, into=None):
        """The content of a report document from ``get_report_document``: bytes, or written to
        ``into`` (a binary file, returned at its start) as it arrives. GZIP is decompressed.
        The pre-signed URL gets no access token and is neither logged nor put in errors."""
        operation, error = "downloadReportDocument", None
        target = io.BytesIO() if into is None else into
        gzipped = (document.get("compressionAlgorithm") or "").upper() == "GZIP"
        try:
            url = hosts.check_url(document["url"], hosts.DOCUMENT, self.allow_custom_hosts)
            agent = {"user-agent": self.user_agent}
            response = self.session.request(
                "GET", url, headers=agent, timeout=self.timeout, stream=True
            )
            with contextlib.closing(response):
                if not 200 <= response.status_code < 300:
                    raise error_from_response(
                        operation, response.status_code, None, None, self.foreign
                    )
                chunks = response.iter_content(DOWNLOAD_CHUNK)
                for chunk in gunzipped(chunks, operation) if gzipped else chunks:
                    target.write(chunk)
        except (*TRANSPORT_ERRORS, requests.exceptions.ContentDecodingError) as exc:
            error = transport_error(exc, operation, log_detail=False)
        except SpApiError as exc:  # a host not allowed, Amazon's status, damaged GZIP data
            error = exc
        self._note(operation, error)
        if error is not None:
            raise error from None
        target.seek(0)
        return target.getvalue() if into is None else into
