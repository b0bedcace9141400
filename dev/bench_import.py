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
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import patch

ROOT = Path(__file__).resolve().parent.parent
MODULE = "account_amazon_refund"


def _addons_path():
    import odoo

    import odoo.addons

    paths = [os.path.abspath(p) for p in odoo.addons.__path__]
    extra = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__))), "addons")
    if os.path.isdir(os.path.join(extra, "account")) and extra not in paths:
        paths.append(extra)
    links = tempfile.mkdtemp(prefix="aar-bench-addons.")
    os.symlink(ROOT, os.path.join(links, MODULE))
    return ",".join([*paths, links])


def _boot(db):
    import odoo
    from odoo.tools import config

    args = [
        "-d",
        db,
        "--db_host",
        os.environ.get("PGHOST", "localhost"),
        "--db_port",
        os.environ.get("PGPORT", "5432"),
        "--db_user",
        os.environ.get("PGUSER", "odoo"),
        "--db_password",
        os.environ.get("PGPASSWORD", "odoo"),
        "--addons-path",
        _addons_path(),
        "--without-demo",
        "all",
        "--log-level",
        os.environ.get("BENCH_LOG_LEVEL", "warn"),
    ]
    config.parse_config(args)
    odoo.netsvc.init_logger()
    from odoo.modules.registry import Registry
    from odoo.service import db as db_service

    fresh = not db_service.exp_db_exist(db)
    if fresh:
        print(f"Creating database {db} and installing {MODULE} (takes a minute)...", flush=True)
        db_service._create_empty_database(db)
    else:
        registry = Registry(db)
        with registry.cursor() as cr:
            cr.execute("SELECT state FROM ir_module_module WHERE name = %s", [MODULE])
            row = cr.fetchone()
    if fresh or not row or row[0] != "installed":
        config["init"] = {MODULE: 1}
        registry = Registry.new(db, update_module=True)
        config["init"] = {}
    else:
        # A database kept from an earlier run: bring the module to the code being measured.
        config["update"] = {MODULE: 1}
        registry = Registry.new(db, update_module=True)
        config["update"] = {}
    return registry


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


