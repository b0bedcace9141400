import json

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import USER_GROUPS, AmazonSpTestMixin

SECRET_FIELDS = ("lwa_client_secret", "refresh_token")


@tagged("post_install", "-at_install")
class TestAccess(AmazonSpTestMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_amazon_sp()
        cls.account = cls._create_account(refresh_token="Atzr|secret-refresh")

    def test_user_cannot_read_secrets(self):
        account = self.account.with_user(self.amazon_user)
        for field in SECRET_FIELDS:
            with self.subTest(field=field):
                with self.assertRaises(AccessError):
                    account.read([field])
                account.invalidate_recordset()
                with self.assertRaises(AccessError):
                    account.mapped(field)
                with self.assertRaises(AccessError):
                    account.search_read([("id", "=", account.id)], [field])
                with self.assertRaises(AccessError):
                    account.search([(field, "!=", False)])
                self.assertNotIn(field, account.fields_get())

    def test_user_reads_the_rest(self):
        account = self.account.with_user(self.amazon_user)
        [values] = account.read(["name", "state", "seller_id", "lwa_client_id", "region"])
        self.assertEqual(values["state"], "linked")
        self.assertNotIn("refresh_token", values)
        # The form the user gets has no secret and loads without access error.
        views = account.get_views([(False, "form")])
        arch = views["views"]["form"]["arch"]
        for field in SECRET_FIELDS:
            self.assertNotIn(f'name="{field}"', arch)
        spec = {name: {} for name in views["models"]["amazon.sp.account"]["fields"]}
        spec["marketplace_ids"] = {"fields": {"display_name": {}}}
        [record] = account.web_read(spec)
        self.assertEqual(record["name"], "Test Seller")

    def test_user_is_read_only(self):
        account = self.account.with_user(self.amazon_user)
        with self.assertRaises(AccessError):
            account.write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            self.env["amazon.sp.account"].with_user(self.amazon_user).create({"name": "New"})
        with self.assertRaises(AccessError):
            self.env["amazon.sp.account.link"].with_user(self.amazon_user).create(
                {"account_id": self.account.id}
            )
        with self.assertRaises(AccessError):
            self.env.ref("account_amazon_refund.amazon_sp_marketplace_us").with_user(
                self.amazon_user
            ).write({"name": "x"})

    def test_manager_reads_and_writes_secrets(self):
        account = self.account.with_user(self.amazon_manager)
        [values] = account.read(list(SECRET_FIELDS))
        self.assertEqual(values["refresh_token"], "Atzr|secret-refresh")
        self.assertEqual(values["lwa_client_secret"], "test-client-secret")
        self.assertTrue(set(SECRET_FIELDS) <= set(account.fields_get()))
        account.write({"lwa_client_secret": "rotated-secret"})
        self.assertEqual(account.lwa_client_secret, "rotated-secret")
        views = account.get_views([(False, "form")])
        self.assertIn('name="refresh_token"', views["views"]["form"]["arch"])

    def test_client_built_for_user_without_reading_secrets(self):
        """_get_spapi_client() is the sudo spot: it works for a user who cannot read them."""
        client = self.account.with_user(self.amazon_user)._get_spapi_client()
        self.assertTrue(client)

    def test_menus_by_group(self):
        Menu = self.env["ir.ui.menu"]
        accounts_menu = self.env.ref("account_amazon_refund.amazon_sp_account_menu")
        configuration = self.env.ref("account_amazon_refund.amazon_sp_menu_configuration")
        user_menus = Menu.with_user(self.amazon_user)._visible_menu_ids()
        manager_menus = Menu.with_user(self.amazon_manager)._visible_menu_ids()
        self.assertIn(accounts_menu.id, user_menus)
        self.assertNotIn(configuration.id, user_menus)
        self.assertIn(configuration.id, manager_menus)

    def test_multi_company_rule(self):
        company_b = self.env["res.company"].create({"name": "Amazon Company B"})
        account_b = self._create_account(name="Seller of B", company_id=company_b.id)
        Account = self.env["amazon.sp.account"].with_user(self.amazon_user)
        self.assertIn(self.account, Account.search([]))
        self.assertNotIn(account_b, Account.search([]))
        with self.assertRaises(AccessError):
            account_b.with_user(self.amazon_user).read(["name"])
        user_b = new_test_user(
            self.env,
            login="amz_user_b",
            groups=USER_GROUPS,
            company_id=company_b.id,
            company_ids=[company_b.id],
        )
        self.assertEqual(
            self.env["amazon.sp.account"]
            .with_user(user_b)
            .search([("id", "in", (self.account | account_b).ids)]),
            account_b,
        )
        # What the import stages follows its account's company.
        Event = self.env["amazon.sp.event"]
        events = Event.create(
            [
                {"account_id": account.id, "key": f"txn:{account.id}", "source_api": "2024-06-19"}
                for account in self.account | account_b
            ]
        )
        runs = self.env["amazon.sp.import.run"].create(
            [{"account_id": account.id} for account in self.account | account_b]
        )
        self.assertEqual(
            Event.with_user(self.amazon_user).search([("id", "in", events.ids)]).account_id,
            self.account,
        )
        self.assertEqual(
            Event.with_user(user_b).search([("id", "in", events.ids)]).account_id, account_b
        )
        self.assertEqual(
            runs.with_user(self.amazon_user).search([("id", "in", runs.ids)]).account_id,
            self.account,
        )


@tagged("post_install", "-at_install")
class TestAccessRpc(AmazonSpTestMixin, HttpCase):
    """The secrets over JSON-RPC, as the web client or an integration would ask."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_amazon_sp()
        cls.account = cls._create_account(refresh_token="Atzr|secret-refresh")

    def _call_kw(self, model, method, args, kwargs=None):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        }
        self.env.flush_all()
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        return response

    def test_user_cannot_read_secrets_by_rpc(self):
        self.authenticate("amz_user", "amz_user_pw")
        for method, args, kwargs in (
            ("read", [[self.account.id], ["refresh_token"]], {}),
            ("read", [[self.account.id], ["lwa_client_secret"]], {}),
            ("web_read", [[self.account.id]], {"specification": {"refresh_token": {}}}),
            ("search_read", [[["id", "=", self.account.id]], ["refresh_token"]], {}),
        ):
            with self.subTest(method=method, args=args, kwargs=kwargs):
                with mute_logger("odoo.http"):
                    response = self._call_kw("amazon.sp.account", method, args, kwargs)
                body = response.json()
                self.assertNotIn("result", body)
                self.assertEqual(body["error"]["data"]["name"], "odoo.exceptions.AccessError")
                self.assertNotIn("secret-refresh-token", response.text)
                self.assertNotIn("test-client-secret", response.text)
        # What the user may read still comes through.
        response = self._call_kw("amazon.sp.account", "read", [[self.account.id], ["name"]])
        self.assertEqual(response.json()["result"][0]["name"], "Test Seller")

    def test_manager_reads_secrets_by_rpc(self):
        self.authenticate("amz_manager", "amz_manager_pw")
        response = self._call_kw(
            "amazon.sp.account", "read", [[self.account.id], ["refresh_token", "lwa_client_secret"]]
        )
        [values] = response.json()["result"]
        self.assertEqual(values["refresh_token"], "Atzr|secret-refresh")
        self.assertEqual(values["lwa_client_secret"], "test-client-secret")

    def test_user_cannot_rewrite_an_event_by_rpc(self):
        """Not even with the flows' context key in the call: only server code opens a flow."""
        event = self.env["amazon.sp.event"].create(
            {
                "account_id": self.account.id,
                "key": "txn:rpc",
                "source_api": "2024-06-19",
                "state": "posted",
                "raw_json": "{}",
            }
        )
        for login in ("amz_user", "amz_manager"):
            self.authenticate(login, f"{login}_pw")
            for context in ({}, {"amazon_sp_flow": True}):
                with self.subTest(login=login, context=context):
                    with mute_logger("odoo.http"):
                        response = self._call_kw(
                            "amazon.sp.event",
                            "write",
                            [[event.id], {"state": "new", "raw_json": '{"forged": 1}'}],
                            {"context": context},
                        )
                    body = response.json()
                    self.assertNotIn("result", body)
                    self.assertEqual(body["error"]["data"]["name"], "odoo.exceptions.AccessError")
        event.invalidate_recordset()
        self.assertRecordValues(event, [{"state": "posted", "raw_json": "{}"}])
