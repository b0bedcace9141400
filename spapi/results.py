"""What the client returns: a response, a page of a paginated operation, the client's counters."""

from dataclasses import asdict, dataclass
from typing import NamedTuple

from requests.structures import CaseInsensitiveDict


class Response(NamedTuple):
    """What ``SpApiClient.request`` returns for a 2xx answer.

    ``body``: the parsed JSON (numbers as ``Decimal``; ``{}`` when empty); ``request_id``:
    ``x-amzn-RequestId``; ``headers``: case-insensitive response headers.
    """

    body: object
    request_id: str | None
    headers: CaseInsensitiveDict


@dataclass
class Page:
    """One page of a paginated operation.

    ``payload``: the ``payload`` object of the answer (Finances v0 and 2024-06-19) or the whole
    body for APIs without that wrapper (Reports); ``next_token``: token of the next page, None on
    the last one; ``request_id``: ``x-amzn-RequestId`` of the answer.
    """

    payload: dict
    next_token: str | None = None
    request_id: str | None = None


@dataclass
class ClientStats:
    """Counters of one client, copied on the import run."""

    calls: int = 0  # HTTP requests sent to SP-API
    throttled: int = 0  # 429 answers
    retries: int = 0  # requests sent again (backoff or fresh token)
    rate_wait: float = 0.0  # seconds slept waiting on rate buckets
    backoff_wait: float = 0.0  # seconds slept backing off after failures
    token_refreshes: int = 0  # LWA access tokens obtained

    def as_dict(self):
        return asdict(self)
