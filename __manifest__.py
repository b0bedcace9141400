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
    "data": [],
    "demo": [],
    "installable": True,
    "application": False,
}
