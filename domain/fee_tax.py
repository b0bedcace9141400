"""The VAT Amazon charges on its fees in a planned fee entry (pure Python, no Odoo).

The planner gives each ``FeeTax/<Fee>`` its own ``input_tax`` line beside the line of its fee
``Fee/<Fee>`` (``domain.plan``). ``amazon.sp.service.documents`` books it as input VAT on that
fee where the company is registered, else as part of the fee (what v0, which sends fees whole,
gives): these helpers pair the lines, fold them, check Amazon's VAT and split it.
"""

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)


def fee_tax_bases(lines):
    """``{index of an input_tax line: index of the line of its fee}`` in a document's ``lines``:
    the line on the same account naming ``Fee/<Fee>`` of the tax's ``FeeTax/<Fee>``, the
    nearest before the tax (the planner puts each item's fee before its tax), else the first
    after it. A tax whose fee has no line is left out."""
    bases = {}
    for index, line in enumerate(lines):
        if line.kind != "input_tax" or not line.amount_types:
            continue
        fee = "fee/" + line.amount_types[0].split("/", 1)[-1].lower()
        found = [
            other_index
            for other_index, other in enumerate(lines)
            if other.kind == "account"
            and other.account_ref == line.account_ref
            and fee in {t.lower() for t in other.amount_types}
        ]
        before = [other_index for other_index in found if other_index < index]
        if before or found:
            bases[index] = before[-1] if before else found[0]
    return bases


def fold_fee_taxes(lines, bases, label_of):
    """``lines`` with each input_tax amount added to the line of its fee (``bases``); a tax
    without one becomes an account line of its own labelled ``label_of(line)``. Lines that
    then net to nothing are dropped."""
    folded = []
    for index, line in enumerate(lines):
        if line.kind == "input_tax":
            if index not in bases:
                folded.append(replace(line, kind="account", label=label_of(line)))
            continue
        taxes = [lines[tax_index] for tax_index, base in bases.items() if base == index]
        if taxes:
            line = replace(
                line,
                amount=line.amount + sum((tax.amount for tax in taxes), Decimal(0)),
                amount_types=line.amount_types
                + tuple(t for tax in taxes for t in tax.amount_types),
            )
        folded.append(line)
    return [line for line in folded if line.amount]


def fee_tax_gap(base, tax_amount, rate, quantum):
    """The tax ``rate`` (percent) gives on a fee of ``base`` when it differs from Amazon's
    ``tax_amount`` by more than a cent's rounding (one ``quantum``), else None."""
    odoo = (base * rate / 100).quantize(quantum, rounding=ROUND_HALF_UP)
    return odoo if abs(odoo - tax_amount) > quantum else None


def split_by_factors(amount, factors, quantum):
    """``amount`` shared among repartition lines of ``factors`` (ratios, e.g. 1.0; negative
    for a reverse charge): the positive ones share all of it in proportion, the last of them
    taking what rounding left; a negative one gets its part of it, negated."""
    positive = sum((f for f in factors if f > 0), ZERO)
    if not positive:  # no line takes the tax: the entry's check names the missing amount
        return [ZERO] * len(factors)
    last = max((i for i, f in enumerate(factors) if f > 0), default=None)
    shares, left = [], amount
    for index, factor in enumerate(factors):
        if index == last:
            shares.append(left)
            continue
        share = (amount * factor / positive).quantize(quantum, rounding=ROUND_HALF_UP)
        if factor > 0:
            left -= share
        shares.append(share)
    return shares
