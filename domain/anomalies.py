"""Anomaly rules: which refunds look wrong (pure Python, no Odoo).

Every rule reads plain rows (``OrderMoney`` for refunds, claims, chargebacks and sales,
``ReturnRow`` for received returns) and returns ``Hit``s: the rule, the marketplace, a subject
(the day, the SKU, the order, the buyer, the return), the figures that made it fire and the ids
of the events (or returns) it is about. ``Hit.key`` is stable across runs, so a second run
updates the hit instead of adding one.

Money is ``Decimal``; an ``OrderMoney.amount`` is what the buyer got back (positive), or, for a
sale, what the buyer paid (positive).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

CENT = Decimal("0.01")

RULE_DAILY = "daily_volume"
RULE_SKU = "sku_spike"
RULE_REPEAT = "repeat_refund"
RULE_OVER = "over_refund"
RULE_CONCENTRATION_SKU = "claims_sku"
RULE_CONCENTRATION_BUYER = "claims_buyer"
RULE_RETURN_COUNTRY = "return_country"
RULES = (
    RULE_DAILY,
    RULE_SKU,
    RULE_REPEAT,
    RULE_OVER,
    RULE_CONCENTRATION_SKU,
    RULE_CONCENTRATION_BUYER,
    RULE_RETURN_COUNTRY,
)

# Event types whose money goes back to the buyer (the "refunds" of the daily and SKU rules).
REFUND_TYPES = ("refund", "guarantee_claim", "chargeback")
# Event types of the concentration rule: the buyer went over the seller's head.
CLAIM_TYPES = ("guarantee_claim", "chargeback")
SALE_TYPE = "sale"
# The buyer's money on an order: the charges (price, tax, shipping, gift wrap) less the
# promotions. Fees, withheld taxes and adjustments are the seller's business with Amazon.
BUYER_CATEGORIES = ("Charge", "Promotion")

# Amazon names its fulfillment centers after the IATA code of the nearest airport plus a digit
# (LEJ1 = Leipzig, WRO5 = Wroclaw); the code's first three letters give the country. Source: the
# fulfillment-center lists of MWPVL International ("Amazon Global Fulfillment Center Network",
# www.mwpvl.com/html/amazon_com.html) checked against IATA's airport codes. Only the European
# sites that Pan-EU stores stock in are listed; an unknown center gives no hit (nothing guessed).
FC_PREFIX_COUNTRY = {
    # Germany
    "BER": "DE",
    "CGN": "DE",
    "DTM": "DE",
    "DUS": "DE",
    "EDE": "DE",
    "FRA": "DE",
    "HAM": "DE",
    "LEJ": "DE",
    "MUC": "DE",
    "PAD": "DE",
    "STR": "DE",
    "HAJ": "DE",
    "BRE": "DE",
    "NUE": "DE",
    # France
    "BVA": "FR",
    "ETZ": "FR",
    "LIL": "FR",
    "LYS": "FR",
    "MRS": "FR",
    "ORY": "FR",
    "CDG": "FR",
    # Italy
    "BLQ": "IT",
    "FCO": "IT",
    "MXP": "IT",
    "TRN": "IT",
    "PSR": "IT",
    # Spain
    "BCN": "ES",
    "MAD": "ES",
    "SVQ": "ES",
    "VLC": "ES",
    "ZAZ": "ES",
    # Poland
    "KTW": "PL",
    "LCJ": "PL",
    "POZ": "PL",
    "SZZ": "PL",
    "WRO": "PL",
    # Czech Republic
    "PRG": "CZ",
    # United Kingdom
    "BHX": "GB",
    "BRS": "GB",
    "CWL": "GB",
    "EDI": "GB",
    "EMA": "GB",
    "EUK": "GB",
    "GLA": "GB",
    "LBA": "GB",
    "LTN": "GB",
    "MAN": "GB",
    "MME": "GB",
    "NCL": "GB",
    # Netherlands, Sweden
    "RTM": "NL",
    "AMS": "NL",
    "ARN": "SE",
    "GOT": "SE",
}


@dataclass(frozen=True)
class Thresholds:
    """A marketplace's thresholds (the defaults are the shipped settings)."""

    refunds_per_day: int = 10  # more refunds than this in a day: a hit (0 = off)
    amount_per_day: Decimal = Decimal(0)  # more money refunded in a day (0 = off)
    sku_factor: Decimal = Decimal(2)  # last 7 days above factor × the weekly mean of 8 weeks
    sku_min: int = 3  # ... and at least this many refunds in the last 7 days
    claims_min: int = 3  # A-to-z claims / chargebacks on one SKU or buyer: this many...
    claims_days: int = 90  # ... within this many days


