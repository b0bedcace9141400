"""Rate buckets: burst then rate, reservations, draining, Amazon's rate header."""

import pytest
from fakes import FakeClock, make_client, ok

from spapi import TokenBucket


def test_burst_then_rate():
    clock = FakeClock()
    bucket = TokenBucket(0.5, 3, clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(2.0)  # one token per 2 s
    assert bucket.take() == pytest.approx(4.0)  # reserved behind the previous caller
    clock.advance(4.0)
    assert bucket.take() == pytest.approx(2.0)
    clock.advance(1000)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]  # refill stops at burst
    assert bucket.take() > 0


def test_drain_and_rate_change():
    clock = FakeClock()
    bucket = TokenBucket(1.0, 10, clock)
    bucket.drain()
    assert bucket.take() == pytest.approx(1.0)
    clock.advance(1.0)
    bucket.rate = 0.25  # the elapsed second counted at the old rate
    assert bucket.take() == pytest.approx(4.0)
    with pytest.raises(ValueError):
        bucket.rate = 0
    with pytest.raises(ValueError):
        TokenBucket(0, 1, clock)


def test_client_sleeps_only_after_the_burst():
    client, _session, _lwa, clock = make_client(
        handler=lambda method, url, **kw: ok({"payload": []}),
        rate_limits={"getMarketplaceParticipations": (0.5, 2)},
    )
    for _ in range(4):
        client.get_marketplace_participations()
    assert clock.sleeps == [pytest.approx(2.0), pytest.approx(2.0)]
    assert client.stats.rate_wait == pytest.approx(4.0)
    assert client.stats.calls == 4


def test_documented_limits_are_the_default():
    client, _session, _lwa, _clock = make_client()
    bucket = client.bucket("listFinancialEvents")
    assert (bucket.rate, bucket.burst) == (0.5, 30)
    assert client.bucket("listTransactions").burst == 10
    assert client.bucket("listTransactions") is client.bucket("listTransactions")


def test_rate_limit_header_tightens_the_bucket():
    answer = ok({"payload": []}, **{"x-amzn-RateLimit-Limit": "0.1"})
    client, _session, _lwa, clock = make_client(
        handler=lambda method, url, **kw: answer,
        rate_limits={"getMarketplaceParticipations": (1.0, 1)},
    )
    client.get_marketplace_participations()
    assert client.bucket("getMarketplaceParticipations").rate == 0.1
    client.get_marketplace_participations()
    assert clock.sleeps == [pytest.approx(10.0)]


def test_buckets_can_be_shared_between_clients():
    buckets = {}
    first, _s1, _l1, clock = make_client(
        handler=lambda method, url, **kw: ok({"payload": []}),
        buckets=buckets,
        rate_limits={"getMarketplaceParticipations": (0.5, 1)},
    )
    second, _s2, _l2, _clock = make_client(
        handler=lambda method, url, **kw: ok({"payload": []}), buckets=buckets, clock=clock
    )
    first.get_marketplace_participations()
    second.get_marketplace_participations()
    assert clock.sleeps == [pytest.approx(2.0)]
