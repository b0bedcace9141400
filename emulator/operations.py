"""The Sellers, Finances (v0, 2024-06-19) and Reports operations of the emulator, with
Amazon's rules: the date windows, page tokens bound to their arguments (and, for the v0 event
listings, valid a few minutes only), ``PostedAfter`` required by ``listFinancialEvents``,
``transactionStatus`` filters, pre-signed report documents."""

import base64
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from . import returns
from .common import MARKETPLACES, V0, V2024
from .reports import (
    DOCUMENT_URL_LIFETIME,
    SETTLEMENT_REPORT_TYPE,
    available_reports,
    gzip_document,
    render_settlement_report,
)
from .v0 import to_v0_financial_events, to_v0_group
from .v2024 import to_transaction

UTC = timezone.utc
DOCUMENT_PATH = "/emulator-documents/"
V0_EVENT_OPERATIONS = (
    "listFinancialEvents",
    "listFinancialEventsByGroupId",
    "listFinancialEventsByOrderId",
)
DATE_MARGIN = timedelta(minutes=2)
MAX_SPAN = timedelta(days=180)
# v0 next tokens expire: "Token is not valid, token duration is 3 minutes." (docs #981)
NEXT_TOKEN_LIFETIME = timedelta(minutes=3)
ORDER_ID_RE = re.compile(r"^\d{3}-\d{7}-\d{7}$")
TRANSACTION_STATUSES = ("DEFERRED", "RELEASED", "DEFERRED_RELEASED")
RELATED_FILTERS = ("FINANCIAL_EVENT_GROUP_ID", "ORDER_ID")
# What Amazon answers a listFinancialEvents without PostedAfter (selling-partner-api-models #223)
POSTED_AFTER_REQUIRED = (
    "Must specify a valid value of atleast one of : 1)AmazonOrderId, 2)FinancialEventGroupId "
    "and 3)PostedAfter"
)


class ApiError(Exception):
    """An SP-API error answer: ``{"errors": [{"code", "message", "details"}]}``."""

    def __init__(self, status, code, message, details=""):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self):
        return {"errors": [{"code": self.code, "message": self.message, "details": self.details}]}


def _invalid(message, details=""):
    return ApiError(400, "InvalidInput", message, details)


