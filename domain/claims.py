"""Claim candidates: what Amazon still owes the seller (pure Python, no Odoo).

Three cases, each matched by order id and SKU:

- ``not_returned``: an FBA refund whose item has not come back (no return of the order's SKU)
  ``window_days`` days after the refund (45 by default, Amazon's window), and no reimbursement;
- ``damaged``: a return whose disposition says the carrier or the warehouse damaged the item,
  and no reimbursement;
- ``short``: a cash reimbursement lower than the principal refunded for the order's SKU.

A candidate carries the evidence Seller Central asks for (order id, dates, SKU / FNSKU, amounts,
the return's license plate number). ``Candidate.key`` is stable: a second run updates it.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

CENT = Decimal("0.01")
DEFAULT_WINDOW_DAYS = 45

KIND_NOT_RETURNED = "not_returned"
KIND_DAMAGED = "damaged"
KIND_SHORT = "short"
KINDS = (KIND_NOT_RETURNED, KIND_DAMAGED, KIND_SHORT)


@dataclass(frozen=True)
class RefundRow:
    """The refund of one SKU of an order (one refund event may give several)."""

    event_id: int
    order_id: str
    sku: str
    day: date
    amount: Decimal  # the principal given back to the buyer, positive
    currency: str = ""
    marketplace: str = ""
    fba: bool = False  # the order is fulfilled by Amazon (known from its fees or returns)
    quantity: Decimal = Decimal(1)


@dataclass(frozen=True)
class ReturnRow:
    id: int
    order_id: str
    sku: str
    day: date
    fnsku: str = ""
    damaged_by: str | None = None  # "carrier", "warehouse" or None
    disposition: str = ""
    license_plate: str = ""
    quantity: Decimal = Decimal(1)
    marketplace: str = ""


@dataclass(frozen=True)
class ReimbursementRow:
    id: int
    order_id: str
    sku: str
    day: date
    amount: Decimal  # cash reimbursed (total), positive
    currency: str = ""
    quantity_inventory: Decimal = Decimal(0)  # units put back into stock instead of cash
    source: str = "report"  # "report" (amazon.sp.reimbursement) or "event" (an adjustment)


@dataclass(frozen=True)
class Candidate:
    kind: str
    order_id: str
    sku: str
    marketplace: str = ""
    fnsku: str = ""
    refund_date: date | None = None
    return_date: date | None = None
    due_date: date | None = None
    refund_amount: Decimal = Decimal(0)
    reimbursed_amount: Decimal = Decimal(0)
    claim_amount: Decimal = Decimal(0)
    currency: str = ""
    license_plate: str = ""
    disposition: str = ""
    damaged_by: str = ""
    event_ids: tuple = ()
    return_ids: tuple = ()
    reimbursement_ids: tuple = ()

    @property
    def key(self):
        return f"{self.kind}|{self.order_id}|{self.sku}"


def _by_order_sku(rows):
    found = defaultdict(list)
    for row in rows:
        if row.order_id and row.sku:
            found[(row.order_id, row.sku)].append(row)
    return found


def candidates(refunds, returns, reimbursements, today, window_days=DEFAULT_WINDOW_DAYS):
    """The open claim candidates on ``today``. ``window_days`` may be an int or a callable
    marketplace → int."""
    window = window_days if callable(window_days) else (lambda marketplace: window_days)
    refunded = _by_order_sku(refunds)
    returned = _by_order_sku(returns)
    reimbursed = _by_order_sku(reimbursements)
    result = []
    for (order_id, sku), rows in sorted(refunded.items()):
        if (order_id, sku) in returned or (order_id, sku) in reimbursed:
            continue
        if not any(row.fba for row in rows):
            continue
        first = min(rows, key=lambda row: row.day)
        due = first.day + timedelta(days=window(first.marketplace))
        if today < due:
            continue
        amount = sum((row.amount for row in rows), Decimal(0))
        result.append(
            Candidate(
                KIND_NOT_RETURNED,
                order_id,
                sku,
                marketplace=first.marketplace,
                refund_date=first.day,
                due_date=due,
                refund_amount=amount,
                claim_amount=amount,
                currency=first.currency,
                event_ids=tuple(sorted(row.event_id for row in rows)),
            )
        )
    for (order_id, sku), rets in sorted(returned.items()):
        damaged = [ret for ret in rets if ret.damaged_by in ("carrier", "warehouse")]
        if not damaged or (order_id, sku) in reimbursed:
            continue
        ret = min(damaged, key=lambda r: r.day)
        rows = refunded.get((order_id, sku), [])
        amount = sum((row.amount for row in rows), Decimal(0))
        result.append(
            Candidate(
                KIND_DAMAGED,
                order_id,
                sku,
                marketplace=ret.marketplace or (rows[0].marketplace if rows else ""),
                fnsku=ret.fnsku,
                refund_date=min((row.day for row in rows), default=None),
                return_date=ret.day,
                refund_amount=amount,
                claim_amount=amount,
                currency=rows[0].currency if rows else "",
                license_plate=ret.license_plate,
                disposition=ret.disposition,
                damaged_by=ret.damaged_by,
                event_ids=tuple(sorted(row.event_id for row in rows)),
                return_ids=tuple(sorted(r.id for r in damaged)),
            )
        )
    for (order_id, sku), reimbs in sorted(reimbursed.items()):
        rows = refunded.get((order_id, sku))
        if not rows or any(r.quantity_inventory for r in reimbs):
            continue
        refund = sum((row.amount for row in rows), Decimal(0))
        paid = sum((r.amount for r in reimbs), Decimal(0))
        if refund - paid <= CENT:
            continue
        rets = returned.get((order_id, sku), [])
        result.append(
            Candidate(
                KIND_SHORT,
                order_id,
                sku,
                marketplace=rows[0].marketplace,
                fnsku=next((r.fnsku for r in rets if r.fnsku), ""),
                refund_date=min(row.day for row in rows),
                return_date=min((r.day for r in rets), default=None),
                refund_amount=refund,
                reimbursed_amount=paid,
                claim_amount=refund - paid,
                currency=rows[0].currency,
                license_plate=next((r.license_plate for r in rets if r.license_plate), ""),
                event_ids=tuple(sorted(row.event_id for row in rows)),
                return_ids=tuple(sorted(r.id for r in rets)),
                reimbursement_ids=tuple(sorted(r.id for r in reimbs)),
            )
        )
    return result


def reimbursement_for(order_id, sku, reimbursements):
    """The reimbursements of an order's SKU (what closes a candidate)."""
    return [r for r in reimbursements if r.order_id == order_id and r.sku == sku]


def evidence(candidate, labels=None):
    """The facts Seller Central asks for, one per line (``labels`` translates the names)."""
    labels = labels or {}

    def label(name):
        return labels.get(name, name)

    facts = [
        (label("Order ID"), candidate.order_id),
        (label("SKU"), candidate.sku),
        (label("FNSKU"), candidate.fnsku),
        (label("Refund date"), candidate.refund_date and candidate.refund_date.isoformat()),
        (label("Return date"), candidate.return_date and candidate.return_date.isoformat()),
        (label("License plate number"), candidate.license_plate),
        (label("Disposition"), candidate.disposition),
        (label("Refunded"), f"{candidate.refund_amount} {candidate.currency}".strip()),
        (
            label("Reimbursed"),
            candidate.reimbursed_amount
            and f"{candidate.reimbursed_amount} {candidate.currency}".strip(),
        ),
        (label("Claimed"), f"{candidate.claim_amount} {candidate.currency}".strip()),
    ]
    return "\n".join(f"{name}: {value}" for name, value in facts if value)
