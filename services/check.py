import logging
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from odoo import api, fields, models
from odoo.tools import format_amount

from ..domain import reconcile
from ..domain.sources import get_source
from ..spapi.exceptions import SpApiError
from .common import company_tz

_logger = logging.getLogger(__name__)

# Days the scheduled check looks back (yesterday and the days before it not checked yet).
DAILY_CHECK_DAYS = 3


class AmazonSpCheckService(models.AbstractModel):
    """Amazon's events read again (nothing staged) and the daily consistency check: per account,
    marketplace and day, Amazon's refund and adjustment totals beside what Odoo posted, with an
    activity for the account's accountant when they differ."""

    _name = "amazon.sp.service.check"
    _description = "Amazon SP-API: daily consistency check"

    # ------------------------------------------------------------------------------------------
    # Amazon's events, read again (nothing staged)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _fetch_events(self, account, client, start=None, end=None, marketplace=None, group_id=None):
        """Amazon's normalized events of a window (× marketplace) or of one group, read through
        the account's Finances source without staging anything. Malformed ones are logged and
        left out (the import names them)."""
        account.ensure_one()
        Import = self.env["amazon.sp.service.import"]
        source = get_source(account.finances_api)
        code = marketplace._amazon_sp_code() if marketplace else None
        if group_id:
            pages = [source.group_pages(client, group_id)]
        else:
            end = min(end, Import._latest())
            pages = [
                source.window_pages(client, win_start, win_end, marketplace_code=code)
                for win_start, win_end in Import._chunks(start, end)
            ]
        resolver = (
            Import._marketplace_resolver(account) if source.needs_marketplace_resolver else None
        )
        events, failed = [], 0
        for iterator in pages:
            for page in iterator:
                found, failures = source.normalize(
                    page.payload, marketplace_resolver=resolver, group_id=group_id
                )
                events += found
                failed += len(failures)
        if failed:
            _logger.warning("Amazon check of account %s: %s malformed event(s)", account.id, failed)
        if code and not group_id:
            events = [ev for ev in events if ev.marketplace_id == code]
        return events

    # ------------------------------------------------------------------------------------------
    # Days
    # ------------------------------------------------------------------------------------------

    @api.model
    def _day_bounds(self, account, date_from, date_to):
        """[start, end) in UTC (aware) of the company's days ``date_from`` .. ``date_to``."""
        tz = company_tz(self.env, account.company_id)
        start = tz.localize(datetime.combine(date_from, time.min))
        end = tz.localize(datetime.combine(date_to + timedelta(days=1), time.min))
        return start.astimezone(UTC), end.astimezone(UTC)

    # ------------------------------------------------------------------------------------------
    # Daily check
    # ------------------------------------------------------------------------------------------

    @api.model
    def _check_accounts(self, days=None):
        """Check the last ``days`` days (up to yesterday) of every linked account and enabled
        marketplace. An account Amazon fails to answer (unreachable, refused, failing) is logged
        and left at its first failure, until the next run: its other marketplaces and days are
        not tried, so one unreachable account cannot hold the scheduled action."""
        days = DAILY_CHECK_DAYS if days is None else days
        Account = self.env["amazon.sp.account"]
        now = self.env["amazon.sp.service.import"]._now()
        for account in Account.search(Account._amazon_sp_syncable_domain()):
            if not get_source(account.finances_api).pulls:
                continue  # its events come from settlement report files: nothing to read again
            account = account.with_company(account.company_id)
            service = self.with_company(account.company_id)
            today = now.astimezone(company_tz(service.env, account.company_id)).date()
            try:
                client = account._get_spapi_client()
                for marketplace in account._amazon_sp_enabled_marketplaces():
                    for back in range(days, 0, -1):
                        service._daily_check(
                            account, today - timedelta(days=back), marketplace, client=client
                        )
            except SpApiError as exc:
                _logger.warning(
                    "Amazon daily check of account %s stopped at its first failure: %s",
                    account.id,
                    exc,
                )

    @api.model
    def _daily_check(self, account, day, marketplace, client=None):
        """Compare Amazon's refund and adjustment totals of ``day`` (the company's day) on
        ``marketplace`` with Odoo's posted documents; an activity when they differ. Returns the
        ``amazon.sp.daily.check`` record."""
        account.ensure_one()
        start, end = self._day_bounds(account, day, day)
        client = client or account._get_spapi_client()
        amazon_events = self._fetch_events(
            account, client, start=start, end=end, marketplace=marketplace
        )
        amazon_refunds, amazon_adjustments = reconcile.split_totals(amazon_events)
        currency = marketplace.currency_id
        # The day's staged events, and each difference named, as the reconciliation review does
        review = self.env["amazon.sp.reconciliation"].new(
            {
                "account_id": account.id,
                "scope": "range",
                "marketplace_id": marketplace.id,
                "date_from": day,
                "date_to": day,
            }
        )
        Review = self.env["amazon.sp.service.review"]
        staged = Review._staged_in_scope(review)
        posted = {k: v for k, v in staged._amazon_sp_posted_clearing().items() if v is not None}
        comparison = reconcile.compare(
            amazon_events,
            Review._odoo_events(review, amazon_events),
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
                ("account_id", "=", account.id),
                ("marketplace_id", "=", marketplace.id),
                ("day", "=", day),
            ]
        )
        if check:
            check.write(vals)
        else:
            check = Check.create(
                {**vals, "account_id": account.id, "marketplace_id": marketplace.id, "day": day}
            )
        check.summary = self._summary(check)
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
                    user_id=(account.accountant_id or self.env.user).id,
                )
        elif open_activities:
            open_activities.action_feedback(
                feedback=self.env._("The figures agree now: %(summary)s", summary=check.summary)
            )
        return check

    @api.model
    def _summary(self, check):
        """The check's figures in one plain text (the activity's note)."""
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
