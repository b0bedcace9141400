"""TEMPORARY (branch ref-import only): the settlement service is built on another branch.

The lead deletes this file (and its line in services/__init__.py) when merging
``services/settlement.py``, which defines the real ``amazon.sp.service.settlement``.
"""

from odoo import models


class AmazonSpServiceSettlement(models.AbstractModel):
    _name = "amazon.sp.service.settlement"
    _description = "Amazon Settlement Service (temporary shim)"

    def _sync_settlements(self, account, run, client):
        return account._amazon_sp_sync_settlements(run, client)
