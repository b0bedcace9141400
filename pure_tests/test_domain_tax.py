"""domain.tax: which sale tax reproduces Amazon's tax amount, computed the way Odoo does."""

import json
import os
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.normalize import normalize_v0_events
from domain.tax import TaxRate, candidates, pick_tax, tax_of

D = Decimal
CENT = D("0.01")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REALDATA = os.path.join(ROOT, os.pardir, "shared", "realdata")

DE19 = TaxRate("de19", D("19"), country="DE")
DE7 = TaxRate("de7", D("7"), country="DE")
FR20 = TaxRate("fr20", D("20"), country="FR")
FR55 = TaxRate("fr55", D("5.5"), country="FR")
NOWHERE = TaxRate("none", D("10"))
DE19_INCL = TaxRate("de19i", D("19"), price_include=True, country="DE")
FIXED = TaxRate("eco", D("0.5"), country="DE", percent=False)


def keys(taxes):
    return [tax.key for tax in taxes]


def test_price_excluded_rate_applies_to_the_base():
    assert tax_of(DE19, D("100.00"), D("19.00"), CENT) == D("19.00")
    assert tax_of(DE7, D("12.34"), D("0.86"), CENT) == D("0.86")  # 0.8638
    assert tax_of(FR55, D("10.00"), D("0.55"), CENT) == D("0.55")


def test_price_included_rate_applies_to_base_plus_tax():
    # a 119.00 gross price holds 19.00 of 19 % tax
    assert tax_of(DE19_INCL, D("100.00"), D("19.00"), CENT) == D("19.00")
    # 10.00 + 1.90 = 11.90 gross → 11.90 × 19 / 119 = 1.90
    assert tax_of(DE19_INCL, D("10.00"), D("1.90"), CENT) == D("1.90")
    # the gross is base + Amazon's tax, whatever that tax is: 12.00 × 19 / 119 = 1.9159
    assert tax_of(DE19_INCL, D("10.00"), D("2.00"), CENT) == D("1.92")


def test_half_up_rounding_at_the_cent():
    ten = TaxRate("t10", D("10"))
    assert tax_of(ten, D("0.25"), D("0"), CENT) == D("0.03")  # 0.025 → up
    assert tax_of(ten, D("0.24"), D("0"), CENT) == D("0.02")  # 0.024 → down
    assert tax_of(ten, D("-0.25"), D("0"), CENT) == D("-0.03")  # ties away from zero
    half = TaxRate("t50", D("50"))
    assert tax_of(half, D("0.05"), D("0"), CENT) == D("0.03")  # 0.025 → up, not to even
    assert tax_of(half, D("0.07"), D("0"), CENT) == D("0.04")  # 0.035 → up
    # the quantum is the currency's: yen round to the unit
    assert tax_of(ten, D("125"), D("0"), D("1")) == D("13")  # 12.5 → 13
    # the result carries the quantum's exponent, as Amazon's amounts do
    assert str(tax_of(DE19, D("100"), D("19"), CENT)) == "19.00"


def test_rate_given_as_text_or_int_is_read_exactly():
    assert tax_of(TaxRate("s", "5.5"), D("10.00"), D("0.55"), CENT) == D("0.55")
    assert tax_of(TaxRate("i", 19), D("100.00"), D("19.00"), CENT) == D("19.00")


def test_candidates_invoice_taxes_then_country_then_taxes_without_country():
    sale = [NOWHERE, FR20, DE7, FR55, DE19]
    order = candidates(invoice_taxes=[DE19], sale_taxes=sale, country="DE")
    # the invoice's tax first; then DE's other sale taxes; then those without a country; never
    # another country's
    assert keys(order) == ["de19", "de7", "none"]


def test_candidates_without_invoice_or_without_country():
    sale = [NOWHERE, FR20, DE7, DE19]
    assert keys(candidates(sale_taxes=sale, country="FR")) == ["fr20", "none"]
    assert keys(candidates(sale_taxes=sale)) == ["none", "fr20", "de7", "de19"]
    assert keys(candidates(invoice_taxes=[DE7, DE19])) == ["de7", "de19"]
    assert candidates() == []


