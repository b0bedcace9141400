"""What the benchmarks share: booting Odoo on the bench database, memory readings, the seller
account linked to a local emulator, writing ``test-results/bench.json``."""

import contextlib
import json
import os
import resource
import tempfile
from pathlib import Path

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
    # OCA's queue_job, where present (the workers part installs it).
    oca = os.environ.get("AAR_OCA_ADDONS", "/opt/oca-addons")
    extra = [oca] if os.path.isfile(os.path.join(oca, "queue_job", "__manifest__.py")) else []
    return ",".join([*paths, links, *extra])


def _config_args(db):
    """Odoo's command-line options of a bench process on ``db`` (PostgreSQL from PG* variables)."""
    return [
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
        "--log-level",
        os.environ.get("BENCH_LOG_LEVEL", "warn"),
    ]


def _boot(db, update=True):
    """The registry of ``db``, the addon installed (or updated to the code measured; not when
    ``update`` is false: a process of one size, after the main one updated it)."""
    import odoo
    from odoo.tools import config

    args = _config_args(db) + ["--without-demo", "all"]
    config.parse_config(args)
    odoo.netsvc.init_logger()
    from odoo.modules.registry import Registry
    from odoo.service import db as db_service

    if not update:
        return Registry(db)
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


def _write(path, summary):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2)


# ----------------------------------------------------------------------------------------------
# The emulator in a child process, each size in its own process
# ----------------------------------------------------------------------------------------------


def _emulator_child(conn, build, build_args, rate_scale):
    """In a child process: build the dataset (``build``: "module:function" of dev/, called with
    ``build_args``, returns (dataset, extra figures)), serve it, send its address and
    credentials, then serve until the parent says stop."""
    import importlib
    import sys

    sys.path.insert(0, str(ROOT))  # the emulator package (stdlib only, no Odoo)
    sys.path.insert(0, str(ROOT / "dev"))
    from emulator import SpApiEmulator

    module, function = build.split(":")
    dataset, extra = getattr(importlib.import_module(module), function)(*build_args)
    emu = SpApiEmulator(dataset=dataset, rate_scale=rate_scale).start()
    info = {
        name: getattr(emu, name)
        for name in (
            "url",
            "lwa_url",
            "application_id",
            "client_id",
            "client_secret",
            "refresh_token",
        )
    }
    conn.send({**info, **extra})
    conn.recv()  # stop
    emu.stop()
    conn.close()


class ChildEmulator:
    """The emulator run in a child process (``multiprocessing`` spawn): the Odoo process whose
    memory is measured holds neither the dataset nor the server. Its attributes are those
    ``_bench_account`` reads, and the extra figures the builder returned."""

    def __init__(self, build, build_args, rate_scale):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_emulator_child, args=(child, build, build_args, rate_scale), daemon=True
        )
        self._process.start()
        self.info = self._conn.recv()
        for name, value in self.info.items():
            setattr(self, name, value)

    def stop(self):
        with contextlib.suppress(OSError):  # the child is gone already
            self._conn.send("stop")
        self._process.join(30)
        if self._process.is_alive():
            self._process.terminate()


def in_own_process(args, part, n):
    """Run one size of one part (``part``: "summary" or "refund") in a new Odoo process on the
    bench database (already up to date): the peak memory read there (``ru_maxrss``, a peak over
    the process's life) is that size's alone. Returns the figures the process wrote."""
    import subprocess
    import sys

    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    try:
        command = [
            sys.executable,
            str(ROOT / "dev" / "bench_import.py"),
            "--db",
            args.db,
            "--rate-scale",
            str(args.rate_scale),
            "--refund-share",
            str(args.refund_share),
            "--one",
            f"{part}:{n}",
            "--out",
            out,
        ]
        subprocess.run(command, check=True)
        with open(out, encoding="utf-8") as result:
            return json.load(result)
    finally:
        os.unlink(out)


def _sync_with_limits(importer, account, rate_limits, profile_lines=45):
    """``importer._sync(account)`` with the client held to ``rate_limits`` (the account's
    options hook), under cProfile when BENCH_PROFILE is set (a ``.prof`` path keeps the stats)."""
    from unittest.mock import patch

    with patch.object(
        type(account), "_amazon_sp_client_options", lambda acc: {"rate_limits": rate_limits}
    ):
        if not os.environ.get("BENCH_PROFILE"):
            return importer._sync(account, trigger="manual")
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        run = profiler.runcall(importer._sync, account, trigger="manual")
        if os.environ["BENCH_PROFILE"].endswith(".prof"):
            profiler.dump_stats(os.environ["BENCH_PROFILE"])
        lines = int(os.environ.get("BENCH_PROFILE_LINES", profile_lines))
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(lines)
        return run


def _all_posted(env, account, n, run, label="bench"):
    """The account's events, after checking that all ``n`` of them are posted."""
    events = env["amazon.sp.event"].search([("account_id", "=", account.id)])
    states = {}
    for event in events:
        states[event.state] = states.get(event.state, 0) + 1
    if len(events) != n or set(states) != {"posted"}:
        raise SystemExit(
            f"{label}: {n} events expected posted, got {states} (run {run.state}: {run.error})"
        )
    return events
