"""Amazon's figures beside Odoo's: per amount type, in total, and each difference named.

Pure: no Odoo. The Odoo side hands in what it holds for each staged event (:class:`OdooEvent`);
Amazon's side is the normalized events read again from Amazon (``domain.normalize``). Events are
matched by key, then by the cross-API fingerprint.

Difference kinds (``KINDS``): an Amazon event Odoo does not have (``not_imported``; ``deferred``
when Amazon still defers it), one Odoo has but did not post (``not_posted``; ``unmapped`` when an
amount type has no rule), one whose posted documents differ from Amazon's amount (``changed``:
Amazon changed it, or the document was changed after posting; ``rounding`` when within the
currency's rounding per line), and for a settlement the payout conversion (``conversion``) and
the reserve carried over from the previous group (``reserve``), which explain, not contradict.
"""

from dataclasses import dataclass, field
from decimal import Decimal

KINDS = {
    "not_imported": "Event not imported",
    "deferred": "Deferred transaction",
    "not_posted": "Event not posted",
    "unmapped": "Unmapped amount type",
    "changed": "Document changed after posting",
    "rounding": "Rounding",
    "conversion": "Conversion",
    "reserve": "Reserve carried over",
}
# Kinds that explain a figure without being an error in Odoo's books.
INFORMATIONAL = frozenset({"conversion", "reserve"})
REFUND_TYPES = frozenset({"refund", "guarantee_claim", "chargeback"})
# Plain words for the event types and statuses the difference messages name.
TYPE_WORDS = {"guarantee_claim": "A-to-z claim", "service_fee": "service fee"}
STATE_WORDS = {"to_review": "waits for review", "ready": "draft documents", "new": "not booked yet"}


@dataclass(frozen=True)
class OdooEvent:
    """What Odoo holds for one staged event (amounts in the event's currency)."""

    ref: object  # the staged record's id
    key: str
    fingerprint: str | None
    state: str  # posted, new, ready, to_review, error, ignored
    amount_total: Decimal  # Amazon's net as staged
    posted_total: Decimal | None  # what its posted documents moved on the clearing account
    lines: dict = field(default_factory=dict)  # amount type -> amount, as staged
    review_reason: str | None = None
    unmapped_types: tuple = ()
    name: str = ""


@dataclass(frozen=True)
class Difference:
    kind: str
    amount: Decimal
    key: str  # stable: the same difference has the same key on the next run
    message: str
    event_key: str | None = None
    odoo_ref: object = None
    order_id: str | None = None
    posted_date: object = None

    @property
    def label(self):
        return KINDS[self.kind]


@dataclass(frozen=True)
class TypeFigure:
    amount_type: str
    amazon: Decimal
    odoo: Decimal

    @property
    def difference(self):
        return self.amazon - self.odoo


@dataclass(frozen=True)
class Comparison:
    amazon_total: Decimal
    odoo_total: Decimal
    per_type: tuple  # TypeFigure, sorted by amount type
    differences: tuple  # Difference

    @property
    def difference(self):
        return self.amazon_total - self.odoo_total

    @property
    def balanced(self):
        return not self.difference and all(d.kind in INFORMATIONAL for d in self.differences)


def _add(totals, amount_type, amount):
    totals[amount_type] = totals.get(amount_type, Decimal(0)) + amount


