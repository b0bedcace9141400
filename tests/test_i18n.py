import io
import re

import polib

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import file_path
from odoo.tools.translate import trans_export

from .common import AmazonSpTestMixin

MODULE = "account_amazon_refund"
# What a translation must keep as it is: named and positional placeholders, %%, {...}, tags.
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%s|%%|\{[^}]*\}|<[^>]+>")


def _po(name):
    return polib.pofile(file_path(f"{MODULE}/i18n/{name}"))


@tagged("post_install", "-at_install")
class TestI18n(AmazonSpTestMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_amazon_sp()
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.env["ir.module.module"]._load_module_terms([MODULE], ["zh_CN"], overwrite=True)
        cls.amazon_user.lang = "zh_CN"

    def test_amazon_menus_read_in_chinese(self):
        menus = (
            self.env["ir.ui.menu"]
            .with_user(self.amazon_user)
            .with_context(lang="zh_CN")
            .load_menus(debug=False)
        )
        names = {menu["xmlid"]: menu["name"] for menu in menus.values() if menu.get("xmlid")}
        self.assertEqual(names[f"{MODULE}.amazon_sp_menu_root"], "亚马逊")
        self.assertEqual(names[f"{MODULE}.amazon_sp_event_review_menu"], "待审核")
        self.assertEqual(names[f"{MODULE}.amazon_sp_settlement_menu"], "结算")
        self.assertEqual(names[f"{MODULE}.amazon_sp_reconciliation_menu"], "对账审核")

    def test_fields_and_selections_read_in_chinese(self):
        event_fields = (
            self.env["amazon.sp.event"]
            .with_context(lang="zh_CN")
            .fields_get(["event_type", "state"], ["string", "selection"])
        )
        self.assertEqual(event_fields["event_type"]["string"], "事件类型")
        types = dict(event_fields["event_type"]["selection"])
        self.assertEqual(types["guarantee_claim"], "亚马逊商城交易保障索赔")
        self.assertEqual(types["chargeback"], "信用卡拒付")
        self.assertEqual(dict(event_fields["state"]["selection"])["to_review"], "待审核")
        marketplace_fields = (
            self.env["amazon.sp.marketplace"]
            .with_context(lang="zh_CN")
            .fields_get(["amazon_sp_review_threshold"], ["string"])
        )
        self.assertEqual(marketplace_fields["amazon_sp_review_threshold"]["string"], "审核阈值")

    def test_python_message_reads_in_chinese(self):
        account = self._create_account()
        wizard = (
            self.env["amazon.sp.import"]
            .with_user(self.amazon_user)
            .with_context(lang="zh_CN")
            .create(
                {
                    "account_id": account.id,
                    "mode": "range",
                    "date_from": "2026-11-10",
                    "date_to": "2026-11-01",
                }
            )
        )
        with self.assertRaisesRegex(UserError, "^结束日期早于开始日期。$"):
            wizard.action_import()

    def test_po_translates_every_term_of_the_addon(self):
        """The .pot is current, and zh_CN.po translates each of its terms, keeping placeholders.

        When this fails after a change of the addon's texts: run dev/i18n, translate the new
        terms of i18n/zh_CN.po, and commit both files.
        """
        buf = io.BytesIO()
        trans_export(None, [MODULE], buf, "po", self.env.cr)
        exported = {entry.msgid for entry in polib.pofile(buf.getvalue().decode())}
        template = {entry.msgid for entry in _po(f"{MODULE}.pot")}
        self.assertEqual(
            sorted(exported - template), [], "terms missing from the .pot: run dev/i18n"
        )
        self.assertEqual(
            sorted(template - exported), [], "terms the addon no longer has: run dev/i18n"
        )
        chinese = {entry.msgid: entry for entry in _po("zh_CN.po") if not entry.obsolete}
        untranslated = sorted(
            msgid
            for msgid in template
            if msgid not in chinese
            or not chinese[msgid].msgstr.strip()
            or "fuzzy" in chinese[msgid].flags
        )
        self.assertEqual(untranslated, [], "terms without Chinese in i18n/zh_CN.po")
        changed = sorted(
            msgid
            for msgid in template
            if sorted(PLACEHOLDER.findall(msgid))
            != sorted(PLACEHOLDER.findall(chinese[msgid].msgstr))
            or msgid.count("\n") != chinese[msgid].msgstr.count("\n")
        )
        self.assertEqual(changed, [], "translations whose placeholders or lines differ")
