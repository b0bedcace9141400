import hashlib
import json
import logging
import time
from collections import defaultdict
from datetime import UTC, timedelta

from odoo import api, fields, models

from ..domain import returns as domain
from ..spapi import exceptions
from .common import keep_report_file, to_decimal, to_naive_utc

_logger = logging.getLogger(__name__)

# Amazon generates a daily FBA report at most once every four hours: a shorter new range
# waits for a later run.
MIN_WINDOW = timedelta(hours=4)
# Rows Amazon adds late (a return received after the report of its day) are read again; their
# keys keep them from being created twice.
OVERLAP = timedelta(days=1)
# The end of a range stays a few minutes before now.
LATEST_DELAY = timedelta(minutes=5)
# Ranges asked per account, marketplace and report type in one run (catching up).
WINDOWS_PER_RUN = 6
# A reimbursement without an order is paid by an adjustment posted within this of its approval.
REIMBURSEMENT_TOLERANCE = timedelta(days=2)
# Returns and reimbursements not linked yet are looked at again for this long.
RELINK_HISTORY = timedelta(days=180)
ORDER_EVENT_TYPES = ("refund", "guarantee_claim", "chargeback")
WAITING = ("IN_QUEUE", "IN_PROGRESS")


class OutOfTime(Exception):
    """The run's time is up before the next call: the cursor keeps its place for the next run."""


def _aware(value):
    return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value


def _raw(row):
    text = json.dumps(row.raw, sort_keys=True, ensure_ascii=False)
    return text, hashlib.sha256(text.encode()).hexdigest()


