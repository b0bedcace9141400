"""SP-API constants: hosts, marketplaces and the operations this addon calls.

Sources: Amazon docs ``sp-api-endpoints`` and ``marketplace-ids``; rates and bursts are the
default usage plans of the official models (``amzn/selling-partner-api-models``). Amazon may apply
another limit to a given seller: the client follows the ``x-amzn-RateLimit-Limit`` header.
"""

from typing import NamedTuple

REGIONS = ("na", "eu", "fe")
ENVIRONMENTS = ("production", "sandbox")

API_HOSTS = {
    (region, environment): "https://{prefix}sellingpartnerapi-{region}.amazon.com".format(
        prefix="sandbox." if environment == "sandbox" else "", region=region
    )
    for region in REGIONS
    for environment in ENVIRONMENTS
}

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"

# Response headers (docs "response-format").
HEADER_REQUEST_ID = "x-amzn-RequestId"
HEADER_RATE_LIMIT = "x-amzn-RateLimit-Limit"
HEADER_ERROR_TYPE = "x-amzn-ErrorType"

# Statuses retried with backoff; 429 also empties the operation's rate bucket.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

EU5_SELLER_CENTRAL_HOST = "sellercentral-europe.amazon.com"
_EU5 = frozenset({"UK", "DE", "FR", "IT", "ES"})


def _marketplace(code, marketplace_id, currency, region, tld, country_iso=None):
    domain = f"amazon.{tld}"
    return {
        "marketplace_id": marketplace_id,
        "code": code,
        "country_iso": country_iso or code,
        "name": "Amazon." + tld,
        "currency": currency,
        "region": region,
        "domain": domain,
        "seller_central_host": (
            EU5_SELLER_CENTRAL_HOST if code in _EU5 else f"sellercentral.{domain}"
        ),
    }


# Every marketplace of docs "marketplace-ids" (the order of data/amazon_sp_marketplace_data.xml).
MARKETPLACES = (
    _marketplace("US", "ATVPDKIKX0DER", "USD", "na", "com"),
    _marketplace("CA", "A2EUQ1WTGCTBG2", "CAD", "na", "ca"),
    _marketplace("MX", "A1AM78C64UM0Y8", "MXN", "na", "com.mx"),
    _marketplace("BR", "A2Q3Y263D00KWC", "BRL", "na", "com.br"),
    _marketplace("UK", "A1F83G8C2ARO7P", "GBP", "eu", "co.uk", country_iso="GB"),
    _marketplace("DE", "A1PA6795UKMFR9", "EUR", "eu", "de"),
    _marketplace("FR", "A13V1IB3VIYZZH", "EUR", "eu", "fr"),
    _marketplace("IT", "APJ6JRA9NG5V4", "EUR", "eu", "it"),
    _marketplace("ES", "A1RKKUPIHCS9HS", "EUR", "eu", "es"),
    _marketplace("NL", "A1805IZSGTT6HS", "EUR", "eu", "nl"),
    _marketplace("SE", "A2NODRKZP88ZB9", "SEK", "eu", "se"),
    _marketplace("PL", "A1C3SOZRARQ6R3", "PLN", "eu", "pl"),
    _marketplace("BE", "AMEN7PMS3EDWL", "EUR", "eu", "com.be"),
    _marketplace("IE", "A28R8C7NBKEWEA", "EUR", "eu", "ie"),
    _marketplace("TR", "A33AVAJ2PDY3EV", "TRY", "eu", "com.tr"),
    _marketplace("AE", "A2VIGQ35RCS4UG", "AED", "eu", "ae"),
    # Some lists say amazon.com.sa (UNCONFIRMED, spapi-facts.md §5).
    _marketplace("SA", "A17E79C6D8DWNP", "SAR", "eu", "sa"),
    _marketplace("EG", "ARBP9OOSHTCHU", "EGP", "eu", "eg"),
    _marketplace("IN", "A21TJRUUN4KGV", "INR", "eu", "in"),
    _marketplace("ZA", "AE08WJ6YKNBMC", "ZAR", "eu", "co.za"),
    _marketplace("JP", "A1VC38T7YXB528", "JPY", "fe", "co.jp"),
    _marketplace("SG", "A19VAU5U5O7RUS", "SGD", "fe", "sg"),
    _marketplace("AU", "A39IBJ37TRP1C6", "AUD", "fe", "com.au"),
)

