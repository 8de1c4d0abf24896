"""Which claims a labelled set holds, and the truth of each: what was bought, what the
documents show, what the claimant typed, and the label that follows from them.

A claim is built in three steps: ``plan_set`` picks the scenarios (a balanced,
seed-determined mix); ``draft_claim`` makes a genuine purchase and its documents for the
scenario's shape and then applies the scenario's one deviation (a typed date that is not
on the invoice, a model one token away, a serial with one character changed ...);
``label`` derives ``expected.json`` from the truth alone: it never looks at what the
pipeline outputs.

Two kinds of claims: ``documents`` (``promotion_id`` null: only the document checks
apply) and ``promotion`` (the AMD cashback or the Indonesian voucher: the label also
judges the terms, from the facts in docs/promotions.md).

Any claim's invoice may be a *hard phone photo* (``hard_share``: a hand's shadow, a glare
spot, a tilted camera, low resolution, rough JPEG; till receipts faded, on a 58 mm roll
that wraps product names onto two lines). The choice is drawn apart from everything else,
so the same seed gives the same claims whatever the share: only how they were photographed
changes.

>>> plan = plan_set(12, 1, "documents")
>>> len(plan), SCENARIOS[plan[0]].kind
(12, 'documents')
"""
from __future__ import annotations

import datetime as dt
import random
import unicodedata
import zlib
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from .catalogue import (
    AMD_PROMOTION,
    EXTRAS,
    GENERIC,
    NEAR_MISS,
    PRODUCTS,
    VOUCHER_PROMOTION,
    Product,
    line_description,
    products_in,
    reward_amd,
)
from .invoice import InvoiceDoc, InvoiceLine
from .locales import LOCALES, MARKETPLACE_SELLERS, Locale, Retailer, legal_entity, shop_town
from .stickers import ean13

__all__ = [
    "Scenario", "SCENARIOS", "KINDS", "Item", "Draft", "plan_set", "draft_claim", "label", "REVIEW_CODES",
    "same_serial", "genuine_amd", "HARD_SHARE", "HARD_FORMS", "template_series", "partial_names",
]


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str
    """'documents' or 'promotion'."""
    weight: float
    shape: str
    """What is bought: 'single' (one product with a sticker), 'duo' (board + CPU), 'trio' (+ case),
    'board' (a board alone), 'voucher' (an AIO or desktop), 'any' (single, duo or trio)."""
    depends: bool = False
    """Needs an earlier genuine promotion claim to copy from (duplicates, limits)."""
    summary: str = ""


SCENARIOS: dict[str, Scenario] = {s.name: s for s in [
    # document checks only (promotion_id null)
    Scenario("genuine_single", "documents", 14, "single", summary="genuine claim, one product with its sticker"),
    Scenario("genuine_duo", "documents", 10, "duo", summary="genuine claim, motherboard + CPU"),
    Scenario("genuine_trio", "documents", 5, "trio", summary="genuine claim, motherboard + CPU + case"),
    Scenario("genuine_sibling_model", "documents", 4, "sibling",
             summary="genuine claim for a model with a look-alike sibling (RTX 5060 Ti, MAG27CQ, Katana 15 ...)"),
    Scenario("genuine_logo_only", "documents", 2, "any",
             summary="genuine claim; the shop's name is only in the invoice's logo (a picture), "
                     "under it 'Billing Address'"),
    Scenario("genuine_legal_entity", "documents", 1.5, "any",
             summary="genuine claim naming the seller's legal entity; the header shows brand and town"),
    Scenario("genuine_extra_words", "documents", 1.5, "any",
             summary="genuine claim naming the shop with extra words ('<name> - for testing')"),
    Scenario("genuine_partial_name", "documents", 1.5, "any",
             summary="genuine claim naming part of the shop's name ('Overclockers' for 'Overclockers UK')"),
    Scenario("genuine_several_dates", "documents", 2, "any",
             summary="genuine claim; the invoice prints order, delivery and due dates beside the invoice date"),
    Scenario("wrong_date", "documents", 5, "any", summary="claimed purchase date is not the invoice's"),
    Scenario("near_miss_model", "documents", 6, "any",
             summary="claimed model differs from the invoiced one by a distinguishing token"),
    Scenario("product_not_on_invoice", "documents", 5, "any", summary="invoice does not name the claimed product"),
    Scenario("serial_off_by_one", "documents", 5, "any",
             summary="claimed serial differs from the sticker by one character"),
    Scenario("unreadable_sticker", "documents", 4, "any", summary="serial photo nobody can read"),
    Scenario("wrong_retailer", "documents", 5, "any", summary="claimed shop is not the invoice's"),
    Scenario("corrupt_upload", "documents", 3, "any", summary="invoice file truncated or empty"),
    # promotion terms (AMD + MSI cashback 2020, Boost Your Success voucher)
    Scenario("promo_genuine_duo", "promotion", 8, "duo", summary="eligible Duo, in period, in window"),
    Scenario("promo_genuine_trio", "promotion", 4, "trio", summary="eligible Trio, in period, in window"),
    Scenario("voucher_genuine", "promotion", 2, "voucher", summary="Indonesian AIO/desktop voucher, in period"),
    Scenario("outside_period", "promotion", 3, "duo", summary="invoice dated outside the purchase period"),
    Scenario("claim_too_early", "promotion", 3, "duo", summary="claimed before day 30 after purchase"),
    Scenario("claim_window_closed", "promotion", 2, "duo", summary="claimed after the claim window closed"),
    Scenario("territory_not_eligible", "promotion", 3, "duo", summary="claimant lives outside the territories"),
    Scenario("retailer_excluded", "promotion", 3, "duo",
             summary="bought from a marketplace third-party seller or on eBay"),
    Scenario("product_not_eligible", "promotion", 3, "duo", summary="motherboard not eligible in the territory"),
    Scenario("bundle_incomplete", "promotion", 3, "board", summary="motherboard without a CPU on the invoice"),
    Scenario("serial_already_claimed", "promotion", 3, "duo", depends=True,
             summary="another claimant already claimed this serial"),
    Scenario("invoice_reused", "promotion", 3, "duo", depends=True,
             summary="the invoice of an earlier claim, reused by another claimant"),
    Scenario("claim_limit_reached", "promotion", 3, "duo", depends=True,
             summary="second claim of a participant (limit 1)"),
    Scenario("voucher_outside_period", "promotion", 1, "voucher", summary="voucher claim, invoice before the period"),
    Scenario("promo_same_template", "promotion", 5, "duo", depends=True,
             summary="another buyer of a popular bundle at the same shop: the same template and lines, "
                     "only invoice number, date and buyer differ (genuine)"),
]}

