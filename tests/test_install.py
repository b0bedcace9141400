from psycopg2 import IntegrityError

from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.account_amazon_refund.spapi import const


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def test_marketplaces_loaded(self):
        marketplaces = self.env["amazon.sp.marketplace"].search([])
        self.assertEqual(len(marketplaces), 23)
        self.assertEqual(len(set(marketplaces.mapped("marketplace_id"))), 23)
        self.assertTrue(all(marketplaces.mapped("currency_id")), "every marketplace has a currency")
        self.assertTrue(all(marketplaces.mapped("country_id")))
        by_region = {
            r: len(marketplaces.filtered(lambda m, r=r: m.region == r)) for r in ("na", "eu", "fe")
        }
        self.assertEqual(by_region, {"na": 4, "eu": 16, "fe": 3})
        self.assertRecordValues(
            self.env.ref("account_amazon_refund.amazon_sp_marketplace_us"),
            [
                {
                    "marketplace_id": "ATVPDKIKX0DER",
                    "code": "US",
                    "region": "na",
                    "currency_id": self.env.ref("base.USD").id,
                    "country_id": self.env.ref("base.us").id,
                    "seller_central_host": "sellercentral.amazon.com",
                }
            ],
        )
        self.assertRecordValues(
            self.env.ref("account_amazon_refund.amazon_sp_marketplace_de"),
            [
                {
                    "marketplace_id": "A1PA6795UKMFR9",
                    "region": "eu",
                    "currency_id": self.env.ref("base.EUR").id,
                    "seller_central_host": "sellercentral-europe.amazon.com",
                }
            ],
        )

    def test_marketplaces_match_client_constants(self):
        """The data file and the client's constants describe the same marketplaces."""
        Marketplace = self.env["amazon.sp.marketplace"]
        self.assertEqual(len(const.MARKETPLACES), Marketplace.search_count([]))
        for expected in const.MARKETPLACES:
            with self.subTest(marketplace=expected["code"]):
                marketplace = Marketplace.search(
                    [("marketplace_id", "=", expected["marketplace_id"])]
                )
                self.assertEqual(len(marketplace), 1)
                self.assertEqual(marketplace.code, expected["code"])
                self.assertEqual(marketplace.region, expected["region"])
                self.assertEqual(marketplace.currency_id.name, expected["currency"])
                self.assertEqual(marketplace.country_id.code, expected["country_iso"])
                self.assertEqual(marketplace.seller_central_host, expected["seller_central_host"])
                self.assertEqual(marketplace.domain, expected["domain"])

    def test_marketplace_id_unique(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self.env["amazon.sp.marketplace"].create(
                {
                    "name": "Copy",
                    "code": "US2",
                    "marketplace_id": "ATVPDKIKX0DER",
                    "country_id": self.env.ref("base.us").id,
                    "currency_id": self.env.ref("base.USD").id,
                    "region": "na",
                    "seller_central_host": "sellercentral.amazon.com",
                    "domain": "amazon.com",
                }
            )

    def test_groups(self):
        user_group = self.env.ref("account_amazon_refund.group_amazon_sp_user")
        manager_group = self.env.ref("account_amazon_refund.group_amazon_sp_manager")
        self.assertEqual(user_group.category_id.name, "Amazon Refunds")
        self.assertEqual(manager_group.category_id, user_group.category_id)
        self.assertIn(self.env.ref("account.group_account_invoice"), user_group.implied_ids)
        self.assertIn(user_group, manager_group.implied_ids)
        self.assertIn(self.env.ref("account.group_account_manager"), manager_group.implied_ids)
        self.assertIn(self.env.ref("base.user_admin"), manager_group.users)
        self.assertEqual(user_group.full_name, "Amazon Refunds / User")
        self.assertEqual(manager_group.full_name, "Amazon Refunds / Manager")

    def test_menus(self):
        root = self.env.ref("account_amazon_refund.amazon_sp_menu_root")
        self.assertEqual(root.parent_id, self.env.ref("account.menu_finance"))
        operations = self.env.ref("account_amazon_refund.amazon_sp_menu_operations")
        configuration = self.env.ref("account_amazon_refund.amazon_sp_menu_configuration")
        self.assertEqual((operations | configuration).parent_id, root)
        self.assertEqual(
            configuration.groups_id, self.env.ref("account_amazon_refund.group_amazon_sp_manager")
        )
        accounts = self.env.ref("account_amazon_refund.amazon_sp_account_menu")
        self.assertEqual(accounts.parent_id, operations)
        self.assertEqual(
            accounts.action, self.env.ref("account_amazon_refund.amazon_sp_account_action")
        )
        marketplaces = self.env.ref("account_amazon_refund.amazon_sp_marketplace_menu")
        self.assertEqual(marketplaces.parent_id, configuration)

    def test_record_rules_are_noupdate(self):
        data = self.env["ir.model.data"].search(
            [("module", "=", "account_amazon_refund"), ("model", "=", "ir.rule")]
        )
        self.assertTrue(data)
        self.assertTrue(all(data.mapped("noupdate")))
