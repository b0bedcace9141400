# Shared helpers for dev/test and dev/demo (sourced, not run).
# shellcheck shell=bash

AAR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AAR_MODULE=account_amazon_refund

# Prints the Python interpreter that can `import odoo`, or nothing.
# Looks, in order, at $ODOO_PYTHON, python3, and the interpreter of an `odoo` command on PATH
# (how Odoo's Debian package and `pip install` make it available).
find_odoo_python() {
    local py cmd
    if [ -n "${ODOO_PYTHON:-}" ]; then
        if "$ODOO_PYTHON" -c 'import odoo' >/dev/null 2>&1; then
            echo "$ODOO_PYTHON"
            return 0
        fi
        echo "ODOO_PYTHON=$ODOO_PYTHON cannot import odoo" >&2
        return 1
    fi
    if python3 -c 'import odoo' >/dev/null 2>&1; then
        command -v python3
        return 0
    fi
    cmd=$(command -v odoo 2>/dev/null || command -v odoo-bin 2>/dev/null || true)
    if [ -n "$cmd" ]; then
        local shebang
        shebang=$(head -n 1 "$cmd")
        shebang=${shebang#\#!}
        # shellcheck disable=SC2086
        set -- $shebang
        if [ "$(basename "${1:-}")" = env ]; then py=${2:-}; else py=${1:-}; fi
        if [ -n "$py" ] && "$py" -c 'import odoo' >/dev/null 2>&1; then
            command -v "$py"
            return 0
        fi
    fi
    return 1
}

# The major version of the Odoo that $1 imports.
odoo_series() {
    "$1" -c 'import odoo.release as r; print(r.serie)' 2>/dev/null
}

# Odoo's addons path for interpreter $1 (community addons), without ours.
odoo_addons_path() {
    "$1" - <<'PY'
import os
import odoo
import odoo.addons

paths = [os.path.abspath(p) for p in odoo.addons.__path__]
root = os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__)))
extra = os.path.join(root, "addons")
if os.path.isdir(os.path.join(extra, "account")) and extra not in paths:
    paths.append(extra)
print(",".join(p for p in paths if os.path.isdir(p)))
PY
}

# A directory holding this addon under its technical name (the checkout may be named anything).
module_link_dir() {
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/aar-addons.XXXXXX")
    ln -s "$AAR_ROOT" "$dir/$AAR_MODULE"
    echo "$dir"
}

# Database connection, from the usual PostgreSQL variables; Odoo refuses the postgres role.
db_args() {
    echo "--db_host=${PGHOST:-localhost} --db_port=${PGPORT:-5432} --db_user=${PGUSER:-odoo} --db_password=${PGPASSWORD:-odoo}"
}

# Checks that PostgreSQL answers with the configured role; prints why not.
check_postgres() {
    "$1" - "${PGHOST:-localhost}" "${PGPORT:-5432}" "${PGUSER:-odoo}" "${PGPASSWORD:-odoo}" <<'PY'
import sys
import psycopg2
host, port, user, password = sys.argv[1:5]
try:
    psycopg2.connect(host=host, port=port, user=user, password=password, dbname="postgres").close()
except psycopg2.Error as exc:
    sys.exit(f"PostgreSQL is not reachable as {user}@{host}:{port}: {str(exc).strip()}")
PY
}

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# A Python with the pure suite's requirements: python3 when it has them, else a local venv.
pure_python() {
    if python3 -c 'import pytest, requests, jose, freezegun, hypothesis' >/dev/null 2>&1; then
        command -v python3
        return 0
    fi
    local venv="$AAR_ROOT/.venv"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv" >&2 || return 1
    fi
    if ! "$venv/bin/python" -c 'import pytest, requests, jose, freezegun, hypothesis' >/dev/null 2>&1; then
        "$venv/bin/pip" install -q -r "$AAR_ROOT/requirements-test.txt" > "$venv/pip.log" 2>&1 \
            || { cat "$venv/pip.log" >&2; return 1; }
    fi
    echo "$venv/bin/python"
}

# Drops database $2 and its filestore, through interpreter $1.
drop_db() {
    "$1" - "$2" "${PGHOST:-localhost}" "${PGPORT:-5432}" "${PGUSER:-odoo}" "${PGPASSWORD:-odoo}" <<'PY'
import shutil
import sys

import psycopg2

db, host, port, user, password = sys.argv[1:6]
conn = psycopg2.connect(host=host, port=port, user=user, password=password, dbname="postgres")
conn.autocommit = True
with conn.cursor() as cr:
    cr.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [db])
    cr.execute(f'DROP DATABASE IF EXISTS "{db}"')
conn.close()
try:
    from odoo.tools import config

    shutil.rmtree(config.filestore(db), ignore_errors=True)
except ImportError:
    pass
PY
}

# OCA addons used when present (queue_job, a soft dependency): $AAR_OCA_ADDONS, default
# /opt/oca-addons. Prints the directory when it holds queue_job, else nothing.
oca_addons_dir() {
    local dir="${AAR_OCA_ADDONS:-/opt/oca-addons}"
    if [ -f "$dir/queue_job/__manifest__.py" ]; then
        echo "$dir"
    fi
}