def test_candidates_never_repeat_a_tax():
    sale = [DE19, DE7, FR20, DE7]
    order = candidates(invoice_taxes=[DE19, DE19, DE7], sale_taxes=sale, country="DE")
    assert keys(order) == ["de19", "de7"]
    # the order's own invoice is what the buyer was charged: its tax is tried first whatever
    # its country
    order = candidates(invoice_taxes=[FR20], sale_taxes=sale, country="DE")
    assert keys(order) == ["fr20", "de19", "de7"]


def test_candidates_skip_non_percent_invoice_taxes():
    order = candidates(invoice_taxes=[FIXED, DE19], sale_taxes=[FIXED, DE7], country="DE")
    assert "eco" not in keys(order)
    assert keys(order) == ["de19", "de7"]


def test_pick_tax_returns_the_first_tax_that_reproduces_amazons_amount():
    order = candidates(sale_taxes=[FR20, DE7, DE19], country="DE")
    assert pick_tax(order, D("100.00"), D("19.00"), CENT) is DE19
    assert pick_tax(order, D("100.00"), D("7.00"), CENT) is DE7
    # another country's rate is never picked, even when it gives Amazon's amount to the cent
    assert pick_tax(order, D("100.00"), D("20.00"), CENT) is None
    # two taxes give the same cent: the first in candidates order wins
    twin = TaxRate("de19bis", D("19"), country="DE")
    assert pick_tax([twin, DE19], D("100.00"), D("19.00"), CENT) is twin


def test_pick_tax_none_when_nothing_reproduces_the_amount():
    order = candidates(sale_taxes=[FR20, DE7, DE19, DE19_INCL], country="DE")
    assert pick_tax(order, D("100.00"), D("18.99"), CENT) is None
    assert pick_tax(order, D("100.00"), D("19.01"), CENT) is None
    assert pick_tax([], D("100.00"), D("19.00"), CENT) is None


def _real_refund():
    path = os.path.join(REALDATA, "R01_DE_refund_promo_mws.json")
    if not os.path.isdir(REALDATA):
        pytest.skip(f"real Amazon data not available here ({os.path.normpath(REALDATA)})")
    if not os.path.exists(path):
        pytest.skip(f"real Amazon sample missing: {os.path.normpath(path)}")
    with open(path, encoding="utf-8") as f:
        sample = json.load(f)
    fallback = datetime(2019, 11, 30, tzinfo=UTC)
    (event,), failures = normalize_v0_events(sample["data"], posted_date_fallback=fallback)
    assert failures == []
    return {line.amount_type: line.amount for line in event.lines}


@pytest.mark.parametrize(
    "base_type, tax_type",
    [("Charge/Principal", "Charge/Tax"), ("Charge/ShippingCharge", "Charge/ShippingTax")],
)
def test_real_de_refund_tax_is_germanys_19_percent(base_type, tax_type):
    """R01: a German refund whose VAT Amazon states (principal 12.06 with tax 2.29, shipping
    0.71 with tax 0.13): only the 19 % German rate reproduces both, price excluded or included."""
    amounts = _real_refund()
    # Amazon's refund amounts leave the seller (negative); the credit note carries them positive.
    base, tax = -amounts[base_type], -amounts[tax_type]
    assert base > 0 and tax > 0
    order = candidates(invoice_taxes=[], sale_taxes=[FR20, DE7, FR55, DE19], country="DE")
    assert keys(order) == ["de7", "de19"]
    assert pick_tax(order, base, tax, CENT) is DE19
    assert pick_tax([DE7, FR20, FR55], base, tax, CENT) is None
    assert pick_tax([DE19_INCL], base, tax, CENT) is DE19_INCL
    assert tax_of(DE19, base, tax, CENT) == tax
