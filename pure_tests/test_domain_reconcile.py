"""domain.reconcile: Amazon's figures beside Odoo's, each difference named."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from domain.model import NormalizedEvent, NormalizedLine
from domain.reconcile import KINDS, OdooEvent, compare, split_totals
from emulator.generator import UTC

D = Decimal
CENT = D("0.01")
POSTED = datetime(2026, 10, 1, 12, tzinfo=UTC)


def amazon(key, total, types=None, event_type="refund", status=None, order="111-1111111-1111111"):
    types = types or {"Charge/Principal": D(total)}
    return NormalizedEvent(
        key=key,
        fingerprint=f"fp-{key}",
        source_api="2024-06-19",
        event_type=event_type,
        amazon_order_id=order,
        marketplace_id="ATVPDKIKX0DER",
        marketplace_name="Amazon.com",
        posted_date=POSTED,
        currency="USD",
        total=D(total),
        lines=tuple(NormalizedLine(t, D(a)) for t, a in types.items()),
        transaction_status=status,
    )


def odoo(key, total, posted=True, state="posted", types=None, **kwargs):
    types = types or {"Charge/Principal": D(total)}
    return OdooEvent(
        ref=key,
        key=key,
        fingerprint=f"fp-{key}",
        state=state,
        amount_total=D(total),
        posted_total=D(total) if posted else None,
        lines={t: D(a) for t, a in types.items()},
        **kwargs,
    )


def kinds(result):
    return {d.event_key or d.key: d.kind for d in result.differences}


def test_equal_figures_are_balanced():
    a = [amazon("A", "-20.00"), amazon("B", "5.00", {"Adjustment/X": D("5.00")}, "adjustment")]
    o = [odoo("A", "-20.00"), odoo("B", "5.00", types={"Adjustment/X": D("5.00")})]
    result = compare(a, o, CENT)
    assert result.balanced and result.difference == 0
    assert [(f.amount_type, f.amazon, f.odoo) for f in result.per_type] == [
        ("Adjustment/X", D("5.00"), D("5.00")),
        ("Charge/Principal", D("-20.00"), D("-20.00")),
    ]


def test_every_event_kind_is_named():
    a = [
        amazon("missing", "-10.00"),
        amazon("deferred", "-7.00", status="DEFERRED"),
        amazon("waiting", "-3.00"),
        amazon("unmapped", "-4.00", {"Fee/New": D("-4.00")}),
        amazon("changed", "-17.00"),
        amazon("rounded", "-9.99"),
        amazon("edited", "-8.00"),
    ]
    o = [
        odoo("waiting", "-3.00", posted=False, state="ready"),
        odoo(
            "unmapped",
            "-4.00",
            posted=False,
            state="to_review",
            review_reason="unmapped",
            unmapped_types=("Fee/New",),
        ),
        odoo("changed", "-15.00"),
        replace(odoo("rounded", "-9.99"), posted_total=D("-9.98")),
        replace(odoo("edited", "-8.00"), posted_total=D("-6.00")),
        odoo("gone", "-2.00"),
    ]
    result = compare(a, o, CENT)
    assert kinds(result) == {
        "missing": "not_imported",
        "deferred": "deferred",
        "waiting": "not_posted",
        "unmapped": "unmapped",
        "changed": "changed",
        "rounded": "rounding",
        "edited": "changed",
        "gone": "changed",
    }
    by = {d.event_key: d for d in result.differences}
    assert by["missing"].amount == D("-10.00") and "is not in Odoo" in by["missing"].message
    assert by["missing"].order_id == "111-1111111-1111111"
    assert "deferred by Amazon" in by["deferred"].message
    assert "not posted (draft documents)" in by["waiting"].message
    assert "waits for a mapping of Fee/New" in by["unmapped"].message
    assert by["changed"].amount == D("-2.00")
    assert "Amazon changed it after import: was -15.00" in by["changed"].message
    assert "the posted document was changed" in by["edited"].message
    assert "Amazon no longer lists it" in by["gone"].message
    assert all(d.label == KINDS[d.kind] for d in result.differences)
    # Amazon: every event; Odoo: what is posted
    assert result.amazon_total == D("-58.99")
    assert result.odoo_total == D("-15.00") + D("-9.98") + D("-6.00") + D("-2.00")
    assert not result.balanced
    # stable keys: the same input names the same differences
    again = compare(a, o, CENT)
    assert [d.key for d in again.differences] == [d.key for d in result.differences]


def test_settlement_reserve_and_conversion_explain_without_unbalancing():
    result = compare(
        [amazon("A", "-20.00")],
        [odoo("A", "-20.00")],
        CENT,
        settlement={
            "group_id": "G1",
            "currency": "EUR",
            "converted_currency": "GBP",
            "beginning_balance": D("120.00"),
            "conversion_difference": D("-3.21"),
        },
    )
    assert {d.kind: d.amount for d in result.differences} == {
        "reserve": D("120.00"),
        "conversion": D("-3.21"),
    }
    assert result.balanced


def test_match_by_fingerprint_across_apis():
    a = [replace(amazon("v2024-key", "-5.00"), fingerprint="same")]
    o = [replace(odoo("v0:digest", "-5.00"), fingerprint="same")]
    assert compare(a, o, CENT).balanced


def test_split_totals_refunds_and_adjustments():
    events = [
        amazon("A", "-20.00"),
        amazon("B", "-5.00", event_type="chargeback"),
        amazon("C", "7.00", event_type="adjustment"),
        amazon("D", "-1.00", event_type="service_fee"),
    ]
    assert split_totals(events) == (D("-25.00"), D("6.00"))


def test_messages_write_amounts_with_the_currency_decimals():
    """Amounts in a difference's message have the currency's decimals: none in yen (v0 sends
    JSON numbers such as -4900.0), two in dollars; never a float such as "-4900.0"."""
    yen = compare(
        [amazon("jp", "-4900.0"), amazon("jp-changed", "-1200.0")],
        [replace(odoo("jp-changed", "-1200.0"), posted_total=D("-1000.0"))],
        D("1"),
    )
    by = {d.event_key: d.message for d in yen.differences}
    assert "(-4900 " in by["jp"] and "4900.0" not in by["jp"]
    assert "Amazon's amount -1200 " in by["jp-changed"] and "posted -1000" in by["jp-changed"]
    assert "1200.0" not in by["jp-changed"] and "1000.0" not in by["jp-changed"]
    dollars = compare([amazon("us", "-19.6")], [], CENT)
    assert "(-19.60 " in dollars.differences[0].message
