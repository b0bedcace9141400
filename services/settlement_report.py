import base64
import hashlib
import logging
import tempfile
from datetime import timedelta
from decimal import Decimal

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..domain import settlement_report
from ..domain.model import SOURCE_REPORT
from ..domain.report_events import group_id_of, report_events
from ..domain.settlement_compare import compare
from .common import keep_report_file, to_decimal, to_naive_utc

_logger = logging.getLogger(__name__)

# Amazon keeps reports ~90 days.
REPORT_HISTORY = timedelta(days=90)
# getReportDocument allows a burst of 15, then one call a minute: at most this many per run.
DOCUMENTS_PER_RUN = 10
# A report matches a settlement whose period starts and ends within this of its own.
MATCH_TOLERANCE = timedelta(days=1)


def _figures(env, parsed):
    """A report's fields that its file's summary row gives (``parsed``: the file read)."""
    currency = (
        env["res.currency"]
        .with_context(active_test=False)
        .search([("name", "=", parsed.currency)], limit=1)
    )
    return {
        "amazon_settlement_id": parsed.settlement_id,
        "start_date": to_naive_utc(parsed.start),
        "end_date": to_naive_utc(parsed.end),
        "deposit_date": to_naive_utc(parsed.deposit_date),
        "currency_id": currency.id,
        "total_amount": float(parsed.total),
    }


