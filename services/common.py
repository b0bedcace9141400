"""Small conversions shared by the settlement side's models and services."""

import functools
from datetime import UTC, datetime
from decimal import Decimal

import pytz


def to_decimal(value):
    """An Odoo float (or None/False) as a Decimal, through its shortest text."""
    return Decimal(str(value or 0))


def to_naive_utc(moment):
    """An aware datetime as the naive UTC datetime Odoo stores; False for None."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment else False


def conversion_rate(env, currency, company, date):
    """Odoo's rate from ``currency`` to ``company``'s currency on ``date``, as a Decimal."""
    if currency == company.currency_id:
        return Decimal(1)
    return Decimal(
        str(env["res.currency"]._get_conversion_rate(currency, company.currency_id, company, date))
    )


def company_tz(env, company):
    """The time zone of ``company``'s days: its partner's; else its country's when the country has
    one time zone; else UTC. Never the user's: an event's accounting date must not depend on who
    imports it."""
    if company.partner_id.tz:
        return pytz.timezone(company.partner_id.tz)
    return _country_tz(company.country_id.code or "")


@functools.lru_cache(maxsize=256)
def _country_tz(code):
    """The time zone of a country's days when it has one (its zones keep the same hours all
    year), else UTC (read once per country: every page of an import asks)."""
    zones = [pytz.timezone(name) for name in pytz.country_timezones.get(code, [])]
    # Germany's zones keep the same hours all year; the United States' do not: UTC there.
    hours = {tuple(zone.utcoffset(datetime(2025, month, 1)) for month in (1, 7)) for zone in zones}
    return zones[0] if len(hours) == 1 else pytz.utc


def taxes_of_vals(env, vals_list):
    """The taxes (``account.tax``) the move values of ``vals_list`` use: the ``tax_ids`` of their
    lines and the tax of their tax lines (``tax_repartition_line_id``)."""
    tax_ids, repartition_ids = set(), set()
    for vals in vals_list:
        for key in ("invoice_line_ids", "line_ids"):
            for command in vals.get(key) or ():
                line = command[2] if isinstance(command, (list, tuple)) and command[0] == 0 else {}
                for tax_command in line.get("tax_ids") or ():
                    if isinstance(tax_command, int):
                        tax_ids.add(tax_command)
                    elif tax_command[0] == 6:
                        tax_ids.update(tax_command[2])
                    elif tax_command[0] == 4:
                        tax_ids.add(tax_command[1])
                if line.get("tax_repartition_line_id"):
                    repartition_ids.add(line["tax_repartition_line_id"])
    taxes = env["account.tax"].browse(sorted(tax_ids))
    repartitions = env["account.tax.repartition.line"].browse(sorted(repartition_ids))
    return taxes | repartitions.tax_id


def text_workbook(out):
    """An xlsxwriter workbook writing into ``out`` where text stays text: an accept note or an
    Amazon description that starts with "=" is never a formula in the auditor's spreadsheet
    (nor a number or a link). Returns ``(book, bold, money)``: the book and its two formats."""
    import xlsxwriter

    book = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    return book, book.add_format({"bold": True}), book.add_format({"num_format": "#,##0.00"})


# Context key: the attachments created with it are not indexed for search (large report files
# of Amazon, found through their report record, not by their words; models/ir_attachment.py).
NO_INDEX = "amazon_sp_no_index"


def keep_report_file(record, name, raw):
    """An attachment of ``record`` keeping one of Amazon's tab-separated report files (bytes)
    as it came, without Odoo's word index."""
    return (
        record.env["ir.attachment"]
        .with_context(**{NO_INDEX: True})
        .create(
            {
                "name": name,
                "raw": raw,
                "res_model": record._name,
                "res_id": record.id,
                "mimetype": "text/tab-separated-values",
            }
        )
    )