KINDS = ("all", "documents", "promotion")
_DOCUMENT_SHARE = 0.55
"""Share of document-check claims in a set of kind 'all'."""

HARD_SHARE = 0.2
"""Default share of claims whose invoice (and serial photos) are hard phone photos."""
HARD_FORMS = ("hard_photo", "hard_receipt")
"""Invoice forms of hard phone photos: of a printed invoice, of a faded till receipt."""

REVIEW_CODES = frozenset({"DOCUMENT_UNREADABLE", "SERIAL_UNREADABLE", "CHK_UNREADABLE"})
"""Truth labels that need a person (the document cannot be judged); every other label code rejects."""

_TZ = {"NO": "Europe/Oslo", "SE": "Europe/Stockholm", "DK": "Europe/Copenhagen", "FI": "Europe/Helsinki",
       "DE": "Europe/Berlin", "AT": "Europe/Vienna", "FR": "Europe/Paris", "GB": "Europe/London",
       "IE": "Europe/Dublin", "PL": "Europe/Warsaw", "ES": "Europe/Madrid", "IT": "Europe/Rome",
       "CZ": "Europe/Prague", "NL": "Europe/Amsterdam", "ID": "Asia/Jakarta"}

# Where claims come from (weights); promotion claims only from the AMD territories we have layouts for.
_DOC_COUNTRIES = {"NO": 3, "SE": 2, "DK": 1.5, "FI": 1, "DE": 3, "AT": 1, "FR": 3, "GB": 3, "IE": 1, "PL": 1.5,
                  "ES": 1.5, "IT": 1.5, "CZ": 1, "NL": 1.5, "ID": 2}
_AMD_COUNTRIES = {"NO": 3, "SE": 2, "DK": 1.5, "FI": 1, "DE": 3, "AT": 1, "FR": 3, "GB": 2.5, "IE": 1, "PL": 1.5,
                  "ES": 1.5, "IT": 1.5, "CZ": 1}


# ------------------------------------------------------------------------------------------ plan


def _allocate(weights: dict[str, float], n: int) -> dict[str, int]:
    """Counts proportional to weights summing to n (largest remainder), each at least 1 when n allows."""
    names = list(weights)
    if n <= 0:
        return {k: 0 for k in names}
    floor = 1 if n >= len(names) else 0
    rest = n - floor * len(names)
    total = sum(weights.values())
    raw = {k: rest * weights[k] / total for k in names}
    counts = {k: floor + int(raw[k]) for k in names}
    left = n - sum(counts.values())
    for k in sorted(names, key=lambda k: (-(raw[k] - int(raw[k])), names.index(k)))[:left]:
        counts[k] += 1
    return counts


def plan_set(n: int, seed: int, kinds: str = "all") -> list[str]:
    """Scenario names in claim order: a balanced mix, claims that copy an earlier one last."""
    if kinds not in KINDS:
        raise ValueError(f"kinds must be one of {KINDS}, got {kinds!r}")
    rng = random.Random(f"lab-plan:{seed}:{kinds}")
    if kinds == "all":
        n_docs = round(n * _DOCUMENT_SHARE)
        parts = {"documents": n_docs, "promotion": n - n_docs}
    else:
        parts = {kinds: n}
    chosen: list[str] = []
    for kind, count in parts.items():
        weights = {s.name: s.weight for s in SCENARIOS.values() if s.kind == kind}
        for name, k in _allocate(weights, count).items():
            chosen += [name] * k
    first = [s for s in chosen if not SCENARIOS[s].depends]
    later = [s for s in chosen if SCENARIOS[s].depends]
    rng.shuffle(first)
    rng.shuffle(later)
    if later and not any(s in ("promo_genuine_duo", "promo_genuine_trio") for s in first):
        # nothing to copy from: make the first dependent a genuine claim instead
        first.append("promo_genuine_duo")
        later.pop(0)
    return first + later


# ------------------------------------------------------------------------------------------ drafts


@dataclass
class Item:
    product: Product
    serial: str | None = None
    chk: str | None = None
    ean: str = ""
    on_invoice: bool = True
    """False: the invoice does not name it (a generic line, or another purchase's invoice)."""
    generic_line: bool = False


@dataclass
class Draft:
    """A claim being made: the truth (purchase, documents) and what the claimant typed."""

    index: int
    seed: int
    scenario: Scenario
    rng: random.Random
    country: str
    retailer: Retailer
    channel: str
    purchase: dt.date
    submitted: dt.datetime
    items: list[Item]
    invoice: InvoiceDoc | None = None
    claimed_products: list[dict] = field(default_factory=list)
    claimed_date: dt.date | None = None
    claimed_retailer: str = ""
    claimant_country: str = ""
    email: str = ""
    name: tuple[str, str] = ("", "")
    promotion_id: str | None = None
    invoice_form: str = "pdf"
    """pdf, scan_pdf, photo, receipt_photo, receipt_scan, hard_photo, hard_receipt."""
    hard: bool = False
    """The claimant's uploads are hard phone photos (invoice and serial stickers)."""
    level: str = "easy"
    sticker_form: str = "code128"
    """code128, qr, packaging."""
    sticker_level: str = "easy"
    sticker_unreadable: bool = False
    corrupt: str | None = None
    """'truncated' or 'empty' invoice upload."""
    copy_invoice_of: Draft | None = None
    """invoice_reused: the earlier claim whose invoice is uploaded again."""
    copy_invoice_bytes: bool = False
    sticker_of: Draft | None = None
    """serial_already_claimed: the earlier claim whose sticker is photographed again."""
    notes: dict = field(default_factory=dict)
    expected: dict = field(default_factory=dict)

    @property
    def locale(self) -> Locale:
        return LOCALES[self.country]

    @property
    def claim_id(self) -> str:
        return f"C-{self.seed}-{self.index:04d}"

    @property
    def folder(self) -> str:
        return f"{self.index:04d}-{self.country.lower()}-{self.scenario.name.replace('_', '-')}"


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O").replace("ł", "l"))
    return "".join(c for c in folded if c.isascii() and (c.isalnum() or c in ".-")).lower()


