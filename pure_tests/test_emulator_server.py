"""The SP-API emulator over HTTP: LWA, consent, Sellers, Finances v0 and 2024-06-19, rules,
pagination, rate buckets and faults. Clocks are injected: nothing sleeps."""

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from emulator import Dataset, SpApiEmulator, generate_dataset, to_transaction
from emulator.generator import to_v0_financial_events

UTC = timezone.utc
START = datetime(2026, 8, 1, tzinfo=UTC)
END = datetime(2026, 9, 30, tzinfo=UTC)
NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
V0_EVENTS = "/finances/v0/financialEvents"
TRANSACTIONS = "/finances/2024-06-19/transactions"


class Clock:
    def __init__(self, moment):
        self.moment = moment

    def __call__(self):
        return self.moment

    def advance(self, **kwargs):
        self.moment += timedelta(**kwargs)


class Seconds:
    """Monotonic clock for the rate buckets."""

    def __init__(self):
        self.value = 0.0

    def __call__(self):
        return self.value


@pytest.fixture(scope="module")
def base_dataset():
    return generate_dataset(seed=42, start=START, end=END)


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def seconds():
    return Seconds()


@pytest.fixture
def emu(base_dataset, clock, seconds):
    with SpApiEmulator(dataset=base_dataset, now=clock, clock=seconds, rate_scale=None) as server:
        yield server


def _token(emu, refresh=None):
    reply = requests.post(
        emu.lwa_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh or emu.refresh_token,
            "client_id": emu.client_id,
            "client_secret": emu.client_secret,
        },
        timeout=5,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["access_token"]


class Api:
    def __init__(self, emu, token=None):
        self.emu = emu
        self.token = token or _token(emu)

    def get(self, path, **params):
        return requests.get(
            self.emu.url + path,
            params=params,
            headers={"x-amz-access-token": self.token},
            timeout=5,
        )


@pytest.fixture
def api(emu):
    return Api(emu)


def _body(reply):
    return json.loads(reply.text, parse_float=Decimal)


def _error(reply):
    return _body(reply)["errors"][0]


def _v0_count(financial_events):
    """Events carrying money (a service fee's twin without FeeList (R02) is not one)."""
    return sum(
        1
        for name, events in financial_events.items()
        for event in events
        if name != "ServiceFeeEventList" or "FeeList" in event
    )


def _all_v0(api, path=V0_EVENTS, **params):
    merged, pages = {}, 0
    token = None
    while True:
        query = dict(params, NextToken=token) if token else params
        reply = api.get(path, **query)
        assert reply.status_code == 200, reply.text
        payload = _body(reply)["payload"]
        pages += 1
        for name, events in payload["FinancialEvents"].items():
            merged.setdefault(name, []).extend(events)
        token = payload.get("NextToken")
        if not token:
            return merged, pages


def _all_transactions(api, **params):
    result, token = [], None
    while True:
        query = dict(params, nextToken=token) if token else params
        reply = api.get(TRANSACTIONS, **query)
        assert reply.status_code == 200, reply.text
        payload = _body(reply)["payload"]
        result.extend(payload["transactions"])
        token = payload.get("nextToken")
        if not token:
            return result


def _loads(obj):
    from emulator import dumps

    return json.loads(dumps(obj), parse_float=Decimal)


# -- LWA and consent --------------------------------------------------------------------------


