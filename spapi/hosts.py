"""Which hosts the client may reach, and timeouts sized for a person waiting.

Amazon's hosts: the regional SP-API endpoints (docs ``sp-api-endpoints``), the LWA token
endpoint, Seller Central's consent pages and the pre-signed report document URLs (Amazon S3).
Any other host (the local emulator, a proxy) is *custom*: refused unless the caller allows
custom hosts, and always *foreign*: its answers are never put in an error's text.
"""

from urllib.parse import urlsplit

from . import const
from .exceptions import HostNotAllowedError

API = "api"
LWA = "lwa"
CONSENT = "consent"
DOCUMENT = "document"

AMAZON_HOSTS = {
    API: frozenset(urlsplit(url).hostname for url in const.API_HOSTS.values()),
    # LWA's token endpoint (docs "connecting-to-the-selling-partner-api"); api.amazon.co.uk and
    # api.amazon.co.jp are its regional names.
    LWA: frozenset({"api.amazon.com", "api.amazon.co.uk", "api.amazon.co.jp"}),
    CONSENT: frozenset(mp["seller_central_host"] for mp in const.MARKETPLACES),
}
# Report documents are pre-signed Amazon S3 URLs (https://tortuga-prod-na.s3-external-1...).
DOCUMENT_HOST_SUFFIX = ".amazonaws.com"


def is_amazon(url, kind):
    """Is ``url`` an https URL on one of Amazon's hosts for ``kind`` (API, LWA...)?"""
    try:
        parts = urlsplit(str(url or "").strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return False
    if parts.scheme != "https" or port not in (None, 443) or parts.username or parts.password:
        return False
    if kind == DOCUMENT:
        return host.endswith(DOCUMENT_HOST_SUFFIX)
    return host in AMAZON_HOSTS[kind]


def check_url(url, kind, allow_custom=False):
    """``url`` when the client may reach it; HostNotAllowedError otherwise.

    Amazon's hosts over https always; other http(s) URLs only with ``allow_custom``. The error
    names the kind of URL, never the URL (it may carry a pre-signed signature).
    """
    if is_amazon(url, kind):
        return url
    scheme = urlsplit(str(url or "").strip()).scheme
    if allow_custom and scheme in ("http", "https"):
        return url
    raise HostNotAllowedError(
        f"The {kind} URL is not one of Amazon's hosts over https, and custom hosts are not "
        "allowed.",
        operation=kind,
    )


class Timeout(tuple):
    """A ``requests`` timeout ``(connect, read)`` that also compares with a number.

    A short connect timeout fails fast when a host is unreachable; the read timeout leaves
    Amazon time to answer. Odoo's test guard compares a request's timeout with an int: the
    comparison is made on the longest of the two.
    """

    __slots__ = ()

    def __new__(cls, connect, read):
        return super().__new__(cls, (connect, read))

    @property
    def connect(self):
        return self[0]

    @property
    def read(self):
        return self[1]

    def __lt__(self, other):
        if isinstance(other, int | float):
            return max(self) < other
        return tuple.__lt__(self, other)

    def __gt__(self, other):
        if isinstance(other, int | float):
            return max(self) > other
        return tuple.__gt__(self, other)