def _serial(rng: random.Random, product: Product, day: dt.date) -> str:
    digits = "0123456789"
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    if product.category == "motherboard":
        return (f"602-{product.code}-{rng.randrange(10, 20):03d}{rng.choice('ABCDE')}"
                f"{day.year % 100:02d}{day.month:02d}{rng.randrange(1, 999999):06d}")
    head = rng.choice(letters) + rng.choice(letters) + rng.choice(digits) + rng.choice(letters)
    return head + "".join(rng.choice(digits) for _ in range(8)) + rng.choice(letters)


def _chk(rng: random.Random, length: int) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
    return "".join(rng.choice(alphabet) for _ in range(length))


def _item(rng: random.Random, product: Product, day: dt.date) -> Item:
    ean = ean13("4719072" + f"{zlib.crc32(product.model.encode()) % 100000:05d}")
    if not product.has_sticker:
        return Item(product, None, None, ean)
    made = day - dt.timedelta(days=rng.randrange(20, 200))
    return Item(product, _serial(rng, product, made), _chk(rng, product.chk_length), ean)


def _shape_products(rng: random.Random, shape: str, *, year: int, country: str, promo: bool,
                    scenario: str) -> list[Product]:
    """The products bought, for a claim shape; promotion claims buy eligible ones."""
    def choose(cands: list[Product]) -> Product:
        return rng.choice(cands)

    if shape == "any":
        shape = rng.choices(["single", "duo", "trio"], [5, 4, 2])[0]
        if year > 2021:
            shape = "single"
    if scenario == "near_miss_model":
        # only products with a near miss: the mismatch is then a different model, not noise
        keys = [PRODUCTS[m] for m in NEAR_MISS if PRODUCTS[m].years[0] <= year <= PRODUCTS[m].years[1]]
        target = choose(keys)
        if target.category in ("cpu", "case"):
            board = choose([p for p in products_in("motherboard", year=year) if p.group]
                           or products_in("motherboard", year=year))
            return [board, target] if target.category == "cpu" else \
                [board, choose(products_in("cpu", eligible=True, year=year)), target]
        return [target]
    if shape == "sibling":
        # a stickered product whose sibling a claimant could confuse with it (the #15 models)
        return [choose([PRODUCTS[m] for m in NEAR_MISS if PRODUCTS[m].has_sticker
                        and PRODUCTS[m].years[0] <= year <= PRODUCTS[m].years[1]])]
    if shape == "voucher":
        return [choose([p for p in products_in("aio") + products_in("desktop") if p.years[1] >= 2025])]
    if shape == "single":
        cats = ["motherboard", "graphics_card", "monitor", "laptop", "aio", "desktop"]
        pool = [p for c in cats for p in products_in(c, year=year)]
        return [choose(pool)]
    if promo:
        tier = AMD_PROMOTION.tier(country) or 1
        as_country = country if AMD_PROMOTION.tier(country) else "DE"  # outside the territories: a Tier 1 buy
        boards = [p for p in products_in("motherboard", eligible=True) if AMD_PROMOTION.eligible(p, as_country)]
        if scenario == "product_not_eligible":
            boards = [p for p in products_in("motherboard") if p.group is None or
                      (p.group == "b450-tier2" and tier == 1)]
        cpus = products_in("cpu", eligible=True)
        cases = products_in("case", eligible=True)
    else:
        boards = products_in("motherboard", year=year)
        cpus = products_in("cpu", year=year)
        cases = products_in("case", year=year)
    out = [choose(boards)]
    if shape in ("duo", "trio"):
        out.append(choose(cpus))
    if shape == "trio":
        out.append(choose(cases))
    return out


def _base(index: int, seed: int, scenario: Scenario, *, country: str | None = None) -> Draft:
    rng = random.Random(f"lab-claim:{seed}:{index}")
    promo_amd = scenario.kind == "promotion" and scenario.shape != "voucher"
    if scenario.shape == "voucher":
        country = "ID"
    elif scenario.name == "territory_not_eligible":
        country = "NL"
    elif scenario.name == "retailer_excluded":
        country = rng.choice(["DE", "DE", "FR", "GB", "GB", "IT", "ES"])
    country = country or _pick(rng, _AMD_COUNTRIES if promo_amd else _DOC_COUNTRIES)
    loc = LOCALES[country]
    # dates
    if scenario.shape == "voucher":
        start, end = VOUCHER_PROMOTION.period
        purchase = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
    elif promo_amd:
        start, end = AMD_PROMOTION.period
        purchase = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
    else:
        if scenario.shape in ("duo", "trio", "board"):
            year = rng.choice([2019, 2020, 2020, 2021])  # the AM4 boards and Ryzen 3000 were on sale then
        elif country == "ID":
            year = rng.choice([2021, 2022, 2023, 2024, 2025])
        elif scenario.shape == "sibling":
            year = rng.choice([2019, 2020, 2021, 2023, 2024, 2025, 2025])
        else:
            year = rng.choice([2019, 2020, 2020, 2021, 2022, 2023, 2024, 2025])
        purchase = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(360))
    products = _shape_products(rng, scenario.shape, year=purchase.year, country=country,
                               promo=promo_amd, scenario=scenario.name)
    if scenario.kind == "documents":
        # keep the purchase inside every product's years on sale
        lo = max(p.years[0] for p in products)
        hi = min(p.years[1] for p in products)
        if not lo <= purchase.year <= hi:
            purchase = purchase.replace(year=rng.randint(lo, hi))
    items = [_item(rng, p, purchase) for p in products]
    # where it was bought
    retailers = [r for r in loc.retailers if r.marketplace != "ebay"]
    if scenario.name == "retailer_excluded":
        retailers = [r for r in loc.retailers if r.marketplace]
    elif scenario.name in ("genuine_logo_only", "genuine_extra_words"):
        retailers = [r for r in retailers if not r.marketplace]
    elif scenario.name == "genuine_partial_name":
        retailers = [r for r in retailers if partial_names(r)] or retailers
    retailer = rng.choice(retailers)
    channel = "online_retailer"
    if retailer.stores and not retailer.marketplace and rng.random() < 0.4 \
            and scenario.name != "genuine_several_dates":
        channel = "retail_store"
    first, last = rng.choice(loc.people[0]), rng.choice(loc.people[1])
    submitted_day = purchase + dt.timedelta(days=rng.randrange(2, 60))
    if promo_amd:
        lo = AMD_PROMOTION.earliest_claim(purchase) + dt.timedelta(days=1)
        hi = AMD_PROMOTION.window[1] - dt.timedelta(days=1)
        submitted_day = lo + dt.timedelta(days=rng.randrange(max(1, (hi - lo).days + 1)))
    submitted = dt.datetime.combine(submitted_day, dt.time(rng.randrange(8, 22), rng.randrange(60)),
                                    tzinfo=ZoneInfo(_TZ[country]))
    d = Draft(index, seed, scenario, rng, country, retailer, channel, purchase, submitted, items)
    d.claimed_date = purchase
    d.claimed_retailer = rng.choice(retailer.claimed)
    d.claimant_country = country
    d.name = (first, last)
    d.email = f"{_ascii(first)}.{_ascii(last)}.{seed}{index:04d}@example.{loc.email_tld}"
    if scenario.kind == "promotion":
        d.promotion_id = VOUCHER_PROMOTION.id if scenario.shape == "voucher" else AMD_PROMOTION.id
    _choose_forms(d)
    return d