def test_lwa_refresh_grant_and_refusals(emu):
    form = {"grant_type": "refresh_token", "refresh_token": emu.refresh_token}
    good = {"client_id": emu.client_id, "client_secret": emu.client_secret}
    reply = requests.post(emu.lwa_url, data={**form, **good}, timeout=5)
    assert reply.status_code == 200
    answer = reply.json()
    assert answer["token_type"] == "bearer" and answer["expires_in"] == 3600
    assert answer["access_token"].startswith("Atza|") and len(answer["access_token"]) < 40
    # HTTP Basic client authentication works too
    basic = requests.post(
        emu.lwa_url, data=form, auth=(emu.client_id, emu.client_secret), timeout=5
    )
    assert basic.status_code == 200

    wrong = requests.post(emu.lwa_url, data={**form, **good, "client_secret": "nope"}, timeout=5)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.json()["error_description"]
    unknown = requests.post(
        emu.lwa_url, data={**good, **form, "refresh_token": "emulator-unknown"}, timeout=5
    )
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"
    odd = requests.post(emu.lwa_url, data={**good, "grant_type": "password"}, timeout=5)
    assert odd.status_code == 400 and odd.json()["error"] == "unsupported_grant_type"
    assert emu.count("lwaToken", 200) == 2 and emu.count("lwaToken") == 5
    # nothing secret is recorded
    assert all(set(call.params) == {"grant_type"} for call in emu.calls)