def compare(amazon_events, odoo_events, quantum, settlement=None):
    """Compare Amazon's events with Odoo's (``quantum``: the currency's smallest unit).

    ``settlement`` (optional) = dict with ``group_id``, ``currency``, ``converted_currency``,
    ``beginning_balance`` (Decimal), ``conversion_difference`` (Decimal, company currency, from
    the payout) for the settlement-level differences.
    """
    by_key = {ev.key: ev for ev in odoo_events}
    by_fp = {ev.fingerprint: ev for ev in odoo_events if ev.fingerprint}
    amazon_types, odoo_types = {}, {}
    amazon_total = odoo_total = Decimal(0)
    differences = []
    seen = set()
    for ev in amazon_events:
        odoo = by_key.get(ev.key) or (by_fp.get(ev.fingerprint) if ev.fingerprint else None)
        amazon_total += ev.total
        for line in ev.lines:
            _add(amazon_types, line.amount_type, line.amount)
        if odoo is not None:
            seen.add(odoo.key)
            if odoo.posted_total is not None:
                odoo_total += odoo.posted_total
                for amount_type, amount in odoo.lines.items():
                    _add(odoo_types, amount_type, amount)
        difference = _event_difference(ev, odoo, quantum)
        if difference:
            differences.append(difference)
    for odoo in odoo_events:
        if odoo.key in seen or odoo.posted_total is None:
            continue
        odoo_total += odoo.posted_total
        for amount_type, amount in odoo.lines.items():
            _add(odoo_types, amount_type, amount)
        differences.append(
            Difference(
                "changed",
                -odoo.posted_total,
                f"changed:{odoo.key}",
                f"{odoo.name or odoo.key}: posted {odoo.posted_total} in Odoo, but Amazon no "
                "longer lists it",
                event_key=odoo.key,
                odoo_ref=odoo.ref,
            )
        )
    if settlement:
        balance = settlement.get("beginning_balance") or Decimal(0)
        if balance:
            differences.append(
                Difference(
                    "reserve",
                    balance,
                    f"reserve:{settlement.get('group_id')}",
                    f"Beginning balance {balance} {settlement.get('currency')} carried over from "
                    "the previous settlement (its release is one of this group's events)",
                )
            )
        conversion = settlement.get("conversion_difference")
        if conversion:
            differences.append(
                Difference(
                    "conversion",
                    conversion,
                    f"conversion:{settlement.get('group_id')}",
                    f"Paid in {settlement.get('converted_currency')}: conversion difference "
                    f"{conversion} (company currency) on the exchange difference account",
                )
            )
    types = sorted(set(amazon_types) | set(odoo_types))
    per_type = tuple(
        TypeFigure(t, amazon_types.get(t, Decimal(0)), odoo_types.get(t, Decimal(0))) for t in types
    )
    return Comparison(amazon_total, odoo_total, per_type, tuple(differences))


def _event_difference(ev, odoo, quantum):
    """The difference of one Amazon event with what Odoo holds for it (None when equal)."""
    where = {"event_key": ev.key, "order_id": ev.amazon_order_id, "posted_date": ev.posted_date}

    def money(value):
        # with the currency's decimals: "-4900" yen, "-19.60" dollars (never "-4900.0")
        return f"{Decimal(value).quantize(quantum)}"

    if odoo is None:
        deferred = (ev.transaction_status or "").upper() == "DEFERRED"
        kind = "deferred" if deferred else "not_imported"
        what = "is deferred by Amazon and not in Odoo" if deferred else "is not in Odoo"
        order = f" {ev.amazon_order_id}" if ev.amazon_order_id else ""
        message = (
            f"{TYPE_WORDS.get(ev.event_type, ev.event_type).capitalize()}{order} of "
            f"{ev.posted_date:%Y-%m-%d} ({money(ev.total)} {ev.currency}) {what}"
        )
        return Difference(kind, ev.total, f"{kind}:{ev.key}", message, **where)
    if odoo.posted_total is None:
        if odoo.state == "ignored":
            kind, what = "not_posted", "ignored in Odoo"
        elif odoo.review_reason == "unmapped" or odoo.unmapped_types:
            kind = "unmapped"
            what = "waits for a mapping of " + (", ".join(odoo.unmapped_types) or "a type")
        else:
            kind, what = "not_posted", f"not posted ({STATE_WORDS.get(odoo.state, odoo.state)})"
        message = f"{odoo.name or ev.key} ({money(ev.total)} {ev.currency}) {what}"
        return Difference(kind, ev.total, f"{kind}:{ev.key}", message, odoo_ref=odoo.ref, **where)
    gap = ev.total - odoo.posted_total
    if not gap:
        return None
    tolerance = quantum * max(len(ev.lines), 1)
    rounding = abs(gap) <= tolerance and odoo.amount_total == ev.total
    kind = "rounding" if rounding else "changed"
    name = odoo.name or ev.key
    message = (
        f"{name}: Amazon's amount {money(ev.total)} {ev.currency}, "
        f"posted {money(odoo.posted_total)}"
    )
    if not rounding and odoo.amount_total != ev.total:
        message += f" (Amazon changed it after import: was {money(odoo.amount_total)})"
    elif not rounding:
        message += " (the posted document was changed)"
    return Difference(kind, gap, f"{kind}:{ev.key}", message, odoo_ref=odoo.ref, **where)


def split_totals(events, amount_of=lambda ev: ev.total):
    """(refund total, adjustment total) of events: refunds, claims and chargebacks, and the rest
    (adjustments, service fees, retrocharges...)."""
    refunds = adjustments = Decimal(0)
    for ev in events:
        amount = amount_of(ev)
        if amount is None:
            continue
        if ev.event_type in REFUND_TYPES:
            refunds += amount
        else:
            adjustments += amount
    return refunds, adjustments