def _choose_forms(d: Draft) -> None:
    rng = d.rng
    d.level = rng.choices(["easy", "medium", "hard"], [55, 33, 12])[0]
    d.sticker_level = rng.choices(["easy", "medium", "hard"], [55, 33, 12])[0]
    if d.channel == "retail_store":
        d.invoice_form = rng.choices(["receipt_photo", "receipt_scan"], [3, 1])[0]
    else:
        d.invoice_form = rng.choices(["pdf", "scan_pdf", "photo"], [35, 20, 45])[0]
    d.sticker_form = rng.choices(["code128", "qr", "packaging"], [60, 20, 20])[0]


def _fit_form(d: Draft) -> None:
    """The upload's form named for what it is once the shop (and so the paper) was copied from
    another claim: a till receipt is photographed or scanned as a receipt."""
    receipt = d.invoice is not None and d.invoice.style == "receipt"
    if d.hard:
        d.invoice_form = "hard_receipt" if receipt else "hard_photo"
    elif receipt and not d.invoice_form.startswith("receipt"):
        d.invoice_form = {"scan_pdf": "receipt_scan"}.get(d.invoice_form, "receipt_photo")
    elif not receipt and d.invoice_form.startswith("receipt"):
        d.invoice_form = {"receipt_scan": "scan_pdf"}.get(d.invoice_form, "photo")


def _photograph_hard(d: Draft) -> None:
    """The claimant's uploads are hard phone photos: the invoice (or till receipt) and the stickers."""
    d.hard = True
    d.invoice_form = "hard_receipt" if d.channel == "retail_store" else "hard_photo"
    d.level = "hard"
    d.sticker_level = "hard_photo"


def _invoice_style(d: Draft) -> str:
    if d.channel == "retail_store":
        return "receipt"
    if d.retailer.marketplace:
        return "marketplace"
    return "modern" if zlib.crc32(d.retailer.id.encode()) % 2 else "classic"


def _invoice_number(rng: random.Random, country: str, year: int) -> str:
    """An invoice number as the country's shops print them."""
    number = f"{rng.randrange(10 ** 8, 10 ** 9)}"
    if country in ("DE", "AT"):
        number = f"RE-{year}-{rng.randrange(100000, 999999)}"
    elif country in ("FR", "ES", "IT"):
        number = f"{country}{year % 100}{rng.randrange(1000000, 9999999)}"
    return number


def _build_invoice(d: Draft, *, extra_lines: int | None = None) -> None:
    rng, loc = d.rng, d.locale
    lines = []
    for _k, item in enumerate(d.items):
        price = loc.local_price(item.product.eur)
        if item.on_invoice:
            lines.append(InvoiceLine(line_description(item.product, loc.language, rng.randrange(3)), 1, price))
        elif item.generic_line:
            generic = GENERIC.get(loc.language, GENERIC["en"])[item.product.category]
            lines.append(InvoiceLine(generic, 1, price))
    extras = EXTRAS.get(loc.language, EXTRAS["en"])
    n_extra = extra_lines if extra_lines is not None else rng.choices([0, 1, 2], [6, 3, 1])[0]
    for desc, eur in rng.sample(list(extras), min(n_extra, len(extras))):
        lines.append(InvoiceLine(desc, rng.choice([1, 1, 1, 2]), loc.local_price(eur)))
    rng.shuffle(lines) if rng.random() < 0.3 else None
    style = _invoice_style(d)
    order_date = None
    if style != "receipt" and rng.random() < 0.35:
        order_date = d.purchase - dt.timedelta(days=rng.randrange(1, 4))
    seller = None
    if d.retailer.marketplace == "amazon":
        seller = d.retailer.legal
        if d.scenario.name == "retailer_excluded":
            seller = rng.choice(MARKETPLACE_SELLERS.get(loc.language, MARKETPLACE_SELLERS["en"]))
    elif d.retailer.marketplace == "ebay":
        seller = rng.choice(MARKETPLACE_SELLERS.get(loc.language, MARKETPLACE_SELLERS["en"]))
    number = _invoice_number(rng, loc.country, d.purchase.year)
    street = f"{rng.choice(loc.streets)} {rng.randrange(1, 120)}"
    shipping = 0.0 if style == "receipt" or rng.random() < 0.6 else loc.local_price(rng.choice([4.9, 5.9, 9.9]))
    d.invoice = InvoiceDoc(
        d.country, d.retailer, number, d.purchase,
        order_number=f"{rng.randrange(10 ** 6, 10 ** 7)}" if style != "receipt" else None,
        order_date=order_date,
        customer=(f"{d.name[0]} {d.name[1]}", street, rng.choice(loc.cities)) if style != "receipt" else (),
        customer_no=f"{rng.randrange(10 ** 5, 10 ** 6)}" if style == "classic" else None,
        lines=tuple(lines), shipping=shipping, seller=seller, style=style,
        time=f"{d.submitted.hour % 12 + 9:02d}:{rng.randrange(60):02d}")
    _vary_invoice(d)