def test_authorization_code_grant_single_use_and_expiry(emu, clock):
    good = {"client_id": emu.client_id, "client_secret": emu.client_secret}
    code = emu.issue_authorization_code(emu.dataset.seller_id)
    reply = requests.post(
        emu.lwa_url, data={**good, "grant_type": "authorization_code", "code": code}, timeout=5
    )
    assert reply.status_code == 200
    refresh = reply.json()["refresh_token"]
    assert not refresh.startswith("Atzr|")
    assert Api(emu, _token(emu, refresh)).get("/sellers/v1/marketplaceParticipations").ok
    again = requests.post(
        emu.lwa_url, data={**good, "grant_type": "authorization_code", "code": code}, timeout=5
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

    late = emu.issue_authorization_code(emu.dataset.seller_id)
    clock.advance(minutes=5)
    expired = requests.post(
        emu.lwa_url, data={**good, "grant_type": "authorization_code", "code": late}, timeout=5
    )
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"


def test_consent_redirects_with_a_fresh_code(emu):
    reply = requests.get(
        emu.consent_url,
        params={
            "application_id": emu.application_id,
            "state": "s-123",
            "redirect_uri": "https://odoo.example/amazon/callback?db=x",
            "version": "beta",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert reply.status_code == 302
    location = urlsplit(reply.headers["Location"])
    assert location.netloc == "odoo.example" and location.path == "/amazon/callback"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["db"] == "x" and query["state"] == "s-123"
    assert query["selling_partner_id"] == emu.dataset.seller_id
    exchange = requests.post(
        emu.lwa_url,
        data={
            "grant_type": "authorization_code",
            "code": query["spapi_oauth_code"],
            "client_id": emu.client_id,
            "client_secret": emu.client_secret,
        },
        timeout=5,
    )
    assert exchange.status_code == 200 and exchange.json()["refresh_token"]

    emu.redirect_uri = "https://odoo.example/cb"
    reply = requests.get(
        emu.consent_url,
        params={"application_id": emu.application_id, "state": "t"},
        allow_redirects=False,
        timeout=5,
    )
    assert reply.status_code == 302 and reply.headers["Location"].startswith(
        "https://odoo.example/cb?"
    )
    bad = requests.get(
        emu.consent_url, params={"application_id": "amzn1.sellerapps.app.other"}, timeout=5
    )
    assert bad.status_code == 400 and "text/html" in bad.headers["Content-Type"]


# -- tokens and headers -----------------------------------------------------------------------


def test_access_token_expiry_and_unknown_tokens(emu, clock):
    api = Api(emu)
    path = "/sellers/v1/marketplaceParticipations"
    assert api.get(path).status_code == 200
    clock.advance(seconds=3599)
    assert api.get(path).status_code == 200
    clock.advance(seconds=1)
    reply = api.get(path)
    assert reply.status_code == 403
    assert _error(reply) == {
        "code": "Unauthorized",
        "message": "Access to requested resource is denied.",
        "details": "The access token you provided has expired.",
    }
    assert "x-amzn-RateLimit-Limit" not in reply.headers
    unknown = Api(emu, "Atza|forged").get(path)
    assert unknown.status_code == 403
    assert _error(unknown)["message"] == "Access to requested resource is denied."
    assert "expired" not in _error(unknown)["details"]
    missing = requests.get(emu.url + path, timeout=5)
    assert missing.status_code == 403 and _error(missing)["code"] == "Unauthorized"


def test_marketplace_participations_and_headers(emu, api):
    first = api.get("/sellers/v1/marketplaceParticipations")
    second = api.get("/sellers/v1/marketplaceParticipations")
    payload = first.json()["payload"]
    assert [p["marketplace"]["countryCode"] for p in payload] == [
        "US", "CA", "GB", "DE", "FR", "IT", "ES", "JP"
    ]  # fmt: skip
    us = payload[0]
    assert us["marketplace"] == {
        "id": "ATVPDKIKX0DER",
        "countryCode": "US",
        "name": "Amazon.com",
        "defaultCurrencyCode": "USD",
        "defaultLanguageCode": "en_US",
        "domainName": "www.amazon.com",
    }
    assert us["participation"] == {"isParticipating": True, "hasSuspendedListings": False}
    assert first.headers["x-amzn-RequestId"] != second.headers["x-amzn-RequestId"]
    assert first.headers["x-amzn-RateLimit-Limit"] == "0.016"  # no scaling


def test_added_seller_sees_its_own_data(emu):
    ds = Dataset(seller_id="A2OTHER", marketplaces=("DE",), start=START, end=END)
    ds.add_refund("DE", posted=datetime(2026, 9, 1, tzinfo=UTC))
    refresh = emu.add_seller("A2OTHER", marketplaces=("DE",), dataset=ds)
    other = Api(emu, _token(emu, refresh))
    participations = other.get("/sellers/v1/marketplaceParticipations").json()["payload"]
    assert [p["marketplace"]["id"] for p in participations] == ["A1PA6795UKMFR9"]
    txns = _all_transactions(other, postedAfter="2026-08-01T00:00:00Z")
    assert [t["transactionId"] for t in txns] == [ds.events[0].transaction_id]
    assert txns[0]["sellingPartnerMetadata"]["sellingPartnerId"] == "A2OTHER"


# -- date rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"PostedAfter": "2026-10-01T11:59:00Z"},  # less than 2 minutes before now
        {"PostedAfter": "2026-09-01T00:00:00Z", "PostedBefore": "2026-10-01T11:58:30Z"},
        {"PostedAfter": "2026-09-01T00:00:00Z", "PostedBefore": "2026-09-01T00:00:00Z"},
    ],
)
def test_v0_date_rules(api, params):
    reply = api.get(V0_EVENTS, **params)
    assert reply.status_code == 400
    assert _error(reply)["code"] == "InvalidInput"
    assert _error(reply)["message"] == "Date range is invalid."
    assert reply.headers["x-amzn-RateLimit-Limit"] == "0.5"


def test_list_financial_events_requires_posted_after_the_group_and_order_listings_do_not(
    api, base_dataset
):
    for params in ({}, {"PostedBefore": "2026-09-01T00:00:00Z"}, {"MaxResultsPerPage": 10}):
        reply = api.get(V0_EVENTS, **params)
        assert reply.status_code == 400
        assert _error(reply) == {
            "code": "InvalidInput",
            "message": "Must specify a valid value of atleast one of : 1)AmazonOrderId, "
            "2)FinancialEventGroupId and 3)PostedAfter",  # Amazon's words (models#223)
            "details": "",
        }
    group = next(g for g in base_dataset.groups if base_dataset.group_events(g))
    by_group = api.get(f"/finances/v0/financialEventGroups/{group.group_id}/financialEvents")
    assert by_group.status_code == 200
    event = next(ev for ev in base_dataset.events if ev.kind == "refund")
    assert api.get(f"/finances/v0/orders/{event.order_id}/financialEvents").status_code == 200


def test_v0_next_tokens_expire_after_three_minutes(api, clock):
    params = {"PostedAfter": "2026-08-01T00:00:00Z", "MaxResultsPerPage": 5}
    first = _body(api.get(V0_EVENTS, **params))["payload"]
    clock.advance(minutes=3)
    assert api.get(V0_EVENTS, NextToken=first["NextToken"], **params).status_code == 200
    clock.advance(seconds=1)
    reply = api.get(V0_EVENTS, NextToken=first["NextToken"], **params)
    assert reply.status_code == 400
    assert _error(reply) == {
        "code": "InvalidInput",
        "message": "Token is not valid, token duration is 3 minutes.",  # docs#981, models#562
        "details": "",
    }
    # a token issued later is good again; 2024-06-19 tokens do not expire (no report says so)
    again = _body(api.get(V0_EVENTS, **params))["payload"]["NextToken"]
    assert api.get(V0_EVENTS, NextToken=again, **params).status_code == 200


def test_next_token_lifetime_is_configurable(base_dataset, clock, seconds):
    params = {"PostedAfter": "2026-08-01T00:00:00Z", "MaxResultsPerPage": 5}
    with SpApiEmulator(
        dataset=base_dataset,
        now=clock,
        clock=seconds,
        rate_scale=None,
        page_size_v2024=10,
        next_token_lifetime=timedelta(seconds=90),
    ) as emu:
        api = Api(emu)
        token = _body(api.get(V0_EVENTS, **params))["payload"]["NextToken"]
        txn_params = {"postedAfter": "2026-08-01T00:00:00Z"}
        txn_token = _body(api.get(TRANSACTIONS, **txn_params))["payload"]["nextToken"]
        clock.advance(seconds=91)
        reply = api.get(V0_EVENTS, NextToken=token, **params)
        assert _error(reply)["message"] == "Token is not valid, token duration is 90 seconds."
        assert api.get(TRANSACTIONS, nextToken=txn_token, **txn_params).status_code == 200
    with SpApiEmulator(
        dataset=base_dataset, now=clock, clock=seconds, rate_scale=None, next_token_lifetime=None
    ) as emu:
        api = Api(emu)
        token = _body(api.get(V0_EVENTS, **params))["payload"]["NextToken"]
        clock.advance(minutes=50)  # (the access token lasts an hour)
        assert api.get(V0_EVENTS, NextToken=token, **params).status_code == 200


def test_numbers_are_written_as_amazon_writes_them(api, base_dataset):
    reply = api.get(TRANSACTIONS, postedAfter="2026-08-01T00:00:00Z")
    amounts = re.findall(r'"currencyAmount":(-?[0-9.]+)', reply.text)
    assert amounts and not [a for a in amounts if "." in a and a.endswith("0")]  # 89.8, not 89.80
    assert _body(reply)["payload"]["transactions"][0]["totalAmount"]["currencyAmount"] == next(
        ev.net for ev in sorted(base_dataset.events, key=lambda ev: (ev.posted, ev.event_id))
    )


def test_two_minutes_before_now_is_accepted(api):
    assert api.get(V0_EVENTS, PostedAfter="2026-10-01T11:57:59Z").status_code == 200
    reply = api.get(TRANSACTIONS, postedAfter="2026-10-01T11:58:00Z")
    assert reply.status_code == 400 and _error(reply)["message"] == "Date range is invalid."


def test_more_than_180_days_apart_is_empty_not_an_error(api):
    wide = api.get(
        V0_EVENTS, PostedAfter="2026-03-01T00:00:00Z", PostedBefore="2026-09-29T00:00:00Z"
    )
    assert wide.status_code == 200
    payload = _body(wide)["payload"]
    assert _v0_count(payload["FinancialEvents"]) == 0 and "NextToken" not in payload
    # PostedBefore defaults to now - 2 minutes: a PostedAfter 181 days back is empty too
    old = api.get(TRANSACTIONS, postedAfter=(NOW - timedelta(days=181)).isoformat())
    assert old.status_code == 200 and _body(old)["payload"]["transactions"] == []
    fine = api.get(TRANSACTIONS, postedAfter=(NOW - timedelta(days=179)).isoformat())
    assert len(_body(fine)["payload"]["transactions"]) > 0


def test_list_transactions_needs_a_start_or_an_identifier(api, base_dataset):
    reply = api.get(TRANSACTIONS)
    assert reply.status_code == 400 and _error(reply)["code"] == "InvalidInput"
    event = next(ev for ev in base_dataset.events if ev.kind == "chargeback")
    by_order = _all_transactions(
        api, relatedIdentifierName="ORDER_ID", relatedIdentifierValue=event.order_id
    )
    assert [t["transactionId"] for t in by_order] == [event.transaction_id]
    assert by_order[0]["description"] == "Chargeback Refund"
    bad = api.get(TRANSACTIONS, relatedIdentifierName="SHIPMENT_ID", relatedIdentifierValue="x")
    assert bad.status_code == 400


# -- listings and pagination ------------------------------------------------------------------


def test_v0_pages_count_events_and_cover_the_window(api, base_dataset):
    params = {"PostedAfter": "2026-08-01T00:00:00Z", "PostedBefore": "2026-09-30T00:00:00Z"}
    sizes, token = [], None
    while True:
        reply = api.get(
            V0_EVENTS, MaxResultsPerPage=7, **(dict(params, NextToken=token) if token else params)
        )
        payload = _body(reply)["payload"]
        sizes.append(_v0_count(payload["FinancialEvents"]))
        token = payload.get("NextToken")
        if not token:
            break
    assert all(size == 7 for size in sizes[:-1]) and 0 < sizes[-1] <= 7
    assert sum(sizes) == len(base_dataset.events)
    merged, _pages = _all_v0(api, MaxResultsPerPage=7, **params)
    ordered = sorted(base_dataset.events, key=lambda ev: (ev.posted, ev.event_id))
    assert merged == _loads(to_v0_financial_events(ordered))


def test_page_tokens_are_stable_and_bound_to_their_arguments(api):
    params = {"PostedAfter": "2026-08-01T00:00:00Z", "MaxResultsPerPage": 5}
    first = _body(api.get(V0_EVENTS, **params))["payload"]
    token = first["NextToken"]
    page_a = api.get(V0_EVENTS, NextToken=token, **params)
    page_b = api.get(V0_EVENTS, NextToken=token, **params)
    assert page_a.status_code == 200 and page_a.text == page_b.text
    assert _body(page_a)["payload"]["FinancialEvents"] != first["FinancialEvents"]
    for changed in (
        {"PostedAfter": "2026-08-02T00:00:00Z", "MaxResultsPerPage": 5},
        {"PostedAfter": "2026-08-01T00:00:00Z", "MaxResultsPerPage": 6},
        {},
    ):
        reply = api.get(V0_EVENTS, NextToken=token, **changed)
        assert reply.status_code == 400 and _error(reply)["code"] == "InvalidInput"
    # a token of another operation, or a forged one
    txn_token = _body(api.get(TRANSACTIONS, postedAfter="2026-08-01T00:00:00Z"))["payload"]
    assert "nextToken" not in txn_token  # all the events fit in one page of 100
    forged = api.get(V0_EVENTS, NextToken=token[:-2] + "xx", **params)
    assert forged.status_code == 400


def test_default_posted_before_is_frozen_across_pages(api, emu, clock):
    dataset = emu.dataset
    params = {"PostedAfter": "2026-09-20T00:00:00Z", "MaxResultsPerPage": 2}
    first = _body(api.get(V0_EVENTS, **params))["payload"]
    clock.advance(minutes=2, seconds=30)  # within the tokens' 3 minutes
    late = dataset.add_refund("US", posted=NOW - timedelta(minutes=1))
    try:
        # continuing from the first page keeps its bound (then now - 2 minutes)
        seen, token = [], first["NextToken"]
        while token:
            payload = _body(api.get(V0_EVENTS, NextToken=token, **params))["payload"]
            seen.extend(
                e.get("AmazonOrderId") for e in payload["FinancialEvents"]["RefundEventList"]
            )
            token = payload.get("NextToken")
        assert seen and late.order_id not in seen
        # a new listing sees it
        fresh, _pages = _all_v0(api, PostedAfter="2026-09-20T00:00:00Z")
        assert late.order_id in {e["AmazonOrderId"] for e in fresh["RefundEventList"]}
    finally:
        dataset.remove(late)


def test_transactions_pages_and_filters(base_dataset, clock, seconds):
    with SpApiEmulator(
        dataset=base_dataset, now=clock, clock=seconds, rate_scale=None, page_size_v2024=10
    ) as emu:
        api = Api(emu)
        every = _all_transactions(api, postedAfter="2026-08-01T00:00:00Z")
        ordered = sorted(base_dataset.events, key=lambda ev: (ev.posted, ev.event_id))
        assert every == _loads([to_transaction(ev) for ev in ordered])
        pages = -(-len(base_dataset.events) // 10)
        assert emu.count("listTransactions", 200) == pages  # 10 transactions a page

        uk = _all_transactions(
            api, postedAfter="2026-08-01T00:00:00Z", marketplaceId="A1F83G8C2ARO7P"
        )
        assert uk and {t["marketplaceDetails"]["marketplaceName"] for t in uk} == {"Amazon.co.uk"}
        group = next(g for g in base_dataset.groups if base_dataset.group_events(g))
        in_group = _all_transactions(
            api,
            relatedIdentifierName="FINANCIAL_EVENT_GROUP_ID",
            relatedIdentifierValue=group.group_id,
        )
        assert {t["transactionId"] for t in in_group} == {
            ev.transaction_id for ev in base_dataset.group_events(group)
        }
        assert (
            _all_transactions(api, postedAfter="2026-08-01T00:00:00Z", transactionStatus="DEFERRED")
            == []
        )


def test_groups_list_and_group_events_add_up(api, base_dataset):
    groups, token = [], None
    while True:
        params = {"FinancialEventGroupStartedAfter": "2026-07-01T00:00:00Z"}
        if token:
            params["NextToken"] = token
        payload = _body(api.get("/finances/v0/financialEventGroups", **params))["payload"]
        assert len(payload["FinancialEventGroupList"]) <= 10  # default page size
        groups.extend(payload["FinancialEventGroupList"])
        token = payload.get("NextToken")
        if not token:
            break
    assert len(groups) == len(base_dataset.groups) > 10
    closed = [g for g in groups if g["ProcessingStatus"] == "Closed"]
    assert closed and all(g["FundTransferStatus"] == "Succeeded" for g in closed)
    for group in groups[:12]:
        merged, _pages = _all_v0(
            api,
            f"/finances/v0/financialEventGroups/{group['FinancialEventGroupId']}/financialEvents",
        )
        amounts = []
        for events in merged.values():
            for event in events:
                amounts.extend(_event_amounts(event))
        assert sum(amounts, Decimal(0)) == group["OriginalTotal"]["CurrencyAmount"]
    missing = api.get("/finances/v0/financialEventGroups/NOPE/financialEvents")
    assert missing.status_code == 404 and "x-amzn-RateLimit-Limit" in missing.headers


def _event_amounts(event):
    if "AdjustmentAmount" in event:
        return [event["AdjustmentAmount"]["CurrencyAmount"]]
    found = []

    def walk(obj):
        if isinstance(obj, dict):
            for key, value in obj.items():
                if key == "PerUnitAmount":  # an undated adjustment's items (R03)
                    continue
                if key == "CurrencyAmount":
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(obj, list):
            for value in obj:
                walk(value)

    walk(event)
    return found


def test_events_by_order_id(api, base_dataset):
    event = next(ev for ev in base_dataset.events if ev.kind == "guarantee_claim")
    merged, _pages = _all_v0(api, f"/finances/v0/orders/{event.order_id}/financialEvents")
    assert [e["AmazonOrderId"] for e in merged["GuaranteeClaimEventList"]] == [event.order_id]
    assert _v0_count(merged) == 1
    bad = api.get("/finances/v0/orders/12345/financialEvents")
    assert bad.status_code == 400 and _error(bad)["code"] == "InvalidInput"


# -- rate buckets -----------------------------------------------------------------------------


def test_rate_bucket_throttles_with_rate_scale(base_dataset, clock, seconds):
    with SpApiEmulator(dataset=base_dataset, now=clock, clock=seconds, rate_scale=2) as emu:
        api = Api(emu)
        params = {"postedAfter": "2026-09-29T00:00:00Z"}
        for _ in range(10):  # burst 10
            reply = api.get(TRANSACTIONS, **params)
            assert reply.status_code == 200
            assert reply.headers["x-amzn-RateLimit-Limit"] == "1"  # 0.5 x 2
        throttled = api.get(TRANSACTIONS, **params)
        assert throttled.status_code == 429
        assert _body(throttled) == {
            "errors": [
                {
                    "code": "QuotaExceeded",
                    "message": "You exceeded your quota for the requested resource.",
                    "details": "",
                }
            ]
        }
        assert "x-amzn-RateLimit-Limit" not in throttled.headers
        # other operations have their own bucket
        assert api.get(V0_EVENTS, PostedAfter="2026-09-29T00:00:00Z").status_code == 200
        seconds.value += 0.5
        assert api.get(TRANSACTIONS, **params).status_code == 429
        seconds.value += 0.6  # more than one token at 1 request per second
        assert api.get(TRANSACTIONS, **params).status_code == 200
        assert api.get(TRANSACTIONS, **params).status_code == 429
        assert emu.count("listTransactions", 429) == 3


# -- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("throttle", 429, "QuotaExceeded"),
        ("server_error", 500, "InternalFailure"),
        ("unavailable", 503, "ServiceUnavailable"),
    ],
)
def test_faults_fail_the_next_matching_calls(emu, api, kind, status, code):
    emu.inject(kind, count=2, operation="listTransactions", after=1)
    params = {"postedAfter": "2026-09-29T00:00:00Z"}
    assert api.get(V0_EVENTS, PostedAfter="2026-09-29T00:00:00Z").status_code == 200
    statuses = [api.get(TRANSACTIONS, **params).status_code for _ in range(4)]
    assert statuses == [200, status, status, 200]
    failing = emu.calls[-3]
    assert failing.operation == "listTransactions" and failing.status == status
    emu.inject(kind, count=None)
    reply = api.get(V0_EVENTS, PostedAfter="2026-09-29T00:00:00Z")
    assert reply.status_code == status and _error(reply)["code"] == code
    emu.reset_faults()
    assert api.get(V0_EVENTS, PostedAfter="2026-09-29T00:00:00Z").status_code == 200


