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


@dataclass(frozen=True)
class GroupCheck:
    status: str  # "open" | "waiting_transfer" | "transfer_failed" | "match" | "mismatch"
    amazon_total: Decimal | None
    odoo_total: Decimal
    difference: Decimal | None
    reasons: tuple = ()

    @property
    def payable(self):
        return self.status == "match"


def check_group(group, facts, quantum):
    """Compare Amazon's OriginalTotal with Odoo's posted total, to ``quantum`` (the currency's
    smallest unit, e.g. ``Decimal("0.01")``).

    The group's BeginningBalance (a reserve carried over from the previous group) is not part of
    OriginalTotal's events in Odoo: Amazon reports the hold and the release as ``ReserveEvent``
    adjustments inside the groups, so the release is already one of this group's events; the
    balance is shown, never added.
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
        if facts.changed_count:
            reasons.append(f"{facts.changed_count} event(s) changed by Amazon after posting")
        if facts.ignored_count:
            reasons.append(f"{facts.ignored_count} event(s) ignored in Odoo")
        rest = difference - facts.waiting_total.quantize(quantum)
        if rest and not facts.changed_count:
            reasons.append(f"{rest} not explained by Odoo's events: event(s) missing in Odoo?")
        return GroupCheck("mismatch", amazon_total, odoo_total, difference, tuple(reasons))
    if group.transfer_failed:
        return GroupCheck(
            "transfer_failed",
            amazon_total,
            odoo_total,
            difference,
            (f"Amazon reports the fund transfer as {group.fund_transfer_status}",),
        )
    if not group.transferred:
        return GroupCheck("waiting_transfer", amazon_total, odoo_total, difference)
    return GroupCheck("match", amazon_total, odoo_total, difference)
