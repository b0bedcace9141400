"""A settlement report compared with the events of its settlement (see
doc/settlement-reports.md): per amount type and in total. Pure: no Odoo.

Rows of a category the addon does not import are summed apart and named, never a false
difference; a category is compared when the events carry it (its amount types, or its event
kinds: the sales once sales are imported).
"""

from dataclasses import dataclass
from decimal import Decimal

from .settlement_report import CATEGORIES, FEE_TAX, _sum_by_type


@dataclass(frozen=True)
class WitnessLine:
    amount_type: str
    report: Decimal
    events: Decimal

    @property
    def difference(self):
        return self.report - self.events


@dataclass(frozen=True)
class NotImported:
    """Report rows of a category the addon does not import: their sum, per amount type."""

    category: str
    label: str
    amount: Decimal
    by_type: tuple = ()  # ((amount type, amount), ...)


@dataclass(frozen=True)
class Comparison:
    lines: tuple  # WitnessLine per amount type, rows the addon imports
    differences: tuple  # texts; empty when the report agrees with the events
    not_imported: tuple = ()  # NotImported per category
    notes: tuple = ()  # texts: what was not compared, names that differ for the same money
    compared_total: Decimal = Decimal(0)  # the report's total less what is not imported


def _pool(amount_type):
    """The family whose types are compared together when the two sides name them apart."""
    family = amount_type.split("/", 1)[0]
    return "Fee" if family == FEE_TAX else family


def _line_differences(lines, report_types, events_by_type):
    """Differences per amount type. Within a family (Fee with FeeTax), amounts that the report
    and the events name differently (a name on one side only) but that add up to the same sum
    are a naming difference, not a money one: noted, not reported."""
    differing = [line for line in lines if line.difference]
    pools = {}
    for line in differing:
        if not line.amount_type.startswith("Report/"):
            pools.setdefault(_pool(line.amount_type), []).append(line)
    forgiven, notes = set(), []
    for family, pool in sorted(pools.items()):
        one_sided = [
            line.amount_type
            for line in pool
            if (line.amount_type in report_types) != (line.amount_type in events_by_type)
        ]
        if one_sided and not sum((line.difference for line in pool), Decimal(0)):
            forgiven.update(line.amount_type for line in pool)
            notes.append(
                f"{family}: the report and the events name these amounts differently "
                f"({', '.join(line.amount_type for line in pool)}); their sums agree"
            )
    differences = []
    for line in differing:
        if line.amount_type in forgiven:
            continue
        if line.amount_type.startswith("Report/"):
            what = "not known to the mapping of report rows"
        elif line.amount_type not in events_by_type:
            what = "not in the events"
        elif line.amount_type not in report_types:
            what = "not in the report"
        else:
            what = f"report {line.report}, events {line.events}"
        differences.append(f"{line.amount_type}: {what} (difference {line.difference})")
    return differences, notes


def compare(report, events_by_type, events_total, event_kinds=()):
    """Report vs events, per amount type and in total → :class:`Comparison`.

    Rows of a category the addon does not import (liquidations, transfers; sales unless
    ``event_kinds``, the event types of the settlement's events, has ``sale``; the reserve and
    advertising until the events carry them) are summed apart in ``not_imported`` and left out
    of the comparison: the report's total less them must equal the events' total.
    """
    kinds = set(event_kinds)
    imported = {
        key
        for key, c in CATEGORIES.items()
        if (c.event_types & set(events_by_type)) or (c.event_kinds & kinds)
    }
    compared = [row for row in report.rows if not row.category or row.category in imported]
    apart = {}
    for row in report.rows:
        if row.category and row.category not in imported:
            apart.setdefault(row.category, []).append(row)
    not_imported = tuple(
        NotImported(
            category=key,
            label=CATEGORIES[key].label,
            amount=sum((row.amount for row in rows), Decimal(0)),
            by_type=tuple(sorted(_sum_by_type(rows).items())),
        )
        for key, rows in sorted(apart.items())
    )
    report_types = _sum_by_type(compared)
    types = sorted(set(report_types) | set(events_by_type))
    lines = tuple(
        WitnessLine(t, report_types.get(t, Decimal(0)), events_by_type.get(t, Decimal(0)))
        for t in types
    )
    apart_total = sum((item.amount for item in not_imported), Decimal(0))
    compared_total = report.total - apart_total
    differences, notes = [], []
    if not_imported:
        notes.append(
            "Not imported by the addon, so not compared: "
            + ", ".join(f"{item.label} {item.amount}" for item in not_imported)
            + f" {report.currency}"
        )
    if compared_total != events_total:
        less = f", less {apart_total} not imported by the addon," if not_imported else ""
        differences.append(
            f"Report total {report.total} {report.currency}{less} differs from the events' "
            f"{events_total} by {compared_total - events_total}"
        )
    if report.rows_total != report.total:
        differences.append(
            f"The report's rows add up to {report.rows_total}, its total says {report.total}"
        )
    per_type, naming = _line_differences(lines, report_types, events_by_type)
    return Comparison(
        lines=lines,
        differences=tuple(differences + per_type),
        not_imported=not_imported,
        notes=tuple(notes + naming),
        compared_total=compared_total,
    )


def compare_with_events(report, events_by_type, events_total, event_kinds=()):
    """``(lines, differences)`` of :func:`compare` (which also says what was not compared)."""
    comparison = compare(report, events_by_type, events_total, event_kinds)
    return comparison.lines, comparison.differences