def test_expired_token_mid_pagination(emu, api):
    params = {"PostedAfter": "2026-08-01T00:00:00Z", "MaxResultsPerPage": 10}
    emu.inject("expired_token", operation="listFinancialEvents", after=1)
    first = _body(api.get(V0_EVENTS, **params))["payload"]
    reply = api.get(V0_EVENTS, NextToken=first["NextToken"], **params)
    assert reply.status_code == 403
    assert _error(reply)["details"] == "The access token you provided has expired."
    api.token = _token(emu)
    resumed = api.get(V0_EVENTS, NextToken=first["NextToken"], **params)
    assert resumed.status_code == 200


def test_big_page_invalid_input_until_pages_are_small(emu, api):
    emu.inject("invalid_input_big_page", count=None)
    params = {"PostedAfter": "2026-08-01T00:00:00Z"}
    big = api.get(V0_EVENTS, **params)
    assert big.status_code == 400 and _error(big)["code"] == "InvalidInput"
    assert "response too large" in _error(big)["message"]
    assert api.get(V0_EVENTS, MaxResultsPerPage=11, **params).status_code == 400
    assert api.get(V0_EVENTS, MaxResultsPerPage=10, **params).status_code == 200
    # only the v0 financialEvents operations
    assert api.get(TRANSACTIONS, postedAfter="2026-08-01T00:00:00Z").status_code == 200


