"""Small conversions shared by the settlement side's models and services."""

from datetime import UTC
from decimal import Decimal

import pytz


def to_decimal(value):
    """An Odoo float (or None/False) as a Decimal, through its shortest text."""
    return Decimal(str(value or 0))


def to_naive_utc(moment):
    """An aware datetime as the naive UTC datetime Odoo stores; False for None."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment else False


def company_tz(env, company):
    """The time zone of ``company``'s days (its partner's, else the user's, else UTC)."""
    return pytz.timezone(company.partner_id.tz or env.user.tz or "UTC")
