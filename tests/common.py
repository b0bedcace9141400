from odoo.tests import new_test_user

from odoo.addons.account_amazon_refund.emulator import SpApiEmulator
from odoo.addons.account_amazon_refund.services.connection import (
    ALLOW_CUSTOM_HOSTS_PARAM as ALLOW_CUSTOM_HOSTS,
)

USER_GROUPS = "account.group_account_invoice,account_amazon_refund.group_amazon_sp_user"
MANAGER_GROUPS = "account_amazon_refund.group_amazon_sp_manager"


class AmazonSpTestMixin:
    """Users and account factory shared by the test classes (call from setUpClass)."""

    @classmethod
    def _setup_amazon_sp(cls):
        # The emulator and the test hosts are not Amazon's: the tests allow other hosts.
        cls.env["ir.config_parameter"].sudo().set_param(ALLOW_CUSTOM_HOSTS, "1")
        # Without queue_job's jobs (the scheduled-action path); test_import_jobs switches them on.
        cls.env["ir.config_parameter"].sudo().set_param("account_amazon_refund.use_queue_job", "0")
        cls.company = cls.env.company
        cls.amazon_user = new_test_user(
            cls.env,
            login="amz_user",
            password="amz_user_pw",
            groups=USER_GROUPS,
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.amazon_manager = new_test_user(
            cls.env,
            login="amz_manager",
            password="amz_manager_pw",
            groups=MANAGER_GROUPS,
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.marketplace_us = cls.env.ref("account_amazon_refund.amazon_sp_marketplace_us")
        cls.marketplace_ca = cls.env.ref("account_amazon_refund.amazon_sp_marketplace_ca")
        cls.marketplace_de = cls.env.ref("account_amazon_refund.amazon_sp_marketplace_de")
        cls.marketplace_jp = cls.env.ref("account_amazon_refund.amazon_sp_marketplace_jp")

    @classmethod
    def _create_account(cls, **values):
        values = {
            "name": "Test Seller",
            "company_id": cls.company.id,
            "region": "na",
            "application_id": "amzn1.sellerapps.app.test",
            "lwa_client_id": "amzn1.application-oa2-client.test",
            "lwa_client_secret": "test-client-secret",
            **values,
        }
        return cls.env["amazon.sp.account"].create(values)


class AmazonSpEmulatorMixin(AmazonSpTestMixin):
    """Starts one SP-API emulator on 127.0.0.1 for the test class."""

    @classmethod
    def _start_emulator(cls):
        cls.emu = SpApiEmulator(seed=42, rate_scale=1000.0).start()
        cls.addClassCleanup(cls.emu.stop)

    @classmethod
    def _create_emulator_account(cls, **values):
        return cls._create_account(
            **{
                "name": "Emulated Seller",
                "application_id": cls.emu.application_id,
                "lwa_client_id": cls.emu.client_id,
                "lwa_client_secret": cls.emu.client_secret,
                "api_url": cls.emu.url,
                "lwa_url": cls.emu.lwa_url,
                "consent_url": cls.emu.consent_url,
                **values,
            }
        )
