"""The emulated seller's products and realistic order items (seeded by the caller's ``rng``)."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .common import (
    MARKETPLACES,
    REFERRAL_RATE,
    TAX_RULES,
    US_STATE_RATES,
    USD_RATE,
    alnum,
    digest,
    quantize,
)


@dataclass(frozen=True)
class Product:
    sku: str
    asin: str
    fnsku: str
    title: str
    usd: Decimal  # consumer price in the US, tax excluded


def _products():
    specs = (
        ("WIDGET-BLUE", "Blue widget", "19.99"),
        ("WIDGET-RED", "Red widget", "21.99"),
        ("KETTLE-1L", "Electric kettle 1 l", "34.99"),
        ("MUG-SET-4", "Ceramic mug set (4)", "24.50"),
        ("LAMP-DESK", "LED desk lamp", "45.00"),
        ("CABLE-USBC-2M", "USB-C cable 2 m", "9.99"),
        ("BACKPACK-20L", "Backpack 20 l", "59.90"),
        ("HEADPHONES-BT", "Bluetooth headphones", "79.00"),
        ("YOGA-MAT", "Yoga mat", "29.95"),
        ("BOTTLE-750", "Insulated bottle 750 ml", "17.49"),
        ("TEA-GREEN-100", "Green tea, 100 bags", "12.80"),
        ("PUZZLE-1000", "Jigsaw puzzle, 1000 pieces", "15.99"),
    )
    result = []
    for sku, title, usd in specs:
        h = digest("product", sku)
        result.append(
            Product(sku, "B0" + alnum(h, 8), "X00" + alnum(h[::-1], 7), title, Decimal(usd))
        )
    return tuple(result)


PRODUCTS = _products()
_PRODUCTS_BY_SKU = {p.sku: p for p in PRODUCTS}


def product(sku):
    return _PRODUCTS_BY_SKU.get(sku)


def local(usd_amount, currency):
    """A USD amount converted to ``currency`` at the rough rate, quantized (JPY: 10 yen)."""
    amount = Decimal(usd_amount) * Decimal(USD_RATE.get(currency, "1"))
    if currency == "JPY":
        return (amount / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 10
    return quantize(amount, currency)


def _tax(base, rate, mode, currency):
    """Tax of a base amount: ``included`` bases hold their tax, the others do not."""
    if mode == "included":
        return quantize(base * rate / (1 + rate), currency)
    return quantize(base * rate, currency)


def refund_item_spec(rng, marketplace, kind, product, withheld_vat=None):
    """A realistic refunded item for ``marketplace`` (amounts from the seller's point of view).

    ``withheld_vat``: the name stem of the tax Amazon withheld where it collected the VAT
    (``MarketplaceFacilitatorVAT`` in the UK/EU, ``LowValueGoodsTax``): the seller's Tax
    charges are then given back by a withheld line of that name, as US facilitator tax is.
    """
    market = MARKETPLACES[marketplace]
    cur = market.currency
    mode, rate = TAX_RULES.get(marketplace, ("none", None))
    if mode == "facilitator":
        rate = Decimal(rng.choice(US_STATE_RATES))
    rate = Decimal(rate) if rate is not None else Decimal(0)
    quantity = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
    included = mode == "included"
    # Consumer prices: tax-included where the seller's VAT is included in the price.
    unit = local(product.usd * (1 + rate if included else 1), cur)
    gross = unit * quantity
    shipping = local(Decimal("4.99"), cur) if rng.random() < 0.4 else Decimal(0)
    giftwrap = local(Decimal("3.99"), cur) if rng.random() < 0.12 else Decimal(0)

    charges, withheld, promotions, fees = {}, {}, {}, {}
    stem = withheld_vat or ("MarketplaceFacilitatorTax" if mode == "facilitator" else None)

    def charge(name, tax_name, withheld_suffix, base):
        if not base:
            return
        tax = _tax(base, rate, mode, cur) if mode != "none" else Decimal(0)
        charges[name] = -(base - tax) if included else -base
        if tax:
            charges[tax_name] = -tax
            if stem:
                withheld[f"{stem}-{withheld_suffix}"] = tax

    charge("Principal", "Tax", "Principal", gross)
    charge("ShippingCharge", "ShippingTax", "Shipping", shipping)
    # Amazon withholds the tax of a gift wrap as "...-Other" (real 2024 data; the v0 model
    # documents MarketplaceFacilitatorTax-Giftwrap, which no real sample shows).
    charge("GiftWrap", "GiftWrapTax", "Other", giftwrap)
    if kind == "refund" and rng.random() < 0.1:
        # The seller keeps a restocking fee: the refund is that much smaller.
        charges["RestockingFee"] = quantize(gross * Decimal("0.2"), cur)
    promotion_base = "Principal"
    if rng.random() < 0.25:
        # The promotion the buyer had is taken back: money back to the seller.
        if shipping and rng.random() < 0.5:
            promotions["PromotionMetaDataDefinitionValue"] = shipping
            promotion_base = "Shipping"
        else:
            promotions["PromotionMetaDataDefinitionValue"] = quantize(gross * Decimal("0.1"), cur)
    referral = quantize(gross * REFERRAL_RATE, cur)
    if referral:
        fees["Commission"] = referral
        if kind != "chargeback":
            refund_fee = min(Decimal(5), referral * Decimal("0.2"))
            fees["RefundCommission"] = -quantize(refund_fee, cur)
    return {
        "sku": product.sku,
        "quantity": quantity,
        "charges": charges,
        "withheld": withheld,
        "promotions": promotions,
        "promotion_base": promotion_base,
        "fees": fees,
    }


def sale_item_spec(rng, marketplace, product):
    """A realistic sold item (an ``Order`` of the settlement, a ``Shipment`` transaction)."""
    spec = refund_item_spec(rng, marketplace, "sale", product)
    cur = MARKETPLACES[marketplace].currency
    charges = {k: -v for k, v in spec["charges"].items() if k != "RestockingFee"}
    withheld = {k: -v for k, v in spec["withheld"].items()}
    promotions = {k: -v for k, v in spec["promotions"].items()}
    gross = sum((v for k, v in charges.items() if k in ("Principal", "Tax")), Decimal(0))
    fees = {
        "Commission": -quantize(gross * REFERRAL_RATE, cur),
        "FBAPerUnitFulfillmentFee": -local(Decimal("3.22") * spec["quantity"], cur),
    }
    return {
        **spec,
        "charges": charges,
        "withheld": withheld,
        "promotions": promotions,
        "fees": fees,
    }
