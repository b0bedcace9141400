"""``real_rate_ratio`` (issue 14): the import at Amazon's real rate limits.

N refunds spread over 8 marketplaces (9 days) are imported through ``_sync()`` from an emulator
at ``rate_scale`` 1 (Amazon's own rates and bursts), by a client that uses the same limits.
Figures:

- ``real_rate_ratio`` = wall time / max(the time the rate limits force for the calls made, the
  time the posting takes). *Forced*: for each operation, (calls - burst) / rate, the largest of
  them (buckets are per operation; a lower bound). *Posting*: the same events imported on
  another seller account with the rate limits off (emulator and client), i.e. the import's own
  work (pages read from a local server, staged, planned, created and posted) with nothing
  waited. Target ≤ 1.1: reading Amazon overlaps posting.
- ``api_calls_per_1000``: SP-API calls of the import per 1,000 events, after (one
  ``listTransactions`` read per account) and ``api_calls_per_1000_before`` (one read per
  marketplace, as before issue 14: the same run with its pull's calls replaced by the calls
  of a per-marketplace read of the same windows, counted on the same data).
- ``throttled``: 429 answers met (0 expected: the client keeps to the buckets).
"""

import time
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

from bench_lib import MODULE, _all_posted, _bench_account

MARKETS = ("UK", "DE", "FR", "IT", "ES", "NL", "SE", "PL")
SPAN = timedelta(days=9)


