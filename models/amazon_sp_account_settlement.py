import logging
from datetime import UTC, timedelta

from odoo import fields, models

from ..spapi.exceptions import SpApiError

_logger = logging.getLogger(__name__)

# Amazon answers group ranges wider than 180 days with an empty list: read in shorter windows.
GROUP_WINDOW = timedelta(days=179)
# FinancialEventGroupStartedBefore must be more than 2 minutes before the request.
GROUP_LATEST_DELAY = timedelta(minutes=3)
GROUP_PAGE_SIZE = 100


class AmazonSpAccount(models.Model):
    _inherit = "amazon.sp.account"

    amazon_settlement_count = fields.Integer(compute="_compute_amazon_settlement_count")

    def _compute_amazon_settlement_count(self):
        counts = dict(
            self.env["amazon.sp.settlement"]._read_group(
                [("account_id", "in", self.ids)], ["account_id"], ["__count"]
            )
        )
        for account in self:
            account.amazon_settlement_count = counts.get(account, 0)

    def action_view_amazon_settlements(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_amazon_refund.amazon_sp_settlement_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        return action

    def action_amazon_sp_refresh_settlements(self):
        """Button: read the financial event groups, the events of the closed ones, and pay out
        those that match. Runs as an import run (trigger: button)."""
        for account in self:
            account._amazon_sp_sync(trigger="manual", settlements_only=True)
        return True

    def _amazon_sp_group_windows(self):
        """[start, end) windows of listFinancialEventGroups, from the account's start to now."""
        start = self._amazon_sp_start()
        end = (self._amazon_sp_now() - GROUP_LATEST_DELAY).replace(microsecond=0)
        while start < end:
            stop = min(start + GROUP_WINDOW, end)
            yield start, stop
            start = stop

    def _amazon_sp_sync_settlements(self, run, client):
        """Upsert the account's settlements; stage the events of the closed, unreconciled ones
        (by group: nothing twice, v0 events learn their group); process; check and pay out."""
        self.ensure_one()
        Settlement = self.env["amazon.sp.settlement"]
        settlements = Settlement.browse()
        failures = []
        for start, end in self._amazon_sp_group_windows():
            for page in client.list_financial_event_groups(
                started_after=start, started_before=end, max_results=GROUP_PAGE_SIZE
            ):
                raw_groups = (page.payload or {}).get("FinancialEventGroupList") or []
                found, bad = Settlement._amazon_sp_upsert(self, raw_groups)
                settlements |= found
                failures += bad
                run._add(settlements_read=len(raw_groups))
        for _raw, message in failures:
            _logger.warning(
                "Amazon financial event group of account %s not read: %s", self.id, message
            )
        if failures:
            run.write(
                {
                    "error": "\n".join(
                        [run.error or ""] + [message for _raw, message in failures]
                    ).strip()
                }
            )
        self._amazon_sp_commit()
        closed = settlements.filtered(
            lambda s: s.processing_status == "closed" and s.state != "reconciled"
        )
        for settlement in closed:
            self._amazon_sp_pull_group(run, client, settlement)
        closed._amazon_sp_link_events()
        self._amazon_sp_process_pending(run)
        settlements._amazon_sp_check()
        try:
            self._amazon_sp_fetch_settlement_reports(client)
        except SpApiError as exc:
            # e.g. a seller whose app lacks the reports role: the settlements stand without it
            _logger.warning("Amazon settlement reports of account %s not read: %s", self.id, exc)
            run.write({"error": "\n".join(p for p in (run.error, str(exc)) if p)})
        reconciled = settlements.filtered(lambda s: s.state == "reconciled")
        run._add(settlements_reconciled=len(reconciled))
        self._amazon_sp_commit()
        return settlements

    def _amazon_sp_pull_group(self, run, client, settlement):
        """Stage every event of one group through the usual staging."""
        if self.finances_api == "v0":
            pages = client.list_financial_events_by_group_id(settlement.group_id)
        else:
            pages = client.list_transactions(
                related_identifier_name="FINANCIAL_EVENT_GROUP_ID",
                related_identifier_value=settlement.group_id,
            )
        end = settlement.end_date or settlement.start_date
        group_end = end.replace(tzinfo=UTC) if end else None
        for page in pages:
            self._amazon_sp_stage_page(
                run, self.finances_api, page, group_id=settlement.group_id, group_end=group_end
            )
            self._amazon_sp_commit()