@dataclass(frozen=True)
class OrderMoney:
    """One refund, claim, chargeback or sale event."""

    id: int
    kind: str  # refund, guarantee_claim, chargeback, sale
    marketplace: str
    day: date
    amount: Decimal  # buyer's money, positive
    order_id: str | None = None
    skus: tuple = ()
    buyer: str | None = None
    currency: str = ""


@dataclass(frozen=True)
class ReturnRow:
    """One received return (the FBA customer returns report)."""

    id: int
    marketplace: str  # marketplace code (DE, FR...)
    marketplace_country: str  # its country code
    fulfillment_center: str | None
    day: date
    order_id: str | None = None
    sku: str | None = None


@dataclass(frozen=True)
class Hit:
    rule: str
    marketplace: str
    subject: str
    day: date
    figures: dict = field(default_factory=dict)
    ids: tuple = ()

    @property
    def key(self):
        return f"{self.rule}|{self.marketplace}|{self.subject}"


def buyer_amount(lines, sku=None):
    """The buyer's money in ``lines`` (pairs of ``(amount_type, amount)``, or triples with the
    SKU last): the charges less the promotions, in Amazon's sign (a sale positive, a refund
    negative). With ``sku``, only that SKU's lines."""
    total = Decimal(0)
    for line in lines:
        amount_type, amount = line[0], line[1]
        if sku is not None and (len(line) < 3 or line[2] != sku):
            continue
        if amount_type.split("/", 1)[0] in BUYER_CATEGORIES:
            total += Decimal(amount)
    return total


def fc_country(fulfillment_center):
    """The country code of a fulfillment center id (``LEJ1`` → ``DE``), None when unknown."""
    code = (fulfillment_center or "").strip().upper()
    return FC_PREFIX_COUNTRY.get(code[:3]) if len(code) >= 4 else None


def _refunds(rows):
    return [row for row in rows if row.kind in REFUND_TYPES]


def daily_volume(rows, thresholds):
    """More refunds in one day and marketplace than ``thresholds(marketplace).refunds_per_day``,
    or more money than its ``amount_per_day`` (each 0 = off)."""
    days = defaultdict(list)
    for row in _refunds(rows):
        days[(row.marketplace, row.day)].append(row)
    hits = []
    for (marketplace, day), found in sorted(days.items()):
        limits = thresholds(marketplace)
        count = len(found)
        amount = sum((row.amount for row in found), Decimal(0))
        over_count = bool(limits.refunds_per_day) and count > limits.refunds_per_day
        over_amount = bool(limits.amount_per_day) and amount > limits.amount_per_day
        if over_count or over_amount:
            hits.append(
                Hit(
                    RULE_DAILY,
                    marketplace,
                    day.isoformat(),
                    day,
                    {
                        "count": count,
                        "amount": amount,
                        "currency": found[0].currency,
                        "count_threshold": limits.refunds_per_day,
                        "amount_threshold": limits.amount_per_day,
                    },
                    tuple(sorted(row.id for row in found)),
                )
            )
    return hits


def sku_spike(rows, today, thresholds):
    """A SKU refunded more in the last 7 days (``today`` included) than usual: at least
    ``sku_min`` refunds and more than ``sku_factor`` × its weekly mean over the 8 weeks
    before. A SKU never refunded before fires at ``sku_min``. One hit per SKU and ISO week."""
    recent_start = today - timedelta(days=6)
    base_start = recent_start - timedelta(weeks=8)
    recent, baseline = defaultdict(list), defaultdict(int)
    for row in _refunds(rows):
        for sku in set(row.skus):
            if recent_start <= row.day <= today:
                recent[(row.marketplace, sku)].append(row)
            elif base_start <= row.day < recent_start:
                baseline[(row.marketplace, sku)] += 1
    year, week, _ = today.isocalendar()
    hits = []
    for (marketplace, sku), found in sorted(recent.items()):
        limits = thresholds(marketplace)
        count = len(found)
        weekly = (Decimal(baseline[(marketplace, sku)]) / 8).quantize(CENT)
        if count >= limits.sku_min and count > limits.sku_factor * weekly:
            hits.append(
                Hit(
                    RULE_SKU,
                    marketplace,
                    f"{sku}|{year}-W{week:02d}",
                    today,
                    {
                        "sku": sku,
                        "count": count,
                        "weekly_mean": weekly,
                        "factor": limits.sku_factor,
                        "from": recent_start.isoformat(),
                        "to": today.isoformat(),
                    },
                    tuple(sorted(row.id for row in found)),
                )
            )
    return hits