def test_empty_page_and_lwa_faults(emu, api):
    emu.inject("empty_page", operation="listTransactions")
    params = {"postedAfter": "2026-08-01T00:00:00Z"}
    payload = _body(api.get(TRANSACTIONS, **params))["payload"]
    assert payload["transactions"] == [] and payload["nextToken"]
    rest = _body(api.get(TRANSACTIONS, nextToken=payload["nextToken"], **params))["payload"]
    assert len(rest["transactions"]) == len(emu.dataset.events)

    emu.inject("unavailable", operation="lwaToken")
    reply = requests.post(
        emu.lwa_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": emu.refresh_token,
            "client_id": emu.client_id,
            "client_secret": emu.client_secret,
        },
        timeout=5,
    )
    assert reply.status_code == 503
    assert _token(emu)


# -- hand-made and raw events -----------------------------------------------------------------


def test_raw_and_deferred_events_show_up_as_injected(clock, seconds):
    ds = Dataset(seller_id="A1TESTSELLER", marketplaces=("US",), start=START, end=END)
    posted = datetime(2026, 9, 10, tzinfo=UTC)
    ds.add_raw_v0(
        "RefundEventList", {"AmazonOrderId": "111-0000000-0000009", "Broken": True}, posted=posted
    )
    ds.add_raw_v0("FutureEventList", {"PostedDate": "2026-09-11T00:00:00Z", "X": 1}, currency="USD")
    ds.add_raw_transaction(
        {
            "transactionType": "Refund",
            "transactionId": "RAW-1",
            "postedDate": "2026-09-12T00:00:00Z",
        }
    )
    deferred = ds.add_refund("US", posted=posted, deferred_until=NOW + timedelta(days=1))
    late = ds.add_refund("US", posted=posted, available_at=NOW + timedelta(days=2))
    with SpApiEmulator(dataset=ds, now=clock, clock=seconds, rate_scale=None) as emu:
        api = Api(emu)
        merged, _pages = _all_v0(api, PostedAfter="2026-09-01T00:00:00Z")
        assert merged["RefundEventList"] == [
            {"AmazonOrderId": "111-0000000-0000009", "Broken": True}
        ]
        assert merged["FutureEventList"] == [{"PostedDate": "2026-09-11T00:00:00Z", "X": 1}]
        txns = _all_transactions(api, postedAfter="2026-09-01T00:00:00Z")
        assert [t["transactionId"] for t in txns] == [deferred.transaction_id, "RAW-1"]
        assert txns[0]["transactionStatus"] == "Deferred"

        clock.advance(days=2)
        api.token = _token(emu)
        merged, _pages = _all_v0(api, PostedAfter="2026-09-01T00:00:00Z")
        orders = [e.get("AmazonOrderId") for e in merged["RefundEventList"]]
        assert deferred.order_id in orders and late.order_id in orders
        released = _all_transactions(
            api, postedAfter="2026-09-01T00:00:00Z", transactionStatus="DEFERRED_RELEASED"
        )
        assert [t["transactionId"] for t in released] == [deferred.transaction_id]


def test_upstream_change_keeps_the_transaction_id(emu, api):
    ds = emu.dataset
    event = ds.add_refund("CA", posted=datetime(2026, 9, 29, 6, tzinfo=UTC))
    try:
        params = {"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": event.order_id}
        before = _all_transactions(api, **params)[0]
        ds.change_amount(event, "charges", "Principal", Decimal("-99.99"))
        after = _all_transactions(api, **params)[0]
        assert after["transactionId"] == before["transactionId"]
        assert after["totalAmount"] != before["totalAmount"]
    finally:
        ds.remove(event)


# -- command line -----------------------------------------------------------------------------


def test_command_line_prints_the_connection_values():
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--seed", "3"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        text = "".join(lines)
        url = next(ln.split()[-1] for ln in lines if "api_url" in ln)
        assert "emulator-refresh-token" in text and "emulator-client-secret" in text
        reply = requests.post(
            url + "/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": "emulator-refresh-token",
                "client_id": "amzn1.application-oa2-client.emulator",
                "client_secret": "emulator-client-secret",
            },
            timeout=5,
        )
        assert reply.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