class AmazonSpSettlementReportService(models.AbstractModel):
    """Amazon's V2 flat-file settlement reports: download the new ones, find their settlement
    and compare them with the settlement's staged events (a second witness of its totals)."""

    _name = "amazon.sp.service.settlement.report"
    _description = "Amazon SP-API: settlement reports"

    @api.model
    def _fetch(self, account, client=None):
        """Download the V2 flat-file settlement reports not downloaded yet (idempotent), match
        them with their settlements and compare. Returns the new reports.

        :raise SpApiError: when Amazon cannot be read (the caller decides what the user sees)
        """
        account.ensure_one()
        Import = self.env["amazon.sp.service.import"]
        client = client or account._get_spapi_client()
        Report = self.env["amazon.sp.settlement.report"]
        known = set(Report.search([("account_id", "=", account.id)]).mapped("report_document_id"))
        since = Import._now() - REPORT_HISTORY
        entries, parsed_reports = [], {}  # report id → its file read for its totals
        for page in client.get_reports(
            report_types=[settlement_report.REPORT_TYPE],
            processing_statuses=["DONE"],
            created_since=since,
            page_size=100,
        ):
            entries += (page.payload or {}).get("reports") or []
        created = Report
        # Only periods starting at or after the account's start (its settlements are listed
        # from it), newest first: the documents' rate limit makes each run take a few.
        start = Import._start(account)
        todo = [
            e
            for e in entries
            if e.get("reportDocumentId") not in known and not _before(e.get("dataStartTime"), start)
        ]
        todo.sort(key=lambda e: e.get("dataEndTime") or "", reverse=True)
        for entry in todo[:DOCUMENTS_PER_RUN]:
            document_id = entry.get("reportDocumentId")
            if not document_id or document_id in known:
                continue
            known.add(document_id)
            document = client.get_report_document(document_id)
            # Written to a file as it arrives, hashed and read from it (a large settlement's
            # file is held in memory once, for Odoo to keep it)
            with tempfile.TemporaryFile() as file:
                client.download_report_document(document, into=file)
                report, parsed = self._keep(account, entry, document_id, file)
            if parsed is not None:
                parsed_reports[report.id] = parsed
            created |= report
        pending = Report.search(
            [("account_id", "=", account.id), ("state", "in", ("unmatched", "differs"))]
        )
        self._match(created | pending)
        self._compare(created | pending, parsed_reports)
        return created

    @api.model
    def _keep(self, account, entry, document_id, file):
        """The report of a downloaded file (``file``: binary, at its start), the file kept as
        its attachment. ``(report, its file read for its totals, or None when unreadable)``."""
        vals = {
            "account_id": account.id,
            "report_id": entry.get("reportId"),
            "report_document_id": document_id,
            "sha256": hashlib.file_digest(file, "sha256").hexdigest(),
        }
        parsed = None
        try:
            # (its figures and whether it can be read: its rows are compared by the caller)
            parsed = settlement_report.parse_settlement_report(file, totals_only=True)
        except settlement_report.ReportError as exc:
            _logger.warning("Amazon settlement report %s unreadable: %s", document_id, exc)
            vals.update(state="error", message=str(exc))
        else:
            vals.update(_figures(self.env, parsed))
        report = self.env["amazon.sp.settlement.report"].create(vals)
        file.seek(0)
        name = f"settlement-{vals.get('amazon_settlement_id') or document_id}.txt"
        report.attachment_id = keep_report_file(report, name, file.read())
        return report, parsed

    @api.model
    def _match(self, reports):
        """Find the settlement of each report (same account and currency, same period ±1 day)."""
        Settlement = self.env["amazon.sp.settlement"]
        for report in reports.filtered(lambda r: not r.settlement_id and r.start_date):
            candidates = Settlement.search(
                [
                    ("account_id", "=", report.account_id.id),
                    ("currency_id", "=", report.currency_id.id),
                    ("start_date", ">=", report.start_date - MATCH_TOLERANCE),
                    ("start_date", "<=", report.start_date + MATCH_TOLERANCE),
                ]
            )
            if report.end_date:
                candidates = candidates.filtered(
                    lambda s, end=report.end_date: (
                        s.end_date and abs(s.end_date - end) <= MATCH_TOLERANCE
                    )
                )
            if len(candidates) == 1:
                report.settlement_id = candidates

    @api.model
    def _event_sums(self, settlement):
        """What the events of ``settlement`` say (those in error left out), summed by
        PostgreSQL without loading them: ``({amount type: sum of the lines}, the events'
        total, {event types})``, sums as Decimal."""
        self.env["amazon.sp.event"].flush_model(
            ["settlement_id", "state", "amount_total", "event_type"]
        )
        self.env["amazon.sp.event.line"].flush_model(["event_id", "amount_type", "amount"])
        cr = self.env.cr
        cr.execute(
            SQL(
                """SELECT line.amount_type, SUM(line.amount)
                     FROM amazon_sp_event_line line
                     JOIN amazon_sp_event event ON event.id = line.event_id
                    WHERE event.settlement_id = %s AND event.state != 'error'
                 GROUP BY line.amount_type""",
                settlement.id,
            )
        )
        # (Odoo's cursor reads numeric sums as floats: their shortest text is the sum)
        by_type = {amount_type: to_decimal(amount) for amount_type, amount in cr.fetchall()}
        cr.execute(
            SQL(
                """SELECT event_type, SUM(amount_total)
                     FROM amazon_sp_event
                    WHERE settlement_id = %s AND state != 'error'
                 GROUP BY event_type""",
                settlement.id,
            )
        )
        rows = cr.fetchall()
        total = sum((to_decimal(amount) for _kind, amount in rows), Decimal(0))
        return by_type, total, {kind for kind, _amount in rows}

    @api.model
    def _compare(self, reports, parsed_reports=None):
        """Report vs the settlement's staged events, per amount type and in total
        (``parsed_reports``: report id → its file already read for its totals)."""
        for report in reports:
            if report.state == "error" or report.booked:
                continue  # a settlement booked from its file is its own figures
            if not report.settlement_id:
                report.write(
                    {
                        "state": "unmatched",
                        "message": self.env._(
                            "No settlement of this account has this period and currency yet."
                        ),
                    }
                )
                continue
            # The rows summed as they are read, the events summed by PostgreSQL: memory that
            # does not grow with the settlement's size.
            parsed = (parsed_reports or {}).get(report.id)
            if parsed is None:
                parsed = settlement_report.parse_settlement_report(
                    base64.b64decode(report.attachment_id.datas), totals_only=True
                )
            by_type, events_total, kinds = self._event_sums(report.settlement_id)
            currency = report.currency_id
            by_type = {t: to_decimal(currency.round(float(a))) for t, a in by_type.items()}
            events_total = to_decimal(currency.round(float(events_total)))
            comparison = compare(parsed, by_type, events_total, kinds)
            lines = comparison.lines
            report.line_ids.unlink()
            report.write(
                {
                    "events_total": float(events_total),
                    "state": "differs" if comparison.differences else "match",
                    # what differs first, then what was not compared and why
                    "message": "\n".join(comparison.differences + comparison.notes) or False,
                    "line_ids": [
                        Command.create(
                            {
                                "amount_type": line.amount_type,
                                "report_amount": float(line.report),
                                "events_amount": float(line.events),
                                "difference": float(line.difference),
                            }
                        )
                        for line in lines
                    ],
                }
            )