def _vary_invoice(d: Draft) -> None:
    """What the scenario and the photo change on the printed invoice (drawn apart from the rest, so
    adding a variant does not move any other claim's draws)."""
    rng = random.Random(f"lab-variant:{d.seed}:{d.index}")
    inv, name = d.invoice, d.scenario.name
    narrow = rng.random()
    if inv.style == "receipt" and narrow < (0.7 if d.hard else 0.2):
        inv = replace(inv, receipt_width=32)  # a 58 mm roll: long names wrap onto two lines
    if name == "genuine_logo_only":
        inv = replace(inv, shop_in_logo=True, address_labels=inv.style != "receipt")
    elif name == "genuine_legal_entity":
        inv = replace(inv, header=f"{d.retailer.name} {shop_town(d.retailer)}", entity=legal_entity(d.retailer))
    elif name == "genuine_several_dates":
        day = d.purchase
        inv = replace(inv, order_date=day - dt.timedelta(days=rng.randrange(1, 5)),
                      delivery_date=day + dt.timedelta(days=rng.randrange(1, 6)),
                      due_date=day + dt.timedelta(days=rng.choice([10, 14, 14, 30, 30])))
    d.invoice = inv


def _claimed_products(d: Draft) -> None:
    d.claimed_products = [{"model": it.product.model, "serial": it.serial, "chk": it.chk,
                           "category": it.product.category} for it in d.items]


# ------------------------------------------------------------------------------------------ scenarios

_CONFUSABLE_TYPED = {"0": "O", "1": "I"}


def same_serial(a: str | None, b: str | None) -> bool:
    """The same serial as a person reads it: case, separators and 0/O, 1/I/l look-alikes aside."""
    if a is None or b is None:
        return a is b

    def fold(s: str) -> str:
        s = "".join(c for c in s.upper() if c.isalnum())
        return s.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    return fold(a) == fold(b)


def _off_by_one(rng: random.Random, serial: str) -> str:
    """One character changed to one that is not its look-alike (a different serial, truly)."""
    positions = [i for i, c in enumerate(serial) if c.isdigit()]
    letter_positions = [i for i, c in enumerate(serial) if c.isalpha()]
    if letter_positions and rng.random() < 0.25:
        i = rng.choice(letter_positions)
        pool = [c for c in "ACEFHKMNPRTWXY" if c != serial[i]]
    else:
        i = rng.choice(positions[-8:])
        pool = [c for c in "23456789" if c != serial[i]]  # no 0/1: their look-alikes are letters
    out = serial[:i] + rng.choice(pool) + serial[i + 1:]
    assert not same_serial(out, serial)
    return out


def _swap(day: dt.date) -> dt.date | None:
    try:
        return day.replace(month=day.day, day=day.month)
    except ValueError:
        return None


def _wrong_date(d: Draft) -> dt.date:
    printed = set(d.invoice.printed_dates())
    taken = printed | {s for s in (_swap(p) for p in printed) if s}
    latest = d.submitted.date()
    for _ in range(200):
        delta = d.rng.choice([-1, 1]) * d.rng.choice([1, 2, 3, 5, 7, 10, 14, 21, 30, 31, 45, 60])
        if d.rng.random() < 0.2:
            delta = 365 * d.rng.choice([-1, 1])  # the year typed wrong
        cand = d.purchase + dt.timedelta(days=delta)
        if cand not in taken and cand <= latest:
            return cand
    raise RuntimeError("no wrong date found")  # pragma: no cover - 200 tries always find one


def _words(retailer: Retailer) -> set[str]:
    text = " ".join((retailer.name, *retailer.claimed, retailer.legal, retailer.domain or "", retailer.id))
    stop = {"ab", "as", "a", "s", "sa", "gmbh", "ag", "ltd", "oy", "uk", "com", "co", "de", "no", "se", "dk", "fi",
            "fr", "nl", "pl", "cz", "www", "eu", "b.v.", "sp.", "z", "o.o.", "pc", "the", "r.l.", "pt", "online",
            "services", "group", "limited", "international", "e-business", "world", "computers"}
    out = set()
    for w in text.lower().replace("/", " ").replace(",", " ").replace("-", " ").split():
        w = w.strip(".()")
        if w and w not in stop:
            out.add(w)
            out.add(w.split(".")[0])
    return out


def _other_retailer(d: Draft) -> Retailer:
    mine = _words(d.retailer)
    pool = [r for loc in LOCALES.values() for r in loc.retailers
            if not r.marketplace and r.id != d.retailer.id and not (_words(r) & mine)]
    same_country = [r for r in pool if r in d.locale.retailers]
    return d.rng.choice(same_country or pool)


_NOT_A_NAME = {"pc", "uk", "the", "online", "shop", "store", "computers", "world", "com", "net", "de", "no"}


def partial_names(retailer: Retailer) -> list[str]:
    """Shorter names a claimant types for the shop, each a part of its printed name: the name without
    its web suffix ('Komplett' for 'Komplett.no'), its first word ('Overclockers' for 'Overclockers
    UK'), its name without the company form ('Mindfactory' for 'Mindfactory AG')."""
    name = retailer.name
    out = []
    if "." in name and len(name.split(".")[0]) >= 3:
        out.append(name.split(".")[0])
    words = name.split()
    if len(words) > 1 and len(words[0]) >= 4 and words[0].lower() not in _NOT_A_NAME:
        out.append(words[0])
    seen = {name.lower()}
    return [p for p in out if not (p.lower() in seen or seen.add(p.lower()))]


def _claimed_variant(d: Draft) -> None:
    """How the claimant names the right shop in the #16 scenarios (the truth stays: the right shop)."""
    rng, r, name = d.rng, d.retailer, d.scenario.name
    if name == "genuine_legal_entity":
        d.claimed_retailer = legal_entity(r)
        d.notes["retailer_claim"] = "legal_entity"
    elif name == "genuine_extra_words":
        base = rng.choice(r.claimed)
        d.claimed_retailer = rng.choice([f"{base} - for testing", f"{base} online", f"{base} webshop",
                                         f"{base} {shop_town(r)}", f"{base} ({shop_town(r)})"])
        d.notes["retailer_claim"] = "extra_words"
        d.notes["retailer_claim_base"] = base
    elif name == "genuine_partial_name":
        parts = partial_names(r)
        unlisted = [p for p in parts if p.lower() not in {c.lower() for c in r.claimed}]
        d.claimed_retailer = rng.choice(unlisted or parts or [r.name])
        d.notes["retailer_claim"] = "partial"
    elif name == "genuine_logo_only":
        d.notes["retailer_claim"] = "logo_only"


