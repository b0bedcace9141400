"""Pure suite: no Odoo. The addon's pure packages (spapi, domain, emulator) are imported
as top-level packages from the repository root."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