class AmazonSpSettlementReportBooking(models.AbstractModel):
    """A settlement booked from its report file, when the Finances API's events are not
    available: the file (uploaded, or downloaded through the Reports API) is kept with its
    SHA-256, its settlement created (closed, Amazon's total and deposit date), its rows staged
    as events and booked by the import's pipeline, then the settlement checked and paid out."""

    _inherit = "amazon.sp.service.settlement.report"

    @api.model
    def _book_file(self, account, content, filename=None):
        """Book an uploaded settlement report file. Returns ``(settlement, message, created)``:
        ``created`` False when the file (or its settlement id) was booked before; the message
        says what was done, in plain words."""
        account.ensure_one()
        sha = hashlib.sha256(content).hexdigest()
        Report = self.env["amazon.sp.settlement.report"]
        known = Report.search([("account_id", "=", account.id), ("sha256", "=", sha)], limit=1)
        if known.booked:
            message = self.env._(
                "This file was imported already (settlement %(settlement)s): nothing was created.",
                settlement=known.settlement_id.display_name,
            )
            return known.settlement_id, message, False
        parsed = self._parse_for_booking(content)
        done = self._booked_settlement(account, parsed)
        if done:
            return done, self._already_booked_message(done), False
        report = known or self._keep_file(account, content, sha, parsed, filename)
        return self._book(report, parsed)

    @api.model
    def _book_report(self, report):
        """Book a settlement from a report already kept (downloaded or uploaded)."""
        report.ensure_one()
        if report.booked:
            message = self.env._(
                "This report was booked already (settlement %(settlement)s): nothing was created.",
                settlement=report.settlement_id.display_name,
            )
            return report.settlement_id, message, False
        parsed = self._parse_for_booking(base64.b64decode(report.attachment_id.datas or b""))
        done = self._booked_settlement(report.account_id, parsed)
        if done:
            return done, self._already_booked_message(done), False
        return self._book(report, parsed)

    @api.model
    def _parse_for_booking(self, content):
        try:
            return settlement_report.parse_settlement_report(content)
        except settlement_report.ReportError as exc:
            raise UserError(
                self.env._("This settlement report cannot be read: %(error)s", error=str(exc))
            ) from exc

    @api.model
    def _booked_settlement(self, account, parsed):
        """The settlement already made from this settlement id (by any file), if any."""
        return self.env["amazon.sp.settlement"].search(
            [
                ("account_id", "=", account.id),
                ("group_id", "=", group_id_of(parsed.settlement_id)),
            ],
            limit=1,
        )

    def _already_booked_message(self, settlement):
        return self.env._(
            "Settlement %(settlement)s was booked from a report file with the same settlement "
            "ID already: nothing was created.",
            settlement=settlement.display_name,
        )

    @api.model
    def _keep_file(self, account, content, sha, parsed, filename):
        """The report record that keeps an uploaded file (its attachment and SHA-256)."""
        report = self.env["amazon.sp.settlement.report"].create(
            {
                "account_id": account.id,
                "report_document_id": f"upload:{sha}",
                "sha256": sha,
                **_figures(self.env, parsed),
            }
        )
        name = filename or f"settlement-{parsed.settlement_id}.txt"
        report.attachment_id = keep_report_file(report, name, content)
        return report

    @api.model
    def _api_settlement(self, report):
        """The settlement of the report's period that the Finances API already booked (some of
        its events posted), or an empty recordset."""
        self._match(report.filtered(lambda r: not r.settlement_id))
        settlement = report.settlement_id
        if not settlement or settlement.from_report:
            return settlement.browse()
        posted = self.env["amazon.sp.event"].search_count(
            [
                ("settlement_id", "=", settlement.id),
                ("source_api", "!=", SOURCE_REPORT),
                ("state", "=", "posted"),
            ],
            limit=1,
        )
        return settlement if posted else settlement.browse()

    @api.model
    def _group_vals(self, parsed):
        """Amazon's figures of the settlement, as a FinancialEventGroup would give them: closed,
        its total, the deposit date as the (succeeded) transfer."""

        def when(moment):
            return moment.isoformat() if moment else None

        amount = {"CurrencyCode": parsed.currency, "CurrencyAmount": str(parsed.total)}
        return {
            "FinancialEventGroupId": group_id_of(parsed.settlement_id),
            "ProcessingStatus": "Closed",
            "FundTransferStatus": "Succeeded" if parsed.deposit_date else None,
            "FundTransferDate": when(parsed.deposit_date),
            "FinancialEventGroupStart": when(parsed.start),
            "FinancialEventGroupEnd": when(parsed.end),
            "OriginalTotal": amount,
            "SettlementReportId": parsed.settlement_id,
        }

    @api.model
    def _book(self, report, parsed):
        """Create the settlement of ``report``, stage its rows as events, book them, check and
        pay out the settlement. Refuses a settlement the Finances API booked already."""
        service = self._amazon_sp_flow()
        report = report.with_env(service.env)
        account = report.account_id
        api_settlement = service._api_settlement(report)
        if api_settlement:
            raise UserError(
                self.env._(
                    "Settlement %(settlement)s of this period was imported from Amazon's "
                    "Finances API and its events are booked: booking this file too would book "
                    "them twice. Nothing was created.",
                    settlement=api_settlement.display_name,
                )
            )
        Import = service.env["amazon.sp.service.import"]
        if not Import._lock(account):
            return Import._refuse(account, "manual")
        try:
            return service._book_locked(account, report, parsed)
        finally:
            Import._unlock(account)

    @api.model
    def _book_locked(self, account, report, parsed):
        Import = self.env["amazon.sp.service.import"]
        Service = self.env["amazon.sp.service.settlement"]
        account.company_id._amazon_sp_ensure_setup()
        resolver = Import._marketplace_resolver(account)
        by_code = {mp._amazon_sp_code(): mp for mp in account._amazon_sp_enabled_marketplaces()}
        default_id = resolver(None, parsed.currency)
        default = (by_code[default_id].name, default_id) if default_id in by_code else None
        try:
            events = report_events(parsed, resolver, default_marketplace=default)
        except settlement_report.ReportError as exc:
            raise UserError(
                self.env._("This settlement report cannot be booked: %(error)s", error=str(exc))
            ) from exc
        run = self.env["amazon.sp.import.run"].create(
            {"account_id": account.id, "trigger": "wizard", "finances_api": SOURCE_REPORT}
        )
        settlements, failures = Service._upsert(account, [self._group_vals(parsed)])
        if failures:
            raise UserError(
                self.env._(
                    "The settlement of this file cannot be made: %(error)s", error=failures[0][1]
                )
            )
        settlement = settlements
        settlement.from_report = True
        counts, _created = self.env["amazon.sp.service.staging"]._stage(
            account, run, list(events), [], by_code
        )
        run._add(**counts)
        Service._link_events(settlement)
        Import._process_pending(account, run)
        Service._check(settlement)
        report.write(
            {
                "settlement_id": settlement.id,
                "booked": True,
                "state": "match",
                "events_total": float(parsed.total),
                "message": self.env._(
                    "The settlement was booked from this file: %(count)s event(s).",
                    count=len(events),
                ),
            }
        )
        run.write({"state": "done", "date_end": fields.Datetime.now(), "settlements_read": 1})
        settlement.message_post(
            body=self.env._(
                "Booked from the settlement report file %(file)s (settlement ID %(id)s, "
                "SHA-256 %(sha)s): %(count)s event(s), total %(total)s.",
                file=report.attachment_id.name,
                id=parsed.settlement_id,
                sha=report.sha256,
                count=len(events),
                total=settlement.currency_id._amazon_sp_amount_text(parsed.total),
            )
        )
        message = self.env._(
            "Settlement %(settlement)s created from the file: %(count)s event(s); its state: "
            "%(state)s.",
            settlement=settlement.display_name,
            count=len(events),
            state=dict(settlement._fields["state"]._description_selection(self.env)).get(
                settlement.state
            ),
        )
        return settlement, message, True


def _before(text, moment):
    """Whether Amazon's ISO date ``text`` is before ``moment`` (aware); False if unreadable."""
    try:
        value = settlement_report.parse_date(text)
    except settlement_report.ReportError:
        return False
    return bool(value) and value < moment