def _apply(d: Draft, history: list[Draft]) -> None:
    """The scenario's one deviation from a genuine claim."""
    rng, name = d.rng, d.scenario.name
    _claimed_variant(d)
    if name in ("genuine_single", "genuine_duo", "genuine_trio", "genuine_sibling_model", "promo_genuine_duo",
                "promo_genuine_trio", "promo_same_template"):
        stickered = [p for p in d.claimed_products if p["serial"]]
        if stickered and rng.random() < 0.12:
            # typed with a look-alike, as the portal warns ("0" vs "O"): still the same serial
            p = stickered[0]
            spots = [i for i, c in enumerate(p["serial"]) if c in _CONFUSABLE_TYPED]
            if spots:
                i = rng.choice(spots)
                p["serial"] = p["serial"][:i] + _CONFUSABLE_TYPED[p["serial"][i]] + p["serial"][i + 1:]
                d.notes["typed_lookalike"] = True
    elif name == "wrong_date":
        d.claimed_date = _wrong_date(d)
    elif name == "near_miss_model":
        for p in d.claimed_products:
            if p["model"] in NEAR_MISS:
                p["model"] = rng.choice(NEAR_MISS[p["model"]])
                break
    elif name == "serial_off_by_one":
        p = next(p for p in d.claimed_products if p["serial"])
        p["serial"] = _off_by_one(rng, p["serial"])
    elif name == "unreadable_sticker":
        d.sticker_unreadable = True
    elif name == "wrong_retailer":
        other = _other_retailer(d)
        d.claimed_retailer = rng.choice(other.claimed)
        d.notes["claimed_retailer_id"] = other.id
    elif name == "corrupt_upload":
        d.corrupt = rng.choices(["truncated", "empty"], [5, 1])[0]
        if d.invoice_form == "pdf" and d.corrupt == "truncated":
            d.notes["corrupt_kind"] = "truncated pdf"
    elif name == "outside_period":
        start, end = AMD_PROMOTION.period
        if rng.random() < 0.5:
            purchase = start - dt.timedelta(days=rng.randrange(3, 40))
        else:
            purchase = end + dt.timedelta(days=rng.randrange(3, 12))
        _move_purchase(d, purchase)
        lo = AMD_PROMOTION.earliest_claim(purchase) + dt.timedelta(days=1)
        hi = AMD_PROMOTION.window[1] - dt.timedelta(days=1)
        _submit_on(d, lo + dt.timedelta(days=rng.randrange(max(1, (hi - lo).days + 1))))
    elif name == "claim_too_early":
        _submit_on(d, d.purchase + dt.timedelta(days=rng.randrange(3, 27)))
    elif name == "claim_window_closed":
        _submit_on(d, AMD_PROMOTION.window[1] + dt.timedelta(days=rng.randrange(2, 45)))
    elif name == "voucher_outside_period":
        purchase = VOUCHER_PROMOTION.period[0] - dt.timedelta(days=rng.randrange(5, 60))
        _move_purchase(d, purchase)
        _submit_on(d, purchase + dt.timedelta(days=rng.randrange(10, 40)))


def _move_purchase(d: Draft, purchase: dt.date) -> None:
    d.purchase = purchase
    d.claimed_date = purchase
    d.invoice = replace(d.invoice, date=purchase,
                        order_date=purchase - dt.timedelta(days=2) if d.invoice.order_date else None,
                        delivery_date=purchase + dt.timedelta(days=2) if d.invoice.delivery_date else None,
                        due_date=purchase + dt.timedelta(days=14) if d.invoice.due_date else None)


def _submit_on(d: Draft, day: dt.date) -> None:
    d.submitted = d.submitted.replace(year=day.year, month=day.month, day=day.day)


def genuine_amd(history: list[Draft]) -> list[Draft]:
    """Earlier claims a duplicate or a second claim can copy: genuine AMD cashback claims."""
    return [h for h in history if h.scenario.name in ("promo_genuine_duo", "promo_genuine_trio")
            and h.expected.get("decision") == "approve"]


def _submit_after(d: Draft, src: Draft) -> None:
    """Submitted after the earlier claim, still inside the window and from day 30 of d's purchase."""
    rng, t = d.rng, AMD_PROMOTION
    day = max(d.submitted.date(), src.submitted.date() + dt.timedelta(days=rng.randrange(1, 10)))
    floor = max(src.submitted.date(), t.earliest_claim(d.purchase) + dt.timedelta(days=1))
    if day > t.window[1] - dt.timedelta(days=1):
        day = min(floor, t.window[1] - dt.timedelta(days=1))
    _submit_on(d, day)
    if d.submitted <= src.submitted:
        d.submitted = src.submitted + dt.timedelta(minutes=rng.randrange(30, 300))


def _copy_from_earlier(d: Draft, src: Draft) -> None:
    rng = d.rng
    d.notes["copies_claim"] = src.claim_id
    if d.scenario.name == "serial_already_claimed":
        # a new purchase of the same model, claimed with the earlier claimant's serial
        board = next(it for it in src.items if it.serial)
        for it in d.items:
            if it.product.category == "motherboard":
                it.product, it.serial, it.chk, it.ean = board.product, board.serial, board.chk, board.ean
        _build_invoice(d)
        _claimed_products(d)
        d.sticker_of = src
        d.sticker_form = src.sticker_form
    elif d.scenario.name == "invoice_reused":
        # the same invoice, another claimant, their own board of the same model
        d.retailer, d.channel = src.retailer, src.channel
        d.purchase, d.claimed_date = src.purchase, src.purchase
        d.claimed_retailer = src.claimed_retailer
        items = []
        for it in src.items:
            own = _item(rng, it.product, src.purchase)
            items.append(Item(it.product, own.serial, own.chk, it.ean))
        d.items = items
        d.invoice = src.invoice
        d.invoice_form, d.level = src.invoice_form, src.level
        d.copy_invoice_of = src
        d.copy_invoice_bytes = rng.random() < 0.5
        _claimed_products(d)
    elif d.scenario.name == "promo_same_template":
        _copy_template(d, src)
        _claimed_products(d)
        _fit_form(d)
        return  # a buyer of their own: submitted when their own purchase allows
    else:  # claim_limit_reached: the same participant, a second genuine purchase
        d.name = src.name
        d.email = src.email if rng.random() < 0.7 else src.email.upper()
        _build_invoice(d)
        _claimed_products(d)
    _submit_after(d, src)


