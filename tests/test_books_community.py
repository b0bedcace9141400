from datetime import timedelta
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common_import import AmazonImportCommon, D


class BooksCommunityCommon(AmazonImportCommon):
    """A closed settlement (a refund, a service fee, a reimbursement, its payout) and an open
    group (a refund waiting for its settlement), imported from the emulator."""

    marketplace_codes = ("US",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ds = cls.dataset
        open_group = ds.group_for("USD", cls.now - timedelta(hours=1))
        cls.closed = ds.group_for("USD", open_group.start - timedelta(seconds=1))
        posted = cls.closed.start + timedelta(hours=5)
        cls.refund = ds.add_refund("US", posted=posted, items=[cls.us_item()])
        ds.add_service_fee(
            "US",
            fees={"Subscription": -D("39.99")},
            posted=posted + timedelta(hours=1),
            fee_reason="Subscription Fee",
            fee_description="Subscription Fee",
        )
        ds.add_adjustment(
            "US",
            "WAREHOUSE_DAMAGE",
            posted=posted + timedelta(hours=2),
            items=[{"sku": "SKU-DMG", "quantity": 1, "per_unit": D("8.25")}],
        )
        # The open group: documents whose clearing lines wait for their settlement.
        cls.open_refund = ds.add_refund(
            "US",
            posted=max(open_group.start, cls.now - timedelta(hours=3)),
            items=[cls.us_item("SKU-OPEN", principal="15.00", tax="1.20")],
        )
        cls.account = cls._import_account(
            "na", cls.marketplace_us, sync_from=cls.closed.start.replace(tzinfo=None)
        )
        run = cls.env["amazon.sp.service.import"]._sync(cls.account)
        assert run.state == "done", run.error
        cls.settlement = cls.env["amazon.sp.settlement"].search(
            [("account_id", "=", cls.account.id), ("group_id", "=", cls.closed.group_id)]
        )
        cls.no_email_user = new_test_user(
            cls.env,
            login="amz_no_email",
            groups="account_amazon_refund.group_amazon_sp_user",
            email=False,
            company_id=cls.company.id,
        )

    def _event(self, refund):
        return self.env["amazon.sp.event"].search(
            [("account_id", "=", self.account.id), ("amazon_order_id", "=", refund.order_id)]
        )

    def _documents(self, event_type):
        events = self.settlement.event_ids.filtered(lambda ev: ev.event_type == event_type)
        return events.move_ids


@tagged("post_install", "-at_install")
class TestBooksCommunity(BooksCommunityCommon):
    """An accountant of the Amazon User group, in Community (no full accounting features),
    reads the journal items of every Amazon document; Amazon documents are reconciled by their
    settlement only; notes need no email address; default rules are archived, not deleted."""

    # Journal items ------------------------------------------------------------------------------

    def test_user_group_reads_journal_items_only(self):
        user = self.no_email_user
        self.assertFalse(user.has_group("account.group_account_user"))
        self.assertTrue(user.has_group("account.group_account_readonly"))
        arch = self.env["account.move"].with_user(user).get_views([(False, "form")])
        form = arch["views"]["form"]["arch"]
        self.assertIn('name="aml_tab"', form)
        self.assertIn('name="line_ids"', form)
        self.assertEqual(self.settlement.state, "reconciled", self.settlement.review_message)
        documents = (
            self._documents("service_fee")
            | self._documents("adjustment")
            | self._documents("refund")
            | self.settlement.payout_move_id
        )
        self.assertEqual(
            set(documents.mapped("move_type")) >= {"entry", "out_refund"}, True, documents
        )
        for move in documents.with_user(user):
            lines = move.line_ids
            self.assertGreaterEqual(len(lines), 2, move.display_name)
            lines.read(["account_id", "debit", "credit", "name"])
        # Reading, not writing: the accounting configuration stays closed to the user.
        self.assertFalse(self.env["account.account"].with_user(user).has_access("write"))
        with self.assertRaises(AccessError):
            self.env["account.journal"].with_user(user).create(
                {"name": "Not mine", "code": "NMN", "type": "general"}
            )

    # Settlement-only reconciliation -------------------------------------------------------------

    def test_settled_credit_note_is_paid_by_its_settlement(self):
        credit_note = self._event(self.refund).move_ids.filtered(
            lambda m: m.move_type == "out_refund"
        )
        self.assertTrue(credit_note)
        receivable = credit_note.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertTrue(all(receivable.mapped("reconciled")))
        # Matched with entries only, Odoo would call it reversed.
        self.assertEqual(
            set(receivable.matched_debit_ids.debit_move_id.move_id.mapped("move_type"))
            | set(receivable.matched_credit_ids.credit_move_id.move_id.mapped("move_type")),
            {"entry"},
        )
        self.assertEqual(credit_note.payment_state, "paid")
        self.assertEqual(credit_note.amazon_settled_by_id, self.settlement)
        fee_entry = self._documents("service_fee")
        self.assertEqual(fee_entry.amazon_settled_by_id, self.settlement)
        form = self.env["account.move"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("Settled by Amazon settlement", form)

    def test_amazon_lines_never_offered_as_outstanding(self):
        clearing = self.company.amazon_sp_clearing_account_id
        partner = self.company.amazon_sp_partner_id
        open_note = self._event(self.open_refund).move_ids.filtered(
            lambda m: m.move_type == "out_refund"
        )
        self.assertEqual(open_note.state, "posted")
        waiting = self.env["account.move.line"].search(
            [
                ("account_id", "=", clearing.id),
                ("partner_id", "=", partner.id),
                ("reconciled", "=", False),
                ("parent_state", "=", "posted"),
                ("balance", "<", 0),
            ]
        )
        self.assertIn(open_note, waiting.move_id, "the open credit note waits on the clearing")
        # An invoice of the same customer, on the same account: Odoo would offer the credit note.
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_line_ids": [Command.create({"name": "Goods", "price_unit": 100.0})],
            }
        )
        invoice.line_ids.filtered(
            lambda line: line.display_type == "payment_term"
        ).account_id = clearing
        invoice.action_post()
        invoice.invalidate_recordset(["invoice_outstanding_credits_debits_widget"])
        offered = invoice.invoice_outstanding_credits_debits_widget
        offered_moves = {item["move_id"] for item in (offered or {}).get("content", [])}
        self.assertNotIn(open_note.id, offered_moves)
        self.assertFalse(set(waiting.move_id.ids) & offered_moves)
        with self.assertRaisesRegex(UserError, "reconciled by their Amazon settlement only"):
            invoice.js_assign_outstanding_line(
                waiting.filtered(lambda line: line.move_id == open_note).id
            )
        # and the Amazon credit note is offered nothing either
        self.assertFalse(open_note.invoice_has_outstanding)

    # Chatter without email ---------------------------------------------------------------------

    def test_notes_need_no_email_address(self):
        user = self.no_email_user
        self.assertFalse(user.email)
        item = self.us_item("SKU-NOMAIL")
        item["fees"]["NoMailUnknownFee"] = D("-0.50")
        odd = self.dataset.add_refund("US", posted=self.now - timedelta(hours=2), items=[item])
        self._sync(self.account)
        event = self._event(odd).with_user(user)
        self.assertEqual(event.review_reason, "unmapped")
        event.action_ignore("Booked by hand")
        self.assertEqual(event.state, "ignored")
        note = event.message_ids[:1]
        self.assertIn("Booked by hand", note.body)
        self.assertEqual(note.author_id, user.partner_id)
        # A message to followers (an email) still needs the sender's address.
        with self.assertRaisesRegex(UserError, "email address"):
            event.message_post(body="Hello", subtype_xmlid="mail.mt_comment")

    # Mapping rules -----------------------------------------------------------------------------

    def test_default_rule_archived_not_deleted(self):
        Mapping = self.env["amazon.sp.amount.mapping"]
        rule = Mapping.search(
            [
                ("company_id", "=", self.company.id),
                ("marketplace_id", "=", False),
                ("amount_type", "=ilike", "Fee/Commission"),
            ]
        )
        self.assertEqual(len(rule), 1)
        with self.assertRaisesRegex(UserError, "Archive"):
            rule.unlink()
        rule.action_archive()
        Mapping._amazon_sp_seed_defaults(self.company)
        again = Mapping.with_context(active_test=False).search(
            [
                ("company_id", "=", self.company.id),
                ("marketplace_id", "=", False),
                ("amount_type", "=ilike", "Fee/Commission"),
            ]
        )
        self.assertEqual(again, rule)
        self.assertFalse(rule.active)
        # A rule of one's own (a marketplace override) can be deleted.
        override = Mapping.create(
            {
                "company_id": self.company.id,
                "marketplace_id": self.marketplace_us.id,
                "amount_type": "Fee/Commission",
                "role": rule.role,
                "account_id": rule.account_id.id,
            }
        )
        override.unlink()
        self.assertFalse(override.exists())

    # Review PDF --------------------------------------------------------------------------------

    def test_review_pdf_without_wkhtmltopdf_is_html(self):
        review = self.env["amazon.sp.reconciliation"].create({"account_id": self.account.id})
        Report = type(self.env["ir.actions.report"])
        with patch.object(Report, "get_wkhtmltopdf_state", return_value="install"):
            action = review.action_export_pdf()
        self.assertEqual(action["type"], "ir.actions.act_url")
        attachment = self.env["ir.attachment"].browse(
            int(action["url"].split("/web/content/")[1].split("?")[0])
        )
        self.assertEqual(attachment.mimetype, "text/html")
        self.assertIn(review.name, attachment.raw.decode())
        # With wkhtmltopdf (and the company's document layout chosen), Odoo's PDF report.
        self.company.external_report_layout_id = self.env.ref("web.external_layout_standard")
        with patch.object(Report, "get_wkhtmltopdf_state", return_value="ok"):
            action = review.action_export_pdf()
        self.assertEqual(action["type"], "ir.actions.report")

    # Demo --------------------------------------------------------------------------------------

    def test_demo_accountant_is_a_person(self):
        account = self.env.ref("account_amazon_refund.amazon_sp_account_demo", False)
        if not account:
            self.skipTest("the addon was installed without demo data")
        accountant = account.sudo().accountant_id
        self.assertEqual(
            accountant, self.env.ref("account_amazon_refund.amazon_sp_demo_accountant")
        )
        self.assertNotEqual(accountant, self.env.ref("base.user_root"))
        self.assertTrue(accountant.has_group("account_amazon_refund.group_amazon_sp_user"))
        self.assertFalse(accountant.has_group("account.group_account_user"))
