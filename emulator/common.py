"""Marketplaces, currencies, taxes, ids and JSON for the emulator (stdlib only).

Amounts are ``Decimal`` everywhere; :func:`dumps` writes them as JSON numbers, either digit for
digit (``-20.00``) or the way Amazon's services write them (``-20``, ``89.8``: no trailing
zeros), see ``doc/emulator.md``.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

UTC = timezone.utc
V0 = "v0"
V2024 = "2024-06-19"


@dataclass(frozen=True)
class Marketplace:
    code: str  # the project's short code (UK, not GB)
    marketplace_id: str
    country_code: str  # as the Sellers API writes it (GB for the UK)
    name: str  # v0 MarketplaceName
    currency: str
    language: str
    domain: str
    region: str  # na | eu | fe


def _mp(code, mid, country, name, currency, language, domain, region):
    return Marketplace(code, mid, country, name, currency, language, domain, region)


MARKETPLACES = {
    m.code: m
    for m in (
        _mp("US", "ATVPDKIKX0DER", "US", "Amazon.com", "USD", "en_US", "www.amazon.com", "na"),
        _mp("CA", "A2EUQ1WTGCTBG2", "CA", "Amazon.ca", "CAD", "en_CA", "www.amazon.ca", "na"),
        _mp(
            "MX", "A1AM78C64UM0Y8", "MX", "Amazon.com.mx", "MXN", "es_MX", "www.amazon.com.mx", "na"
        ),
        _mp(
            "BR", "A2Q3Y263D00KWC", "BR", "Amazon.com.br", "BRL", "pt_BR", "www.amazon.com.br", "na"
        ),
        _mp("UK", "A1F83G8C2ARO7P", "GB", "Amazon.co.uk", "GBP", "en_GB", "www.amazon.co.uk", "eu"),
        _mp("DE", "A1PA6795UKMFR9", "DE", "Amazon.de", "EUR", "de_DE", "www.amazon.de", "eu"),
        _mp("FR", "A13V1IB3VIYZZH", "FR", "Amazon.fr", "EUR", "fr_FR", "www.amazon.fr", "eu"),
        _mp("IT", "APJ6JRA9NG5V4", "IT", "Amazon.it", "EUR", "it_IT", "www.amazon.it", "eu"),
        _mp("ES", "A1RKKUPIHCS9HS", "ES", "Amazon.es", "EUR", "es_ES", "www.amazon.es", "eu"),
        _mp("NL", "A1805IZSGTT6HS", "NL", "Amazon.nl", "EUR", "nl_NL", "www.amazon.nl", "eu"),
        _mp(
            "BE", "AMEN7PMS3EDWL", "BE", "Amazon.com.be", "EUR", "fr_BE", "www.amazon.com.be", "eu"
        ),
        _mp("IE", "A28R8C7NBKEWEA", "IE", "Amazon.ie", "EUR", "en_IE", "www.amazon.ie", "eu"),
        _mp("SE", "A2NODRKZP88ZB9", "SE", "Amazon.se", "SEK", "sv_SE", "www.amazon.se", "eu"),
        _mp("PL", "A1C3SOZRARQ6R3", "PL", "Amazon.pl", "PLN", "pl_PL", "www.amazon.pl", "eu"),
        _mp(
            "TR", "A33AVAJ2PDY3EV", "TR", "Amazon.com.tr", "TRY", "tr_TR", "www.amazon.com.tr", "eu"
        ),
        _mp("AE", "A2VIGQ35RCS4UG", "AE", "Amazon.ae", "AED", "en_AE", "www.amazon.ae", "eu"),
        _mp("SA", "A17E79C6D8DWNP", "SA", "Amazon.sa", "SAR", "ar_SA", "www.amazon.sa", "eu"),
        _mp("EG", "ARBP9OOSHTCHU", "EG", "Amazon.eg", "EGP", "ar_EG", "www.amazon.eg", "eu"),
        _mp("IN", "A21TJRUUN4KGV", "IN", "Amazon.in", "INR", "en_IN", "www.amazon.in", "eu"),
        _mp("ZA", "AE08WJ6YKNBMC", "ZA", "Amazon.co.za", "ZAR", "en_ZA", "www.amazon.co.za", "eu"),
        _mp("JP", "A1VC38T7YXB528", "JP", "Amazon.co.jp", "JPY", "ja_JP", "www.amazon.co.jp", "fe"),
        _mp("SG", "A19VAU5U5O7RUS", "SG", "Amazon.sg", "SGD", "en_SG", "www.amazon.sg", "fe"),
        _mp(
            "AU", "A39IBJ37TRP1C6", "AU", "Amazon.com.au", "AUD", "en_AU", "www.amazon.com.au", "fe"
        ),
    )
}
MARKETPLACES_BY_ID = {m.marketplace_id: m for m in MARKETPLACES.values()}

CURRENCY_DECIMALS = {"JPY": 0}
# Rough value of one USD, to scale prices, fees and reimbursements.
USD_RATE = {
    "USD": "1",
    "CAD": "1.35",
    "MXN": "17",
    "BRL": "5",
    "GBP": "0.8",
    "EUR": "0.92",
    "SEK": "10.5",
    "PLN": "4",
    "TRY": "32",
    "AED": "3.67",
    "SAR": "3.75",
    "EGP": "48",
    "INR": "83",
    "ZAR": "18.5",
    "JPY": "150",
    "SGD": "1.35",
    "AUD": "1.5",
}

# How each marketplace taxes a refund:
#  facilitator: Amazon collects and remits (US): Charge Tax on tax-excluded prices, withheld back
#  included:    the seller owes VAT on tax-included prices: Tax = gross * r / (1 + r)
#  excluded:    the seller owes tax on tax-excluded prices (CA GST): Tax = net * r
US_STATE_RATES = ("0.06", "0.0625", "0.0725", "0.08", "0.08875", "0.1025")
TAX_RULES = {
    "US": ("facilitator", None),
    "CA": ("excluded", "0.05"),
    "UK": ("included", "0.20"),
    "DE": ("included", "0.19"),
    "FR": ("included", "0.20"),
    "IT": ("included", "0.22"),
    "ES": ("included", "0.21"),
    "NL": ("included", "0.21"),
    "BE": ("included", "0.21"),
    "IE": ("included", "0.23"),
    "SE": ("included", "0.25"),
    "PL": ("included", "0.23"),
    "JP": ("included", "0.10"),
}
REFERRAL_RATE = Decimal("0.15")
ORDER_PREFIX = {"na": "11", "eu": "30", "fe": "50"}


def vat_rate(marketplace):
    """The VAT rate included in the marketplace's prices (Decimal), or None (US, CA: excluded)."""
    mode, rate = TAX_RULES.get(marketplace, ("none", None))
    return Decimal(rate) if mode == "included" else None


