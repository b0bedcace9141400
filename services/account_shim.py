"""TEMPORARY (branch ref-import only): the account methods the settlement, report, daily check
and reconciliation code of this branch still call, delegating to ``amazon.sp.service.import``.

The other branch moves those callers to the services; the lead deletes this file (and its line
in services/__init__.py) when merging it.
"""

from odoo import models

from ..domain.sources import get_source


class AmazonSpAccount(models.Model):
    _inherit = "amazon.sp.account"

    def _amazon_sp_importer(self):
        return self.env["amazon.sp.service.import"]

    def _amazon_sp_client(self):
        return self._get_spapi_client()

    def _amazon_sp_now(self):
        return self._amazon_sp_importer()._now()

    def _amazon_sp_latest(self):
        return self._amazon_sp_importer()._latest()

    def _amazon_sp_start(self):
        return self._amazon_sp_importer()._start(self)

    def _amazon_sp_chunks(self, start, end):
        return self._amazon_sp_importer()._chunks(start, end)

    def _amazon_sp_commit(self):
        return self._amazon_sp_importer()._commit()

    def _amazon_sp_marketplace_resolver(self):
        return self._amazon_sp_importer()._marketplace_resolver(self)

    def _amazon_sp_stage_page(self, run, api_name, page, group_id=None, group_end=None):
        return self._amazon_sp_importer()._stage_page(
            self, run, get_source(api_name), page, group_id=group_id, group_end=group_end
        )

    def _amazon_sp_process_pending(self, run, max_batches=None):
        return self._amazon_sp_importer()._process_pending(self, run, max_batches=max_batches)

    def _amazon_sp_sync(self, **kwargs):
        return self._amazon_sp_importer()._sync(self, **kwargs)
