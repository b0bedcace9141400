{
    "name": "Amazon Refunds (SP-API)",
    "summary": "Import Amazon refunds, A-to-z claims, chargebacks, reimbursements and "
    "settlements from the Selling Partner API as credit notes and journal entries",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/account-amazon-refund/account_amazon_refund",
    "author": "account_amazon_refund contributors",
    "maintainers": [],
    "license": "LGPL-3",
    "depends": ["account", "mail"],
    "external_dependencies": {"python": ["requests", "jose"]},
    "data": [
        "security/account_amazon_refund_groups.xml",
        "security/ir.model.access.csv",
        "security/amazon_sp_account_security.xml",
        "data/amazon_sp_marketplace_data.xml",
        "views/amazon_sp_marketplace_views.xml",
        "views/amazon_sp_account_views.xml",
        "views/amazon_sp_oauth_templates.xml",
        "wizards/amazon_sp_account_link_views.xml",
        "views/account_amazon_refund_menus.xml",
    ],
    "demo": [
        "demo/amazon_sp_account_demo.xml",
    ],
    "installable": True,
    "application": False,
}
