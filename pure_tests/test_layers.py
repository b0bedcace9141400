"""The layers of the addon, read from the ``import`` statements of every .py file:

- ``spapi/`` and ``domain/`` import no Odoo and nothing of the addon outside themselves
  (so ``domain/`` imports nothing from ``spapi/``);
- ``services/`` never import ``models/`` by module path (they reach models through ``env``);
- no .py file outside ``emulator/`` is longer than MAX_LINES.
"""

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDON = "account_amazon_refund"
MAX_LINES = 600
# Folders that are not the addon's code.
SKIPPED_DIRS = {"__pycache__", "node_modules", "test-results"}
# Files longer than MAX_LINES when this test was written, with their length then: they may not
# grow, and an entry goes once its file is split (the test says so).
KNOWN_LONG = {
    "pure_tests/test_domain_plan.py": 685,
    "pure_tests/test_emulator_real_shapes.py": 645,
    "pure_tests/test_emulator_server.py": 792,
}


# The addon's packages (the pure suite also imports them as top-level packages).
PACKAGES = {
    name
    for name in os.listdir(ROOT)
    if os.path.isfile(os.path.join(ROOT, name, "__init__.py")) and not name.startswith(".")
}


def python_files():
    """Paths (relative to the repository root, with ``/``) of the addon's .py files."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        for name in files:
            if name.endswith(".py"):
                path = os.path.relpath(os.path.join(folder, name), ROOT)
                found.append(path.replace(os.sep, "/"))
    return sorted(found)


def module_of(path):
    """``domain/model.py`` → ``["domain", "model"]``; a package's ``__init__.py`` → the package."""
    parts = path[: -len(".py")].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return parts


def imports_of(path, source):
    """The modules ``source`` (the text of ``path``) imports, each as ("addon", parts) for the
    addon's own modules (``parts`` from the repository root; ``[]`` is the addon itself) or
    ("external", dotted name) for the others. Imports inside functions count too."""
    package = module_of(path)
    if not path.endswith("__init__.py"):
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = package[: max(len(package) - (node.level - 1), 0)]
            target = base + (node.module.split(".") if node.module else [])
            if node.module is None:
                # ``from . import x``: each name is a module of that package
                found += [("addon", target + [alias.name]) for alias in node.names]
            else:
                found.append(("addon", target))
            continue
        elif isinstance(node, ast.ImportFrom):
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[:3] == ["odoo", "addons", ADDON]:
                found.append(("addon", parts[3:]))
            elif parts[0] in PACKAGES:
                # the pure suite imports spapi, domain and emulator as top-level packages
                found.append(("addon", parts))
            else:
                found.append(("external", name))
    return found


def layer_violations(path, source):
    """What ``path`` imports against the layer rules, as readable strings."""
    layer = module_of(path)[0] if "/" in path else ""
    problems = []
    for kind, target in imports_of(path, source):
        if kind == "external":
            is_odoo = target == "odoo" or target.startswith("odoo.")
            if layer in ("spapi", "domain") and is_odoo:
                problems.append(f"{path} imports {target}")
            continue
        dotted = ".".join(target) or "the addon's root"
        if layer in ("spapi", "domain") and target[:1] != [layer]:
            problems.append(f"{path} imports {dotted}, outside {layer}/")
        if layer == "services" and target[:1] == ["models"]:
            problems.append(f"{path} imports {dotted}: services reach models through env")
    return problems


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return handle.read()


def test_the_reader_resolves_imports():
    # Relative imports, from a module and from a package, and the addon's absolute name.
    assert ("addon", ["domain", "model"]) in imports_of(
        "domain/sources.py", read("domain/sources.py")
    )
    assert ("addon", ["domain", "sources"]) in imports_of(
        "services/import_pull.py", read("services/import_pull.py")
    )
    assert ("addon", ["services", "importer"]) in imports_of(
        "services/__init__.py", read("services/__init__.py")
    )
    found = imports_of(
        "tests/test_x.py", "from odoo.addons.account_amazon_refund.domain import sources\n"
    )
    assert found == [("addon", ["domain"])]
    found = imports_of("models/x.py", "import odoo\nfrom odoo import models\n")
    assert found == [("external", "odoo"), ("external", "odoo")]


@pytest.mark.parametrize(
    "path, source, expected",
    [
        ("domain/x.py", "from odoo import fields\n", "domain/x.py imports odoo"),
        ("spapi/x.py", "def f():\n    import odoo.tools\n", "spapi/x.py imports odoo.tools"),
        ("domain/x.py", "from ..spapi import const\n", "domain/x.py imports spapi,"),
        ("spapi/x.py", "from ..domain.model import X\n", "spapi/x.py imports domain.model"),
        ("domain/x.py", "from .. import models\n", "domain/x.py imports models"),
        ("domain/x.py", "import spapi.client\n", "domain/x.py imports spapi.client"),
        (
            "domain/x.py",
            "from odoo.addons.account_amazon_refund.services import importer\n",
            "domain/x.py imports services",
        ),
        (
            "services/x.py",
            "from ..models.amazon_sp_event import EVENT_TYPE_SELECTION\n",
            "services/x.py imports models.amazon_sp_event",
        ),
    ],
)
def test_a_broken_rule_is_named(path, source, expected):
    problems = layer_violations(path, source)
    assert len(problems) == 1
    assert problems[0].startswith(expected)


def test_allowed_imports_pass():
    assert layer_violations("domain/x.py", "from .model import X\nimport json\n") == []
    assert layer_violations("spapi/x.py", "import requests\nfrom . import const\n") == []
    assert (
        layer_violations("services/x.py", "from ..domain import plan\nfrom odoo import api\n") == []
    )
    assert layer_violations("models/x.py", "from ..services.common import to_decimal\n") == []


def test_layers():
    files = python_files()
    assert "services/importer.py" in files
    problems = []
    for path in files:
        problems += layer_violations(path, read(path))
    assert problems == []


def test_no_file_over_the_limit():
    too_long = {}
    for path in python_files():
        if path.startswith("emulator/"):
            continue
        lines = len(read(path).splitlines())
        if lines > KNOWN_LONG.get(path, MAX_LINES):
            too_long[path] = lines
    assert too_long == {}, f"over {MAX_LINES} lines (or longer than when listed in KNOWN_LONG)"


def test_known_long_files_are_still_long():
    for path in KNOWN_LONG:
        assert os.path.exists(os.path.join(ROOT, path)), f"{path} is gone: drop it from KNOWN_LONG"
        lines = len(read(path).splitlines())
        assert lines > MAX_LINES, f"{path} has {lines} lines now: drop it from KNOWN_LONG"
