#!/usr/bin/env python3
"""Benchmark of the refund import: emulator → staging → credit notes and fee entries, posted.

Run with a Python that can ``import odoo`` (``make bench`` finds it)::

    tools/bench_import.py [--db aar_bench] [--sizes 200,2000] [--rate-scale 40]

For each N it generates N refund events (realistic US items) in a local SP-API emulator, imports
and posts them through ``amazon.sp.service.import._sync()`` (the real HTTP client, pages,
staging, planning, one create and one post per batch, commits per page), then measures the
floor: the same credit notes and fee entries created with one ``account.move.create`` and posted
with one ``action_post`` (their values are prepared outside the timing).

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
            # The emulator is not one of Amazon's hosts.
            env["ir.config_parameter"].set_param(f"{MODULE}.allow_custom_hosts", "1")
            account = env["amazon.sp.account"].create(
                {
                    "name": f"Bench {n}",
                    "company_id": company.id,
                    "region": "na",
                    "seller_id": seller,
                    "application_id": emu.application_id,
                    "lwa_client_id": emu.client_id,
                    "lwa_client_secret": emu.client_secret,
                    "refresh_token": emu.refresh_token,
                    "api_url": emu.url,
                    "lwa_url": emu.lwa_url,
                    "marketplace_ids": [(6, 0, env.ref(f"{MODULE}.amazon_sp_marketplace_us").ids)],
                    "sync_from": (now - timedelta(days=10)).replace(tzinfo=None),
                }
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("BENCH_DB", "aar_bench"))
    parser.add_argument("--sizes", default="200,2000")
    parser.add_argument("--rate-scale", type=float, default=40.0)
    parser.add_argument("--out", default=str(ROOT / "test-results" / "bench.json"))
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    registry = _boot(args.db)
    results = []
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
    largest = max(results, key=lambda r: r["n"])
    smallest = min(results, key=lambda r: r["n"])
    summary = {
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
        "rate_scale": args.rate_scale,
        "runs": results,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2)
    print(
        f"ratio_vs_floor {summary['ratio_vs_floor']} (target <= 1.5), scaling_ratio "
        f"{summary['scaling_ratio']} (target <= 1.2), api_wait_ratio {summary['api_wait_ratio']} "
        f"(target <= 1.05), throttled {summary['throttled']} → {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
