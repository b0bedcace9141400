"""domain.anomalies and domain.claims: each rule fires on its case and stays silent on normal
data."""

from datetime import date, timedelta
from decimal import Decimal

from domain import anomalies, claims
from domain.anomalies import OrderMoney, ReturnRow, Thresholds

D = Decimal
TODAY = date(2026, 11, 30)


def refund(id_, day=TODAY, kind="refund", mp="DE", amount="20.00", order=None, skus=("A",), **kw):
    return OrderMoney(
        id_, kind, mp, day, D(amount), order_id=order or f"O-{id_}", skus=skus, currency="EUR", **kw
    )


def normal_rows():
    """Twelve weeks of a calm seller: two refunds a day at most, every order once, refunds
    below their sale, claims spread over SKUs and buyers."""
    rows, n = [], 0
    for back in range(84):
        day = TODAY - timedelta(days=back)
        for sku in ("A", "B"):
            if (back + (sku == "B")) % 3:
                continue
            n += 1
            rows.append(refund(n, day, skus=(sku,), order=f"R-{n}"))
            rows.append(
                refund(
                    10000 + n,
                    day - timedelta(days=5),
                    kind="sale",
                    order=f"R-{n}",
                    amount="25.00",
                    skus=(sku,),
                )
            )
    rows.append(refund(5001, TODAY, kind="guarantee_claim", skus=("C",), buyer="p1"))
    rows.append(refund(5002, TODAY, kind="chargeback", skus=("D",), buyer="p2"))
    return rows


def test_normal_data_gives_no_hit():
    returns = [ReturnRow(1, "DE", "DE", "LEJ1", TODAY), ReturnRow(2, "FR", "FR", "ORY4", TODAY)]
    assert anomalies.run_rules(normal_rows(), returns, TODAY) == []


def test_daily_volume_by_count_and_by_amount():
    rows = [refund(i) for i in range(11)] + [refund(100 + i, mp="FR") for i in range(10)]
    hits = anomalies.daily_volume(rows, lambda mp: Thresholds())
    assert [(h.marketplace, h.figures["count"]) for h in hits] == [("DE", 11)]
    assert hits[0].key == f"daily_volume|DE|{TODAY.isoformat()}"
    assert hits[0].figures["amount"] == D("220.00")
    assert len(hits[0].ids) == 11
    by_amount = anomalies.daily_volume(
        rows, lambda mp: Thresholds(refunds_per_day=0, amount_per_day=D("199.99"))
    )
    assert [h.marketplace for h in by_amount] == ["DE", "FR"]
    off = anomalies.daily_volume(rows, lambda mp: Thresholds(refunds_per_day=0))
    assert off == []


def test_sku_spike_against_its_eight_week_baseline():
    # baseline: 8 refunds of A in the 8 weeks before (1 a week) → more than 2 a week is a spike
    base = [refund(i, TODAY - timedelta(days=7 * (i + 1))) for i in range(8)]
    calm = [refund(50, TODAY), refund(51, TODAY - timedelta(days=6))]
    assert anomalies.sku_spike(base + calm, TODAY, lambda mp: Thresholds()) == []
    spike = [*calm, refund(52, TODAY - timedelta(days=2))]
    (hit,) = anomalies.sku_spike(base + spike, TODAY, lambda mp: Thresholds())
    assert hit.figures["count"] == 3
    assert hit.figures["weekly_mean"] == D("1.00")
    assert hit.ids == (50, 51, 52)
    # a refund 7 days ago belongs to the baseline, not to the last 7 days
    old = [*calm, refund(53, TODAY - timedelta(days=7))]
    assert anomalies.sku_spike(base + old, TODAY, lambda mp: Thresholds()) == []
    # a busy SKU: 3 a week in the baseline → 3 in the last week is normal
    busy = [refund(100 + i, TODAY - timedelta(days=7 + i * 2)) for i in range(24)]
    assert anomalies.sku_spike(busy + spike, TODAY, lambda mp: Thresholds()) == []


def test_repeat_refund_of_an_order_and_sku():
    rows = [
        refund(1, order="O-1", skus=("A",)),
        refund(2, order="O-1", skus=("B",)),  # another item of the order: normal
        refund(3, order="O-2", skus=("A",)),
    ]
    assert anomalies.repeat_refunds(rows) == []
    rows.append(refund(4, order="O-2", skus=("A",), day=TODAY - timedelta(days=3)))
    (hit,) = anomalies.repeat_refunds(rows)
    assert (hit.subject, hit.ids, hit.figures["count"]) == ("O-2|A", (3, 4), 2)


def test_over_refund_needs_the_sale():
    rows = [refund(1, order="O-1", amount="30.00")]
    assert anomalies.over_refunds(rows) == []  # sale unknown: nothing said
    rows.append(refund(2, kind="sale", order="O-1", amount="30.00"))
    assert anomalies.over_refunds(rows) == []  # refunded what was paid
    rows.append(refund(3, kind="chargeback", order="O-1", amount="5.00"))
    (hit,) = anomalies.over_refunds(rows)
    assert hit.figures["excess"] == D("5.00")
    assert hit.ids == (1, 3)


def test_buyer_amount_counts_charges_and_promotions_only():
    lines = [
        ("Charge/Principal", D("-20.00"), "A"),
        ("Charge/Tax", D("-3.80"), "A"),
        ("Promotion/Principal", D("2.00"), "A"),
        ("Fee/Commission", D("3.00"), "A"),
        ("Charge/Principal", D("-10.00"), "B"),
    ]
    assert anomalies.buyer_amount(lines) == D("-31.80")
    assert anomalies.buyer_amount(lines, sku="A") == D("-21.80")