def _parse_date(value, name):
    text = (value or "").strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(
            f"Invalid {name}.", f"{name} must be an ISO 8601 date-time: {value}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _duration(lifetime):
    seconds = int(lifetime.total_seconds())
    if seconds % 60:
        return f"{seconds} seconds"
    minutes = seconds // 60
    return f"{minutes} minute" + ("" if minutes == 1 else "s")


class Operations:
    """Mixed into :class:`.server.SpApiEmulator`: one ``_op_<operationId>`` per operation,
    called with the seller, the operationId and the request's parameters."""

    # -- parameters and pages -----------------------------------------------------------------

    @staticmethod
    def _int_param(params, name, default, low, high):
        value = params.get(name)
        if value in (None, ""):
            return default
        try:
            number = int(value)
        except ValueError:
            raise _invalid(f"Invalid {name}.", f"{name} must be an integer.") from None
        if not low <= number <= high:
            raise _invalid(f"Invalid {name}.", f"{name} must be between {low} and {high}.")
        return number

    def _window(self, params, after_name, before_name, frozen_before=None, require_after=True):
        """``(after, before, empty)`` under Amazon's date rules (before defaults to now - 2 min)."""
        limit = self._now() - DATE_MARGIN
        after = _parse_date(params[after_name], after_name) if params.get(after_name) else None
        before = _parse_date(params[before_name], before_name) if params.get(before_name) else None
        invalid = "Date range is invalid."
        if before is not None and after is None and require_after:
            raise _invalid(invalid, f"{before_name} requires {after_name}.")
        if after is not None and after >= limit:
            raise _invalid(invalid, f"{after_name} must be more than 2 minutes before now.")
        if before is not None and before >= limit:
            raise _invalid(invalid, f"{before_name} must be more than 2 minutes before now.")
        if after is not None and before is not None and before <= after:
            raise _invalid(invalid, f"{before_name} must be later than {after_name}.")
        if before is None:
            before = frozen_before or limit
        empty = after is not None and before - after > MAX_SPAN
        return after, before, empty

    def _digest(self, operation, seller, params, token_name):
        args = sorted((k, v) for k, v in params.items() if k != token_name)
        text = json.dumps([operation, seller, args])
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def _make_token(self, state):
        state = {**state, "at": self._now().isoformat()}
        data = base64.urlsafe_b64encode(json.dumps(state, sort_keys=True).encode()).decode()
        data = data.rstrip("=")
        sig = hmac.new(self._secret, data.encode(), hashlib.sha256).hexdigest()[:24]
        return f"{data}.{sig}"

    def _read_token(self, token, operation, digest):
        data, _, sig = token.partition(".")
        good = hmac.new(self._secret, data.encode(), hashlib.sha256).hexdigest()[:24]
        if not hmac.compare_digest(sig, good):
            raise _invalid("Invalid NextToken.", "The token was not issued by this service.")
        try:
            state = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
        except ValueError:
            raise _invalid("Invalid NextToken.") from None
        lifetime = self.next_token_lifetime
        if lifetime and operation in V0_EVENT_OPERATIONS and state.get("at"):
            if self._now() - datetime.fromisoformat(state["at"]) > lifetime:
                # What Amazon answers (selling-partner-api-docs #981, models #562)
                raise _invalid(f"Token is not valid, token duration is {_duration(lifetime)}.")
        if state.get("o") != operation or state.get("h") != digest:
            raise _invalid(
                "Invalid NextToken.",
                "A next token must be used with the same arguments as the call that returned it.",
            )
        return state

    def _paged(self, seller, operation, params, token_name, size, select):
        """One page of ``select(frozen_before) -> (items, before)`` and the next token."""
        digest = self._digest(operation, seller.dataset.seller_id, params, token_name)
        offset, frozen = 0, None
        if params.get(token_name):
            state = self._read_token(params[token_name], operation, digest)
            offset = state["k"]
            frozen = datetime.fromisoformat(state["b"]) if state.get("b") else None
        items, before = select(frozen)
        state = {"o": operation, "h": digest, "b": before.isoformat() if before else None}
        if self._fire("empty_page", operation, params):
            return [], self._make_token({**state, "k": offset})
        page = items[offset : offset + size]
        more = offset + size < len(items)
        return page, self._make_token({**state, "k": offset + size}) if more else None

    def _events(self, seller, api, after, before, predicate=None):
        now = self._now()
        return [
            ev
            for ev in seller.dataset.all_events()
            if ev.visible(api, now)
            and (after is None or ev.posted >= after)
            and ev.posted < before
            and (predicate is None or predicate(ev))
        ]

    # -- operations ---------------------------------------------------------------------------

    def _op_getMarketplaceParticipations(self, seller, _operation, _params):
        result = []
        for code in seller.marketplaces:
            market = MARKETPLACES[code]
            result.append(
                {
                    "marketplace": {
                        "id": market.marketplace_id,
                        "countryCode": market.country_code,
                        "name": market.name,
                        "defaultCurrencyCode": market.currency,
                        "defaultLanguageCode": market.language,
                        "domainName": market.domain,
                    },
                    "participation": {"isParticipating": True, "hasSuspendedListings": False},
                }
            )
        return result

    def _op_listFinancialEventGroups(self, seller, operation, params):
        size = self._int_param(params, "MaxResultsPerPage", 10, 1, 100)
        dataset = seller.dataset

        def select(frozen):
            after, before, empty = self._window(
                params,
                "FinancialEventGroupStartedAfter",
                "FinancialEventGroupStartedBefore",
                frozen,
                require_after=False,
            )
            if empty:
                return [], before
            groups = [
                g
                for g in dataset.groups
                if (after is None or g.start >= after) and g.start < before
            ]
            return groups, before

        page, token = self._paged(seller, operation, params, "NextToken", size, select)
        now = self._now()
        payload = {
            "FinancialEventGroupList": [to_v0_group(g, dataset.group_total(g), now) for g in page]
        }
        if token:
            payload["NextToken"] = token
        return payload

    def _v0_events(self, seller, operation, params, predicate, dated=True):
        size = self._int_param(params, "MaxResultsPerPage", 100, 1, 100)

        def select(frozen):
            if dated:
                after, before, empty = self._window(params, "PostedAfter", "PostedBefore", frozen)
            else:  # ByOrderId takes no dates: the whole history up to now - 2 minutes
                after, before, empty = None, frozen or self._now() - DATE_MARGIN, False
            if empty:
                return [], before
            return self._events(seller, V0, after, before, predicate), before

        page, token = self._paged(seller, operation, params, "NextToken", size, select)
        payload = {"FinancialEvents": to_v0_financial_events(page)}
        if token:
            payload["NextToken"] = token
        return payload

    def _op_listFinancialEvents(self, seller, operation, params):
        if not params.get("PostedAfter"):
            raise _invalid(POSTED_AFTER_REQUIRED)
        return self._v0_events(seller, operation, params, None)

    def _op_listFinancialEventsByGroupId(self, seller, operation, params):
        group = seller.dataset.group(params["eventGroupId"])
        if group is None:
            raise ApiError(
                404, "NotFound", "Financial event group not found.", params["eventGroupId"]
            )
        return self._v0_events(seller, operation, params, lambda ev: ev.group_id == group.group_id)

    def _op_listFinancialEventsByOrderId(self, seller, operation, params):
        order_id = params["orderId"]
        if not ORDER_ID_RE.match(order_id):
            raise _invalid("Invalid orderId.", "orderId must be in 3-7-7 format.")
        return self._v0_events(
            seller, operation, params, lambda ev: ev.order_id == order_id, dated=False
        )

    # -- Reports 2021-06-30: settlement reports ------------------------------------------------

    def _op_getReports(self, seller, operation, params):
        size = self._int_param(params, "pageSize", 10, 1, 100)
        if params.get("nextToken"):
            # getReports' next page sends the token alone: the token carries the filters.
            state = self._read_token(params["nextToken"], operation, None)
        else:
            types = [t for t in (params.get("reportTypes") or "").split(",") if t]
            if not types:
                raise _invalid("reportTypes or nextToken is required.")
            since = params.get("createdSince")
            since = _parse_date(since, "createdSince") if since else self._now() - timedelta(90)
            until = params.get("createdUntil")
            until = _parse_date(until, "createdUntil") if until else self._now()
            state = {
                "o": operation,
                "h": None,
                "k": 0,
                "t": types,
                "s": since.isoformat(),
                "u": until.isoformat(),
            }
        since, until = datetime.fromisoformat(state["s"]), datetime.fromisoformat(state["u"])
        entries = []
        if SETTLEMENT_REPORT_TYPE in state["t"]:
            entries = [
                entry
                for _group, entry in available_reports(seller.dataset, self._now())
                if since <= _parse_date(entry["createdTime"], "createdTime") < until
            ]
        offset = state["k"]
        result = {"reports": entries[offset : offset + size]}
        if offset + size < len(entries):
            result["nextToken"] = self._make_token({**state, "k": offset + size})
        return result

    def _report_group(self, seller, report_id=None, document_id=None):
        for group, entry in available_reports(seller.dataset, self._now()):
            if entry["reportId"] == report_id or entry["reportDocumentId"] == document_id:
                return group, entry
        raise ApiError(404, "NotFound", "The report was not found.")

    def _op_getReport(self, seller, _operation, params):
        requested = returns.find(seller.dataset, report_id=params.get("reportId"))
        if requested:
            return returns.entry(*requested)
        return self._report_group(seller, report_id=params.get("reportId"))[1]

    def _op_createReport(self, seller, _operation, params):
        if params.get("reportType") in returns.REPORT_TYPES:
            args = (self._now(), _parse_date, _invalid)
            return {"reportId": returns.create(seller.dataset, params, *args)}
        raise _invalid(
            "Settlement reports cannot be requested: Amazon generates them.",
            "Use getReports with reportTypes=" + SETTLEMENT_REPORT_TYPE,
        )

    def _op_getReportDocument(self, seller, _operation, params):
        requested = returns.find(seller.dataset, document_id=params.get("reportDocumentId"))
        if requested:
            entry = returns.entry(*requested)
        else:
            _group, entry = self._report_group(seller, document_id=params.get("reportDocumentId"))
        expires = int((self._now() + DOCUMENT_URL_LIFETIME).timestamp())
        doc = entry["reportDocumentId"]
        signature = self._sign(f"{seller.dataset.seller_id}|{doc}|{expires}")
        query = urlencode({"s": seller.dataset.seller_id, "x": expires, "sig": signature})
        return {
            "reportDocumentId": doc,
            "compressionAlgorithm": "GZIP",
            "url": f"{self.url}{DOCUMENT_PATH}{doc}?{query}",
        }

    def _sign(self, text):
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def _document(self, document_id, query, request_id):
        """The pre-signed document URL: no access token; 403 once expired or tampered."""
        seller_id, expires = query.get("s", ""), query.get("x", "0")
        headers = {"x-amzn-RequestId": request_id, "Content-Type": "text/plain"}
        expected = self._sign(f"{seller_id}|{document_id}|{expires}")
        if not hmac.compare_digest(expected, query.get("sig", "")):
            self._record("downloadReportDocument", {"id": document_id}, 403)
            return 403, headers, b"SignatureDoesNotMatch"
        if self._now().timestamp() > int(expires):
            self._record("downloadReportDocument", {"id": document_id}, 403)
            return 403, headers, b"Request has expired"
        seller = self._sellers.get(seller_id)
        requested = seller and returns.find(seller.dataset, document_id=document_id)
        if requested:
            body = gzip_document(returns.render(seller.dataset, requested[1]))
        else:
            try:
                group, _entry = self._report_group(seller, document_id=document_id)
            except ApiError:
                self._record("downloadReportDocument", {"id": document_id}, 404)
                return 404, headers, b"NoSuchKey"
            body = gzip_document(render_settlement_report(seller.dataset, group))
        self._record("downloadReportDocument", {"id": document_id}, 200)
        if self._fire("cut_document", "downloadReportDocument", query):
            body = body[: len(body) // 2]  # the connection ends halfway (Content-Length agrees)
        return 200, {**headers, "Content-Type": "application/octet-stream"}, body

    def _op_listTransactions(self, seller, operation, params):
        predicate = self._transaction_filter(params)
        related = bool(params.get("relatedIdentifierName"))
        if not params.get("postedAfter") and not related:
            raise _invalid("Start date cannot be null", "postedAfter is required.")

        def select(frozen):
            after, before, empty = self._window(
                params, "postedAfter", "postedBefore", frozen, require_after=not related
            )
            if empty:
                return [], before
            return self._events(seller, V2024, after, before, predicate), before

        page, token = self._paged(
            seller, operation, params, "nextToken", self.page_size_v2024, select
        )
        now = self._now()
        payload = {"transactions": [to_transaction(ev, now) for ev in page]}
        if token:
            payload["nextToken"] = token
        return payload

    def _transaction_filter(self, params):
        now = self._now()
        tests = []
        marketplace_id = params.get("marketplaceId")
        if marketplace_id:
            codes = {m.code for m in MARKETPLACES.values() if m.marketplace_id == marketplace_id}
            if not codes:
                raise _invalid("Invalid marketplaceId.", marketplace_id)
            tests.append(lambda ev: ev.marketplace in codes)
            if "US" in codes:
                # Amazon: "If you want to retrieve MFN orders in the US store, do not supply
                # the marketplaceId parameter" (finances_2024-06-19.json, listTransactions).
                tests.append(lambda ev: not _merchant_fulfilled(ev))
        status = params.get("transactionStatus")
        if status:
            if status not in TRANSACTION_STATUSES:
                raise _invalid("Invalid transactionStatus.", status)
            tests.append(lambda ev: _status(ev, now) == status)
        name = params.get("relatedIdentifierName")
        value = params.get("relatedIdentifierValue")
        if name or value:
            if name not in RELATED_FILTERS:
                raise _invalid(
                    "Invalid relatedIdentifierName.", f"Filterable: {', '.join(RELATED_FILTERS)}."
                )
            if not value:
                raise _invalid("relatedIdentifierValue is required with relatedIdentifierName.")
            if name == "ORDER_ID":
                tests.append(lambda ev: ev.order_id == value)
            else:
                tests.append(lambda ev: ev.group_id == value)
        return lambda ev: all(test(ev) for test in tests)


def _merchant_fulfilled(event):
    """True for an order event with a seller-fulfilled (MFN) item."""
    return any(item.fulfillment_network == "MFN" for item in getattr(event, "items", None) or ())


def _status(event, now):
    if event.kind == "raw":
        return event.transaction_status
    return event.status(now)
