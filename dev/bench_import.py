#!/usr/bin/env python3
"""Benchmark of the refund import: emulator → staging → credit notes and fee entries, posted.

Run with a Python that can ``import odoo`` (``make bench`` finds it)::

    tools/bench_import.py [--db aar_bench] [--sizes 200,2000] [--rate-scale 40]

For each N it generates N refund events (realistic US items) in a local SP-API emulator, imports
and posts them through ``amazon.sp.service.import._sync()`` (the real HTTP client, pages,
staging, planning, one create and one post per batch, commits per page), then measures the
floor: the same credit notes and fee entries created with one ``account.move.create`` and posted
with one ``action_post`` (their values are prepared outside the timing).

``summary_ratio`` (issue 10, ``--summary-sizes 1000,10000``): a closed settlement of N sales
and refunds (``--refund-share`` of them refunds) with the US marketplace's sales policy
``summary``, staged and posted through the same ``_sync()`` (sales in one entry per day, refunds
as credit notes, the settlement checked), against the floor measured in the same run: Odoo
creating and posting one journal entry of N lines. The peak RSS of the process is printed after
each size (``ru_maxrss``; memory flat means about the same after 10,000 as after 1,000).

The emulator applies Amazon's rate limits multiplied by ``--rate-scale``; the client uses the
same scaled limits, so a steady run sees no 429. ``per_event_ms`` is the pipeline's own time
(wall time minus the time the client waited on Amazon's rate limits and backoffs);
``wall_per_event_ms`` includes that wait. ``api_wait_ratio`` = time waited / the minimum wait
the rate limits force for the calls made ((calls - burst) / rate). Figures go to stdout and to
``test-results/bench.json``. The database is created (and the addon installed) when missing;
each run adds a new seller account to it.
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_rate
import bench_summary
import bench_workers
from bench_lib import MODULE, ROOT, _bench_account, _boot, _write


def _run_size(registry, n, rate_scale):
    from odoo import SUPERUSER_ID, api

    from odoo.addons.account_amazon_refund.emulator import Dataset, SpApiEmulator
    from odoo.addons.account_amazon_refund.emulator.server import OPERATIONS
    from odoo.addons.account_amazon_refund.services.documents import DocumentBatch

    now = datetime.now(UTC).replace(microsecond=0)
    seller = f"A1BENCH{n}X{int(time.time())}"
    dataset = Dataset(
        seller_id=seller,
        marketplaces=("US",),
        start=now - timedelta(days=9),
        end=now - timedelta(hours=1),
    )
    span = 8 * 24 * 3600
    for index in range(n):
        dataset.add_refund("US", posted=now - timedelta(hours=1, seconds=span * index // n))
    emu = SpApiEmulator(dataset=dataset, rate_scale=rate_scale).start()
    rate, burst = OPERATIONS["listTransactions"]
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.company
            company._amazon_sp_ensure_setup()
            account = _bench_account(
                env,
                emu,
                f"Bench {n}",
                seller,
                env.ref(f"{MODULE}.amazon_sp_marketplace_us"),
                now - timedelta(days=10),
            )
            cr.commit()
            scaled = {op: (r * rate_scale, b) for op, (r, b) in OPERATIONS.items()}
            importer = env["amazon.sp.service.import"]

            queries = cr.sql_log_count
            started = time.perf_counter()
            # The client uses the emulator's scaled rate limits (the account's options hook).
            with patch.object(
                type(account), "_amazon_sp_client_options", lambda acc: {"rate_limits": scaled}
            ):
                if os.environ.get("BENCH_PROFILE"):
                    import cProfile
                    import pstats

                    profiler = cProfile.Profile()
                    run = profiler.runcall(importer._sync, account, trigger="manual")
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
                else:
                    run = importer._sync(account, trigger="manual")
            wall = time.perf_counter() - started
            queries = cr.sql_log_count - queries
            events = env["amazon.sp.event"].search([("account_id", "=", account.id)])
            posted = events.filtered(lambda ev: ev.state == "posted")
            if len(posted) != n:
                raise SystemExit(
                    f"bench: {len(posted)} of {n} events posted "
                    f"({set(events.mapped('state'))}, run {run.state}: {run.error})"
                )
            waited = run.rate_wait + run.backoff_wait
            forced = max(run.api_calls - burst, 0) / (rate * rate_scale)

            # The floor: the same documents, one create and one post.
            documents = env["amazon.sp.service.documents"].with_company(company)
            posting = env["amazon.sp.service.posting"].with_company(company)
            batch = DocumentBatch(company=company)
            events = events.with_company(company)
            documents._read_events(events, batch)
            documents._prefetch(events, batch)
            vals_list = []
            for event in events:
                plan = documents._plan(event, batch)
                for vals in documents._documents_vals(event, plan, batch):
                    vals.pop("amazon_event_ids", None)
                    vals_list.append(vals)
            Move = env["account.move"].with_company(company)
            floor_queries = cr.sql_log_count
            started = time.perf_counter()
            moves = Move.create(vals_list)
            posting._set_clearing(moves, batch)
            moves.action_post()
            env.flush_all()
            floor = time.perf_counter() - started
            floor_queries = cr.sql_log_count - floor_queries
            result = {
                "n": n,
                "events_per_s": round(n / (wall - waited), 1),
                "per_event_ms": round((wall - waited) * 1000 / n, 3),
                "wall_per_event_ms": round(wall * 1000 / n, 3),
                "queries_per_event": round(queries / n, 2),
                "floor_per_event_ms": round(floor * 1000 / n, 3),
                "floor_queries_per_event": round(floor_queries / n, 2),
                "ratio_vs_floor": round((wall - waited) / floor, 3),
                "api_calls": run.api_calls,
                "pages": run.pages,
                "throttled": run.throttled,
                "api_wait_s": round(waited, 3),
                "api_forced_wait_s": round(forced, 3),
                "api_wait_ratio": (
                    round(waited / forced, 3) if forced else (0.0 if not waited else None)
                ),
            }
            cr.rollback()  # the floor's copies are not kept
        return result
    finally:
        emu.stop()


def _refund_runs(registry, args):
    """The refund import at each of ``--sizes``; returns the figures for bench.json."""
    results = []
    for n in [int(size) for size in args.sizes.split(",") if size]:
        print(f"N = {n} ...", flush=True)
        result = _run_size(registry, n, args.rate_scale)
        results.append(result)
        print(
            "  {events_per_s} events/s, {per_event_ms} ms/event (wall {wall_per_event_ms}), "
            "{queries_per_event} queries/event | floor {floor_per_event_ms} ms/event, "
            "{floor_queries_per_event} queries/event | ratio {ratio_vs_floor} | "
            "{api_calls} calls, {throttled} throttled, waited {api_wait_s} s for "
            "{api_forced_wait_s} s forced".format(**result),
            flush=True,
        )
    if not results:
        return {}
    largest = max(results, key=lambda r: r["n"])
    smallest = min(results, key=lambda r: r["n"])
    return {
        "n": largest["n"],
        "per_event_ms": largest["per_event_ms"],
        "wall_per_event_ms": largest["wall_per_event_ms"],
        "floor_per_event_ms": largest["floor_per_event_ms"],
        "ratio_vs_floor": largest["ratio_vs_floor"],
        "scaling_ratio": round(largest["per_event_ms"] / smallest["per_event_ms"], 3),
        "api_wait_ratio": largest["api_wait_ratio"],
        "throttled": sum(r["throttled"] for r in results),
        "queries_per_event": largest["queries_per_event"],
        "events_per_s": largest["events_per_s"],
        "runs": results,
    }


# Each part runs its measurements and returns its figures for bench.json.
PARTS = [
    bench_summary.collect,
    _refund_runs,
    bench_workers.collect,
    bench_rate.collect,
]

# Targets printed at the end: (key, target text).
TARGETS = [
    ("summary_ratio", "<= 3"),
    ("summary_memory_growth", "flat"),
    ("ratio_vs_floor", "<= 1.5"),
    ("scaling_ratio", "<= 1.2"),
    ("api_wait_ratio", "<= 1.05"),
    ("throttled", "0"),
    ("workers_speedup", ">= 1.5"),
    ("real_rate_ratio", "<= 1.1"),
    ("api_calls_per_1000", "fewer than api_calls_per_1000_before"),
    ("real_rate_throttled", "0"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("BENCH_DB", "aar_bench"))
    parser.add_argument("--sizes", default="200,2000")
    parser.add_argument("--rate-scale", type=float, default=40.0)
    parser.add_argument(
        "--summary-sizes", default="1000,10000", help="settlement sizes of summary_ratio ('': none)"
    )
    parser.add_argument("--refund-share", type=float, default=0.05)
    parser.add_argument("--rate-sizes", default="2000", help="real_rate_ratio sizes ('': none)")
    parser.add_argument("--out", default=str(ROOT / "test-results" / "bench.json"))
    args = parser.parse_args()
    registry = _boot(args.db)
    summary = {"rate_scale": args.rate_scale}
    for part in PARTS:
        summary.update(part(registry, args))
    _write(args.out, summary)
    for key, target in TARGETS:
        if key in summary:
            print(f"{key} {summary[key]} (target {target})")
    print(f"→ {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
