#!/usr/bin/env python3
"""``workers_speedup`` (issue 14): 8 seller accounts × 1,000 refund events imported through
queue_job's jobs by 2 worker processes, against 1 worker process, in the same run.

Each account has its own local SP-API emulator (Amazon's rate limits × ``--rate-scale``, the
clients using the same scaled limits). The imports are queued as a user's *Import now* queues
them (``amazon.sp.service.import._queue``: fetch, post and finish jobs), then N OS processes
run the jobs the way queue_job's runner has them run (``RunJobController._runjob``: retried when
postponed, one job per transaction). Timed from the workers' start (booted and waiting) to the
last job. Prints and returns ``workers_speedup`` (time with 1 worker / time with 2), the
duplicates (events booked more than once, 0) and the 429 answers waited out (0).

Needs OCA's queue_job in ``$AAR_OCA_ADDONS`` (default ``/opt/oca-addons``); installed in the bench
database when missing. Run alone with ``dev/bench_workers.py [--db aar_bench]``, or as a part of
``make bench``.
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_lib import MODULE, ROOT, _bench_account, _boot, _config_args, _write

ACCOUNTS = 8
EVENTS = 1000
CHANNEL = "root.amazon_sp"
OPEN_STATES = ("wait_dependencies", "pending", "enqueued", "started")


def _oca_dir():
    path = os.environ.get("AAR_OCA_ADDONS", "/opt/oca-addons")
    return path if os.path.isfile(os.path.join(path, "queue_job", "__manifest__.py")) else None


def _with_queue_job(registry):
    """The registry, with queue_job installed (its addons directory added)."""
    from odoo.modules.registry import Registry
    from odoo.tools import config

    import odoo.addons

    oca = _oca_dir()
    if oca not in odoo.addons.__path__:  # (bench_lib adds it when it boots)
        odoo.addons.__path__.append(oca)
        config["addons_path"] = f"{config['addons_path']},{oca}"
    if "queue.job" in registry:
        return registry
    print("bench workers: installing queue_job in the bench database...", flush=True)
    config["init"] = {"queue_job": 1}
    registry = Registry.new(registry.db_name, update_module=True)
    config["init"] = {}
    return registry


def _scaled_limits(rate_scale):
    from odoo.addons.account_amazon_refund.emulator.server import OPERATIONS

    return {op: (rate * rate_scale, burst) for op, (rate, burst) in OPERATIONS.items()}


def _round(registry, workers, rate_scale, stamp, accounts_n=ACCOUNTS, events_n=EVENTS):
    """Queue ``accounts_n`` imports of ``events_n`` events each, run them on ``workers``
    processes; their figures."""
    from odoo import SUPERUSER_ID, api

    from odoo.addons.account_amazon_refund.emulator import Dataset, SpApiEmulator

    now = datetime.now(UTC).replace(microsecond=0)
    span = 8 * 24 * 3600
    emulators = []
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            # Jobs left open by an earlier, interrupted bench would be run with these.
            cr.execute(
                "UPDATE queue_job SET state = 'cancelled' WHERE channel = %s AND state IN %s",
                [CHANNEL, OPEN_STATES],
            )
            env.company._amazon_sp_ensure_setup()
            env["ir.config_parameter"].set_param(f"{MODULE}.use_queue_job", "True")
            us = env.ref(f"{MODULE}.amazon_sp_marketplace_us")
            accounts = env["amazon.sp.account"]
            for index in range(accounts_n):
                seller = f"A1BENCHW{workers}X{index}X{stamp}"
                dataset = Dataset(
                    seller_id=seller,
                    marketplaces=("US",),
                    start=now - timedelta(days=9),
                    end=now - timedelta(hours=1),
                    seed=index,
                )
                for number in range(events_n):
                    posted = now - timedelta(hours=1, seconds=span * number // events_n)
                    dataset.add_refund("US", posted=posted)
                emu = SpApiEmulator(dataset=dataset, rate_scale=rate_scale).start()
                emulators.append(emu)
                accounts |= _bench_account(
                    env,
                    emu,
                    f"Bench workers {workers}/{index}",
                    seller,
                    us,
                    now - timedelta(days=10),
                )
            runs = env["amazon.sp.service.import"]._queue(accounts)
            cr.commit()
            run_ids, account_ids = runs.ids, accounts.ids
        go = ROOT / "test-results" / f"bench-workers-go-{stamp}-{workers}"
        go.parent.mkdir(parents=True, exist_ok=True)
        go.unlink(missing_ok=True)
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    "--db",
                    registry.db_name,
                    "--go",
                    str(go),
                    "--rate-scale",
                    str(rate_scale),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(workers)
        ]
        for proc in procs:  # each says when it is booted
            proc.stdout.readline()
        started = time.perf_counter()
        go.touch()
        for proc in procs:
            proc.wait(timeout=3600)
        wall = time.perf_counter() - started
        go.unlink(missing_ok=True)
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            runs = env["amazon.sp.import.run"].browse(run_ids)
            cr.execute(
                """SELECT count(*) FROM (
                       SELECT rel.event_id FROM account_move_amazon_sp_event_rel rel
                       JOIN account_move move ON move.id = rel.move_id
                       JOIN amazon_sp_event ev ON ev.id = rel.event_id
                       WHERE ev.account_id = ANY(%s) AND move.move_type = 'out_refund'
                       GROUP BY rel.event_id HAVING count(*) > 1) dup""",
                [account_ids],
            )
            duplicates = cr.fetchone()[0]
            cr.execute(
                "SELECT count(*) FROM amazon_sp_event "
                "WHERE account_id = ANY(%s) AND state = 'posted'",
                [account_ids],
            )
            posted = cr.fetchone()[0]
            states = sorted(set(runs.mapped("state")))
            return {
                "wall_s": round(wall, 2),
                "posted": posted,
                "duplicates": duplicates,
                "throttled": sum(runs.mapped("throttled")),
                "run_states": states,
            }
    finally:
        for emu in emulators:
            emu.stop()


def collect(registry, args):
    """The workers part of ``make bench``: figures for bench.json."""
    if not _oca_dir():
        print("bench workers: skipped, queue_job not found (set AAR_OCA_ADDONS)", flush=True)
        return {}
    registry = _with_queue_job(registry)
    rate_scale = getattr(args, "rate_scale", 40.0)
    stamp = int(time.time())
    accounts_n = getattr(args, "workers_accounts", ACCOUNTS)
    events_n = getattr(args, "workers_events", EVENTS)
    one = _round(registry, 1, rate_scale, stamp, accounts_n, events_n)
    two = _round(registry, 2, rate_scale, stamp, accounts_n, events_n)
    expected = accounts_n * events_n
    for label, figures in (("1 worker", one), ("2 workers", two)):
        print(f"bench workers: {label}: {figures}", flush=True)
        if figures["posted"] != expected or figures["run_states"] != ["done"]:
            raise SystemExit(f"bench workers: {label}: {figures['posted']} of {expected} posted")
    return {
        "workers_accounts": accounts_n,
        "workers_events_per_account": events_n,
        "workers_wall_s_1": one["wall_s"],
        "workers_wall_s_2": two["wall_s"],
        "workers_speedup": round(one["wall_s"] / two["wall_s"], 3),
        "workers_duplicates": one["duplicates"] + two["duplicates"],
        "workers_throttled": one["throttled"] + two["throttled"],
    }


# ------------------------------------------------------------------------------------------
# A worker process: runs the pending jobs of the channel until none is open.
# ------------------------------------------------------------------------------------------


def _worker(db, go, rate_scale):
    import odoo
    from odoo.tools import config

    config.parse_config(_config_args(db))
    odoo.netsvc.init_logger()
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    from odoo.addons.queue_job.controllers.main import RunJobController

    registry = Registry(db)
    account_class = registry["amazon.sp.account"]
    limits = _scaled_limits(rate_scale)
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.02)
    with patch.object(
        account_class, "_amazon_sp_client_options", lambda acc: {"rate_limits": limits}
    ):
        while True:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                cr.execute(
                    """UPDATE queue_job SET state = 'enqueued', date_enqueued = now()
                       WHERE id = (
                           SELECT id FROM queue_job
                           WHERE state = 'pending' AND channel = %s
                             AND (eta IS NULL OR eta <= (now() AT TIME ZONE 'UTC'))
                           ORDER BY priority, id FOR UPDATE SKIP LOCKED LIMIT 1)
                       RETURNING uuid""",
                    [CHANNEL],
                )
                row = cr.fetchone()
                cr.commit()  # pylint: disable=invalid-commit
                if not row:
                    cr.execute(
                        "SELECT count(*) FROM queue_job WHERE channel = %s AND state IN %s",
                        [CHANNEL, OPEN_STATES],
                    )
                    if not cr.fetchone()[0]:
                        return 0
                    time.sleep(0.05)
                    continue
                job = RunJobController._acquire_job(env, row[0])
                if job:
                    try:
                        RunJobController._runjob(env, job)
                    except Exception as exc:  # failed: queue_job recorded it on the job
                        print(f"job {row[0]} failed: {exc}", file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("BENCH_DB", "aar_bench"))
    parser.add_argument("--rate-scale", type=float, default=40.0)
    parser.add_argument("--out", default=str(ROOT / "test-results" / "bench-workers.json"))
    parser.add_argument("--workers-accounts", type=int, default=ACCOUNTS)
    parser.add_argument("--workers-events", type=int, default=EVENTS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--go", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args.db, args.go, args.rate_scale)
    summary = collect(_boot(args.db), args)
    _write(args.out, summary)
    print(f"workers_speedup {summary.get('workers_speedup')} (target >= 1.5) → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
