"""Pure suite: no Odoo. The addon's pure packages (spapi, domain, emulator) are imported
as top-level packages from the repository root."""

import os
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# The repository root is the Odoo addon: its __init__.py imports Odoo's models and controllers.
# pytest sets up the root directory as a package (named after the checkout's folder) before the
# tests; give it an empty stand-in so that the pure suite never imports the Odoo layer.
# (A folder whose name is no Python identifier is imported as the module "__init__".)
_root_package = os.path.basename(ROOT)
if not _root_package.isidentifier():
    _root_package = "__init__"
if _root_package not in sys.modules:
    _stub = types.ModuleType(_root_package)
    _stub.__file__ = os.path.join(ROOT, "__init__.py")
    _stub.__path__ = [ROOT]
    sys.modules[_root_package] = _stub
