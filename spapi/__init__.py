"""Pure-Python Selling Partner API client (no Odoo import): LWA auth, rate buckets, retries,
pagination. Works as ``odoo.addons.account_amazon_refund.spapi`` and as top-level ``spapi``."""

from . import const, hosts
from .auth import LwaAuth
from .bucket import TokenBucket
from .client import SpApiClient, format_datetime
from .results import ClientStats, Page, Response
from .exceptions import (
    AuthError,
    DocumentError,
    HostNotAllowedError,
    InvalidInputError,
    NotFoundError,
    ServerError,
    SpApiError,
    ThrottledError,
    TransportError,
    error_from_response,
)
