"""The events and financial event groups of one emulated seller (stdlib only).

Tests add hand-made events with the ``Dataset.add_*`` methods; :func:`.generator.generate_dataset`
fills a realistic, seeded one. Every event gets the irregular shapes Amazon sends (``quirks``) in
proportions fixed by the dataset's seed (``quirk_rates``; ``doc/emulator.md``).
"""

import copy
import random
from datetime import datetime, timedelta

from .catalog import PRODUCTS, product, refund_item_spec, sale_item_spec
from .common import (
    BASE64URL,
    MARKETPLACES,
    MARKETPLACES_BY_ID,
    ORDER_PREFIX,
    UTC,
    V0,
    V2024,
    alnum,
    aware,
    digest,
    digits,
    iso,
    quantize,
    to_decimal,
    unit,
)
from .events import ADS_FEE, ORDER_KINDS, QUIRKS, EventGroup, EventItem, FinanceEvent, RawEvent
from .v0 import to_v0_group

GROUP_PERIOD = timedelta(days=14)
GROUP_EPOCH = datetime(2020, 1, 6, tzinfo=UTC)
DEFAULT_MARKETPLACES = ("US", "CA", "UK", "DE", "FR", "IT", "ES", "JP")
# Share of the events that get each quirk (where it applies), chosen by the dataset's seed.
# v0_feeless_twin is only given on request (it adds an event without money to v0).
DEFAULT_QUIRK_RATES = {
    "status_null": 0.1,
    "items_null": 0.5,
    "items_partial": 0.3,
    "v0_undated": 0.2,
    "v0_feeless_twin": 0.0,
}

_FAMILY_ALIASES = {
    "charge": "charges",
    "charges": "charges",
    "fee": "fees",
    "fees": "fees",
    "withheld": "withheld",
    "taxwithheld": "withheld",
    "promotion": "promotions",
    "promotions": "promotions",
    "adjustment": "adjustment",
    "retrocharge": "retrocharge",
}


def _floor_hour(moment):
    return moment.replace(minute=0, second=0, microsecond=0)


def default_window(now=None):
    """``(start, end)`` = (now - 60 days, now - 1 hour), now floored to the hour, aware UTC."""
    anchor = _floor_hour((now or datetime.now(UTC)).astimezone(UTC))
    return anchor - timedelta(days=60), anchor - timedelta(hours=1)


def _amounts(mapping):
    return {str(k): to_decimal(v) for k, v in (mapping or {}).items()}


def _quirks_apply(event):
    """The quirks that can change how ``event`` is written."""
    result = {"status_null"}
    if event.kind == "adjustment" and event.items:
        result |= {"items_null", "v0_undated"}
    if event.kind == "service_fee":
        result.add("v0_feeless_twin")
        if len(event.fees) == 1:
            result.add("items_partial")
    return result


