"""TEMPORARY (deleted when the "import" branch is merged, which brings services/importer.py).

``amazon.sp.service.import`` with the methods the settlement services call, delegating to the
account methods of models/amazon_sp_account_sync.py; and the one account method that file still
calls on the settlement side, delegating to ``amazon.sp.service.settlement``.
"""

from odoo import api, models


class AmazonSpImportService(models.AbstractModel):
    _name = "amazon.sp.service.import"
    _description = "Amazon SP-API: import (temporary bridge)"

    @api.model
    def _now(self):
        return self.env["amazon.sp.account"]._amazon_sp_now()

    @api.model
    def _latest(self):
        return self.env["amazon.sp.account"]._amazon_sp_latest()

    @api.model
    def _start(self, account):
        return account._amazon_sp_start()

    @api.model
    def _chunks(self, start, end):
        return self.env["amazon.sp.account"]._amazon_sp_chunks(start, end)

    @api.model
    def _commit(self):
        self.env["amazon.sp.account"]._amazon_sp_commit()

    @api.model
    def _stage_page(self, account, run, source, page, group_id=None, group_end=None):
        account._amazon_sp_stage_page(
            run, source.name, page, group_id=group_id, group_end=group_end
        )

    @api.model
    def _process_pending(self, account, run, max_batches=None):
        return account._amazon_sp_process_pending(run, max_batches=max_batches)

    @api.model
    def _marketplace_resolver(self, account):
        return account._amazon_sp_marketplace_resolver()

    @api.model
    def _sync(
        self,
        account,
        trigger="manual",
        date_from=None,
        date_to=None,
        order_id=None,
        max_pages=None,
        max_batches=None,
        settlements_only=False,
    ):
        return account._amazon_sp_sync(
            trigger=trigger,
            date_from=date_from,
            date_to=date_to,
            order_id=order_id,
            max_pages=max_pages,
            max_batches=max_batches,
            settlements_only=settlements_only,
        )


class AmazonSpAccount(models.Model):
    _inherit = "amazon.sp.account"

    def _amazon_sp_sync_settlements(self, run, client):
        return self.env["amazon.sp.service.settlement"]._sync_settlements(self, run, client)