def _peak_rss_mb():
    """Peak resident set size of this process so far, in MB (Linux: ru_maxrss in KB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _rss_mb():
    """Resident set size of this process now, in MB (Linux /proc; None elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _summary_dataset(seller, n, refund_share, now):
    """A closed USD settlement of ``n`` sales and refunds (seeded), and that group."""
    from odoo.addons.account_amazon_refund.emulator import Dataset
    from odoo.addons.account_amazon_refund.emulator.catalog import PRODUCTS, sale_item_spec

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
    return dataset, group


def _bench_account(env, emu, name, seller, marketplaces, sync_from):
    """A seller account of the company linked to the emulator ``emu`` (which is not one of
    Amazon's hosts: the parameter that allows it is set)."""
    env["ir.config_parameter"].set_param(f"{MODULE}.allow_custom_hosts", "1")
    return env["amazon.sp.account"].create(
        {
            "name": name,
            "company_id": env.company.id,
            "region": "na",
            "seller_id": seller,
            "application_id": emu.application_id,
            "lwa_client_id": emu.client_id,
            "lwa_client_secret": emu.client_secret,
            "refresh_token": emu.refresh_token,
            "api_url": emu.url,
            "lwa_url": emu.lwa_url,
            "marketplace_ids": [(6, 0, marketplaces.ids)],
            "sync_from": sync_from.replace(tzinfo=None),
        }
    )


def _run_summary(registry, n, rate_scale, refund_share):
    from odoo import SUPERUSER_ID, api

    from odoo.addons.account_amazon_refund.emulator import SpApiEmulator
    from odoo.addons.account_amazon_refund.emulator.server import OPERATIONS

    now = datetime.now(UTC).replace(microsecond=0)
    seller = f"A1BENCHSUM{n}X{int(time.time())}"
    dataset, group = _summary_dataset(seller, n, refund_share, now)
    emu = SpApiEmulator(dataset=dataset, rate_scale=rate_scale).start()
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
                env, emu, f"Bench summary {n}", seller, us, group.start - timedelta(days=1)
            )
            cr.commit()
            scaled = {op: (r * rate_scale, b) for op, (r, b) in OPERATIONS.items()}
            importer = env["amazon.sp.service.import"]
            queries = cr.sql_log_count
            started = time.perf_counter()
            with patch.object(
                type(account), "_amazon_sp_client_options", lambda acc: {"rate_limits": scaled}
            ):
                run = importer._sync(account, trigger="manual")
            wall = time.perf_counter() - started
            queries = cr.sql_log_count - queries
            waited = run.rate_wait + run.backoff_wait
            events = env["amazon.sp.event"].search([("account_id", "=", account.id)])
            states = {}
            for event in events:
                states[event.state] = states.get(event.state, 0) + 1
            if len(events) != n or set(states) != {"posted"}:
                raise SystemExit(
                    f"bench: {n} events expected posted, got {states} "
                    f"(run {run.state}: {run.error})"
                )
            moves = events.move_ids
            sale_entries = moves.filtered(lambda move: move.move_type == "entry")
            settlement = env["amazon.sp.settlement"].search(
                [("account_id", "=", account.id), ("group_id", "=", group.group_id)]
            )

            # Memory of the import, before the floor adds its entry (the process also holds the
            # emulator and its n events)
            pipeline_peak, pipeline_rss = _peak_rss_mb(), _rss_mb()
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
            started = time.perf_counter()
            floor_move = env["account.move"].with_company(company).create(vals)
            floor_move.action_post()
            env.flush_all()
            floor = time.perf_counter() - started
            floor_queries = cr.sql_log_count - floor_queries
            result = {
                "n": n,
                "refunds": sum(1 for ev in dataset.events if ev.kind == "refund"),
                "per_event_ms": round((wall - waited) * 1000 / n, 3),
                "pipeline_s": round(wall - waited, 3),
                "queries_per_event": round(queries / n, 2),
                "floor_s": round(floor, 3),
                "floor_queries": floor_queries,
                "summary_ratio": round((wall - waited) / floor, 3),
                "sale_entries": len(sale_entries),
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("BENCH_DB", "aar_bench"))
    parser.add_argument("--sizes", default="200,2000")
    parser.add_argument("--rate-scale", type=float, default=40.0)
    parser.add_argument(
        "--summary-sizes", default="1000,10000", help="settlement sizes of summary_ratio ('': none)"
    )
    parser.add_argument("--refund-share", type=float, default=0.05)
    parser.add_argument("--out", default=str(ROOT / "test-results" / "bench.json"))
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size]
    summary_sizes = [int(size) for size in args.summary_sizes.split(",") if size]
    registry = _boot(args.db)
    results = []
    summaries = []
    for n in summary_sizes:
        print(f"summary N = {n} ...", flush=True)
        result = _run_summary(registry, n, args.rate_scale, args.refund_share)
        summaries.append(result)
        print(
            "  {pipeline_s} s staged and posted ({per_event_ms} ms/event, {refunds} refunds, "
            "{sale_entries} sale entries, settlement {settlement_state}) | floor {floor_s} s for "
            "one entry of {n} lines | summary_ratio {summary_ratio} | peak RSS "
            "{peak_rss_after_import_mb} MB after the import, {peak_rss_mb} MB after the "
            "floor".format(**result),
            flush=True,
        )
    for n in sizes:
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
    summary = {"rate_scale": args.rate_scale}
    if summaries:
        big = max(summaries, key=lambda r: r["n"])
        small = min(summaries, key=lambda r: r["n"])
        summary.update(
            {
                "summary_ratio": big["summary_ratio"],
                "summary_n": big["n"],
                "summary_per_event_ms": big["per_event_ms"],
                "peak_rss_mb": {str(r["n"]): r["peak_rss_mb"] for r in summaries},
                "peak_rss_after_import_mb": {
                    str(r["n"]): r["peak_rss_after_import_mb"] for r in summaries
                },
                "summary_memory_growth": round(big["peak_rss_mb"] / small["peak_rss_mb"], 3),
                "summary_runs": summaries,
            }
        )
    if not results:
        _write(args.out, summary)
        print(f"summary_ratio {summary.get('summary_ratio')} (target <= 3) → {args.out}")
        return 0
    largest = max(results, key=lambda r: r["n"])
    smallest = min(results, key=lambda r: r["n"])
    summary.update(
        {
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
    )
    _write(args.out, summary)
    if summaries:
        print(
            f"summary_ratio {summary['summary_ratio']} (target <= 3), peak RSS "
            f"{summary['peak_rss_mb']} MB"
        )
    print(
        f"ratio_vs_floor {summary['ratio_vs_floor']} (target <= 1.5), scaling_ratio "
        f"{summary['scaling_ratio']} (target <= 1.2), api_wait_ratio {summary['api_wait_ratio']} "
        f"(target <= 1.05), throttled {summary['throttled']} → {args.out}"
    )
    return 0


def _write(path, summary):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2)


if __name__ == "__main__":
    sys.exit(main())