class Dataset:
    """The events and financial event groups of one seller.

    ``events`` holds canonical :class:`FinanceEvent` records, ``raw_events`` verbatim ones for
    one API (``add_raw_v0`` / ``add_raw_transaction``), ``groups`` the :class:`EventGroup` s.
    Group totals are computed from the events (``group_total``), so changes show at once.
    ``quirk_rates`` (a copy of ``DEFAULT_QUIRK_RATES``) decides which events added later get
    which quirk; ``quirks=`` on an ``add_*`` method sets them for one event.
    """

    def __init__(
        self,
        seller_id="A1EMULATORSELLER",
        marketplaces=DEFAULT_MARKETPLACES,
        start=None,
        end=None,
        seed=0,
    ):
        default_start, default_end = default_window()
        self.seller_id = seller_id
        self.marketplaces = tuple(marketplaces)
        for code in self.marketplaces:
            if code not in MARKETPLACES:
                raise ValueError(f"unknown marketplace {code!r}")
        self.start = aware(start, "start") if start else default_start
        self.end = aware(end, "end") if end else default_end
        self.seed = seed
        self.events = []
        self.raw_events = []
        self.groups = []
        self.group_offsets = {}  # currency → days after GROUP_EPOCH where its periods start
        self.quirk_rates = dict(DEFAULT_QUIRK_RATES)
        # Settlement reports (emulator/reports.py) that disagree with the events, for tests:
        # group id → extra flat-file rows (dicts by column) / an amount added to total-amount.
        self.report_extra_rows = {}
        self.report_total_delta = {}
        self._seq = 0
        self._rng = random.Random(f"{seed}:{seller_id}:hand-made")

    # -- ids ----------------------------------------------------------------------------------

    def _next_id(self):
        self._seq += 1
        return f"EV{self._seq:06d}"

    def _hash(self, *parts):
        return digest(self.seed, self.seller_id, *parts)

    def _transaction_id(self, event_id):
        # 43 characters of base64url, as Amazon's (R10, R11)
        return alnum(self._hash("txn", event_id), 43, BASE64URL)

    def _order_id(self, marketplace, event_id):
        prefix = ORDER_PREFIX[MARKETPLACES[marketplace].region]
        number = digits(self._hash("order", event_id), 15)
        return f"{prefix}{number[0]}-{number[1:8]}-{number[8:15]}"

    def _item_ids(self, event_id, index):
        h = self._hash("item", event_id, index)
        return digits(h[:16], 14), digits(h[16:32], 14)

    # -- groups -------------------------------------------------------------------------------

    def group_for(self, currency, posted, create=True):
        """The group of ``currency`` whose period holds ``posted`` (created when missing)."""
        for group in self.groups:
            if group.covers(currency, posted):
                return group
        if not create:
            return None
        offset = timedelta(days=self.group_offsets.get(currency, 0))
        anchor = GROUP_EPOCH + offset
        periods = (posted - anchor) // GROUP_PERIOD
        start = anchor + periods * GROUP_PERIOD
        h = self._hash("group", currency, iso(start))
        group = EventGroup(
            group_id=alnum(h, 43, BASE64URL),
            currency=currency,
            start=start,
            end=start + GROUP_PERIOD,
            trace_id=alnum(h[::-1], 15),
            account_tail=digits(h[:8], 3),
            beginning_balance=quantize(0, currency),
        )
        self.groups.append(group)
        self.groups.sort(key=lambda g: (g.start, g.currency, g.group_id))
        return group

    def markets_of(self, currency):
        """The dataset's marketplaces (MARKETPLACES entries) selling in ``currency``."""
        return [MARKETPLACES[m] for m in self.marketplaces if MARKETPLACES[m].currency == currency]

    def group(self, group_id):
        for group in self.groups:
            if group.group_id == group_id:
                return group
        return None

    def group_events(self, group):
        return [ev for ev in self.events if ev.group_id == group.group_id]

    def group_total(self, group):
        """OriginalTotal: the sum of the nets of the group's canonical events, plus a failed
        transfer of the previous group that this one pays again (``carried_in``)."""
        events = sum((ev.net for ev in self.group_events(group)), quantize(0, group.currency))
        return events + group.carried_in

    def fund_transfers(self, now=None):
        """What reaches the seller's bank: one transfer per closed group, as the bank statement
        shows it (``[{"group_id", "date", "amount", "currency", "trace_id", "account_tail"}]``)."""
        now = now or datetime.now(UTC)
        transfers = []
        for group in self.groups:
            if not group.is_closed(now) or group.fund_transfer_status == "Failed":
                continue
            rendered = to_v0_group(group, self.group_total(group), now)
            converted = rendered["ConvertedTotal"]
            transfers.append(
                {
                    "group_id": group.group_id,
                    "date": group.end,
                    "amount": converted["CurrencyAmount"],
                    "currency": converted["CurrencyCode"],
                    "trace_id": group.trace_id,
                    "account_tail": group.account_tail,
                }
            )
        return transfers

    def ensure_groups(self, currencies=None):
        """Create the groups covering ``[start, end]`` for the given (default: all) currencies."""
        currencies = currencies or sorted({MARKETPLACES[m].currency for m in self.marketplaces})
        for currency in currencies:
            moment = self.start
            while moment <= self.end:
                group = self.group_for(currency, moment)
                moment = group.end
            self.group_for(currency, self.end)

    # -- events -------------------------------------------------------------------------------

    def _add(self, event, quirks=None):
        if quirks is None:
            quirks = {
                name
                for name in _quirks_apply(event)
                if unit(self.seed, self.seller_id, event.event_id, name)
                < self.quirk_rates.get(name, 0)
            }
        unknown = set(quirks) - set(QUIRKS)
        if unknown:
            raise ValueError(f"unknown quirks {sorted(unknown)}; known: {QUIRKS}")
        event.quirks = frozenset(quirks)
        # A deferred event is paid by the group of its release (``deferred_until``).
        paid_at = max(event.posted, event.deferred_until or event.posted)
        event.group_id = self.group_for(event.currency, paid_at).group_id
        self.events.append(event)
        return event

    def _base(self, kind, marketplace, posted, order_id=None, **kwargs):
        if marketplace not in MARKETPLACES:
            raise ValueError(f"unknown marketplace {marketplace!r}")
        event_id = self._next_id()
        posted = aware(posted, "posted") if posted else self.end
        return FinanceEvent(
            event_id=event_id,
            kind=kind,
            marketplace=marketplace,
            currency=MARKETPLACES[marketplace].currency,
            posted=posted.replace(microsecond=0),
            seller_id=self.seller_id,
            transaction_id=kwargs.pop("transaction_id", None) or self._transaction_id(event_id),
            order_id=order_id,
            **kwargs,
        )

    def _order_item(self, event, index, spec):
        adj_id, order_item_id = self._item_ids(event.event_id, index)
        found = product(spec.get("sku"))
        item = EventItem(
            sku=spec.get("sku"),
            quantity=spec.get("quantity", 1),
            order_adjustment_item_id=spec.get("order_adjustment_item_id", adj_id),
            order_item_id=spec.get("order_item_id", order_item_id),
            asin=spec.get("asin", found.asin if found else None),
            description=spec.get("description", found.title if found else spec.get("sku")),
            fulfillment_network=spec.get("fulfillment_network", "AFN"),
            charges=_amounts(spec.get("charges")),
            fees=_amounts(spec.get("fees")),
            withheld=_amounts(spec.get("withheld")),
            promotions=_amounts(spec.get("promotions")),
            promotion_base=spec.get("promotion_base", "Principal"),
            fee_taxes=None if spec.get("fee_taxes") is None else _amounts(spec["fee_taxes"]),
        )
        item.promotion_ids = {
            name: spec.get("promotion_ids", {}).get(name)
            or "PR-" + alnum(self._hash("promo", event.event_id, index, name), 12)
            for name in item.promotions
        }
        return item

    def add_refund(
        self,
        marketplace="US",
        order_id=None,
        posted=None,
        items=None,
        kind="refund",
        transaction_id=None,
        deferred_until=None,
        available_at=None,
        fees=None,
        quirks=None,
    ):
        """A refund, A-to-z guarantee claim or chargeback (``kind``).

        ``items``: ``[{"sku", "quantity", "charges": {"Principal": Decimal(...)}, "fees": {...},
        "withheld": {...}, "promotions": {...}, "promotion_base"? ("Principal" | "Shipping"),
        "fee_taxes"? ({FeeType: Amazon's VAT part}), "order_adjustment_item_id"?,
        "description"?, "asin"?}]``; amounts are Decimals (ints and strings accepted).
        ``items=None`` makes one realistic item for the marketplace. ``fees``: order-level fee
        adjustments (v0 ``OrderFeeAdjustmentList``).
        """
        if kind not in ORDER_KINDS:
            raise ValueError(f"kind must be one of {ORDER_KINDS}, not {kind!r}")
        event = self._base(
            kind,
            marketplace,
            posted,
            transaction_id=transaction_id,
            deferred_until=deferred_until,
            available_at=available_at,
            fees=_amounts(fees),
        )
        event.order_id = order_id or self._order_id(marketplace, event.event_id)
        if items is None:
            chosen = PRODUCTS[self._rng.randrange(len(PRODUCTS))]
            items = [refund_item_spec(self._rng, marketplace, kind, chosen)]
        event.items = [self._order_item(event, i, spec) for i, spec in enumerate(items)]
        return self._add(event, quirks)

    def add_order(
        self,
        marketplace="US",
        order_id=None,
        posted=None,
        items=None,
        transaction_id=None,
        shipment_id=None,
        deferred_until=None,
        fees=None,
        quirks=None,
    ):
        """A sale (v0 ``ShipmentEventList``, 2024 ``Shipment``, report ``Order`` rows), with
        ``items`` as for :meth:`add_refund` and a seller's signs (charges positive, fees
        negative). ``items=None`` makes one realistic sold item."""
        event = self._base(
            "order",
            marketplace,
            posted,
            transaction_id=transaction_id,
            deferred_until=deferred_until,
            fees=_amounts(fees),
        )
        event.order_id = order_id or self._order_id(marketplace, event.event_id)
        event.shipment_id = shipment_id or digits(self._hash("shipment", event.event_id), 14)
        if items is None:
            chosen = PRODUCTS[self._rng.randrange(len(PRODUCTS))]
            items = [sale_item_spec(self._rng, marketplace, chosen)]
        event.items = [self._order_item(event, i, spec) for i, spec in enumerate(items)]
        return self._add(event, quirks)

    def add_adjustment(
        self,
        marketplace="US",
        adjustment_type="FBAInventoryReimbursement",
        posted=None,
        items=None,
        amount=None,
        transaction_id=None,
        available_at=None,
        quirks=None,
    ):
        """An AdjustmentEvent: per-SKU ``items`` (``[{"sku", "quantity", "per_unit", "total"?,
        "fnsku"?, "asin"?, "description"?}]``, total = per_unit × quantity by default), or one
        ``amount`` without items (ReserveDebit, ReserveCredit, PostageBilling...).

        ``ReserveEvent`` (documented, never sent: models#1363) becomes ``ReserveDebit`` for a
        reserve held (negative) and ``ReserveCredit`` for one released.
        """
        if not items and amount is None:
            raise ValueError("an adjustment needs items or an amount")
        if adjustment_type == "ReserveEvent":
            held = to_decimal(amount) < 0 if amount is not None else False
            adjustment_type = "ReserveDebit" if held else "ReserveCredit"
        event = self._base(
            "adjustment",
            marketplace,
            posted,
            transaction_id=transaction_id,
            available_at=available_at,
            adjustment_type=adjustment_type,
            amount=None if items else to_decimal(amount),
        )
        for spec in items or []:
            found = product(spec.get("sku"))
            quantity = spec.get("quantity", 1)
            per_unit = to_decimal(spec["per_unit"]) if spec.get("per_unit") is not None else None
            total = spec.get("total")
            if total is None:
                if per_unit is None:
                    raise ValueError("an adjustment item needs total or per_unit")
                total = per_unit * quantity
            event.items.append(
                EventItem(
                    sku=spec.get("sku"),
                    quantity=quantity,
                    asin=spec.get("asin", found.asin if found else None),
                    fnsku=spec.get("fnsku", found.fnsku if found else None),
                    description=spec.get("description", found.title if found else None),
                    amount=to_decimal(total),
                    per_unit=per_unit,
                )
            )
        return self._add(event, quirks)

    def add_service_fee(
        self,
        marketplace="US",
        fees=None,
        posted=None,
        order_id=None,
        sku=None,
        fee_reason=None,
        fee_description=None,
        transaction_id=None,
        fee_taxes=None,
        quirks=None,
    ):
        """A ServiceFeeEvent, e.g. ``fees={"Subscription": Decimal("-39.99")}``; ``fee_taxes``
        as for refund items (default: the marketplace's VAT on Amazon's fees)."""
        if not fees:
            raise ValueError("a service fee needs fees")
        event = self._base(
            "service_fee",
            marketplace,
            posted,
            order_id=order_id,
            transaction_id=transaction_id,
            fees=_amounts(fees),
            fee_taxes=None if fee_taxes is None else _amounts(fee_taxes),
            sku=sku,
            fee_reason=fee_reason,
            fee_description=fee_description,
        )
        return self._add(event, quirks)

    def add_retrocharge(
        self,
        marketplace="US",
        order_id=None,
        posted=None,
        base_tax=None,
        shipping_tax=None,
        retrocharge_type="Retrocharge",
        transaction_id=None,
        quirks=None,
    ):
        """A RetrochargeEvent (``Retrocharge`` or ``RetrochargeReversal``)."""
        event = self._base(
            "retrocharge",
            marketplace,
            posted,
            transaction_id=transaction_id,
            retrocharge_type=retrocharge_type,
            base_tax=None if base_tax is None else to_decimal(base_tax),
            shipping_tax=None if shipping_tax is None else to_decimal(shipping_tax),
        )
        event.order_id = order_id or self._order_id(marketplace, event.event_id)
        return self._add(event, quirks)

    def add_product_ads(
        self,
        marketplace="US",
        amount=None,
        tax=None,
        posted=None,
        invoice_id=None,
        transaction_type="Charge",
        transaction_id=None,
    ):
        """A Sponsored Products charge (v0 ``ProductAdsPaymentEventList``, 2024
        ``ProductAdsPayment``, report ``ServiceFee / Cost of Advertising``): ``amount`` is the
        total, tax included (negative for a charge); ``tax`` Amazon's tax on it (default: the
        marketplace's VAT on Amazon's fees, none in the US)."""
        if amount is None:
            raise ValueError("an advertising charge needs an amount")
        amount = to_decimal(amount)
        event = self._base(
            "product_ads",
            marketplace,
            posted,
            transaction_id=transaction_id,
            fees={ADS_FEE: amount},
            fee_taxes=None if tax is None else {ADS_FEE: to_decimal(tax)},
            ads_transaction_type=transaction_type,
        )
        event.invoice_id = invoice_id or "TR" + alnum(self._hash("ads", event.event_id), 8) + "-1"
        return self._add(event, quirks=set())

    def fail_transfer(self, group):
        """The bank returned ``group``'s transfer: its status is ``Failed`` and no bank line
        comes; the next group of its currency begins with that money and pays it again."""
        total = self.group_total(group)
        group.fund_transfer_status = "Failed"
        following = self.group_for(group.currency, group.end)
        following.carried_in += total
        following.beginning_balance += total
        return following

    def _raw(self, api, raw, posted, currency, marketplace, list_name, available_at):
        market = MARKETPLACES.get(marketplace) if marketplace else None
        currency = currency or (market.currency if market else None)
        posted = aware(posted, "posted") if posted else self.end
        event = RawEvent(
            event_id=self._next_id(),
            api=api,
            raw=copy.deepcopy(raw),
            posted=posted,
            currency=currency,
            seller_id=self.seller_id,
            list_name=list_name,
            marketplace=marketplace,
            available_at=available_at,
        )
        if currency:
            event.group_id = self.group_for(currency, posted).group_id
        self.raw_events.append(event)
        return event

    def add_raw_v0(
        self, list_name, raw, posted=None, currency=None, marketplace=None, available_at=None
    ):
        """A verbatim v0 event in ``list_name`` (any name, known or not), listed as is.

        ``posted`` (default: the event's ``PostedDate`` when readable, else the dataset end)
        places it in time; ``currency`` (default: the marketplace's, else the first
        ``CurrencyCode`` found) places it in a group. It counts in no group total.
        """
        posted = posted or _guess_posted(raw, "PostedDate")
        currency = currency or _guess_currency(raw, "CurrencyCode")
        event = self._raw(V0, raw, posted, currency, marketplace, list_name, available_at)
        if isinstance(raw, dict):
            event.order_id = (
                raw.get("AmazonOrderId") if isinstance(raw.get("AmazonOrderId"), str) else None
            )
        return event

    def add_raw_transaction(
        self, raw, posted=None, currency=None, marketplace=None, available_at=None
    ):
        """A verbatim 2024-06-19 transaction, listed as is (see :meth:`add_raw_v0`).

        Filters read it where they can: ``marketplaceDetails.marketplaceId``,
        ``transactionStatus`` and the ``ORDER_ID`` related identifier.
        """
        posted = posted or _guess_posted(raw, "postedDate")
        currency = currency or _guess_currency(raw, "currencyCode")
        if marketplace is None and isinstance(raw, dict):
            details = raw.get("marketplaceDetails")
            mid = details.get("marketplaceId") if isinstance(details, dict) else None
            if mid in MARKETPLACES_BY_ID:
                marketplace = MARKETPLACES_BY_ID[mid].code
        event = self._raw(V2024, raw, posted, currency, marketplace, None, available_at)
        if isinstance(raw, dict):
            status = raw.get("transactionStatus")
            event.transaction_status = status if isinstance(status, str) else None
            for ident in raw.get("relatedIdentifiers") or []:
                if isinstance(ident, dict) and ident.get("relatedIdentifierName") == "ORDER_ID":
                    event.order_id = ident.get("relatedIdentifierValue")
        return event

    # -- changes ------------------------------------------------------------------------------

    def event(self, event_id=None, transaction_id=None, order_id=None):
        """Find an event by internal id, transactionId or order id (first match)."""
        for event in self.events + self.raw_events:
            if event_id and event.event_id == event_id:
                return event
            if transaction_id and getattr(event, "transaction_id", None) == transaction_id:
                return event
            if order_id and event.order_id == order_id:
                return event
        raise KeyError(event_id or transaction_id or order_id)

    def change_amount(self, event, family, type_name, amount, item=0):
        """Set one component of an existing event (an upstream change under the same key).

        ``family``: ``charges``, ``fees``, ``withheld``, ``promotions`` (per ``item`` index),
        ``adjustment`` (the item's total, or the event amount without items), ``service_fee``
        fees, ``retrocharge`` (``BaseTax`` / ``ShippingTax``). A missing type is added.
        """
        if isinstance(event, str):
            event = self.event(event_id=event)
        family = _FAMILY_ALIASES.get(family.lower().replace("_", ""), family)
        amount = to_decimal(amount)
        if family == "adjustment":
            if event.items:
                target = event.items[item]
                if target.per_unit is not None and target.quantity:
                    target.per_unit = amount / target.quantity
                target.amount = amount
            else:
                event.amount = amount
        elif family == "retrocharge":
            if type_name == "BaseTax":
                event.base_tax = amount
            elif type_name == "ShippingTax":
                event.shipping_tax = amount
            else:
                raise ValueError(
                    f"retrocharge components are BaseTax and ShippingTax, not {type_name}"
                )
        elif family == "fees" and not event.items:
            event.fees[type_name] = amount
        elif family in ("charges", "fees", "withheld", "promotions"):
            getattr(event.items[item], family)[type_name] = amount
        else:
            raise ValueError(f"unknown component family {family!r}")
        return event

    def remove(self, event):
        """Forget an event (canonical or raw)."""
        if event in self.events:
            self.events.remove(event)
        else:
            self.raw_events.remove(event)

    def all_events(self):
        """Canonical and raw events, ordered by posted date then id."""
        return sorted(self.events + self.raw_events, key=lambda ev: (ev.posted, ev.event_id))


def _guess_posted(raw, key):
    if isinstance(raw, dict) and isinstance(raw.get(key), str):
        text = raw[key].strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _guess_currency(raw, key):
    if isinstance(raw, dict):
        if isinstance(raw.get(key), str):
            return raw[key]
        values = raw.values()
    elif isinstance(raw, list):
        values = raw
    else:
        return None
    for value in values:
        found = _guess_currency(value, key)
        if found:
            return found
    return None
