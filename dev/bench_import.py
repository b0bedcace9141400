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
creating and posting one journal entry of N lines.

The refund import also runs at ``--large-size`` (default 20,000): ``scaling_ratio_large`` is its
per-event cost over that of the largest of ``--sizes``, ``memory_growth_large`` the peak memory
of its import over that one's (``memory_growth_large_with_floor``: read after the floors, which
hold N documents at once). Each size runs in its own Odoo process (``--one part:N``, the database
already updated) and the emulator with its dataset in a child process of that one, so the peak
RSS printed (``ru_maxrss``, a peak over a process's life; ``peak_rss_mb``, by N) is that size's
import and floor alone.

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_rate
import bench_summary
import bench_workers
from bench_lib import (
    MODULE,
    ROOT,
    ChildEmulator,
    _bench_account,
    _boot,
    _peak_rss_mb,
    _sync_with_limits,
    _write,
    in_own_process,
)


def _refund_dataset(seller, n, now):
    """``n`` US refunds over 8 days (runs in the emulator's process: ``ChildEmulator``)."""
    from emulator import Dataset

    dataset = Dataset(
        seller_id=seller,
        marketplaces=("US",),
        start=now - timedelta(days=9),
        end=now - timedelta(hours=1),
    )
    span = 8 * 24 * 3600
    for index in range(n):
        dataset.add_refund("US", posted=now - timedelta(hours=1, seconds=span * index // n))
    return dataset, {}


def _run_size(registry, n, rate_scale):
    from odoo import SUPERUSER_ID, api

    from odoo.addons.account_amazon_refund.emulator.server import OPERATIONS
    from odoo.addons.account_amazon_refund.services.documents import DocumentBatch

    now = datetime.now(UTC).replace(microsecond=0)
    seller = f"A1BENCH{n}X{int(time.time())}"
    emu = ChildEmulator("bench_import:_refund_dataset", (seller, n, now), rate_scale)
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
            started, cpu = time.perf_counter(), time.process_time()
            # The client uses the emulator's scaled rate limits (the account's options hook).
            run = _sync_with_limits(importer, account, scaled)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu
            queries = cr.sql_log_count - queries
            peak_import = _peak_rss_mb()
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
            started, floor_cpu = time.perf_counter(), time.process_time()
            moves = Move.create(vals_list)
            posting._set_clearing(moves, batch)
            moves.action_post()
            env.flush_all()
            floor_no_commit = time.perf_counter() - started
            # What Odoo does when it commits them (the chatter's tracking of the moves posted),
            # as the import does at each of its commits; then rolled back.
            cr.precommit.run()
            env.flush_all()
            floor = time.perf_counter() - started
            floor_cpu = time.process_time() - floor_cpu
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
                "ratio_vs_floor_no_commit": round((wall - waited) / floor_no_commit, 3),
                "cpu_per_event_ms": round(cpu * 1000 / n, 3),
                "floor_cpu_per_event_ms": round(floor_cpu * 1000 / n, 3),
                "cpu_ratio_vs_floor": round(cpu / floor_cpu, 3),
                "peak_rss_after_import_mb": peak_import,
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
        result["peak_rss_mb"] = _peak_rss_mb()
        return result
    finally:
        emu.stop()


def _refund_runs(registry, args):
    """The refund import at each of ``--sizes`` and at ``--large-size``, each in its own
    process (its peak memory is its own); returns the figures for bench.json."""
    sizes = [int(size) for size in args.sizes.split(",") if size]
    large = args.large_size if args.large_size and args.large_size not in sizes else None
    results = []
    for n in [*sizes, *([large] if large else [])]:
        print(f"N = {n} ...", flush=True)
        result = in_own_process(args, "refund", n)
        results.append(result)
        print(
            "  {events_per_s} events/s, {per_event_ms} ms/event (wall {wall_per_event_ms}), "
            "{queries_per_event} queries/event | floor {floor_per_event_ms} ms/event, "
            "{floor_queries_per_event} queries/event | ratio {ratio_vs_floor} "
            "({ratio_vs_floor_no_commit} without the floor's commit; CPU {cpu_ratio_vs_floor}) | "
            "{api_calls} calls, {throttled} throttled, waited {api_wait_s} s for "
            "{api_forced_wait_s} s forced | peak RSS {peak_rss_after_import_mb} MB after the "
            "import, {peak_rss_mb} MB after the floor".format(**result),
            flush=True,
        )
    if not results:
        return {}
    main = [r for r in results if r["n"] in sizes] or results
    largest = max(main, key=lambda r: r["n"])
    smallest = min(main, key=lambda r: r["n"])
    figures = {
        "n": largest["n"],
        "per_event_ms": largest["per_event_ms"],
        "wall_per_event_ms": largest["wall_per_event_ms"],
        "floor_per_event_ms": largest["floor_per_event_ms"],
        "ratio_vs_floor": largest["ratio_vs_floor"],
        "ratio_vs_floor_no_commit": largest["ratio_vs_floor_no_commit"],
        "cpu_ratio_vs_floor": largest["cpu_ratio_vs_floor"],
        "scaling_ratio": round(largest["per_event_ms"] / smallest["per_event_ms"], 3),
        "api_wait_ratio": largest["api_wait_ratio"],
        "throttled": sum(r["throttled"] for r in results),
        "queries_per_event": largest["queries_per_event"],
        "events_per_s": largest["events_per_s"],
        "peak_rss_mb": {str(r["n"]): r["peak_rss_mb"] for r in results},
        "runs": results,
    }
    if large:
        big = results[-1]
        figures.update(
            n_large=large,
            per_event_ms_large=big["per_event_ms"],
            cpu_scaling_ratio_large=round(big["cpu_per_event_ms"] / largest["cpu_per_event_ms"], 3),
            scaling_ratio_large=round(big["per_event_ms"] / largest["per_event_ms"], 3),
            # The import's own memory: the floor then holds N documents of Odoo's at once
            memory_growth_large=round(
                big["peak_rss_after_import_mb"] / largest["peak_rss_after_import_mb"], 3
            ),
            memory_growth_large_with_floor=round(big["peak_rss_mb"] / largest["peak_rss_mb"], 3),
        )
    return figures


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
    ("summary_memory_growth", "<= 1.2: flat"),
    ("ratio_vs_floor", "<= 1.5"),
    ("scaling_ratio", "<= 1.2"),
    ("api_wait_ratio", "<= 1.05"),
    ("throttled", "0"),
    ("workers_speedup", ">= 1.5"),
    ("real_rate_ratio", "<= 1.1"),
    ("api_calls_per_1000", "fewer than api_calls_per_1000_before"),
    ("real_rate_throttled", "0"),
    ("scaling_ratio_large", "<= 1.1"),
    ("memory_growth_large", "<= 1.2"),
    ("peak_rss_mb", "printed"),
]


def _one(args):
    """One size of one part, in this process (``bench_lib.in_own_process``)."""
    part, n = args.one.split(":")
    registry = _boot(args.db, update=False)
    if part == "summary":
        result = bench_summary._run_summary(registry, int(n), args.rate_scale, args.refund_share)
    else:
        result = _run_size(registry, int(n), args.rate_scale)
    _write(args.out, result)
    return 0


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
    parser.add_argument(
        "--large-size", type=int, default=20000, help="the refund import's large N (0: none)"
    )
    parser.add_argument("--out", default=str(ROOT / "test-results" / "bench.json"))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # "part:N", in its own process
    args = parser.parse_args()
    if args.one:
        return _one(args)
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
