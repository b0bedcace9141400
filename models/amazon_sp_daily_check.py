import logging
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytz

from odoo import api, fields, models
from odoo.tools import format_amount

from ..domain import normalize_transactions, normalize_v0_events, reconcile
from ..spapi.exceptions import SpApiError

_logger = logging.getLogger(__name__)

# Days the scheduled check looks back (yesterday and the days before it not checked yet).
DAILY_CHECK_DAYS = 3


def _dec(value):
    return Decimal(str(value or 0))


class AmazonSpDailyCheck(models.Model):
    """One marketplace and day of one seller account: Amazon's refund and adjustment totals
    beside what Odoo posted for them."""

    _name = "amazon.sp.daily.check"
    _description = "Amazon Daily Consistency Check"
    _inherit = ["mail.thread", "mail.activity.mixin"]  # noqa: RUF012
    _order = "day desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.sp.account", required=True, ondelete="cascade", index=True, string="Seller Account"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    marketplace_id = fields.Many2one("amazon.sp.marketplace", required=True, index=True)
    day = fields.Date(required=True, index=True)
    currency_id = fields.Many2one("res.currency", required=True)
    amazon_refund_total = fields.Monetary(currency_field="currency_id", string="Amazon Refunds")
    amazon_adjustment_total = fields.Monetary(
        currency_field="currency_id", string="Amazon Adjustments"
    )
    odoo_refund_total = fields.Monetary(currency_field="currency_id", string="Odoo Refunds")
    odoo_adjustment_total = fields.Monetary(currency_field="currency_id", string="Odoo Adjustments")
    refund_difference = fields.Monetary(currency_field="currency_id")
    adjustment_difference = fields.Monetary(currency_field="currency_id")
    amazon_count = fields.Integer(string="Amazon Events")
    odoo_count = fields.Integer(string="Odoo Posted Events")
    state = fields.Selection(
        [("ok", "Consistent"), ("differs", "Differs")], required=True, default="ok", tracking=True
    )
    checked_at = fields.Datetime()
    differences = fields.Text(help="Each difference named, as the reconciliation review does.")
    summary = fields.Text()

    _sql_constraints = [  # noqa: RUF012
        (
            "day_unique",
            "unique(account_id, marketplace_id, day)",
            "One check per seller account, marketplace and day.",
        ),
    ]

    @api.depends("account_id", "marketplace_id", "day")
    def _compute_name(self):
        for check in self:
            check.name = " ".join(
                p for p in (check.account_id.name, check.marketplace_id.code, str(check.day)) if p
            )

    def action_open_review(self):
        """Open a reconciliation review of this marketplace and day."""
        self.ensure_one()
        review = self.env["amazon.sp.reconciliation"].create(
            {
                "account_id": self.account_id.id,
                "scope": "range",
                "marketplace_id": self.marketplace_id.id,
                "date_from": self.day,
                "date_to": self.day,
            }
        )
        review.action_refresh()
        return {
            "type": "ir.actions.act_window",
            "res_model": review._name,
            "res_id": review.id,
            "view_mode": "form",
        }

    def action_recheck(self):
        for check in self:
            check.account_id._amazon_sp_daily_check(check.day, check.marketplace_id)
        return True