class AmazonSpReturnsService(models.AbstractModel):
    """Amazon's returns and FBA reimbursements reports: ask for them (one range at a time, a
    cursor per account, marketplace and report type), keep each file with its SHA-256, create
    one record per new row, and link the rows to the events of their order and SKU."""

    _name = "amazon.sp.service.returns"
    _description = "Amazon SP-API: returns and reimbursements reports"

    @api.model
    def _import(self, account, client=None, report_types=None, raise_errors=True, deadline=None):
        """Pull the reports of ``account`` (every enabled marketplace and report type).

        Returns ``{"returns", "reimbursements", "files", "problems", "more"}``: the records
        created, the problems met (a report refused, rows unreadable), in plain words, and
        whether the run stopped at ``deadline`` (a ``time.monotonic()`` value) before a wait of
        the client (Amazon's rate limit, a backoff after a 429) that would have ended past it
        (each cursor keeps its place).

        :raise SpApiError: when ``raise_errors`` and no report could be read at all
        """
        account.ensure_one()
        account = account._amazon_sp_flow()
        env = account.env
        client = client or account._get_spapi_client()
        result = {
            "returns": env["amazon.sp.return"],
            "reimbursements": env["amazon.sp.reimbursement"],
            "files": env["amazon.sp.return.report"],
            "problems": [],
            "more": False,
        }
        sleep = client.sleep
        if deadline is not None:
            # No wait of the client (a rate limit, a backoff after a 429) goes past the deadline.
            client.sleep = lambda seconds: self._sleep_until(sleep, seconds, deadline)
        try:
            failures, pulls = self._pull_all(account, client, report_types, result, deadline)
        finally:
            client.sleep = sleep
        if raise_errors and failures and len(failures) == pulls:
            raise failures[0]
        since = to_naive_utc(self._now() - RELINK_HISTORY)
        self._link_returns(
            env["amazon.sp.return"].search(
                [
                    ("account_id", "=", account.id),
                    ("refunded", "=", False),
                    ("return_date", ">=", since),
                ]
            )
        )
        self._link_reimbursements(
            env["amazon.sp.reimbursement"].search(
                [
                    ("account_id", "=", account.id),
                    ("linked", "=", False),
                    ("approval_date", ">=", since),
                ]
            )
        )
        return result

    @api.model
    def _pull_all(self, account, client, report_types, result, deadline):
        """Pull each enabled marketplace's reports; returns (errors met, pulls tried)."""
        env = account.env
        failures, pulls = [], 0
        labels = dict(env["amazon.sp.return.report"]._fields["report_type"].selection)
        for marketplace in account._amazon_sp_enabled_marketplaces():
            for report_type in report_types or domain.REPORT_TYPES:
                if result["more"]:
                    return failures, pulls
                pulls += 1
                cursor = self._cursor(account, marketplace, report_type)
                try:
                    self._pull(account, cursor, client, result, deadline)
                except OutOfTime:
                    result["more"] = True
                except exceptions.SpApiError as error:
                    _logger.warning(
                        "Amazon %s of account %s not read: %s", report_type, account.id, error
                    )
                    message = account._amazon_sp_error_message(error)
                    cursor.message = message
                    result["problems"].append(
                        env._(
                            "%(report)s (%(marketplace)s): %(message)s",
                            report=labels[report_type],
                            marketplace=marketplace.display_name,
                            message=message,
                        )
                    )
                    failures.append(error)
        return failures, pulls

    @api.model
    def _sleep_until(self, sleep, seconds, deadline):
        """``sleep(seconds)``, or OutOfTime when it would end past ``deadline``."""
        if time.monotonic() + seconds >= deadline:
            raise OutOfTime()
        sleep(seconds)

    @api.model
    def _now(self):
        return self.env["amazon.sp.service.import"]._now()

    @api.model
    def _cursor(self, account, marketplace, report_type):
        Cursor = account.env["amazon.sp.return.cursor"]
        domain_ = [
            ("account_id", "=", account.id),
            ("marketplace_id", "=", marketplace.id),
            ("report_type", "=", report_type),
        ]
        return Cursor.search(domain_, limit=1) or Cursor.create(
            {"account_id": account.id, "marketplace_id": marketplace.id, "report_type": report_type}
        )

    @api.model
    def _in_time(self, client, deadline, operation):
        """Raise OutOfTime when ``operation``'s rate limit would make the call wait past
        ``deadline`` (None: no deadline)."""
        if deadline is not None:
            wait = client.bucket(operation).wait_time()
            if time.monotonic() + wait >= deadline:
                raise OutOfTime()

    @api.model
    def _pull(self, account, cursor, client, result, deadline=None):
        """Ask for the next ranges of one cursor's report and import those Amazon has ready."""
        latest = (self._now() - LATEST_DELAY).replace(microsecond=0)
        first = self.env["amazon.sp.service.import"]._start(account)
        for _window in range(WINDOWS_PER_RUN):
            if not cursor.report_id:
                done = _aware(cursor.done_until)
                if done and latest - done < MIN_WINDOW:
                    return
                start = max(done - OVERLAP, first) if done else first
                end = min(start + domain.MAX_RANGE, latest)
                if end <= start:
                    return
                self._in_time(client, deadline, "createReport")
                report_id = client.create_report(
                    cursor.report_type, [cursor.marketplace_id.marketplace_id], start, end
                )
                cursor.write(
                    {
                        "report_id": report_id,
                        "window_start": to_naive_utc(start),
                        "window_end": to_naive_utc(end),
                        "message": False,
                    }
                )
            self._in_time(client, deadline, "getReport")
            report = client.get_report(cursor.report_id)
            status = report.get("processingStatus")
            if status in WAITING:
                return
            if status == "DONE" and report.get("reportDocumentId"):
                self._in_time(client, deadline, "getReportDocument")
                document = client.get_report_document(report["reportDocumentId"])
                content = client.download_report_document(document)
                self._store(account, cursor, report, content, result)
            elif status != "CANCELLED":  # CANCELLED: Amazon has no data for the range
                cursor.write(
                    {
                        "report_id": False,
                        "message": self.env._(
                            "Amazon could not prepare the report (%(status)s); it is asked "
                            "again on the next run.",
                            status=status,
                        ),
                    }
                )
                return
            cursor.write(
                {
                    "done_until": cursor.window_end,
                    "report_id": False,
                    "window_start": False,
                    "window_end": False,
                    "message": False,
                }
            )

    @api.model
    def _store(self, account, cursor, report, content, result):
        """Keep one downloaded file and create the records of its new rows."""
        env = account.env
        Report = env["amazon.sp.return.report"]
        sha256 = hashlib.sha256(content).hexdigest()
        if Report.search_count(
            [
                ("account_id", "=", account.id),
                ("report_type", "=", cursor.report_type),
                ("sha256", "=", sha256),
            ],
            limit=1,
        ):
            return Report
        file = Report.create(
            {
                "account_id": account.id,
                "marketplace_id": cursor.marketplace_id.id,
                "report_type": cursor.report_type,
                "report_id": report.get("reportId"),
                "report_document_id": report.get("reportDocumentId"),
                "data_start": cursor.window_start,
                "data_end": cursor.window_end,
                "sha256": sha256,
            }
        )
        file.attachment_id = keep_report_file(
            file, f"{cursor.report_type}-{report.get('reportId') or sha256[:12]}.txt", content
        )
        result["files"] |= file
        try:
            parsed = domain.parse_report(cursor.report_type, content)
        except domain.ReportError as exc:
            file.write({"state": "error", "message": str(exc)})
            result["problems"].append(
                env._("%(file)s could not be read: %(error)s", file=file.name, error=exc)
            )
            return file
        if cursor.report_type == domain.REIMBURSEMENTS:
            created = self._create_reimbursements(account, cursor.marketplace_id, parsed, file)
            result["reimbursements"] |= created
        else:
            created = self._create_returns(account, cursor.marketplace_id, parsed, file)
            result["returns"] |= created
        errors = [
            env._("Line %(line)s: %(message)s", line=error.line, message=error.message)
            for error in parsed.errors
        ]
        file.write(
            {
                "row_count": len(parsed.rows) + len(parsed.errors),
                "created_count": len(created),
                "error_count": len(errors),
                "state": "partial" if errors else "done",
                "message": "\n".join(errors) or False,
            }
        )
        if errors:
            result["problems"].append(
                env._(
                    "%(file)s: %(count)s rows could not be read (%(lines)s).",
                    file=file.name,
                    count=len(errors),
                    lines=", ".join(str(error.line) for error in parsed.errors),
                )
            )
        return file

    @api.model
    def _new_rows(self, Model, account, rows):
        known = set(
            Model.search(
                [("account_id", "=", account.id), ("key", "in", [row.key for row in rows])]
            ).mapped("key")
        )
        return [row for row in rows if row.key not in known]

    @api.model
    def _create_returns(self, account, marketplace, parsed, file):
        Return = account.env["amazon.sp.return"]
        vals_list = []
        for row in self._new_rows(Return, account, parsed.rows):
            raw_json, raw_sha256 = _raw(row)
            vals_list.append(
                {
                    "account_id": account.id,
                    "marketplace_id": marketplace.id,
                    "source": row.source,
                    "amazon_order_id": row.order_id,
                    "sku": row.sku,
                    "asin": row.asin or False,
                    "fnsku": row.fnsku or False,
                    "product_name": row.product_name or False,
                    "quantity": row.quantity,
                    "return_date": to_naive_utc(row.return_date),
                    "fulfillment_center": row.fulfillment_center or False,
                    "disposition": row.disposition or False,
                    "reason_code": row.reason_code or False,
                    "reason": "atoz" if row.atoz else domain.reason_of(row.reason_code),
                    "atoz_claim": row.atoz,
                    "status": row.status or False,
                    "license_plate": row.license_plate or False,
                    "rma_id": row.rma_id or False,
                    "customer_comments": row.customer_comments or False,
                    "report_file_id": file.id,
                    "raw_json": raw_json,
                    "raw_sha256": raw_sha256,
                    "key": row.key,
                }
            )
        created = Return.create(vals_list)
        self._link_returns(created)
        return created

    @api.model
    def _create_reimbursements(self, account, marketplace, parsed, file):
        env = account.env
        Reimbursement = env["amazon.sp.reimbursement"]
        rows = self._new_rows(Reimbursement, account, parsed.rows)
        currencies = {
            c.name: c
            for c in env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "in", list({row.currency for row in rows}))])
        }
        vals_list = []
        for row in rows:
            raw_json, raw_sha256 = _raw(row)
            currency = currencies.get(row.currency)
            vals_list.append(
                {
                    "account_id": account.id,
                    "marketplace_id": marketplace.id,
                    "reimbursement_id": row.reimbursement_id,
                    "case_id": row.case_id or False,
                    "approval_date": to_naive_utc(row.approval_date),
                    "amazon_order_id": row.order_id or False,
                    "reason": row.reason or False,
                    "sku": row.sku or False,
                    "fnsku": row.fnsku or False,
                    "asin": row.asin or False,
                    "product_name": row.product_name or False,
                    "condition": row.condition or False,
                    "currency_id": currency.id if currency else False,
                    "currency_code": row.currency,
                    "amount_per_unit": float(row.amount_per_unit or 0),
                    "amount_total": float(row.amount_total),
                    "quantity_cash": row.quantity_cash,
                    "quantity_inventory": row.quantity_inventory,
                    "quantity_total": row.quantity_total,
                    "original_reimbursement_id": row.original_reimbursement_id or False,
                    "original_reimbursement_type": row.original_reimbursement_type or False,
                    "report_file_id": file.id,
                    "raw_json": raw_json,
                    "raw_sha256": raw_sha256,
                    "key": row.key,
                }
            )
        created = Reimbursement.create(vals_list)
        self._link_reimbursements(created)
        return created

    @api.model
    def _link_returns(self, returns):
        """Link each return to the refunds, claims and chargebacks of its order carrying its
        SKU (an event without any SKU: by its order alone); a claim or chargeback is the
        return's reason."""
        if not returns:
            return
        returns = returns._amazon_sp_flow()
        events = returns.env["amazon.sp.event"].search(
            [
                ("account_id", "in", returns.account_id.ids),
                ("amazon_order_id", "in", list(set(returns.mapped("amazon_order_id")))),
                ("event_type", "in", ORDER_EVENT_TYPES),
            ]
        )
        skus = {event.id: set(event.line_ids.mapped("sku")) - {False, ""} for event in events}
        by_order = defaultdict(lambda: events.browse())
        for event in events:
            by_order[event.account_id.id, event.amazon_order_id] |= event
        updates = defaultdict(lambda: returns.browse())
        for ret in returns:
            matched = by_order[ret.account_id.id, ret.amazon_order_id].filtered(
                lambda ev, sku=ret.sku: sku in skus[ev.id] or not skus[ev.id]
            )
            if not matched or matched == ret.event_ids:
                continue
            kinds = set(matched.mapped("event_type"))
            reason = ret.reason
            if "guarantee_claim" in kinds:
                reason = "atoz"
            elif "chargeback" in kinds:
                reason = "chargeback"
            updates[tuple(sorted(matched.ids)), reason] |= ret
        for (event_ids, reason), group in updates.items():
            group.write({"event_ids": [fields.Command.set(list(event_ids))], "reason": reason})

    @api.model
    def _link_reimbursements(self, rows):
        """Link each reimbursement to its order's events, or (no order) to the reimbursement
        adjustment of its SKU and amount posted around its approval date."""
        if not rows:
            return
        rows = rows._amazon_sp_flow()
        Event = rows.env["amazon.sp.event"]
        accounts = rows.account_id.ids
        with_order = rows.filtered("amazon_order_id")
        by_order = defaultdict(Event.browse)
        if with_order:
            for event in Event.search(
                [
                    ("account_id", "in", accounts),
                    ("amazon_order_id", "in", list(set(with_order.mapped("amazon_order_id")))),
                ]
            ):
                by_order[event.account_id.id, event.amazon_order_id] |= event
        without = rows - with_order
        adjustments = Event.browse()
        dates = [d for d in without.mapped("approval_date") if d]
        if dates:
            adjustments = Event.search(
                [
                    ("account_id", "in", accounts),
                    ("event_type", "=", "adjustment"),
                    ("posted_date", ">=", min(dates) - REIMBURSEMENT_TOLERANCE),
                    ("posted_date", "<=", max(dates) + REIMBURSEMENT_TOLERANCE),
                ]
            )
        for row in rows:
            if row.amazon_order_id:
                matched = by_order[row.account_id.id, row.amazon_order_id]
            else:
                matched = adjustments.filtered(lambda ev, row=row: self._pays(ev, row))
            if matched and matched != row.event_ids:
                row.event_ids = [fields.Command.set(matched.ids)]

    @api.model
    def _pays(self, event, row):
        """Whether adjustment ``event`` pays reimbursement ``row``: same account, marketplace
        and currency, posted around its approval, its SKU's lines adding up to its total."""
        if (
            event.account_id != row.account_id
            or (row.marketplace_id and event.marketplace_id != row.marketplace_id)
            or event.currency_id.name != row.currency_code
            or not row.approval_date
            or abs(event.posted_date - row.approval_date) > REIMBURSEMENT_TOLERANCE
        ):
            return False
        lines = event.line_ids.filtered(lambda ln: ln.sku == row.sku)
        currency = event.currency_id
        total = to_decimal(currency.round(sum(lines.mapped("amount"))))
        return bool(lines) and total == to_decimal(currency.round(row.amount_total))
