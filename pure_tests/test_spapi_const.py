"""spapi.const: hosts, marketplaces (spapi-facts.md §5) and operations (§1-§3)."""

import os
import re

import pytest

from spapi import const

FACTS_REGIONS = {
    "na": {"CA", "US", "MX", "BR"},
    "eu": {
        "IE", "ES", "UK", "FR", "BE", "NL", "DE", "IT", "SE", "ZA", "PL", "SA", "EG", "TR", "AE",
        "IN",
    },
    "fe": {"SG", "AU", "JP"},
}  # fmt: skip


def test_hosts_cover_every_region_and_environment():
    assert len(const.API_HOSTS) == 6
    assert const.API_HOSTS[("na", "production")] == "https://sellingpartnerapi-na.amazon.com"
    assert const.API_HOSTS[("eu", "sandbox")] == "https://sandbox.sellingpartnerapi-eu.amazon.com"
    assert const.API_HOSTS[("fe", "production")] == "https://sellingpartnerapi-fe.amazon.com"
    assert const.LWA_TOKEN_URL == "https://api.amazon.com/auth/o2/token"


def test_marketplaces_by_region():
    assert len(const.MARKETPLACES) == 23
    for region, codes in FACTS_REGIONS.items():
        assert {mp["code"] for mp in const.MARKETPLACES if mp["region"] == region} == codes
    assert len({mp["marketplace_id"] for mp in const.MARKETPLACES}) == 23
    keys = {
        "marketplace_id", "code", "country_iso", "name", "currency", "region", "domain",
        "seller_central_host",
    }  # fmt: skip
    assert all(set(mp) == keys for mp in const.MARKETPLACES)


MARKETPLACE_CASES = {
    "ATVPDKIKX0DER": "US US Amazon.com USD amazon.com sellercentral.amazon.com",
    "A1F83G8C2ARO7P": "UK GB Amazon.co.uk GBP amazon.co.uk sellercentral-europe.amazon.com",
    "A1PA6795UKMFR9": "DE DE Amazon.de EUR amazon.de sellercentral-europe.amazon.com",
    "A1805IZSGTT6HS": "NL NL Amazon.nl EUR amazon.nl sellercentral.amazon.nl",
    "A1VC38T7YXB528": "JP JP Amazon.co.jp JPY amazon.co.jp sellercentral.amazon.co.jp",
    "A1AM78C64UM0Y8": "MX MX Amazon.com.mx MXN amazon.com.mx sellercentral.amazon.com.mx",
    "AE08WJ6YKNBMC": "ZA ZA Amazon.co.za ZAR amazon.co.za sellercentral.amazon.co.za",
}


@pytest.mark.parametrize("marketplace_id, expected", sorted(MARKETPLACE_CASES.items()))
def test_marketplace_by_id(marketplace_id, expected):
    mp = const.marketplace_by_id(marketplace_id)
    keys = ("code", "country_iso", "name", "currency", "domain", "seller_central_host")
    assert " ".join(mp[key] for key in keys) == expected


def test_only_eu5_use_the_european_seller_central():
    eu5 = {mp["code"] for mp in const.MARKETPLACES if "europe" in mp["seller_central_host"]}
    assert eu5 == {"UK", "DE", "FR", "IT", "ES"}


def test_marketplace_by_name_is_case_insensitive():
    assert const.marketplace_by_name("Amazon.com")["marketplace_id"] == "ATVPDKIKX0DER"
    assert const.marketplace_by_name("amazon.CO.UK ")["code"] == "UK"
    assert const.marketplace_by_name("Amazon.de")["currency"] == "EUR"
    assert const.marketplace_by_name("Amazon.unknown") is None
    assert const.marketplace_by_name(None) is None
    assert const.marketplace_by_id("NOPE") is None
    assert const.marketplace_by_id(None) is None


def test_marketplaces_match_the_addon_data_file():
    """The Odoo data file and the client describe the same marketplaces."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "data", "amazon_sp_marketplace_data.xml")
    if not os.path.exists(path):
        pytest.skip("no marketplace data file")
    with open(path, encoding="utf-8") as file:
        text = file.read()
    records = {}
    for record in re.findall(r"<record .*?</record>", text, re.DOTALL):
        fields = dict(re.findall(r'<field name="(\w+)">([^<]*)</field>', record))
        refs = dict(re.findall(r'<field name="(\w+)" ref="base\.([^"]+)"', record))
        records[fields["marketplace_id"]] = (fields, refs)
    assert set(records) == {mp["marketplace_id"] for mp in const.MARKETPLACES}
    for mp in const.MARKETPLACES:
        fields, refs = records[mp["marketplace_id"]]
        for key in ("code", "name", "region", "domain", "seller_central_host"):
            assert fields[key] == mp[key], (mp["code"], key)
        assert refs["currency_id"] == mp["currency"]


def test_operations():
    ops = const.OPERATIONS
    assert ops["listTransactions"] == const.Operation(
        "listTransactions", "GET", "/finances/2024-06-19/transactions", 0.5, 10, "nextToken"
    )
    assert ops["listFinancialEvents"].next_token_param == "NextToken"
    assert (ops["listFinancialEvents"].rate, ops["listFinancialEvents"].burst) == (0.5, 30)
    assert ops["listFinancialEventsByGroupId"].path == (
        "/finances/v0/financialEventGroups/{eventGroupId}/financialEvents"
    )
    assert (
        ops["listFinancialEventsByOrderId"].path == "/finances/v0/orders/{orderId}/financialEvents"
    )
    assert ops["getMarketplaceParticipations"].rate == 0.016
    assert ops["getMarketplaceParticipations"].next_token_param is None
    assert ops["createReport"].method == "POST"
    assert ops["getReports"].token_only is True
    assert (ops["getReport"].rate, ops["getReport"].burst) == (2, 15)
    assert ops["getReportDocument"].path == "/reports/2021-06-30/documents/{reportDocumentId}"
    for name, op in ops.items():
        assert op.name == name
