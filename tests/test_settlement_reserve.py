from datetime import UTC, timedelta
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.account_amazon_refund.emulator import operations

from .common_import import AmazonImportCommon, D

EUR_RATE = 0.9
GBP_RATE = 0.8


def _carry(amount):
    """Amazon's total holds ``amount`` carried in as the beginning balance, without an event."""

    def change(raw):
        for name in ("OriginalTotal", "ConvertedTotal", "BeginningBalance"):
            money = dict(raw[name])
            base = D(money["CurrencyAmount"]) if name != "BeginningBalance" else D(0)
            money["CurrencyAmount"] = float(base + amount)
            raw[name] = money
        return raw

    return change


def _failed(raw):
    raw["FundTransferStatus"] = "Failed"
    return raw


def _still_open(raw):
    for name in ("FundTransferStatus", "FundTransferDate", "TraceId", "FinancialEventGroupEnd"):
        raw.pop(name, None)
    raw["ProcessingStatus"] = "Open"
    return raw


@tagged("post_install", "-at_install")
class TestSettlementReserve(AmazonImportCommon):
    """Reserves and balances carried over two groups, a negative group (a charge), a failed
    transfer paid by the next group, a deferred refund booked in the group that releases it and
    a payout in a locked period: each ends as an accountant expects, the chatter saying what
    happened (doc/accounting-settlements.md)."""

    marketplace_codes = ("US", "UK", "DE")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ds, now = cls.dataset, cls.now
        eur, gbp = cls.env.ref("base.EUR"), cls.env.ref("base.GBP")
        (eur | gbp).active = True
        Rate = cls.env["res.currency.rate"]
        Rate.search([("currency_id", "in", (eur | gbp).ids)]).unlink()
        Rate.create(
            [
                {"currency_id": eur.id, "name": "2020-01-01", "rate": EUR_RATE},
                {"currency_id": gbp.id, "name": "2020-01-01", "rate": GBP_RATE},
            ]
        )

        def closed(currency, back):
            group = ds.group_for(currency, now - timedelta(hours=1))
            for _i in range(back):
                group = ds.group_for(currency, group.start - timedelta(seconds=1))
            return group

        def at(group, hours):
            return group.start + timedelta(hours=hours)

        cls.u1, cls.u2 = closed("USD", 2), closed("USD", 1)
        cls.g1, cls.g2 = closed("GBP", 2), closed("GBP", 1)
        cls.e1, cls.e2 = closed("EUR", 2), closed("EUR", 1)
        # USD: a reserve held at the end of the first group; Amazon's second total releases it
        # as its beginning balance, without a ReserveCredit event.
        cls.reserve = D("120.00")
        ds.add_refund("US", posted=at(cls.u1, 5), items=[cls.us_item()])
        ds.add_adjustment(
            "US", "ReserveDebit", posted=cls.u1.end - timedelta(minutes=5), amount=-cls.reserve
        )
        ds.add_service_fee(
            "US",
            fees={"Subscription": -D("39.99")},
            posted=at(cls.u2, 50),
            fee_reason="Subscription Fee",
            fee_description="Subscription Fee",
        )
        cls.u2.beginning_balance = cls.reserve
        # GBP: the first transfer fails; the second group pays it again.
        ds.add_refund("UK", posted=at(cls.g1, 15), items=[cls.eu_item("29.99")])
        ds.add_adjustment(
            "UK",
            "WAREHOUSE_DAMAGE",
            posted=at(cls.g2, 70),
            items=[{"sku": "SKU-UK-DMG", "quantity": 3, "per_unit": D("4.10")}],
        )
        # EUR: the first group holds only a fee (a negative total: Amazon charges the seller);
        # a refund posted then is deferred and released into the second group.
        ds.add_service_fee(
            "DE",
            fees={"Subscription": -D("39.00")},
            posted=at(cls.e1, 30),
            fee_reason="Subscription Fee",
            fee_description="Subscription Fee",
        )
        cls.deferred = ds.add_refund(
            "DE",
            posted=at(cls.e1, 60),
            items=[cls.eu_item("49.90")],
            deferred_until=now + timedelta(days=2),
        )
        cls.deferred.group_id = cls.e2.group_id
        ds.add_adjustment(
            "DE",
            "WAREHOUSE_LOST",
            posted=at(cls.e2, 80),
            items=[{"sku": "SKU-DE-LOST", "quantity": 1, "per_unit": D("23.45")}],
        )
        groups = (cls.u1, cls.u2, cls.g1, cls.g2, cls.e1, cls.e2)
        cls.bank_gbp = cls.env["account.journal"].create(
            {"name": "Bank GBP", "code": "BGBP", "type": "bank", "currency_id": gbp.id}
        )
        cls.bank_eur = cls.env["account.journal"].create(
            {"name": "Bank EUR", "code": "BEUR", "type": "bank", "currency_id": eur.id}
        )
        cls.account = cls._import_account(
            "na",
            cls.marketplace_us | cls.marketplace_uk | cls.marketplace_de,
            sync_from=min(g.start for g in groups).replace(tzinfo=None),
        )

    @staticmethod
    def eu_item(principal, sku="SKU-EU-1"):
        return {
            "sku": sku,
            "quantity": 1,
            "charges": {"Principal": -D(principal)},
            "fees": {"Commission": D("2.00"), "RefundCommission": -D("0.40")},
        }

    # helpers ---------------------------------------------------------------------------------

    def _groups_rendered(self, changes):
        """Amazon's groups as the emulator renders them, changed by ``changes`` (group id →
        function of the raw group)."""
        real = operations.to_v0_group

        def render(group, total, now):
            raw = real(group, total, now)
            change = changes.get(group.group_id)
            return change(dict(raw)) if change else raw

        return patch.object(operations, "to_v0_group", render)

    def _sync(self, changes=None):
        with self._groups_rendered(changes or {}):
            run = self.env["amazon.sp.service.import"]._sync(self.account)
        self.assertEqual(run.state, "done", run.error)
        return run

    def _settlement(self, group):
        return self.env["amazon.sp.settlement"].search(
            [("account_id", "=", self.account.id), ("group_id", "=", group.group_id)]
        )

    def _clearing_lines(self, settlement):
        clearing = self.env.company.amazon_sp_clearing_account_id
        moves = settlement.event_ids.move_ids | settlement.payout_move_id
        return moves.line_ids.filtered(lambda line: line.account_id == clearing)

    def _chatter(self, record):
        return " ".join(record.message_ids.mapped("body"))

    def _payout_bank_line(self, settlement):
        clearing = self.env.company.amazon_sp_clearing_account_id
        return settlement.payout_move_id.line_ids.filtered(
            lambda line: line.account_id.reconcile and line.account_id != clearing
        )

    # tests -----------------------------------------------------------------------------------

    def test_reserve_held_then_carried_in_reconciles_both_groups(self):
        self._sync({self.u2.group_id: _carry(self.reserve)})
        first, second = self._settlement(self.u1), self._settlement(self.u2)
        self.assertEqual(first.state, "reconciled", first.review_message)
        self.assertEqual(second.state, "reconciled", second.review_message)
        self.assertRecordValues(
            second, [{"carried_kind": "reserve", "carried_balance": float(self.reserve)}]
        )
        total_second = self.dataset.group_total(self.u2) + self.reserve
        self.assertAlmostEqual(second.original_total, float(total_second), places=2)
        self.assertAlmostEqual(
            self._payout_bank_line(second).amount_currency, float(total_second), places=2
        )
        # The reserve held by the first group (ReserveDebit) is released by the second payout:
        # the reserve account is back to zero, every clearing line of both groups reconciled.
        reserve = self.env.company._amazon_sp_account("reserve")
        moves = (first | second).event_ids.move_ids | (first | second).payout_move_id
        reserve_lines = moves.line_ids.filtered(lambda line: line.account_id == reserve)
        self.assertEqual(len(reserve_lines), 2)
        self.assertAlmostEqual(sum(reserve_lines.mapped("balance")), 0.0, places=2)
        for settlement in first | second:
            self.assertTrue(all(self._clearing_lines(settlement).mapped("reconciled")))
        self.assertIn("beginning balance of $&nbsp;120.00", self._chatter(second))
        self.assertIn("reserve", self._chatter(second))
        # A second run changes nothing.
        payouts = (first | second).payout_move_id
        self._sync({self.u2.group_id: _carry(self.reserve)})
        self.assertEqual((first | second).payout_move_id, payouts)

    def test_failed_transfer_stays_on_clearing_until_the_next_group_pays_it(self):
        self._sync({self.g1.group_id: _failed, self.g2.group_id: _still_open})
        failed, following = self._settlement(self.g1), self._settlement(self.g2)
        self.assertEqual(failed.state, "transfer_failed", failed.review_message)
        self.assertFalse(failed.payout_move_id)
        self.assertIn("as Failed: no payout is booked", self._chatter(failed))
        self.assertFalse(any(self._clearing_lines(failed).mapped("reconciled")))
        self.assertEqual(following.state, "open")
        # Amazon pays the failed total with the next group (its beginning balance).
        carried = self.dataset.group_total(self.g1)
        self._sync({self.g1.group_id: _failed, self.g2.group_id: _carry(carried)})
        self.assertEqual(following.state, "reconciled", following.review_message)
        self.assertEqual(following.carried_kind, "failed_transfer")
        self.assertRecordValues(
            failed,
            [
                {
                    "state": "reconciled",
                    "paid_by_id": following.id,
                    "payout_move_id": following.payout_move_id.id,
                }
            ],
        )
        self.assertAlmostEqual(
            self._payout_bank_line(following).amount_currency,
            float(self.dataset.group_total(self.g2) + carried),
            places=2,
        )
        for settlement in failed | following:
            lines = self._clearing_lines(settlement)
            self.assertTrue(lines and all(lines.mapped("reconciled")), settlement.name)
        self.assertIn("failed transfer with settlement", self._chatter(failed))

    def test_negative_group_is_a_charge_paid_to_amazon(self):
        self._sync({self.e2.group_id: _still_open})
        charged = self._settlement(self.e1)
        self.assertEqual(charged.state, "reconciled", charged.review_message)
        self.assertLess(charged.original_total, 0)
        line = self._payout_bank_line(charged)
        self.assertAlmostEqual(line.amount_currency, charged.original_total, places=2)
        self.assertEqual(line.currency_id, self.env.ref("base.EUR"))
        Service = self.env["amazon.sp.service.settlement"]
        self.assertEqual(line.account_id, Service._outstanding_account(self.bank_eur, True))
        self.assertNotEqual(line.account_id, Service._outstanding_account(self.bank_eur))
        self.assertIn("Amazon charge", charged.payout_move_id.ref)
        self.assertIn("charges 39.00&nbsp;€ to the seller's card", self._chatter(charged))
        self.assertTrue(all(self._clearing_lines(charged).mapped("reconciled")))

    def test_deferred_refund_is_booked_in_the_group_that_releases_it(self):
        self._sync({self.e2.group_id: _still_open})
        events = self.env["amazon.sp.event"].search([("account_id", "=", self.account.id)])
        event = events.filtered(lambda e: e.amazon_order_id == self.deferred.order_id)
        self.assertEqual(
            len(event),
            1,
            [(e.name, e.state, e.transaction_id, e.transaction_status) for e in events],
        )
        self.assertRecordValues(event, [{"state": "deferred", "move_ids": []}])
        self.assertEqual(self._settlement(self.e1).state, "reconciled")
        review = self.env["amazon.sp.reconciliation"].create(
            {
                "account_id": self.account.id,
                "scope": "settlement",
                "settlement_id": self._settlement(self.e2).id,
            }
        )
        self.assertEqual(self.env["amazon.sp.service.review"]._deferred_events(review), event)
        # Amazon releases it into the second group, which then closes.
        until = self.deferred.deferred_until
        self.deferred.deferred_until = self.now - timedelta(hours=2)
        try:
            self._sync()
        finally:
            self.deferred.deferred_until = until
        self.assertEqual(event.state, "posted", event.review_message)
        self.assertEqual(event.group_id, self.e2.group_id)
        self.assertIn("released this deferred transaction", self._chatter(event))
        released_in = self._settlement(self.e2)
        self.assertEqual(released_in.state, "reconciled", released_in.review_message)
        self.assertIn(event, released_in.event_ids)

    def test_group_in_a_locked_period_is_paid_on_the_first_open_day(self):
        lock = self.u1.end.astimezone(UTC).date() + timedelta(days=1)
        self.env.company.fiscalyear_lock_date = lock
        self._sync({self.u2.group_id: _carry(self.reserve)})
        settlement = self._settlement(self.u1)
        self.assertEqual(settlement.state, "reconciled", settlement.review_message)
        self.assertGreater(settlement.payout_move_id.date, lock)
        self.assertIn("in a locked period", self._chatter(settlement))
        self.assertIn("first open date", self._chatter(settlement))
        self.assertTrue(all(self._clearing_lines(settlement).mapped("reconciled")))
