"""Which sale tax reproduces Amazon's tax on a line (pure Python, no Odoo).

Amazon sends a line's tax as an amount, not as a rate. A credit-note line gets an Odoo tax only
when that tax, computed the way Odoo computes it (half-up to the currency's cent), gives Amazon's
amount to the cent; otherwise the planner keeps Amazon's amount and the event is reviewed.

Taxes are described by :class:`TaxRate` (the Odoo layer builds them from ``account.tax``);
``key`` is whatever lets the caller find its record again (the tax id).
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class TaxRate:
    """A sale tax as the matcher needs it."""

    key: object
    #: Percent, e.g. ``Decimal("19")``.
    rate: Decimal
    #: True when the price on the line already includes the tax.
    price_include: bool = False
    #: ISO country code of the tax, when it has one.
    country: str | None = None
    #: False for fixed, group or division taxes: never matched from a customer invoice.
    percent: bool = True


def tax_of(tax, base, tax_amount, quantum):
    """The tax Odoo computes on a line whose price is ``base`` (price-excluded tax) or
    ``base + tax_amount`` (price-included tax), rounded half-up to ``quantum``."""
    rate = Decimal(tax.rate) / 100
    if tax.price_include:
        gross = base + tax_amount
        return (gross * rate / (1 + rate)).quantize(quantum, rounding=ROUND_HALF_UP)
    return (base * rate).quantize(quantum, rounding=ROUND_HALF_UP)


def candidates(invoice_taxes=(), sale_taxes=(), country=None):
    """The order in which taxes are tried when the marketplace sets none: the percent taxes
    of the order's customer invoice first, then the company's other sale taxes of the
    marketplace's country, then those without a country (each group in the order given; a tax
    given twice is tried once, where it first comes).

    A sale tax of another country is never tried when the marketplace's country is known: a
    German refund must not be booked with a 20 % tax because it happens to give Amazon's amount
    to the cent. The marketplace's country's taxes are those of the company's fiscal country or
    of a foreign VAT fiscal position (each Odoo tax has its country)."""
    on_invoice = {tax.key for tax in invoice_taxes}
    others = [tax for tax in sale_taxes if tax.key not in on_invoice]
    ordered = (
        [tax for tax in invoice_taxes if tax.percent]
        + [tax for tax in others if country and tax.country == country]
        + [tax for tax in others if not country or tax.country is None]
    )
    unique, seen = [], set()
    for tax in ordered:
        if tax.key not in seen:
            seen.add(tax.key)
            unique.append(tax)
    return unique


def pick_tax(taxes, base, tax_amount, quantum):
    """The first of ``taxes`` that reproduces ``tax_amount`` on ``base`` to ``quantum``, or
    None."""
    for tax in taxes:
        if tax_of(tax, base, tax_amount, quantum) == tax_amount:
            return tax
    return None