def fee_vat_rate(marketplace):
    """The VAT Amazon charges on its own fees in ``marketplace`` (R10: SE 25 %), or None.

    JP's consumption tax is not shown on fees (R11's service fee has no Base/Tax children).
    """
    return None if marketplace == "JP" else vat_rate(marketplace)


def decimals(currency):
    return CURRENCY_DECIMALS.get(currency, 2)


def quantize(amount, currency):
    """Round half up to the currency's decimals (JPY: whole yen)."""
    exp = Decimal(1).scaleb(-decimals(currency))
    return Decimal(amount).quantize(exp, rounding=ROUND_HALF_UP)


def included_tax(gross, rate, currency):
    """The tax held in a tax-included amount: ``gross * r / (1 + r)``, rounded."""
    return quantize(gross * rate / (1 + rate), currency)


def to_decimal(value):
    """Decimal from a Decimal, int or numeric string (floats through ``str``)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise TypeError(f"not an amount: {value!r}")
    return Decimal(str(value))


def iso(moment):
    """Aware datetime → ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, to the second)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def aware(moment, what):
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be an aware datetime")
    return moment.astimezone(UTC)


def digest(*parts):
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def digits(hexdigest, length):
    return str(int(hexdigest, 16))[-length:].rjust(length, "0")


def alnum(hexdigest, length, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"):
    number = int(hexdigest, 16)
    chars = []
    for _ in range(length):
        number, rest = divmod(number, len(alphabet))
        chars.append(alphabet[rest])
    return "".join(chars)


BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def unit(*parts):
    """A number in [0, 1) fixed by ``parts`` (seeded choices that need no random stream)."""
    return int(digest(*parts)[:12], 16) / float(16**12)


# ---------------------------------------------------------------------------------------------
# JSON with Decimal numbers
# ---------------------------------------------------------------------------------------------


def _number(value, amazon):
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    if amazon:
        if not value:
            return "0"
        value = value.normalize()
    return format(value, "f")


def _encode(value, out, amazon):
    if isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(json.dumps(str(key)))
            out.append(":")
            _encode(item, out, amazon)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out, amazon)
        out.append("]")
    elif isinstance(value, Decimal):
        out.append(_number(value, amazon))
    elif isinstance(value, datetime):
        out.append(json.dumps(iso(value)))
    else:
        out.append(json.dumps(value))


def dumps(value, amazon=False):
    """JSON text; Decimals become JSON numbers written exactly (``-20.00``, JPY ``-1500``).

    ``amazon=True`` writes them as Amazon's services do, without trailing zeros (``-20``,
    ``89.8``, R10): same values, the client must not rely on the digits.
    """
    out = []
    _encode(value, out, amazon)
    return "".join(out)