def test_claims_concentrating_on_a_sku_or_a_buyer():
    rows = [
        refund(1, kind="guarantee_claim", skus=("A",), buyer="p1"),
        refund(2, kind="chargeback", skus=("A",), buyer="p2", day=TODAY - timedelta(days=10)),
        refund(3, kind="guarantee_claim", skus=("A",), buyer="p2", day=TODAY - timedelta(days=89)),
        refund(4, kind="guarantee_claim", skus=("B",), buyer="p2", day=TODAY - timedelta(days=90)),
        refund(5, kind="refund", skus=("A",), buyer="p1"),
    ]
    hits = anomalies.claim_concentration(rows, TODAY, lambda mp: Thresholds())
    assert [(h.rule, h.subject, h.ids) for h in hits] == [("claims_sku", "A", (1, 2, 3))]
    assert hits[0].figures["claims"] == 2
    assert hits[0].figures["chargebacks"] == 1
    hits = anomalies.claim_concentration(rows, TODAY, lambda mp: Thresholds(claims_days=91))
    assert ("claims_buyer", "p2", (2, 3, 4)) in [(h.rule, h.subject, h.ids) for h in hits]


def test_return_received_in_another_country():
    returns = [
        ReturnRow(1, "DE", "DE", "LEJ1", TODAY),
        ReturnRow(2, "DE", "DE", "WRO5", TODAY, order_id="O-2", sku="A"),
        ReturnRow(3, "DE", "DE", "XYZ9", TODAY),  # unknown center: nothing guessed
        ReturnRow(4, "DE", "DE", None, TODAY),
    ]
    (hit,) = anomalies.return_country(returns)
    assert hit.figures["center_country"] == "PL"
    assert hit.ids == (2,)
    assert anomalies.fc_country("mxp5") == "IT"
    assert anomalies.fc_country("LEJ") is None


# ------------------------------------------------------------------------------------------
# Claims
# ------------------------------------------------------------------------------------------


def r_refund(event_id, order="O-1", sku="A", day=TODAY - timedelta(days=45), fba=True):
    return claims.RefundRow(event_id, order, sku, day, D("20.00"), "EUR", "DE", fba=fba)


def test_fba_refund_not_returned_after_the_window():
    rows = [r_refund(1), r_refund(2, order="O-2", day=TODAY - timedelta(days=44))]
    (cand,) = claims.candidates(rows, [], [], TODAY)
    assert (cand.kind, cand.order_id, cand.sku, cand.event_ids) == (
        "not_returned",
        "O-1",
        "A",
        (1,),
    )
    assert cand.due_date == TODAY
    assert cand.claim_amount == D("20.00")
    assert claims.candidates(rows, [], [], TODAY, window_days=46) == []
    # merchant-fulfilled (no FBA evidence): not Amazon's to reimburse
    assert claims.candidates([r_refund(1, fba=False)], [], [], TODAY) == []


def test_returned_or_reimbursed_refund_is_no_candidate():
    rows = [r_refund(1)]
    returned = [claims.ReturnRow(7, "O-1", "A", TODAY - timedelta(days=30), disposition="SELLABLE")]
    assert claims.candidates(rows, returned, [], TODAY) == []
    paid = [claims.ReimbursementRow(9, "O-1", "A", TODAY, D("20.00"))]
    assert claims.candidates(rows, [], paid, TODAY) == []
    other_sku = [claims.ReimbursementRow(9, "O-1", "B", TODAY, D("20.00"))]
    assert [c.kind for c in claims.candidates(rows, [], other_sku, TODAY)] == ["not_returned"]


def test_damaged_return_without_reimbursement():
    rows = [r_refund(1, day=TODAY - timedelta(days=5))]
    rets = [
        claims.ReturnRow(
            7,
            "O-1",
            "A",
            TODAY - timedelta(days=2),
            fnsku="X00",
            damaged_by="carrier",
            disposition="CARRIER_DAMAGED",
            license_plate="LPNRR123",
        )
    ]
    (cand,) = claims.candidates(rows, rets, [], TODAY)
    assert (cand.kind, cand.license_plate, cand.fnsku, cand.return_ids) == (
        "damaged",
        "LPNRR123",
        "X00",
        (7,),
    )
    text = claims.evidence(cand)
    assert "Order ID: O-1" in text
    assert "License plate number: LPNRR123" in text
    paid = [claims.ReimbursementRow(9, "O-1", "A", TODAY, D("20.00"))]
    assert claims.candidates(rows, rets, paid, TODAY) == []
    sellable = [claims.ReturnRow(7, "O-1", "A", TODAY, disposition="SELLABLE")]
    assert claims.candidates(rows, sellable, [], TODAY) == []


def test_short_reimbursement():
    rows = [r_refund(1)]
    low = [claims.ReimbursementRow(9, "O-1", "A", TODAY, D("12.50"))]
    (cand,) = claims.candidates(rows, [], low, TODAY)
    assert (cand.kind, cand.claim_amount, cand.reimbursement_ids) == ("short", D("7.50"), (9,))
    full = [claims.ReimbursementRow(9, "O-1", "A", TODAY, D("19.995"))]
    assert claims.candidates(rows, [], full, TODAY) == []
    stock = [claims.ReimbursementRow(9, "O-1", "A", TODAY, D(0), quantity_inventory=D(1))]
    assert claims.candidates(rows, [], stock, TODAY) == []
