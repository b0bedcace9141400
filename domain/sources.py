"""Finances sources: one class per Finances API version (pure Python, no Odoo).

The import, the reconciliation review and the daily check read Amazon's money movements only
through a :class:`FinancesSource`. A source knows how its API version is read (by window, by
order, by financial event group), how its cursors are cut (one per marketplace, or one per
account) and how its pages are normalized. Adding or dropping an API version is adding or
deleting one class here and its line in :data:`SOURCES`.

``client`` is anything with the methods of ``spapi.client.SpApiClient`` used below (the domain
does not import the client).
"""

from .model import SOURCE_2024, SOURCE_REPORT, SOURCE_V0
from .normalize_2024 import normalize_transactions
from .normalize_v0 import normalize_v0_events


class FinancesSource:
    """How one Finances API version is read. Subclasses set the attributes and the readers."""

    #: Stored value (on accounts, cursors, runs and events).
    name = ""
    #: What users read in the selection.
    label = ""
    #: True: one cursor per enabled marketplace (the API filters by marketplace).
    #: False: one cursor per account (the API lists every marketplace together).
    per_marketplace = True
    #: True: a page lists every marketplace of the seller; the caller keeps those it wants.
    lists_all_marketplaces = False
    #: True: events carry only a marketplace *name* (or none): they need a resolver.
    needs_marketplace_resolver = False
    #: False: nothing is read from Amazon's Finances API (events come from elsewhere).
    pulls = True

    def window_pages(self, client, start, end, marketplace_code=None, token=None):
        """Pages of the events posted in [start, end) (aware datetimes); ``marketplace_code``
        is honoured by per-marketplace sources; ``token`` resumes a window."""
        raise NotImplementedError

    def order_pages(self, client, order_id):
        """Pages of the events of one Amazon order."""
        raise NotImplementedError

    def group_pages(self, client, group_id):
        """Pages of the events of one financial event group (settlement)."""
        raise NotImplementedError

    def normalize(
        self, payload, *, marketplace_resolver=None, group_id=None, posted_date_fallback=None
    ):
        """One page's payload → (events, failures), see ``domain.normalize``.

        ``group_id``: the page lists that group (v0 events learn it); ``posted_date_fallback``
        (aware): the date of events Amazon sends undated (v0 service fees read by group).
        """
        raise NotImplementedError


class Transactions2024Source(FinancesSource):
    """Finances 2024-06-19 ``listTransactions``: Amazon's current API."""

    name = SOURCE_2024
    label = "2024-06-19 (listTransactions)"
    # Read once per account, without ``marketplaceId``: Amazon then lists every marketplace of
    # the seller's region together, each transaction naming its own (``marketplaceDetails``),
    # and only then lists the US merchant-fulfilled orders (see doc/sources.md).
    per_marketplace = False
    lists_all_marketplaces = True

    def window_pages(self, client, start, end, marketplace_code=None, token=None):
        # ``marketplace_code`` is not sent: a filter would hide the US merchant-fulfilled
        # orders and cost one call per marketplace; the caller keeps the marketplaces it wants.
        return client.list_transactions(
            posted_after=start,
            posted_before=end,
            start_token=token,
        )

    def order_pages(self, client, order_id):
        return client.list_transactions(
            related_identifier_name="ORDER_ID", related_identifier_value=order_id
        )

    def group_pages(self, client, group_id):
        return client.list_transactions(
            related_identifier_name="FINANCIAL_EVENT_GROUP_ID",
            related_identifier_value=group_id,
        )

    def normalize(
        self, payload, *, marketplace_resolver=None, group_id=None, posted_date_fallback=None
    ):
        # Transactions name their marketplace, group and date themselves.
        return normalize_transactions((payload or {}).get("transactions") or [])


class FinancialEventsV0Source(FinancesSource):
    """Finances v0 ``listFinancialEvents``: deprecated, but keeps A-to-z claims and
    chargebacks apart."""

    name = SOURCE_V0
    label = "v0 (listFinancialEvents)"
    per_marketplace = False
    lists_all_marketplaces = True
    needs_marketplace_resolver = True

    def window_pages(self, client, start, end, marketplace_code=None, token=None):
        return client.list_financial_events(
            posted_after=start, posted_before=end, start_token=token
        )

    def order_pages(self, client, order_id):
        return client.list_financial_events_by_order_id(order_id)

    def group_pages(self, client, group_id):
        return client.list_financial_events_by_group_id(group_id)

    def normalize(
        self, payload, *, marketplace_resolver=None, group_id=None, posted_date_fallback=None
    ):
        return normalize_v0_events(
            (payload or {}).get("FinancialEvents") or {},
            marketplace_resolver=marketplace_resolver,
            group_id=group_id,
            posted_date_fallback=posted_date_fallback,
        )


class SettlementReportSource(FinancesSource):
    """Settlement report files (``domain.report_events``): the events of a settlement made from
    its flat file, uploaded or downloaded through the Reports API. It never pulls: an account
    set to it reads no Finances pages (its settlements come from their files)."""

    name = SOURCE_REPORT
    label = "Settlement report file"
    per_marketplace = False
    needs_marketplace_resolver = True
    pulls = False

    def window_pages(self, client, start, end, marketplace_code=None, token=None):
        return []

    def order_pages(self, client, order_id):
        return []

    def group_pages(self, client, group_id):
        return []

    def normalize(
        self, payload, *, marketplace_resolver=None, group_id=None, posted_date_fallback=None
    ):
        # Its events are made from a whole file (report_events), never from a page.
        return [], []


#: Every source, by stored name; the first is the default.
SOURCES = {
    source.name: source
    for source in (Transactions2024Source(), FinancialEventsV0Source(), SettlementReportSource())
}
DEFAULT_SOURCE = SOURCE_2024


def get_source(name):
    """The source stored as ``name``; a clear error for an unknown one."""
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(SOURCES)
        raise ValueError(f"Unknown Finances API {name!r} (known: {known})") from None


def selection():
    """``[(name, label)]`` for a selection field (the one place the labels live)."""
    return [(source.name, source.label) for source in SOURCES.values()]


def pulling_names():
    """The stored names of the sources the import pulls from Amazon's Finances API."""
    return [source.name for source in SOURCES.values() if source.pulls]