def _copy_template(d: Draft, src: Draft, *, purchase: dt.date | None = None) -> None:
    """Another buyer's invoice from ``src``'s shop template: the same layout and lines (the same
    bundle), a number, date and buyer of their own; their own products' serials."""
    rng, t = d.rng, AMD_PROMOTION
    if purchase is None:
        days = [src.purchase + dt.timedelta(days=k) for k in range(-20, 21) if k]
        days = [x for x in days if t.period[0] <= x <= t.period[1]]
        purchase = rng.choice(days)
    d.retailer, d.channel, d.purchase, d.claimed_date = src.retailer, src.channel, purchase, purchase
    d.claimed_retailer = rng.choice(src.retailer.claimed)
    d.items = [_item(rng, it.product, purchase) for it in src.items]
    inv = src.invoice
    shift = purchase - inv.date

    def moved(x: dt.date | None) -> dt.date | None:
        return x + shift if x else None

    loc = d.locale
    number = inv.number
    while number == inv.number:
        number = _invoice_number(rng, loc.country, purchase.year)
    customer = ()
    if inv.customer:
        customer = (f"{d.name[0]} {d.name[1]}", f"{rng.choice(loc.streets)} {rng.randrange(1, 120)}",
                    rng.choice(loc.cities))
    d.invoice = replace(inv, number=number, date=purchase, order_date=moved(inv.order_date),
                        delivery_date=moved(inv.delivery_date), due_date=moved(inv.due_date),
                        order_number=f"{rng.randrange(10 ** 6, 10 ** 7)}" if inv.order_number else None,
                        customer=customer,
                        customer_no=f"{rng.randrange(10 ** 5, 10 ** 6)}" if inv.customer_no else None,
                        time=f"{rng.randrange(9, 21):02d}:{rng.randrange(60):02d}")
    d.notes["template_of"] = src.claim_id
    lo = t.earliest_claim(purchase) + dt.timedelta(days=1)
    hi = t.window[1] - dt.timedelta(days=1)
    _submit_on(d, lo + dt.timedelta(days=rng.randrange(max(1, (hi - lo).days + 1))))


# ------------------------------------------------------------------------------------------ labels


def _fold_model(model: str) -> str:
    return " ".join(model.lower().replace("-", " ").split())


def _document_truth(d: Draft) -> tuple[dict, list[str]]:
    checks: dict[str, str] = {}
    reasons: list[str] = []

    def fail(check: str, status: str, code: str | None) -> None:
        rank = {"pass": 0, "uncertain": 1, "fail": 2}
        if rank[status] >= rank.get(checks.get(check, "pass"), 0):
            checks[check] = status
        if code and code not in reasons:
            reasons.append(code)

    if d.corrupt:
        checks["invoice_readable"] = "fail"
        reasons.append("DOCUMENT_UNREADABLE")
    else:
        checks["invoice_readable"] = "pass"
        checks["purchase_date"] = "pass"
        if d.claimed_date not in d.invoice.printed_dates():
            fail("purchase_date", "fail", "DATE_MISMATCH")
        checks["retailer"] = "pass"
        if d.notes.get("claimed_retailer_id"):
            fail("retailer", "fail", "RETAILER_MISMATCH")
        printed = {_fold_model(it.product.model): it.product.model for it in d.items if it.on_invoice}
        checks["product_on_invoice"] = "pass"
        for p in d.claimed_products:
            key = _fold_model(p["model"])
            if key in printed:
                continue
            near = any(p["model"] in NEAR_MISS.get(m, ()) for m in printed.values())
            fail("product_on_invoice", "fail", "PRODUCT_MISMATCH" if near else "PRODUCT_NOT_ON_INVOICE")
    sticker_serials = {it.serial: it for it in d.items if it.serial}
    for p in d.claimed_products:
        if not p["serial"]:
            continue
        checks.setdefault("serial_number", "pass")
        checks.setdefault("chk_code", "pass")
        if d.sticker_unreadable:
            fail("serial_number", "uncertain", "SERIAL_UNREADABLE")
            fail("chk_code", "uncertain", "CHK_UNREADABLE")
            continue
        real = next((it for s, it in sticker_serials.items() if it.product.category == p["category"]), None)
        if real is None or not same_serial(p["serial"], real.serial):
            fail("serial_number", "fail", "SERIAL_MISMATCH")
        if real is None or (p["chk"] or "").upper() != (real.chk or "").upper():
            fail("chk_code", "fail", "CHK_MISMATCH")
    return checks, reasons


def _amd_truth(d: Draft, history: list[Draft]) -> tuple[dict, list[str], dict | None]:
    t = AMD_PROMOTION
    checks: dict[str, str] = {}
    reasons: list[str] = []

    def verdict(check: str, ok: bool, code: str) -> None:
        checks[check] = "pass" if ok else "fail"
        if not ok:
            reasons.append(code)

    day = d.invoice.date
    verdict("promotion_period", t.period[0] <= day <= t.period[1], "PURCHASE_OUTSIDE_PERIOD")
    local = d.submitted.date()
    if local < t.earliest_claim(day):
        verdict("claim_window", False, "CLAIM_TOO_EARLY")
    elif local > t.window[1]:
        verdict("claim_window", False, "CLAIM_WINDOW_CLOSED")
    else:
        checks["claim_window"] = "pass"
    verdict("territory", t.tier(d.claimant_country) is not None, "TERRITORY_NOT_ELIGIBLE")
    third_party = d.retailer.marketplace == "ebay" or (d.invoice.seller not in (None, d.retailer.legal))
    verdict("retailer_eligible", not third_party, "RETAILER_EXCLUDED")
    tier_country = d.claimant_country if t.tier(d.claimant_country) else None
    eligible = [it for it in d.items if it.on_invoice and t.eligible(it.product, tier_country)]
    if tier_country:
        verdict("product_eligible", all(t.eligible(it.product, tier_country) for it in d.items),
                "PRODUCT_NOT_ELIGIBLE")
        cats = {it.product.category for it in eligible}
        verdict("bundle", {"motherboard", "cpu"} <= cats, "BUNDLE_INCOMPLETE")
    earlier = [h for h in history if h.promotion_id == t.id and h.expected.get("decision") == "approve"]
    serials = {s for h in earlier for it in h.items if (s := it.serial)}
    verdict("duplicate_serial", not any(it.serial in serials for it in d.items if it.serial), "SERIAL_ALREADY_CLAIMED")
    invoices = {(h.invoice.retailer.id, h.invoice.number) for h in earlier}
    verdict("duplicate_invoice", (d.invoice.retailer.id, d.invoice.number) not in invoices, "INVOICE_ALREADY_USED")
    emails = [h.email.lower() for h in earlier]
    verdict("redeem_limit", emails.count(d.email.lower()) < t.per_participant, "CLAIM_LIMIT_REACHED")
    reward = None
    if not reasons:
        board = next(it.product for it in d.items if it.product.category == "motherboard")
        cpu = next(it.product for it in d.items if it.product.category == "cpu")
        case = next((it.product for it in d.items if it.product.category == "case"), None)
        reward = reward_amd(board, cpu, case, d.claimant_country)
    return checks, reasons, reward