_BY_ID = {mp["marketplace_id"]: mp for mp in MARKETPLACES}
_BY_NAME = {mp["name"].lower(): mp for mp in MARKETPLACES}


def marketplace_by_id(marketplace_id):
    """The marketplace dict of an SP-API marketplace ID, or None."""
    return _BY_ID.get((marketplace_id or "").strip())


def marketplace_by_name(name):
    """The marketplace dict of a name such as v0's ``MarketplaceName`` ("Amazon.com"), or None.

    Case-insensitive; "www." and surrounding blanks are ignored.
    """
    key = (name or "").strip().lower()
    key = key.removeprefix("www.")
    return _BY_NAME.get(key)


class Operation(NamedTuple):
    """One SP-API operation.

    ``next_token_param``: query parameter (and payload key) carrying the page token.
    ``token_only``: the next-page request sends the token alone (getReports refuses other
    parameters beside ``nextToken``); otherwise the same arguments are repeated with the token.
    """

    name: str
    method: str
    path: str
    rate: float
    burst: int
    next_token_param: str | None = None
    token_only: bool = False


_REPORTS = "/reports/2021-06-30"
_V0 = "/finances/v0"

OPERATIONS = {
    op.name: op
    for op in (
        Operation(
            "getMarketplaceParticipations",
            "GET",
            "/sellers/v1/marketplaceParticipations",
            0.016,
            15,
        ),
        Operation(
            "listFinancialEventGroups", "GET", f"{_V0}/financialEventGroups", 0.5, 30, "NextToken"
        ),
        Operation("listFinancialEvents", "GET", f"{_V0}/financialEvents", 0.5, 30, "NextToken"),
        Operation(
            "listFinancialEventsByGroupId",
            "GET",
            f"{_V0}/financialEventGroups/{{eventGroupId}}/financialEvents",
            0.5,
            30,
            "NextToken",
        ),
        Operation(
            "listFinancialEventsByOrderId",
            "GET",
            f"{_V0}/orders/{{orderId}}/financialEvents",
            0.5,
            30,
            "NextToken",
        ),
        Operation(
            "listTransactions", "GET", "/finances/2024-06-19/transactions", 0.5, 10, "nextToken"
        ),
        Operation("getReports", "GET", f"{_REPORTS}/reports", 0.0222, 10, "nextToken", True),
        Operation("getReport", "GET", f"{_REPORTS}/reports/{{reportId}}", 2.0, 15),
        Operation(
            "getReportDocument", "GET", f"{_REPORTS}/documents/{{reportDocumentId}}", 0.0167, 15
        ),
        Operation("createReport", "POST", f"{_REPORTS}/reports", 0.0167, 15),
        Operation("cancelReport", "DELETE", f"{_REPORTS}/reports/{{reportId}}", 0.0222, 10),
    )
}


# API families whose last success and failure the account shows.
FAMILY_FINANCES = "finances"
FAMILY_REPORTS = "reports"
FAMILY_SELLERS = "sellers"
FAMILY_AUTHORIZATION = "authorization"


def operation_family(operation):
    """The API family of an operation name ("listTransactions" -> "finances"), or None."""
    if operation in ("lwaRefreshToken", "lwaExchangeCode"):
        return FAMILY_AUTHORIZATION
    if operation == "downloadReportDocument":
        return FAMILY_REPORTS
    op = OPERATIONS.get(operation)
    if op is None:
        return None
    for prefix, family in (
        ("/finances/", FAMILY_FINANCES),
        ("/reports/", FAMILY_REPORTS),
        ("/sellers/", FAMILY_SELLERS),
    ):
        if op.path.startswith(prefix):
            return family
    return None


# The selling partner roles an application needs for each family (Amazon's docs: "Finances API"
# and "Sellers API" use-case guides, "Finance and Accounting Role", report type values). A 403
# on an operation of the family usually means the application lacks the role.
FAMILY_ROLES = {
    # listTransactions, listFinancialEvents*, listFinancialEventGroups.
    FAMILY_FINANCES: ("Finance and Accounting",),
    # GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2: Finance and Accounting; the FBA customer
    # returns and reimbursements reports: Inventory and Order Tracking (or Amazon Fulfillment).
    FAMILY_REPORTS: ("Finance and Accounting", "Inventory and Order Tracking"),
    # getMarketplaceParticipations, NA and EU: Selling Partner Insights or Product Listing
    # (Finance and Accounting in the FE region).
    FAMILY_SELLERS: ("Selling Partner Insights", "Product Listing", "Finance and Accounting"),
}
