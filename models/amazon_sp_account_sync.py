from odoo import api, fields, models

from ..domain import sources


class AmazonSpAccount(models.Model):
    _inherit = "amazon.sp.account"

    finances_api = fields.Selection(
        sources.selection(),
        string="Finances API",
        default=sources.DEFAULT_SOURCE,
        required=True,
        help="listTransactions (2024-06-19) is Amazon's current API; v0 is deprecated but keeps "
        "A-to-z claims and chargebacks apart.",
    )
    overlap_days = fields.Integer(
        default=2,
        help="Each pull re-reads this many days before the last one, because Amazon posts late.",
    )
    sync_cursor_ids = fields.One2many("amazon.sp.sync.cursor", "account_id", string="Cursors")
    import_run_ids = fields.One2many("amazon.sp.import.run", "account_id", string="Import Runs")
    amazon_event_count = fields.Integer(compute="_compute_amazon_event_count")
    amazon_event_review_count = fields.Integer(compute="_compute_amazon_event_count")

    def _compute_amazon_event_count(self):
        Event = self.env["amazon.sp.event"]
        counts = dict.fromkeys(self.ids, 0)
        review = dict.fromkeys(self.ids, 0)
        for account, count in Event._read_group(
            [("account_id", "in", self.ids)], ["account_id"], ["__count"]
        ):
            counts[account.id] = count
        for account, count in Event._read_group(
            [("account_id", "in", self.ids), ("state", "in", ("to_review", "error"))],
            ["account_id"],
            ["__count"],
        ):
            review[account.id] = count
        for account in self:
            account.amazon_event_count = counts.get(account.id, 0)
            account.amazon_event_review_count = review.get(account.id, 0)

    # ------------------------------------------------------------------------------------------
    # Actions and scheduled action (the work is done by amazon.sp.service.import)
    # ------------------------------------------------------------------------------------------

    def action_sync(self):
        """Pull and process every enabled marketplace of the accounts now (from ``sync_from``
        on the first run); returns an action showing the import runs."""
        importer = self.env["amazon.sp.service.import"]
        runs = self.env["amazon.sp.import.run"]
        for account in self:
            runs |= importer._sync(account, trigger="manual")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_import_run_action"
        )
        if len(runs) == 1:
            action.update(view_mode="form", views=[(False, "form")], res_id=runs.id)
        else:
            action["domain"] = [("id", "in", runs.ids)]
        return action

    def action_view_amazon_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_event_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        return action

    def action_view_import_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_import_run_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        return action

    @api.model
    def _cron_amazon_sp_sync(self):
        """Scheduled action: pull and process every linked account, in bounded batches; when
        one had more to do, the scheduled action is triggered again."""
        accounts = self.search(self._amazon_sp_syncable_domain())
        if self.env["amazon.sp.service.import"]._sync_scheduled(accounts):
            cron = self.env.ref(
                "account_amazon_refund.ir_cron_amazon_sp_sync", raise_if_not_found=False
            )
            if cron:
                cron._trigger()
        return True

    @api.model
    def _amazon_sp_syncable_domain(self):
        """The accounts the scheduled actions work on."""
        domain = [("refresh_token", "!=", False)]
        if "state" in self._fields:
            domain.append(("state", "=", "linked"))
        return domain

    def _amazon_sp_enabled_marketplaces(self):
        """The marketplaces whose events the account imports (a hook)."""
        self.ensure_one()
        return self.marketplace_ids
