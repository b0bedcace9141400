"""The lines of one event being read, in one currency (pure Python, no Odoo)."""

from decimal import Decimal

from .model import NormalizationError, NormalizedLine
from .values import _get, parse_amount
from .vocabulary import amount_type, seller_amount


class _Lines:
    """Collects the lines of one event and checks that they share one currency."""

    def __init__(self, currency=None):
        self.currency = currency
        self.lines = []

    def money(self, obj, where):
        """``{CurrencyCode, CurrencyAmount}`` (either casing) → Decimal, checking the currency."""
        if not isinstance(obj, dict):
            raise NormalizationError(f"{where}: missing amount")
        code = _get(obj, "CurrencyCode", "currencyCode")
        if "CurrencyAmount" in obj or "currencyAmount" in obj:
            raw_amount = _get(obj, "CurrencyAmount", "currencyAmount")
        else:
            raise NormalizationError(f"{where}: missing CurrencyAmount")
        amount = parse_amount(raw_amount, f"{where} amount")
        if not isinstance(code, str) or not code.strip():
            raise NormalizationError(f"{where}: missing CurrencyCode")
        code = code.strip().upper()
        if self.currency is None:
            self.currency = code
        elif code != self.currency:
            raise NormalizationError(
                f"currency mismatch inside one event: {where} is in {code}, "
                f"the event is in {self.currency}"
            )
        return amount

    def add(self, category, type_name, money_obj, where, **extra):
        if not isinstance(type_name, str) or not type_name.strip():
            raise NormalizationError(f"{where}: missing type name")
        amount = seller_amount(self.money(money_obj, f"{where} {type_name}"))
        line = NormalizedLine(amount_type(category, type_name), amount, **extra)
        self.lines.append(line)
        return line

    def total(self):
        return sum((line.amount for line in self.lines), Decimal(0))


def _as_list(value, where):
    if value is None:
        return []
    if not isinstance(value, list):
        raise NormalizationError(f"{where} is not a list")
    for item in value:
        if not isinstance(item, dict):
            raise NormalizationError(f"{where} contains a non-object: {item!r}")
    return value


def _text(value):
    if value is None:
        return None
    value = str(value).strip()
    return value or None