class AmazonSpAccount(models.Model):
    _inherit = "amazon.sp.account"

    accountant_id = fields.Many2one(
        "res.users",
        default=lambda self: self.env.user,
        help="Receives the activities of the daily consistency check.",
    )

    # ------------------------------------------------------------------------------------------
    # Amazon's events, read again (nothing staged)
    # ------------------------------------------------------------------------------------------

    def _amazon_sp_fetch_events(
        self, client, start=None, end=None, marketplace=None, group_id=None
    ):
        """Amazon's normalized events of a window (× marketplace) or of one group, read without
        staging anything. Malformed ones are logged and left out (the import names them)."""
        self.ensure_one()
        pages = []
        v0 = self.finances_api == "v0"
        if group_id:
            pages.append(
                client.list_financial_events_by_group_id(group_id)
                if v0
                else client.list_transactions(
                    related_identifier_name="FINANCIAL_EVENT_GROUP_ID",
                    related_identifier_value=group_id,
                )
            )
        else:
            end = min(end, self._amazon_sp_latest())
            for win_start, win_end in self._amazon_sp_chunks(start, end):
                pages.append(
                    client.list_financial_events(posted_after=win_start, posted_before=win_end)
                    if v0
                    else client.list_transactions(
                        posted_after=win_start,
                        posted_before=win_end,
                        marketplace_id=marketplace._amazon_sp_code() if marketplace else None,
                    )
                )
        resolver = self._amazon_sp_marketplace_resolver() if v0 else None
        events, failed = [], 0
        for iterator in pages:
            for page in iterator:
                payload = page.payload or {}
                if v0:
                    found, failures = normalize_v0_events(
                        payload.get("FinancialEvents") or {},
                        marketplace_resolver=resolver,
                        group_id=group_id,
                    )
                else:
                    found, failures = normalize_transactions(payload.get("transactions") or [])
                events += found
                failed += len(failures)
        if failed:
            _logger.warning("Amazon check of account %s: %s malformed event(s)", self.id, failed)
        if marketplace and not group_id:
            code = marketplace._amazon_sp_code()
            events = [ev for ev in events if ev.marketplace_id == code]
        return events

    # ------------------------------------------------------------------------------------------
    # Daily check
    # ------------------------------------------------------------------------------------------

    @api.model
    def _cron_amazon_sp_daily_check(self, days=DAILY_CHECK_DAYS):
        """Scheduled action: check the last ``days`` days (up to yesterday) of every linked
        account and enabled marketplace."""
        for account in self.search(self._amazon_sp_syncable_domain()):
            account = account.with_company(account.company_id)
            tz = account._amazon_sp_tz()
            today = datetime.now(tz).date()
            for marketplace in account._amazon_sp_enabled_marketplaces():
                for back in range(days, 0, -1):
                    try:
                        account._amazon_sp_daily_check(today - timedelta(days=back), marketplace)
                    except SpApiError as exc:
                        _logger.warning(
                            "Amazon daily check of account %s failed: %s", account.id, exc
                        )
                        break
        return True

    def _amazon_sp_tz(self):
        return pytz.timezone(self.company_id.partner_id.tz or self.env.user.tz or "UTC")

    def _amazon_sp_day_bounds(self, date_from, date_to):
        """[start, end) in UTC (aware) of the company's days ``date_from`` .. ``date_to``."""
        tz = self._amazon_sp_tz()
        start = tz.localize(datetime.combine(date_from, time.min))
        end = tz.localize(datetime.combine(date_to + timedelta(days=1), time.min))
        return start.astimezone(UTC), end.astimezone(UTC)

    def _amazon_sp_daily_check(self, day, marketplace, client=None):
        """Compare Amazon's refund and adjustment totals of ``day`` (the company's day) on
        ``marketplace`` with Odoo's posted documents; an activity when they differ."""
        self.ensure_one()
        start, end = self._amazon_sp_day_bounds(day, day)
        client = client or self._amazon_sp_client()
        amazon_events = self._amazon_sp_fetch_events(
            client, start=start, end=end, marketplace=marketplace
        )
        amazon_refunds, amazon_adjustments = reconcile.split_totals(amazon_events)
        currency = marketplace.currency_id
        # The day's staged events, and each difference named, as the reconciliation review does
        review = self.env["amazon.sp.reconciliation"].new(
            {
                "account_id": self.id,
                "scope": "range",
                "marketplace_id": marketplace.id,
                "date_from": day,
                "date_to": day,
            }
        )
        staged = review._staged_in_scope()
        posted = {k: v for k, v in staged._amazon_sp_posted_clearing().items() if v is not None}
        comparison = reconcile.compare(
            amazon_events,
            review._odoo_events(amazon_events),
            Decimal(1).scaleb(-currency.decimal_places),
        )
        odoo_refunds, odoo_adjustments = reconcile.split_totals(
            staged, amount_of=lambda ev: posted.get(ev.id)
        )
        named = [f"{d.label}: {d.message}" for d in comparison.differences]
        vals = {
            "currency_id": currency.id,
            "amazon_refund_total": float(amazon_refunds),
            "amazon_adjustment_total": float(amazon_adjustments),
            "odoo_refund_total": float(odoo_refunds),
            "odoo_adjustment_total": float(odoo_adjustments),
            "refund_difference": float(amazon_refunds - odoo_refunds),
            "adjustment_difference": float(amazon_adjustments - odoo_adjustments),
            "amazon_count": len(amazon_events),
            "odoo_count": len(posted),
            "checked_at": fields.Datetime.now(),
            "differences": "\n".join(named) or False,
        }
        differs = not (
            currency.is_zero(vals["refund_difference"])
            and currency.is_zero(vals["adjustment_difference"])
        )
        vals["state"] = "differs" if differs else "ok"
        Check = self.env["amazon.sp.daily.check"]
        check = Check.search(
            [
                ("account_id", "=", self.id),
                ("marketplace_id", "=", marketplace.id),
                ("day", "=", day),
            ]
        )
        if check:
            check.write(vals)
        else:
            check = Check.create(
                {**vals, "account_id": self.id, "marketplace_id": marketplace.id, "day": day}
            )
        check.summary = self._amazon_sp_check_summary(check)
        todo = self.env.ref("mail.mail_activity_data_todo")
        open_activities = check.activity_ids.filtered(lambda a: a.activity_type_id == todo)
        if differs:
            if open_activities:
                open_activities.write({"note": check.summary})
            else:
                check.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._(
                        "Amazon %(marketplace)s %(day)s differs from Odoo",
                        marketplace=marketplace.code,
                        day=day,
                    ),
                    note=check.summary,
                    user_id=(self.accountant_id or self.env.user).id,
                )
        elif open_activities:
            open_activities.action_feedback(
                feedback=self.env._("The figures agree now: %(summary)s", summary=check.summary)
            )
        return check

    def _amazon_sp_check_summary(self, check):
        cur = check.currency_id

        def amount(value):
            return format_amount(self.env, value, cur)

        summary = self.env._(
            "Refunds: Amazon %(a_ref)s, Odoo %(o_ref)s, difference %(d_ref)s. "
            "Adjustments: Amazon %(a_adj)s, Odoo %(o_adj)s, difference %(d_adj)s. "
            "Events: Amazon %(a_n)s, posted in Odoo %(o_n)s.",
            a_ref=amount(check.amazon_refund_total),
            o_ref=amount(check.odoo_refund_total),
            d_ref=amount(check.refund_difference),
            a_adj=amount(check.amazon_adjustment_total),
            o_adj=amount(check.odoo_adjustment_total),
            d_adj=amount(check.adjustment_difference),
            a_n=check.amazon_count,
            o_n=check.odoo_count,
        )
        if check.differences:
            summary += "\n" + check.differences
        return summary