def repeat_refunds(rows):
    """The same order refunded more than once for the same SKU (a refund without SKU counts
    for the whole order)."""
    seen = defaultdict(list)
    for row in rows:
        if row.kind != "refund" or not row.order_id:
            continue
        for sku in set(row.skus) or {""}:
            seen[(row.marketplace, row.order_id, sku)].append(row)
    hits = []
    for (marketplace, order_id, sku), found in sorted(seen.items()):
        if len(found) < 2:
            continue
        hits.append(
            Hit(
                RULE_REPEAT,
                marketplace,
                f"{order_id}|{sku}",
                max(row.day for row in found),
                {
                    "order_id": order_id,
                    "sku": sku,
                    "count": len(found),
                    "amount": sum((row.amount for row in found), Decimal(0)),
                    "currency": found[0].currency,
                },
                tuple(sorted(row.id for row in found)),
            )
        )
    return hits


def over_refunds(rows):
    """Orders whose refunds, claims and chargebacks gave the buyer back more than the sale
    paid (only orders whose sale is known; a cent of rounding is allowed)."""
    paid, back = defaultdict(Decimal), defaultdict(list)
    for row in rows:
        if not row.order_id:
            continue
        if row.kind == SALE_TYPE:
            paid[(row.marketplace, row.order_id)] += row.amount
        elif row.kind in REFUND_TYPES:
            back[(row.marketplace, row.order_id)].append(row)
    hits = []
    for (marketplace, order_id), found in sorted(back.items()):
        if (marketplace, order_id) not in paid:
            continue
        sale = paid[(marketplace, order_id)]
        refunded = sum((row.amount for row in found), Decimal(0))
        if refunded - sale > CENT:
            hits.append(
                Hit(
                    RULE_OVER,
                    marketplace,
                    order_id,
                    max(row.day for row in found),
                    {
                        "order_id": order_id,
                        "paid": sale,
                        "refunded": refunded,
                        "excess": refunded - sale,
                        "currency": found[0].currency,
                    },
                    tuple(sorted(row.id for row in found)),
                )
            )
    return hits


def claim_concentration(rows, today, thresholds):
    """A-to-z claims and chargebacks concentrating on one SKU or one buyer: at least
    ``claims_min`` of them within the last ``claims_days`` days."""
    by_sku, by_buyer = defaultdict(list), defaultdict(list)
    for row in rows:
        if row.kind not in CLAIM_TYPES:
            continue
        if row.day < today - timedelta(days=thresholds(row.marketplace).claims_days - 1):
            continue
        if row.day > today:
            continue
        for sku in set(row.skus):
            by_sku[(row.marketplace, sku)].append(row)
        if row.buyer:
            by_buyer[(row.marketplace, row.buyer)].append(row)
    hits = []
    for rule, groups, label in (
        (RULE_CONCENTRATION_SKU, by_sku, "sku"),
        (RULE_CONCENTRATION_BUYER, by_buyer, "buyer"),
    ):
        for (marketplace, subject), found in sorted(groups.items()):
            limits = thresholds(marketplace)
            if len(found) < limits.claims_min:
                continue
            hits.append(
                Hit(
                    rule,
                    marketplace,
                    subject,
                    max(row.day for row in found),
                    {
                        label: subject,
                        "count": len(found),
                        "claims": sum(1 for row in found if row.kind == "guarantee_claim"),
                        "chargebacks": sum(1 for row in found if row.kind == "chargeback"),
                        "amount": sum((row.amount for row in found), Decimal(0)),
                        "days": limits.claims_days,
                        "currency": found[0].currency,
                    },
                    tuple(sorted(row.id for row in found)),
                )
            )
    return hits


def return_country(returns):
    """Returns received in a fulfillment center of another country than the marketplace's
    (Pan-EU): VAT and liability differ. Unknown centers give no hit."""
    hits = []
    for ret in returns:
        country = fc_country(ret.fulfillment_center)
        if not country or not ret.marketplace_country:
            continue
        if country == ret.marketplace_country.upper():
            continue
        hits.append(
            Hit(
                RULE_RETURN_COUNTRY,
                ret.marketplace,
                str(ret.id),
                ret.day,
                {
                    "order_id": ret.order_id or "",
                    "sku": ret.sku or "",
                    "fulfillment_center": ret.fulfillment_center,
                    "center_country": country,
                    "marketplace_country": ret.marketplace_country.upper(),
                },
                (ret.id,),
            )
        )
    return hits


def run_rules(rows, returns, today, thresholds=None):
    """Every rule over ``rows`` (OrderMoney) and ``returns`` (ReturnRow). ``thresholds`` maps
    a marketplace to its ``Thresholds`` (default: the shipped ones)."""
    thresholds = thresholds or (lambda marketplace: Thresholds())
    return [
        *daily_volume(rows, thresholds),
        *sku_spike(rows, today, thresholds),
        *repeat_refunds(rows),
        *over_refunds(rows),
        *claim_concentration(rows, today, thresholds),
        *return_country(returns),
    ]
