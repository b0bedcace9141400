from datetime import timedelta

from odoo.tests import tagged

from .common_import import AmazonImportCommon, D

# Event types whose date both APIs give (v0 service fees and some adjustments come without one:
# they are dated at the end of their settlement).
DATED = ("refund", "guarantee_claim", "chargeback", "retrocharge")


@tagged("post_install", "-at_install")
class TestImportRealShapes(AmazonImportCommon):
    """The shapes Amazon really sends, served by the emulator in both APIs, post with the
    default setup and give the same documents (doc/event-shapes.md, doc/emulator.md)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ds, now = cls.dataset, cls.now
        recent, settled = now - timedelta(days=3), now - timedelta(days=30)
        # Settled: in a financial event group closed long ago (v0 sends undated events only
        # with their group; groups last 14 days).
        # A DE refund with a free-shipping promotion (R01's amounts): the promotion includes
        # VAT; v0 writes it as one type, 2024-06-19 as PromoRebates with its VAT apart.
        cls.promo = ds.add_refund(
            "DE",
            posted=recent,
            items=[
                {
                    "sku": "COOL-SKU-DE",
                    "quantity": 1,
                    "charges": {
                        "Principal": -D("12.06"),
                        "Tax": -D("2.29"),
                        "ShippingCharge": -D("0.71"),
                        "ShippingTax": -D("0.13"),
                    },
                    "promotions": {"PromotionMetaDataDefinitionValue": D("0.84")},
                    "promotion_base": "Shipping",
                    "fees": {"Commission": D("2.15"), "RefundCommission": -D("0.43")},
                    "fee_taxes": {},
                }
            ],
            quirks=(),
        )
        # Fee VAT in the EU and the UK (the marketplace's rate on each fee), a null status.
        ds.add_refund("UK", posted=recent - timedelta(hours=5), quirks=("status_null",))
        ds.add_refund("DE", kind="chargeback", posted=recent - timedelta(hours=7), quirks=())
        ds.add_refund("US", posted=recent - timedelta(hours=9), quirks=("status_null",))
        # The reserve as Amazon sends it: ReserveDebit held, ReserveCredit released.
        ds.add_adjustment("US", "ReserveEvent", amount="-150.00", posted=recent, quirks=())
        ds.add_adjustment(
            "US", "ReserveEvent", amount="150.00", posted=recent + timedelta(hours=1), quirks=()
        )
        # A reimbursement: 2024 items without breakdowns, v0 without date nor amount (R12, R03).
        ds.add_adjustment(
            "UK",
            "FBAInventoryReimbursement",
            posted=settled,
            items=[{"sku": "SKU-UK-LOST", "quantity": 2, "per_unit": D("7.45")}],
            quirks=("items_null", "v0_undated"),
        )
        # Service fees: v0 without date (and a twin without FeeList), 2024 items showing part of
        # the bill (R11), JP fees without Base/Tax, UK fees with Amazon's VAT.
        ds.add_service_fee(
            "JP", fees={"FBAStorageFee": D("-12609")}, posted=settled, quirks=("items_partial",)
        )
        ds.add_service_fee(
            "UK",
            fees={"FBAStorageFee": D("-20.40")},
            posted=settled + timedelta(hours=2),
            quirks=("v0_feeless_twin",),
        )
        ds.add_service_fee(
            "DE",
            fees={"Subscription": D("-39.00")},
            posted=settled + timedelta(hours=3),
            quirks=("items_partial",),
        )
        # A retrocharge (tax charged afterwards, not withheld).
        ds.add_retrocharge("US", posted=recent, base_tax="1.50", shipping_tax="0.25", quirks=())
        # One account selling everywhere (the emulator's endpoint serves every region): each
        # group is read once.
        cls.marketplaces = (
            cls.marketplace_us | cls.marketplace_uk | cls.marketplace_de | cls.marketplace_jp
        )

    def _signatures(self, events):
        """What the documents of ``events`` say, comparable across APIs."""
        result = []
        for event in events:
            note = event.move_ids.filtered(lambda m: m.move_type == "out_refund")
            entry = event.move_ids.filtered(lambda m: m.move_type == "entry")
            result.append(
                (
                    event.marketplace_id.code,
                    event.currency_id.name,
                    event.event_type,
                    event.amazon_order_id or "",
                    event.amount_total,
                    event.date if event.event_type in DATED else None,
                    note.amount_total,
                    note.amount_tax,
                    sorted(
                        (ln.product_id.id, ln.account_id.id, ln.quantity, ln.price_unit)
                        + tuple(ln.tax_ids.ids)
                        for ln in note.invoice_line_ids
                    ),
                    sorted((ln.account_id.id, ln.amount_currency) for ln in entry.line_ids),
                )
            )
        return sorted(result, key=repr)

    def test_real_shapes_post_the_same_in_both_apis(self):
        signatures = {}
        for api in ("v0", "2024-06-19"):
            account = self._import_account(
                "eu",
                self.marketplaces,
                finances_api=api,
                sync_from=(self.now - timedelta(days=45)).replace(tzinfo=None),
            )
            run = self._sync(account)
            self.assertEqual(run.state, "done", run.error)
            events = self._events(account)
            with self.subTest(api=api):
                self.assertEqual(len(events), 11)
                self.assertEqual(
                    set(events.mapped("state")),
                    {"posted"},
                    "\n".join(f"{e.name}: {e.state} {e.review_message}" for e in events),
                )
                self.assertEveryCent(events)
                self._check_promotion(events)
                self._check_reserve(events)
            signatures[api] = self._signatures(events)
        self.assertEqual(signatures["v0"], signatures["2024-06-19"])

    def _check_promotion(self, events):
        """R01: the credit note declares Amazon's VAT, 2.29, not the 2.42 of the charges."""
        event = events.filtered(lambda ev: ev.amazon_order_id == self.promo.order_id)
        note = event.move_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(note.amount_tax, 2.29)
        self.assertEqual(note.amount_total, 14.35)
        self.assertEqual(note.invoice_line_ids.tax_ids, self.vat_19)
        promotion = note.invoice_line_ids.filtered(lambda ln: ln.price_unit < 0)
        self.assertRecordValues(promotion, [{"price_unit": -0.84, "price_total": -0.84}])
        self.assertAlmostEqual(promotion.price_total - promotion.price_subtotal, -0.13)

    def _check_reserve(self, events):
        reserve = self.company._amazon_sp_account("reserve")
        moved = events.filtered(lambda ev: ev.event_type == "adjustment").move_ids.line_ids
        self.assertEqual(
            sorted(moved.filtered(lambda ln: ln.account_id == reserve).mapped("amount_currency")),
            [-150.0, 150.0],
        )

    def test_promotion_takes_the_rate_of_its_item(self):
        """v0 sends R01's promotion whole: the planner splits it at its item's rate (19 %), and
        the credit note line takes a tax of that rate even when another one (18 % of 0.84 is
        0.13 too) comes first."""
        vat_18 = self.vat_19.copy({"name": "VAT 18% incl.", "amount": 18.0, "sequence": 0})
        self.assertLess(vat_18.sequence, self.vat_19.sequence)
        account = self._import_account("eu", self.marketplace_de, finances_api="v0")
        self._sync(account)
        event = self._events(account).filtered(lambda ev: ev.amazon_order_id == self.promo.order_id)
        self.assertEqual(event.state, "posted", event.review_message)
        note = event.move_ids.filtered(lambda m: m.move_type == "out_refund")
        promotion = note.invoice_line_ids.filtered(lambda ln: ln.price_unit < 0)
        self.assertEqual(promotion.tax_ids, self.vat_19)
        self.assertEqual(note.amount_tax, 2.29)
