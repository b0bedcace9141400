"""``summary_ratio`` (issue 10): a closed settlement of N sales and refunds staged and posted in
summary mode, against Odoo creating and posting one journal entry of N lines in the same run.

Each size runs in its own Odoo process and the emulator in a child process of that one: the
peak RSS (``ru_maxrss``, a peak over a process's life) read after each size is the import's and
the floor's alone, without the emulator's dataset."""

import random
import time
from datetime import UTC, datetime, timedelta

from bench_lib import (
    MODULE,
    ChildEmulator,
    _all_posted,
    _bench_account,
    _peak_rss_mb,
    _rss_mb,
    _sync_with_limits,
    in_own_process,
)


def _summary_dataset(seller, n, refund_share, now):
    """A closed USD settlement of ``n`` sales and refunds (seeded), and the figures of that
    group. Runs in the emulator's process (``bench_lib.ChildEmulator``)."""
    from emulator import Dataset
    from emulator.catalog import PRODUCTS, sale_item_spec

    dataset = Dataset(
        seller_id=seller,
        marketplaces=("US",),
        start=now - timedelta(days=40),
        end=now - timedelta(hours=1),
        seed=n,
    )
    dataset.quirk_rates = {}
    current = dataset.group_for("USD", now - timedelta(hours=1))
    group = dataset.group_for("USD", current.start - timedelta(seconds=1))
    rng = random.Random(f"bench-summary:{n}")
    span = int((group.end - group.start).total_seconds()) - 60
    step = round(1 / refund_share) if refund_share else 0
    for index in range(n):
        posted = group.start + timedelta(seconds=30 + span * index // n)
        if step and index % step == step - 1:
            dataset.add_refund("US", posted=posted)
        else:
            item = sale_item_spec(rng, "US", PRODUCTS[rng.randrange(len(PRODUCTS))])
            dataset.add_order("US", posted=posted, items=[item])
    refunds = sum(1 for ev in dataset.events if ev.kind == "refund")
    return dataset, {"group_id": group.group_id, "group_start": group.start, "refunds": refunds}


def _run_summary(registry, n, rate_scale, refund_share):
    from odoo import SUPERUSER_ID, api

    from odoo.addons.account_amazon_refund.emulator.server import OPERATIONS

    now = datetime.now(UTC).replace(microsecond=0)
    seller = f"A1BENCHSUM{n}X{int(time.time())}"
    emu = ChildEmulator(
        "bench_summary:_summary_dataset", (seller, n, refund_share, now), rate_scale
    )
    group_id, group_start = emu.group_id, emu.group_start
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.company
            company._amazon_sp_ensure_setup()
            us = env.ref(f"{MODULE}.amazon_sp_marketplace_us")
            if "sales_policy" not in us._fields:
                raise SystemExit("bench: the marketplaces have no sales policy (issue 10 sales)")
            us.with_company(company).sales_policy = "summary"
            account = _bench_account(
                env, emu, f"Bench summary {n}", seller, us, group_start - timedelta(days=1)
            )
            cr.commit()
            scaled = {op: (r * rate_scale, b) for op, (r, b) in OPERATIONS.items()}
            importer = env["amazon.sp.service.import"]
            queries = cr.sql_log_count
            started, cpu = time.perf_counter(), time.process_time()
            run = _sync_with_limits(importer, account, scaled, profile_lines=60)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu
            queries = cr.sql_log_count - queries
            # Memory of the import, read before the bench's own checks below load its events
            # (and before the floor adds its entry; the emulator is another process)
            pipeline_peak, pipeline_rss = _peak_rss_mb(), _rss_mb()
            waited = run.rate_wait + run.backoff_wait
            events = _all_posted(env, account, n, run)
            moves = events.move_ids
            # The summary's own entries (a refund's fee entry is an entry too, not a sale's)
            sale_entries = moves.filtered(lambda move: move.amazon_event_type == "sale")
            days = len(set(events.filtered(lambda ev: ev.event_type == "sale").mapped("date")))
            settlement = env["amazon.sp.settlement"].search(
                [("account_id", "=", account.id), ("group_id", "=", group_id)]
            )

            # The floor: one journal entry of n lines (+ its counterpart), created and posted.
            journal = company.amazon_sp_journal_id
            income = company._amazon_sp_account("sales") or company._amazon_sp_account("fees")
            clearing = company.amazon_sp_clearing_account_id
            lines = [
                (0, 0, {"name": f"line {i}", "account_id": income.id, "credit": 1.0 + i % 97})
                for i in range(n)
            ]
            total = sum(1.0 + i % 97 for i in range(n))
            lines.append((0, 0, {"name": "clearing", "account_id": clearing.id, "debit": total}))
            vals = {"move_type": "entry", "journal_id": journal.id, "line_ids": lines}
            floor_queries = cr.sql_log_count
            started, floor_cpu = time.perf_counter(), time.process_time()
            floor_move = env["account.move"].with_company(company).create(vals)
            floor_move.action_post()
            env.flush_all()
            cr.precommit.run()  # what Odoo does at commit, as the import does at its commits
            env.flush_all()
            floor = time.perf_counter() - started
            floor_cpu = time.process_time() - floor_cpu
            floor_queries = cr.sql_log_count - floor_queries
            result = {
                "n": n,
                "refunds": emu.refunds,
                "per_event_ms": round((wall - waited) * 1000 / n, 3),
                "pipeline_s": round(wall - waited, 3),
                "queries_per_event": round(queries / n, 2),
                "floor_s": round(floor, 3),
                "floor_queries": floor_queries,
                "summary_ratio": round((wall - waited) / floor, 3),
                "pipeline_cpu_s": round(cpu, 3),
                "floor_cpu_s": round(floor_cpu, 3),
                "summary_cpu_ratio": round(cpu / floor_cpu, 3),
                "sale_entries": len(sale_entries),
                "sale_days": days,
                "documents": len(moves),
                "settlement_state": settlement.state,
                "peak_rss_after_import_mb": pipeline_peak,
                "rss_after_import_mb": pipeline_rss,
                "api_calls": run.api_calls,
                "throttled": run.throttled,
                "api_wait_s": round(waited, 3),
            }
            cr.rollback()  # the floor's entry is not kept (the import committed its pages)
        result["peak_rss_mb"] = _peak_rss_mb()
        return result
    finally:
        emu.stop()


def collect(registry, args):
    """Run the summary sizes of ``args``, each in its own process (``bench_lib.in_own_process``:
    its peak memory is its own); returns the figures for bench.json (empty when none)."""
    sizes = [int(size) for size in args.summary_sizes.split(",") if size]
    summaries = []
    for n in sizes:
        print(f"summary N = {n} ...", flush=True)
        result = in_own_process(args, "summary", n)
        summaries.append(result)
        print(
            "  {pipeline_s} s staged and posted ({per_event_ms} ms/event, {refunds} refunds, "
            "{sale_entries} sale entries for {sale_days} days, settlement {settlement_state}) | "
            "floor {floor_s} s for one entry of {n} lines | summary_ratio {summary_ratio} "
            "(CPU {summary_cpu_ratio}) | "
            "peak RSS "
            "{peak_rss_after_import_mb} MB after the import, {peak_rss_mb} MB after the "
            "floor".format(**result),
            flush=True,
        )
    if not summaries:
        return {}
    big = max(summaries, key=lambda r: r["n"])
    small = min(summaries, key=lambda r: r["n"])
    return {
        "summary_ratio": big["summary_ratio"],
        "summary_n": big["n"],
        "summary_per_event_ms": big["per_event_ms"],
        "summary_cpu_ratio": big["summary_cpu_ratio"],
        "summary_peak_rss_mb": {str(r["n"]): r["peak_rss_mb"] for r in summaries},
        "summary_peak_rss_after_import_mb": {
            str(r["n"]): r["peak_rss_after_import_mb"] for r in summaries
        },
        # The import's memory (the floor's entry of N lines is Odoo's, and grows with N)
        "summary_memory_growth": round(
            big["peak_rss_after_import_mb"] / small["peak_rss_after_import_mb"], 3
        ),
        "summary_memory_growth_with_floor": round(big["peak_rss_mb"] / small["peak_rss_mb"], 3),
        "summary_runs": summaries,
    }