def _voucher_truth(d: Draft) -> tuple[dict, list[str], dict | None]:
    t = VOUCHER_PROMOTION
    checks, reasons = {}, []
    ok = t.period[0] <= d.invoice.date <= t.period[1]
    checks["promotion_period"] = "pass" if ok else "fail"
    if not ok:
        reasons.append("PURCHASE_OUTSIDE_PERIOD")
    checks["territory"] = "pass" if d.claimant_country in t.territories else "fail"
    checks["product_eligible"] = "pass" if all(it.product.category in t.categories for it in d.items) else "fail"
    reward = {"amount": t.reward[0], "currency": t.reward[1]} if not reasons else None
    return checks, reasons, reward


def label(d: Draft, history: list[Draft]) -> dict:
    """expected.json for the draft, from the truth of its documents and of the terms."""
    checks, reasons = _document_truth(d)
    reward = None
    if d.promotion_id == AMD_PROMOTION.id:
        more, codes, reward = _amd_truth(d, history)
        checks.update(more)
        reasons += [c for c in codes if c not in reasons]
    elif d.promotion_id == VOUCHER_PROMOTION.id:
        more, codes, reward = _voucher_truth(d)
        checks.update(more)
        reasons += [c for c in codes if c not in reasons]
    if any(c not in REVIEW_CODES for c in reasons):
        decision = "reject"
    elif reasons:
        decision = "review"
    else:
        decision = "approve"
    out = {"decision": decision, "reasons": reasons, "checks": checks}
    if reward and decision == "approve":
        out["reward"] = reward
    return out


def _is_hard(seed: int, index: int, hard_share: float) -> bool:
    """Whether this claim's uploads are hard phone photos: a draw of its own, so the share changes
    how claims were photographed and nothing else about them."""
    return random.Random(f"lab-hard:{seed}:{index}").random() < hard_share


def draft_claim(index: int, seed: int, scenario_name: str, history: list[Draft], *,
                hard_share: float = HARD_SHARE) -> Draft:
    """A claim of the scenario, with its documents' truth and its label."""
    scenario = SCENARIOS[scenario_name]
    src = None
    if scenario.depends:
        pool = genuine_amd(history)
        if not pool:
            raise ValueError(f"{scenario_name} needs an earlier genuine promotion claim")
        if scenario_name == "promo_same_template":
            pool = pool[:2]  # a popular bundle at one or two big shops: many buyers of one template
        src = random.Random(f"lab-source:{seed}:{index}").choice(pool)
    d = _base(index, seed, scenario, country=src.country if src else None)
    if _is_hard(seed, index, hard_share):
        _photograph_hard(d)
    if scenario.name == "product_not_on_invoice":
        missing = d.rng.choice(d.items)
        missing.on_invoice = False
        missing.generic_line = d.rng.random() < 0.5
        _build_invoice(d, extra_lines=None if missing.generic_line or len(d.items) > 1 else d.rng.randint(1, 2))
    else:
        _build_invoice(d)
    _claimed_products(d)
    if src is not None:
        _copy_from_earlier(d, src)
    _apply(d, history)
    d.expected = label(d, history)
    return d


def template_series(seed: int = 17, *, buyer: bool = True, n: int = 4, form: str = "photo",
                    first_day: dt.date = dt.date(2020, 2, 17)) -> list[Draft]:
    """Issue #17's reproduction: ``n`` buyers of the Duo bundle (MEG X570 ACE + Ryzen 9 3900X) at
    Komplett.no on consecutive days from ``first_day``, each invoice from the same template with the
    same two lines (only the invoice number, the date and, with ``buyer``, the buyer's name differ),
    each claiming once in the order bought. All genuine: labelled approve."""
    scenario = SCENARIOS["promo_same_template"]
    history: list[Draft] = []
    src = None
    for index in range(1, n + 1):
        d = _base(index, seed, scenario, country="NO")
        day = first_day + dt.timedelta(days=index - 1)
        if src is None:
            d.retailer = next(r for r in LOCALES["NO"].retailers if r.id == "komplett.no")
            d.channel, d.purchase, d.claimed_date = "online_retailer", day, day
            d.items = [_item(d.rng, PRODUCTS[m], day) for m in ("MEG X570 ACE", "AMD Ryzen 9 3900X")]
            _build_invoice(d, extra_lines=0)
            d.invoice = replace(d.invoice, lines=tuple(sorted(d.invoice.lines, key=lambda x: -x.unit)),
                                order_date=None, delivery_date=None, due_date=None, shipping=0.0,
                                order_number=None, customer_no=None,
                                customer=d.invoice.customer if buyer else ())
            d.claimed_retailer = "Komplett.no"
            src = d
            lo = AMD_PROMOTION.earliest_claim(day) + dt.timedelta(days=1)
            _submit_on(d, lo)
        else:
            while d.name in [h.name for h in history]:  # four different buyers
                d.name = (d.rng.choice(d.locale.people[0]), d.rng.choice(d.locale.people[1]))
                d.email = f"{_ascii(d.name[0])}.{_ascii(d.name[1])}.{seed}{index:04d}@example.no"
            _copy_template(d, src, purchase=day)
            d.claimed_retailer = "Komplett.no"
            _submit_on(d, AMD_PROMOTION.earliest_claim(day) + dt.timedelta(days=1))
        d.submitted = d.submitted.replace(hour=10, minute=index)
        d.invoice_form, d.level, d.hard = form, "easy", form in HARD_FORMS
        if d.hard:
            d.sticker_level = "hard_photo"
        _claimed_products(d)
        d.notes["issue"] = 17
        d.expected = label(d, history)
        history.append(d)
    return history
