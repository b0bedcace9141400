"""VAT included in promotions of VAT marketplaces (pure Python, no Odoo).

In the EU, the UK, Japan... the buyer's prices include VAT, and so does a promotion: v0 sends it
as one amount (R01: 0.13 and 0.71 of a 0.84 free shipping, under one PromotionType), without a
tax line of its own. Booked without tax, the credit note would declare the VAT of the full charges
(2.42 on R01) instead of Amazon's (2.29). The planner therefore splits such a promotion into its
net and its VAT, at the rate of the item's taxed lines, the way Amazon computes VAT held in a
price (``gross * r / (1 + r)``, half up).
"""

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)
_MAX_RATE = 50


def _round(amount, quantum):
    return amount.quantize(quantum, rounding=ROUND_HALF_UP)


def rate_reproduces(rate, base, tax, quantum):
    """True when ``rate`` (percent) gives ``tax`` on ``base``, computed as Odoo does with a
    price-excluded or a price-included tax (``base + tax`` being then the price)."""
    r = rate / HUNDRED
    if _round(base * r, quantum) == tax:
        return True
    return _round((base + tax) * r / (1 + r), quantum) == tax


def _plain(rate):
    """``10`` rather than ``1E+1`` or ``10.0``; ``5.5`` rather than ``5.50``."""
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()


def _candidates():
    """Percent rates from the simplest: whole percents, then halves, tenths, hundredths."""
    seen = set()
    for step in (Decimal(1), Decimal("0.5"), Decimal("0.1"), Decimal("0.01")):
        count = int(_MAX_RATE / step)
        level = [_plain(step * n) for n in range(count + 1)]
        yield [rate for rate in level if rate not in seen]
        seen.update(level)


def _precisions(pairs, quantum):
    """``quantum``, then the coarser ones every amount of ``pairs`` is a multiple of (amounts in
    whole yen planned with two decimals were still rounded to the yen by Amazon)."""
    yield quantum
    coarser = quantum.scaleb(1)
    while coarser <= 1:
        if all(a % coarser == 0 for pair in pairs for a in pair):
            yield coarser
        coarser = coarser.scaleb(1)


def infer_rate(pairs, quantum):
    """The rate (percent, Decimal) reproducing every ``(base, tax)`` pair, preferring the
    simplest and, among equally simple ones, the closest to the largest base's ratio; ``0``
    when no pair is taxed; None when no rate reproduces them all (mixed rates)."""
    pairs = [(base, tax) for base, tax in pairs if base]
    if not pairs or all(tax == 0 for _base, tax in pairs):
        return ZERO
    base, tax = max(pairs, key=lambda pair: abs(pair[0]))
    guess = tax / base * HUNDRED
    precisions = list(_precisions(pairs, quantum))
    for level in _candidates():
        for precision in precisions:
            fitting = [
                rate
                for rate in level
                if all(rate_reproduces(rate, b, t, precision) for b, t in pairs)
            ]
            if fitting:
                return min(fitting, key=lambda rate: abs(rate - guess))
    return None


def split_included(gross, rate, quantum):
    """``(net, tax)`` of an amount that includes VAT at ``rate`` percent."""
    r = rate / HUNDRED
    tax = _round(gross * r / (1 + r), quantum)
    return gross - tax, tax


def promotion_base(amount_type):
    """The charge a promotion type names (2024 leaves, V2 report descriptions), or None when it
    names none (v0 ``PromotionMetaDataDefinitionValue``): then every taxed line of its item."""
    name = amount_type.split("/", 1)[-1].lower()
    if "shipping" in name:
        return "charge/shippingcharge"
    if "giftwrap" in name:
        return "charge/giftwrap"
    if "principal" in name or "ourprice" in name:
        return "charge/principal"
    return None