def _dataset(seller, n, now):
    """``n`` refunds, in turn over the 8 marketplaces, without VAT lines (the bench company
    has no VAT registration) and without quirks."""
    from odoo.addons.account_amazon_refund.emulator import Dataset

    dataset = Dataset(
        seller_id=seller, marketplaces=MARKETS, start=now - SPAN - timedelta(days=1), end=now
    )
    dataset.quirk_rates = {}
    seconds = int(SPAN.total_seconds())
    for index in range(n):
        principal = 10 + index % 37
        item = {
            "sku": f"BENCH-RATE-{index % 50}",
            "quantity": 1,
            "charges": {"Principal": -principal},
            "fees": {"Commission": round(principal * 0.15, 2), "RefundCommission": -0.5},
            "fee_taxes": {},
        }
        dataset.add_refund(
            MARKETS[index % len(MARKETS)],
            posted=now - timedelta(hours=1, seconds=seconds * index // n),
            items=[item],
        )
    return dataset


def _import(env, n, now, rate_scale, label):
    """Import the bench dataset on a new account; returns (run, wall seconds, emulator calls,
    the account)."""
    from odoo.addons.account_amazon_refund.emulator import SpApiEmulator
    from odoo.addons.account_amazon_refund.emulator.server import OPERATIONS

    seller = f"A1BENCHRATE{label}{n}X{int(time.time())}"
    emu = SpApiEmulator(dataset=_dataset(seller, n, now), rate_scale=rate_scale).start()
    try:
        marketplaces = env["amazon.sp.marketplace"].browse()
        for code in MARKETS:
            marketplaces |= env.ref(f"{MODULE}.amazon_sp_marketplace_{code.lower()}")
        account = _bench_account(
            env,
            emu,
            f"Bench rate {label} {n}",
            seller,
            marketplaces,
            now - SPAN - timedelta(days=1),
        )
        account.region = "eu"
        env.cr.commit()
        if rate_scale:
            limits = {op: (rate * rate_scale, burst) for op, (rate, burst) in OPERATIONS.items()}
        else:
            limits = {op: (1e6, 1_000_000) for op in OPERATIONS}
        importer = env["amazon.sp.service.import"]
        started = time.perf_counter()
        with patch.object(
            type(account), "_amazon_sp_client_options", lambda acc: {"rate_limits": limits}
        ):
            run = importer._sync(account, trigger="manual")
        wall = time.perf_counter() - started
        _all_posted(env, account, n, run, label="bench rate")
        return run, wall, list(emu.calls), emu, account
    finally:
        emu.stop()


def _forced_wait(calls):
    """The least time the rate limits force for ``calls``: per operation (calls - burst) /
    rate, the largest."""
    from odoo.addons.account_amazon_refund.emulator.server import OPERATIONS

    per_op = {}
    for call in calls:
        if call.operation in OPERATIONS:
            per_op[call.operation] = per_op.get(call.operation, 0) + 1
    forced = 0.0
    for operation, count in per_op.items():
        rate, burst = OPERATIONS[operation]
        forced = max(forced, max(count - burst, 0) / rate)
    return forced, per_op


def _calls_per_marketplace(env, n, now, run):
    """listTransactions calls a per-marketplace read of the run's windows makes on the same
    data (an emulator without rate limits, the real client)."""
    from odoo.addons.account_amazon_refund.emulator import SpApiEmulator
    from odoo.addons.account_amazon_refund.emulator.common import MARKETPLACES
    from odoo.addons.account_amazon_refund.spapi import LwaAuth, SpApiClient

    seller = f"A1BENCHRATEOLD{n}X{int(time.time())}"
    emu = SpApiEmulator(dataset=_dataset(seller, n, now), rate_scale=0).start()
    try:
        auth = LwaAuth(emu.client_id, emu.client_secret, emu.refresh_token, token_url=emu.lwa_url)
        client = SpApiClient(auth, region="eu", api_url=emu.url, sleep=lambda s: None)
        importer = env["amazon.sp.service.import"]
        start = run.window_start.replace(tzinfo=UTC)
        end = run.window_end.replace(tzinfo=UTC)
        calls = 0
        for code in MARKETS:
            for win_start, win_end in importer._chunks(start, end):
                for _page in client.list_transactions(
                    posted_after=win_start,
                    posted_before=win_end,
                    marketplace_id=MARKETPLACES[code].marketplace_id,
                ):
                    calls += 1
        return calls
    finally:
        emu.stop()


def _run_rate(registry, n):
    from odoo import SUPERUSER_ID, api

    now = datetime.now(UTC).replace(microsecond=0)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env.company._amazon_sp_ensure_setup()
        cr.commit()
        run, wall, calls, _emu, _account = _import(env, n, now, 1.0, "REAL")
        forced, per_op = _forced_wait(calls)
        throttled = sum(1 for call in calls if call.status == 429)
        _run0, posting, _calls0, _emu0, _account0 = _import(env, n, now, 0, "FREE")
        pull_after = sum(
            1
            for call in calls
            if call.operation == "listTransactions"
            and call.status == 200
            and "relatedIdentifierName" not in call.params
        )
        pull_before = _calls_per_marketplace(env, n, now, run)
        sp_calls = sum(1 for call in calls if call.operation != "lwaToken")
        before = sp_calls - pull_after + pull_before
        return {
            "n": n,
            "marketplaces": len(MARKETS),
            "wall_s": round(wall, 3),
            "forced_wait_s": round(forced, 3),
            "posting_s": round(posting, 3),
            "real_rate_ratio": round(wall / max(forced, posting), 3),
            "api_calls": sp_calls,
            "api_calls_by_operation": per_op,
            "pull_calls": pull_after,
            "pull_calls_per_marketplace_read": pull_before,
            "api_calls_per_1000": round(sp_calls * 1000 / n, 2),
            "api_calls_per_1000_before": round(before * 1000 / n, 2),
            "throttled": throttled,
            "run_throttled": run.throttled,
            "rate_wait_s": round(run.rate_wait, 3),
        }


def collect(registry, args):
    """Run the real-rate sizes of ``args`` (``--rate-sizes``, '' for none); returns the figures
    for bench.json (empty when none)."""
    sizes = [int(size) for size in (getattr(args, "rate_sizes", "2000") or "").split(",") if size]
    results = []
    for n in sizes:
        print(f"real rate N = {n} over {len(MARKETS)} marketplaces ...", flush=True)
        result = _run_rate(registry, n)
        results.append(result)
        print(
            "  wall {wall_s} s | rate limits force {forced_wait_s} s | posting alone "
            "{posting_s} s | real_rate_ratio {real_rate_ratio} | {api_calls} calls "
            "({api_calls_per_1000}/1000 events, {api_calls_per_1000_before} read per "
            "marketplace) | {throttled} throttled".format(**result),
            flush=True,
        )
    if not results:
        return {}
    big = max(results, key=lambda r: r["n"])
    return {
        "real_rate_ratio": big["real_rate_ratio"],
        "api_calls_per_1000": big["api_calls_per_1000"],
        "api_calls_per_1000_before": big["api_calls_per_1000_before"],
        "real_rate_throttled": sum(r["throttled"] for r in results),
        "real_rate_runs": results,
    }
