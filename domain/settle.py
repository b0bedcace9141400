"""Financial event groups (settlements): Amazon's figures, and whether Odoo can pay them out.

Pure: no Odoo. ``parse_group`` turns a v0 ``FinancialEventGroup`` into a :class:`Group` with
``Decimal`` amounts; ``check_group`` compares it with what Odoo posted for its events and says
whether the payout can be made, or why the group waits (named reasons).
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .values import parse_amount, parse_date

# FundTransferStatus is undocumented. Values meaning the money left Amazon: "Succeeded" (seen in
# data), "Transferred", and the sandbox's mock "TRANSFERED" / "PROCESSED". Compared in lower case.
TRANSFERRED_STATUSES = frozenset(
    {"succeeded", "successful", "transferred", "transfered", "processed"}
)
# Values meaning it will not arrive as reported.
FAILED_STATUSES = frozenset({"failed", "fail", "unknown"})


def is_deferred(transaction_status):
    """Whether a 2024-06-19 ``transactionStatus`` says Amazon defers the transaction
    (``DEFERRED``; Amazon writes ``Deferred`` too). ``DEFERRED_RELEASED`` and ``RELEASED`` are
    released; v0 lists a deferred event only once released (financesV0.json)."""
    return (transaction_status or "").replace("_", "").strip().upper() == "DEFERRED"


class GroupError(ValueError):
    """A financial event group Amazon sent that cannot be read (its raw payload is kept)."""


@dataclass(frozen=True)
class Group:
    group_id: str
    processing_status: str | None  # "open" | "closed" | None
    fund_transfer_status: str | None
    fund_transfer_date: datetime | None
    start: datetime | None
    end: datetime | None
    currency: str | None
    original_total: Decimal | None
    converted_currency: str | None
    converted_total: Decimal | None
    beginning_balance: Decimal | None
    trace_id: str | None
    account_tail: str | None
    raw: dict = field(repr=False, compare=False, default_factory=dict)
    raw_sha256: str = ""

    @property
    def closed(self):
        return self.processing_status == "closed"

    @property
    def transferred(self):
        return (self.fund_transfer_status or "").strip().lower() in TRANSFERRED_STATUSES

    @property
    def transfer_failed(self):
        return (self.fund_transfer_status or "").strip().lower() in FAILED_STATUSES


def _date(value, name):
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise GroupError(f"{name} is not a date: {value!r}")
    return parse_date(
        value,
        name,
        iso_forms=True,
        error=GroupError,
        message=f"{name} is not an ISO 8601 date: {value!r}",
    )


def _money(value, name):
    if value in (None, {}):
        return None, None
    if not isinstance(value, dict):
        raise GroupError(f"{name} is not a currency amount: {value!r}")
    code = value.get("CurrencyCode")
    amount = value.get("CurrencyAmount")
    if amount is None:
        return code, None
    amount = parse_amount(
        amount, name, error=GroupError, message=f"{name} has no readable amount: {amount!r}"
    )
    return code, amount


def raw_digest(raw):
    text = json.dumps(raw, sort_keys=True, default=str, separators=(",", ":"))
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_group(raw):
    """A v0 ``FinancialEventGroup`` (dict, amounts JSON numbers or Decimals) → :class:`Group`."""
    if not isinstance(raw, dict):
        raise GroupError(f"financial event group is not an object: {raw!r}")
    group_id = raw.get("FinancialEventGroupId")
    if not group_id or not isinstance(group_id, str):
        raise GroupError("financial event group without FinancialEventGroupId")
    status = raw.get("ProcessingStatus")
    status = status.strip().lower() if isinstance(status, str) and status.strip() else None
    currency, original = _money(raw.get("OriginalTotal"), "OriginalTotal")
    converted_currency, converted = _money(raw.get("ConvertedTotal"), "ConvertedTotal")
    balance_currency, balance = _money(raw.get("BeginningBalance"), "BeginningBalance")
    currency = currency or balance_currency
    if balance_currency and currency and balance_currency != currency:
        raise GroupError(
            f"group {group_id}: BeginningBalance in {balance_currency}, OriginalTotal in {currency}"
        )
    _text, sha = raw_digest(raw)
    return Group(
        group_id=group_id,
        processing_status=status,
        fund_transfer_status=raw.get("FundTransferStatus") or None,
        fund_transfer_date=_date(raw.get("FundTransferDate"), "FundTransferDate"),
        start=_date(raw.get("FinancialEventGroupStart"), "FinancialEventGroupStart"),
        end=_date(raw.get("FinancialEventGroupEnd"), "FinancialEventGroupEnd"),
        currency=currency,
        original_total=original,
        converted_currency=converted_currency or currency,
        converted_total=converted if converted is not None else original,
        beginning_balance=balance,
        trace_id=raw.get("TraceId") or None,
        account_tail=raw.get("AccountTail") or None,
        raw=raw,
        raw_sha256=sha,
    )


# ---------------------------------------------------------------------------------------------
# Can the group be paid out?
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OdooFacts:
    """What Odoo holds for a group's events, in the group's currency."""

    posted_total: Decimal  # what the posted documents moved on the clearing account
    posted_count: int = 0
    waiting_count: int = 0  # staged, not posted (new, to review, draft, error)
    waiting_total: Decimal = Decimal(0)  # Amazon's net of the waiting events
    ignored_count: int = 0
    changed_count: int = 0  # changed upstream after posting
    deferred_count: int = 0  # deferred by Amazon: booked in the group that releases them


# Where a beginning balance the group's events do not hold comes from (``carried_kind``):
CARRIED_FAILED = "failed_transfer"  # the total of an earlier group whose transfer failed
CARRIED_RESERVE = "reserve"  # a reserve Amazon held at the end of the previous group
CARRIED_CHARGE = "charge"  # a negative balance (payable to Amazon) charged to the seller


@dataclass(frozen=True)
class GroupCheck:
    """``status``: "open" | "waiting_transfer" | "transfer_failed" | "match" | "mismatch".

    ``carried``: the group's beginning balance when Amazon's total holds it but none of the
    group's events does (it is booked by the payout, see :func:`check_group`), else 0.
    ``notes``: plain facts for the chatter (a charge, a carried balance)."""

    status: str
    amazon_total: Decimal | None
    odoo_total: Decimal
    difference: Decimal | None
    reasons: tuple = ()
    carried: Decimal = Decimal(0)
    notes: tuple = ()

    @property
    def payable(self):
        return self.status == "match"

    @property
    def charge(self):
        """A negative total: Amazon charges the seller (card or bank account on file)."""
        return self.amazon_total is not None and self.amazon_total < 0


def carried_kind(beginning_balance, failed_totals=()):
    """Where a carried beginning balance comes from: the total of an earlier group whose
    transfer failed (``failed_totals``, the totals of the account's unpaid failed groups in the
    currency) when it equals one, else a reserve (positive) or a charge (negative)."""
    if beginning_balance in failed_totals:
        return CARRIED_FAILED
    return CARRIED_RESERVE if beginning_balance > 0 else CARRIED_CHARGE


def check_group(group, facts, quantum):
    """Compare Amazon's OriginalTotal with Odoo's posted total, to ``quantum`` (the currency's
    smallest unit, e.g. ``Decimal("0.01")``).

    OriginalTotal is "the total amount of a disbursement or a charge amount" of a closed group
    (financesV0.json): the sum of its events. The reserve Amazon holds at the end of a group is
    one of its events (AdjustmentEvent ``ReserveDebit``, negative), and its release one of the
    next group's (``ReserveCredit``, positive, equal to that group's BeginningBalance): then the
    events alone make the total and the beginning balance is shown, not added. When every event
    of the group is posted and the difference is exactly the BeginningBalance, Amazon's total
    holds the balance carried in without an event (a reserve released, a failed transfer paid
    again, a negative balance charged): the group matches with ``carried`` = that balance, which
    the payout books (doc/accounting-settlements.md). A negative total is a charge of the
    seller: payable like a payout, in the other direction.
    """
    odoo_total = facts.posted_total.quantize(quantum)
    if not group.closed:
        return GroupCheck("open", group.original_total, odoo_total, None)
    if group.original_total is None:
        return GroupCheck(
            "mismatch", None, odoo_total, None, ("Amazon sent no OriginalTotal for the group",)
        )
    amazon_total = group.original_total
    difference = (amazon_total - odoo_total).quantize(quantum)
    balance = (group.beginning_balance or Decimal(0)).quantize(quantum)
    carried = Decimal(0)
    notes = []
    if (
        difference
        and balance
        and difference == balance
        and not (facts.waiting_count or facts.changed_count or facts.deferred_count)
    ):
        carried, difference = balance, Decimal(0).quantize(quantum)
        notes.append(
            f"Amazon's total {amazon_total} {group.currency} includes the beginning balance "
            f"{balance} carried from an earlier group, which none of this group's events holds"
        )
    reasons = []
    if difference:
        reasons.append(
            f"Amazon's total {amazon_total} {group.currency} differs from the {odoo_total} "
            f"posted in Odoo by {difference}"
        )
        if facts.waiting_count:
            reasons.append(
                f"{facts.waiting_count} event(s) of the group not posted "
                f"(Amazon's amount {facts.waiting_total.quantize(quantum)})"
            )
        if facts.deferred_count:
            reasons.append(f"{facts.deferred_count} event(s) of the group deferred by Amazon")
        if facts.changed_count:
            reasons.append(f"{facts.changed_count} event(s) changed by Amazon after posting")
        if facts.ignored_count:
            reasons.append(f"{facts.ignored_count} event(s) ignored in Odoo")
        rest = difference - facts.waiting_total.quantize(quantum)
        if rest and not facts.changed_count:
            if balance and rest == balance:
                reasons.append(
                    f"{rest} is the group's beginning balance: it is booked once every event "
                    "of the group is posted"
                )
            else:
                reasons.append(f"{rest} not explained by Odoo's events: event(s) missing in Odoo?")
        return GroupCheck("mismatch", amazon_total, odoo_total, difference, tuple(reasons))
    if amazon_total < 0:
        notes.append(
            f"The group's total is negative: Amazon charges {-amazon_total} {group.currency} "
            "to the seller's card or bank account on file"
        )
    if group.transfer_failed:
        return GroupCheck(
            "transfer_failed",
            amazon_total,
            odoo_total,
            difference,
            (f"Amazon reports the fund transfer as {group.fund_transfer_status}",),
            carried,
            tuple(notes),
        )
    if not group.transferred:
        return GroupCheck(
            "waiting_transfer", amazon_total, odoo_total, difference, (), carried, tuple(notes)
        )
    return GroupCheck("match", amazon_total, odoo_total, difference, (), carried, tuple(notes))
