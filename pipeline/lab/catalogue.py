"""What the sample claims buy: the products of ``docs/promotions.md`` and a few neighbours.

Every product is a frozen record: the official model name a claimant types, how it is
printed on an invoice line (per language), its category, a street price in euro, and
the promotion group it belongs to in ``pipeline/data/promotions/amd-msi-cashback-2020.toml`` (None:
not eligible). Near-miss pairs differ by a token that makes a different product (a
number or a tier suffix: "3600" vs "3600X"), so a claim naming one while the invoice
shows the other is, in truth, a different model.

>>> PRODUCTS["MEG X570 ACE"].group
'x570-enthusiast'
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = [
    "Product", "PRODUCTS", "NEAR_MISS", "AMD_PROMOTION", "VOUCHER_PROMOTION", "AmdTerms", "VoucherTerms",
    "products_in", "line_description", "reward_amd", "EXTRAS", "GENERIC",
]


@dataclass(frozen=True)
class Product:
    model: str
    """The official name, as a claimant types it ("MEG X570 ACE", "AMD Ryzen 9 3900X")."""
    category: str
    """motherboard, cpu, case, graphics_card, monitor, laptop, aio, desktop."""
    eur: float
    """Street price in euro, incl. VAT."""
    group: str | None = None
    """Group id in the AMD cashback terms (x570-enthusiast, ryzen-high, case-sekira ...); None: not eligible."""
    code: str = "7C00"
    """Model code inside a board serial (602-<code>-...)."""
    brand: str = "MSI"
    """Printed before the model on invoice lines (empty when the model already names it)."""
    years: tuple[int, int] = (2019, 2025)
    """Years the product was on sale: documents-only claims stay inside them."""

    @property
    def has_sticker(self) -> bool:
        """Products whose serial sticker the claimant photographs (CPUs and cases: no)."""
        return self.category in ("motherboard", "graphics_card", "monitor", "laptop", "aio", "desktop")

    @property
    def chk_length(self) -> int:
        # The member portal: a CHK of 3 or 5 characters depending on the product.
        return 3 if self.category == "motherboard" else 5


def _p(model, category, eur, group=None, code="7C00", brand="MSI", years=(2019, 2025)) -> Product:
    return Product(model, category, eur, group, code, brand, years)


_ALL = [
    # AMD cashback 2020 boards (promotions.md section 1); codes are the board ids in MSI serials
    _p("MEG X570 GODLIKE", "motherboard", 699, "x570-enthusiast", "7C34", years=(2019, 2021)),
    _p("Prestige X570 CREATION", "motherboard", 459, "x570-enthusiast", "7C36", years=(2019, 2021)),
    _p("MEG X570 ACE", "motherboard", 359, "x570-enthusiast", "7C35", years=(2019, 2021)),
    _p("MEG X570 UNIFY", "motherboard", 299, "x570-enthusiast", "7C35", years=(2019, 2021)),
    _p("MPG X570 GAMING PRO CARBON WIFI", "motherboard", 239, "x570-performance", "7B93", years=(2019, 2021)),
    _p("MPG X570 GAMING EDGE WIFI", "motherboard", 199, "x570-performance", "7C37", years=(2019, 2021)),
    _p("MPG X570 GAMING PLUS", "motherboard", 159, "x570-arsenal", "7C37", years=(2019, 2021)),
    _p("MAG X570 TOMAHAWK WIFI", "motherboard", 219, "x570-arsenal", "7C84", years=(2020, 2021)),
    _p("X570-A PRO", "motherboard", 149, "x570-arsenal", "7C37", years=(2019, 2021)),
    _p("X470 GAMING PRO MAX", "motherboard", 129, "x470-performance", "7B79", years=(2019, 2021)),
    _p("X470 GAMING PLUS MAX", "motherboard", 119, "x470-performance", "7B79", years=(2019, 2021)),
    # Tier 2 only (Italy, Czech Republic, Turkey)
    _p("MAG B450 TOMAHAWK MAX", "motherboard", 109, "b450-tier2", "7C02", years=(2019, 2021)),
    _p("B450 GAMING PLUS MAX", "motherboard", 89, "b450-tier2", "7B86", years=(2019, 2021)),
    # MSI boards of early 2020 the cashback does not list
    _p("X470 GAMING M7 AC", "motherboard", 199, None, "7B77", years=(2019, 2020)),
    _p("B450M PRO-VDH MAX", "motherboard", 69, None, "7A38", years=(2019, 2021)),
    _p("A320M-A PRO MAX", "motherboard", 49, None, "7C51", years=(2019, 2021)),
    _p("MEG X399 CREATION", "motherboard", 429, None, "7B92", years=(2019, 2020)),
    # B550 boards (mid 2020 on): siblings of the B450 ones a claimant may confuse or swap in
    _p("MAG B550 TOMAHAWK", "motherboard", 179, None, "7C91", years=(2020, 2023)),
    _p("B550 GAMING PLUS", "motherboard", 129, None, "7C56", years=(2020, 2023)),
    # CPUs
    _p("AMD Ryzen 9 3950X", "cpu", 749, "ryzen-high", brand="", years=(2019, 2021)),
    _p("AMD Ryzen 9 3900X", "cpu", 449, "ryzen-high", brand="", years=(2019, 2021)),
    _p("AMD Ryzen 7 3800X", "cpu", 369, "ryzen-high", brand="", years=(2019, 2021)),
    _p("AMD Ryzen 7 3700X", "cpu", 319, "ryzen-high", brand="", years=(2019, 2021)),
    _p("AMD Ryzen 5 3600X", "cpu", 229, "ryzen-mid", brand="", years=(2019, 2021)),
    _p("AMD Ryzen 5 3600", "cpu", 179, "ryzen-mid", brand="", years=(2019, 2021)),
    _p("AMD Ryzen 5 3400G", "cpu", 149, "ryzen-apu", brand="", years=(2019, 2021)),
    _p("AMD Ryzen 3 3200G", "cpu", 95, "ryzen-apu", brand="", years=(2019, 2021)),
    _p("AMD Ryzen 7 2700X", "cpu", 199, None, brand="", years=(2019, 2020)),
    _p("AMD Ryzen 5 2600", "cpu", 119, None, brand="", years=(2019, 2020)),
    # tier siblings: an XT refresh (July 2020), a G (APU) and a plain part of one number
    _p("AMD Ryzen 9 3900XT", "cpu", 499, None, brand="", years=(2020, 2021)),
    _p("AMD Ryzen 7 3800XT", "cpu", 399, None, brand="", years=(2020, 2021)),
    _p("AMD Ryzen 5 5600G", "cpu", 219, None, brand="", years=(2021, 2023)),
    _p("AMD Ryzen 5 5600", "cpu", 159, None, brand="", years=(2022, 2023)),
    # Cases (the terms name "an MPG SEKIRA case" / "an MPG GUNGNIR case")
    _p("MPG SEKIRA 500X", "case", 269, "case-sekira", years=(2019, 2021)),
    _p("MPG SEKIRA 500G", "case", 229, "case-sekira", years=(2019, 2021)),
    _p("MPG GUNGNIR 100", "case", 109, "case-gungnir", years=(2019, 2021)),
    _p("MPG GUNGNIR 100D", "case", 99, "case-gungnir", years=(2019, 2021)),
    _p("MPG GUNGNIR 100P", "case", 119, "case-gungnir", years=(2019, 2021)),
    _p("MAG FORGE 100R", "case", 69, None, years=(2020, 2022)),
    # Member-portal promotions (promotions.md section 2)
    _p("GeForce RTX 3060 Ti Gaming X Trio", "graphics_card", 489, years=(2021, 2023)),
    _p("GeForce RTX 3060 Gaming X", "graphics_card", 389, years=(2021, 2023)),
    _p("GeForce RTX 3080 Ti Gaming X Trio 12G", "graphics_card", 1299, years=(2021, 2023)),
    _p("GeForce RTX 3080 Gaming X Trio 10G", "graphics_card", 899, years=(2021, 2023)),
    _p("GeForce RTX 5060 Ti 8G Gaming Trio OC", "graphics_card", 429, years=(2025, 2025)),
    _p("GeForce RTX 5060 Ti 16G Gaming Trio OC", "graphics_card", 519, years=(2025, 2025)),
    _p("GeForce RTX 5060 8G Gaming Trio OC", "graphics_card", 369, years=(2025, 2025)),
    _p("GeForce RTX 4070 Super 12G Gaming X Slim", "graphics_card", 689, years=(2024, 2025)),
    _p("GeForce RTX 4070 12G Gaming X Slim", "graphics_card", 599, years=(2023, 2025)),
    _p("Radeon RX 7900 XT Gaming Trio Classic 20G", "graphics_card", 799, years=(2023, 2025)),
    _p("Radeon RX 7900 Gaming Trio Classic 20G", "graphics_card", 699, years=(2023, 2025)),
    _p("Optix MAG27CQ", "monitor", 420.90, years=(2019, 2021)),
    _p("Optix MAG272CQR", "monitor", 399, years=(2020, 2022)),
    _p("Optix MAG24C", "monitor", 199, years=(2019, 2021)),
    _p("MPG 321URX QD-OLED", "monitor", 1099, years=(2024, 2025)),
    _p("MPG 271QRX QD-OLED", "monitor", 899, years=(2024, 2025)),
    # laptops (a 15 and a 17 inch model of one line, their S/N sticker under the base)
    _p("Katana 15 B13VFK-1424", "laptop", 1199, years=(2023, 2025)),
    _p("Katana 17 B13VFK-1424", "laptop", 1299, years=(2023, 2025)),
    _p("Modern AM242 12M", "aio", 749, years=(2022, 2025)),
    _p("Modern AM272P 12M", "aio", 899, years=(2022, 2025)),
    _p("Trident 3 Arctic", "desktop", 999, years=(2019, 2021)),
    _p("MAG Infinite S3 14NUC5", "desktop", 1199, years=(2024, 2025)),
]

PRODUCTS: dict[str, Product] = {p.model: p for p in _ALL}

NEAR_MISS: dict[str, tuple[str, ...]] = {
    # bought (printed on the invoice) -> what a claimant types instead: a different product
    "AMD Ryzen 5 3600": ("AMD Ryzen 5 3600X",),
    "AMD Ryzen 5 3600X": ("AMD Ryzen 5 3600",),
    "AMD Ryzen 7 3700X": ("AMD Ryzen 7 3800X",),
    "AMD Ryzen 7 3800X": ("AMD Ryzen 7 3700X", "AMD Ryzen 7 3800XT"),
    "AMD Ryzen 9 3900X": ("AMD Ryzen 9 3950X", "AMD Ryzen 9 3900XT"),
    "AMD Ryzen 5 3400G": ("AMD Ryzen 3 3200G",),
    "B450 GAMING PLUS MAX": ("X470 GAMING PLUS MAX", "B550 GAMING PLUS"),
    "X470 GAMING PLUS MAX": ("B450 GAMING PLUS MAX",),
    "MAG B450 TOMAHAWK MAX": ("MAG X570 TOMAHAWK WIFI", "MAG B550 TOMAHAWK"),
    "MPG GUNGNIR 100D": ("MPG GUNGNIR 100P",),
    "MPG SEKIRA 500G": ("MPG SEKIRA 500X",),
    "GeForce RTX 3060 Gaming X": ("GeForce RTX 3060 Ti Gaming X Trio",),
    "GeForce RTX 3060 Ti Gaming X Trio": ("GeForce RTX 3060 Gaming X",),
    "GeForce RTX 3080 Gaming X Trio 10G": ("GeForce RTX 3080 Ti Gaming X Trio 12G",),
    "GeForce RTX 5060 Ti 8G Gaming Trio OC": ("GeForce RTX 5060 8G Gaming Trio OC",
                                              "GeForce RTX 5060 Ti 16G Gaming Trio OC"),
    "GeForce RTX 5060 8G Gaming Trio OC": ("GeForce RTX 5060 Ti 8G Gaming Trio OC",),
    "GeForce RTX 4070 Super 12G Gaming X Slim": ("GeForce RTX 4070 12G Gaming X Slim",),
    "GeForce RTX 4070 12G Gaming X Slim": ("GeForce RTX 4070 Super 12G Gaming X Slim",),
    "Radeon RX 7900 XT Gaming Trio Classic 20G": ("Radeon RX 7900 Gaming Trio Classic 20G",),
    "Radeon RX 7900 Gaming Trio Classic 20G": ("Radeon RX 7900 XT Gaming Trio Classic 20G",),
    "AMD Ryzen 9 3900XT": ("AMD Ryzen 9 3900X",),
    "AMD Ryzen 7 3800XT": ("AMD Ryzen 7 3800X",),
    "AMD Ryzen 5 5600G": ("AMD Ryzen 5 5600",),
    "AMD Ryzen 5 5600": ("AMD Ryzen 5 5600G",),
    "MAG B550 TOMAHAWK": ("MAG B450 TOMAHAWK MAX",),
    "B550 GAMING PLUS": ("B450 GAMING PLUS MAX",),
    "Optix MAG27CQ": ("Optix MAG24C", "Optix MAG272CQR"),
    "Optix MAG24C": ("Optix MAG27CQ",),
    "MPG 321URX QD-OLED": ("MPG 271QRX QD-OLED",),
    "MPG 271QRX QD-OLED": ("MPG 321URX QD-OLED",),
    "Katana 15 B13VFK-1424": ("Katana 17 B13VFK-1424",),
    "Katana 17 B13VFK-1424": ("Katana 15 B13VFK-1424",),
    "Modern AM242 12M": ("Modern AM272P 12M",),
}


def products_in(category: str, *, groups: tuple[str, ...] | None = None, eligible: bool | None = None,
                year: int | None = None) -> list[Product]:
    """Products of a category, optionally only some groups, eligible or not, on sale in a year."""
    out = []
    for p in _ALL:
        if p.category != category:
            continue
        if groups is not None and p.group not in groups:
            continue
        if eligible is not None and (p.group is not None) != eligible:
            continue
        if year is not None and not (p.years[0] <= year <= p.years[1]):
            continue
        out.append(p)
    return out


# How a retailer describes a product on its invoice line, per language and category.
# {name} is the brand and model ("MSI MEG X570 ACE"); descriptions add words around it.
_DESCRIPTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "motherboard": {
        "en": ("{name} Motherboard ATX AM4", "{name} AMD Socket AM4 ATX Motherboard", "{name}"),
        "fr": ("Carte mère {name} (AM4) ATX", "{name} - Carte mère socket AM4"),
        "de": ("{name}, Mainboard - Sockel AM4", "{name} ATX Mainboard So.AM4"),
        "nb": ("{name} hovedkort", "{name} ATX hovedkort, AM4"),
        "sv": ("{name} moderkort", "{name} ATX moderkort AM4"),
        "da": ("{name} bundkort", "{name} ATX bundkort AM4"),
        "fi": ("{name} emolevy", "{name} ATX-emolevy AM4"),
        "pl": ("Płyta główna {name}", "{name} płyta główna ATX AM4"),
        "es": ("Placa base {name}", "{name} placa base ATX AM4"),
        "it": ("Scheda madre {name}", "{name} scheda madre ATX AM4"),
        "cs": ("Základní deska {name}", "{name} základní deska AM4"),
        "nl": ("{name} moederbord", "Moederbord {name} AM4"),
        "id": ("Motherboard {name}", "{name} Motherboard AM4"),
    },
    "cpu": {
        "en": ("{name} Processor, AM4, boxed", "{name} CPU (Box)"),
        "fr": ("Processeur {name} (AM4) Box", "{name} - Processeur socket AM4"),
        "de": ("{name} Prozessor, Sockel AM4, boxed", "{name} Box"),
        "nb": ("{name} prosessor", "{name} prosessor AM4 boxed"),
        "sv": ("{name} processor", "{name} processor AM4"),
        "da": ("{name} processor", "{name} CPU AM4 boxed"),
        "fi": ("{name} prosessori", "{name} AM4 -prosessori"),
        "pl": ("Procesor {name} BOX", "{name} procesor AM4"),
        "es": ("Procesador {name} Box", "{name} procesador AM4"),
        "it": ("Processore {name} Box", "{name} processore AM4"),
        "cs": ("Procesor {name} BOX", "{name} procesor AM4"),
        "nl": ("{name} processor", "Processor {name} Boxed"),
        "id": ("Processor {name} Box", "{name} Processor AM4"),
    },
    "case": {
        "en": ("{name} Mid Tower Case", "{name} PC Case"),
        "fr": ("Boîtier PC {name}", "{name} - Boîtier moyen tour"),
        "de": ("{name} Midi-Tower Gehäuse", "Gehäuse {name}"),
        "nb": ("{name} kabinett", "{name} kabinett svart"),
        "sv": ("{name} chassi", "{name} datorlåda"),
        "da": ("{name} kabinet", "{name} midi tower kabinet"),
        "fi": ("{name} kotelo", "{name} ATX-kotelo"),
        "pl": ("Obudowa {name}", "{name} obudowa midi tower"),
        "es": ("Caja PC {name}", "{name} caja semitorre"),
        "it": ("Case {name}", "{name} case midi tower"),
        "cs": ("Skříň {name}", "{name} PC skříň"),
        "nl": ("{name} behuizing", "Behuizing {name}"),
        "id": ("Casing {name}", "{name} Casing PC"),
    },
    "graphics_card": {
        "en": ("{name} Graphics Card", "{name}"),
        "fr": ("Carte graphique {name}", "{name}"),
        "de": ("{name} Grafikkarte", "Grafikkarte {name}"),
        "nb": ("{name} skjermkort", "{name}"),
        "sv": ("{name} grafikkort", "{name}"),
        "da": ("{name} grafikkort", "{name}"),
        "fi": ("{name} näytönohjain", "{name}"),
        "pl": ("Karta graficzna {name}", "{name}"),
        "es": ("Tarjeta gráfica {name}", "{name}"),
        "it": ("Scheda video {name}", "{name}"),
        "cs": ("Grafická karta {name}", "{name}"),
        "nl": ("{name} videokaart", "Videokaart {name}"),
        "id": ("VGA {name}", "{name}"),
    },
    "monitor": {
        "en": ("{name} Gaming Monitor", "{name} LED Monitor"),
        "fr": ("Écran {name}", "{name} - Écran LED"),
        "de": ("{name} Gaming Monitor", "Monitor {name}"),
        "nb": ("{name} skjerm", "{name} gamingskjerm"),
        "sv": ("{name} bildskärm", "{name} skärm"),
        "da": ("{name} skærm", "{name} gamingskærm"),
        "fi": ("{name} näyttö", "{name} pelinäyttö"),
        "pl": ("Monitor {name}", "{name} monitor LED"),
        "es": ("Monitor {name}", "{name} monitor gaming"),
        "it": ("Monitor {name}", "{name} monitor gaming"),
        "cs": ("Monitor {name}", "{name} herní monitor"),
        "nl": ("{name} monitor", "Monitor {name}"),
        "id": ("Monitor {name}", "{name} Monitor Gaming"),
    },
    "laptop": {
        "en": ("{name} Gaming Laptop", "{name} Notebook"),
        "fr": ("PC portable {name}", "{name} - PC portable gamer"),
        "de": ("{name} Gaming-Notebook", "Notebook {name}"),
        "nb": ("{name} bærbar PC", "{name} gaming-laptop"),
        "sv": ("{name} bärbar dator", "{name} gaming-laptop"),
        "da": ("{name} bærbar PC", "{name} gaming-laptop"),
        "fi": ("{name} kannettava", "{name} pelikannettava"),
        "pl": ("Laptop {name}", "{name} laptop gamingowy"),
        "es": ("Portátil {name}", "{name} portátil gaming"),
        "it": ("Notebook {name}", "{name} notebook gaming"),
        "cs": ("Notebook {name}", "{name} herní notebook"),
        "nl": ("{name} laptop", "Gaming laptop {name}"),
        "id": ("Laptop {name}", "{name} Laptop Gaming"),
    },
    "aio": {
        "en": ("{name} All-in-One PC", "{name} AIO"),
        "fr": ("PC tout-en-un {name}", "{name} All-in-One"),
        "de": ("{name} All-in-One PC", "All-in-One {name}"),
        "nb": ("{name} alt-i-ett PC", "{name}"),
        "sv": ("{name} allt-i-ett dator", "{name}"),
        "da": ("{name} alt-i-en PC", "{name}"),
        "fi": ("{name} All-in-One tietokone", "{name}"),
        "pl": ("Komputer All-in-One {name}", "{name}"),
        "es": ("Ordenador todo en uno {name}", "{name}"),
        "it": ("PC All-in-One {name}", "{name}"),
        "cs": ("Počítač All-in-One {name}", "{name}"),
        "nl": ("{name} All-in-One PC", "{name}"),
        "id": ("PC All in One {name}", "{name} AIO"),
    },
    "desktop": {
        "en": ("{name} Gaming Desktop PC", "{name}"),
        "fr": ("PC de bureau {name}", "{name}"),
        "de": ("{name} Gaming-PC", "Desktop-PC {name}"),
        "nb": ("{name} stasjonær PC", "{name}"),
        "sv": ("{name} stationär dator", "{name}"),
        "da": ("{name} stationær PC", "{name}"),
        "fi": ("{name} pöytäkone", "{name}"),
        "pl": ("Komputer {name}", "{name}"),
        "es": ("Ordenador sobremesa {name}", "{name}"),
        "it": ("PC desktop {name}", "{name}"),
        "cs": ("Herní počítač {name}", "{name}"),
        "nl": ("{name} desktop", "Desktop {name}"),
        "id": ("PC Desktop {name}", "{name}"),
    },
}

# Lines an invoice may carry besides the claimed products (accessories, shipping is separate).
EXTRAS: dict[str, tuple[tuple[str, float], ...]] = {
    "en": (("Corsair Vengeance LPX 16GB DDR4-3200 Kit", 79.0), ("Samsung 970 EVO Plus 1TB NVMe SSD", 139.0),
           ("Arctic MX-4 thermal paste 4g", 6.9), ("Logitech G203 Lightsync mouse", 29.9)),
    "de": (("Corsair Vengeance LPX 16GB DDR4-3200 Kit", 79.0), ("Samsung 970 EVO Plus 1TB SSD", 139.0),
           ("Arctic MX-4 Wärmeleitpaste 4g", 6.9), ("be quiet! Pure Rock 2 CPU-Kühler", 39.9)),
    "fr": (("Kit mémoire Corsair Vengeance LPX 16 Go DDR4", 79.0), ("SSD Samsung 970 EVO Plus 1 To", 139.0),
           ("Pâte thermique Arctic MX-4 4 g", 6.9)),
    "nb": (("Corsair Vengeance LPX 16GB DDR4-3200 minne", 79.0), ("Samsung 970 EVO Plus 1TB SSD", 139.0),
           ("Arctic MX-4 kjølepasta", 6.9)),
    "sv": (("Corsair Vengeance LPX 16GB DDR4-3200 minne", 79.0), ("Samsung 970 EVO Plus 1TB SSD", 139.0)),
    "da": (("Corsair Vengeance LPX 16GB DDR4-3200 RAM", 79.0), ("Samsung 970 EVO Plus 1TB SSD", 139.0)),
    "fi": (("Corsair Vengeance LPX 16GB DDR4-3200 muisti", 79.0), ("Samsung 970 EVO Plus 1TB SSD", 139.0)),
    "pl": (("Pamięć Corsair Vengeance LPX 16GB DDR4-3200", 79.0), ("Dysk SSD Samsung 970 EVO Plus 1TB", 139.0)),
    "es": (("Memoria Corsair Vengeance LPX 16GB DDR4-3200", 79.0), ("SSD Samsung 970 EVO Plus 1TB", 139.0)),
    "it": (("Memoria Corsair Vengeance LPX 16GB DDR4-3200", 79.0), ("SSD Samsung 970 EVO Plus 1TB", 139.0)),
    "cs": (("Paměť Corsair Vengeance LPX 16GB DDR4-3200", 79.0), ("SSD Samsung 970 EVO Plus 1TB", 139.0)),
    "nl": (("Corsair Vengeance LPX 16GB DDR4-3200 geheugen", 79.0), ("Samsung 970 EVO Plus 1TB SSD", 139.0)),
    "id": (("RAM Corsair Vengeance LPX 16GB DDR4-3200", 79.0), ("SSD Samsung 970 EVO Plus 1TB", 139.0),
           ("Mouse Logitech G102 Lightsync", 19.0)),
}

# A generic line where an invoice should name the product but does not ("Computer parts").
GENERIC: dict[str, dict[str, str]] = {
    "en": {"motherboard": "Motherboard", "cpu": "Processor", "case": "PC case", "graphics_card": "Graphics card",
           "monitor": "Monitor 27 inch", "laptop": "Laptop", "aio": "All-in-One PC", "desktop": "Desktop PC"},
    "fr": {"motherboard": "Carte mère", "cpu": "Processeur", "case": "Boîtier PC", "graphics_card": "Carte graphique",
           "monitor": "Écran 27 pouces", "laptop": "PC portable", "aio": "PC tout-en-un", "desktop": "PC de bureau"},
    "de": {"motherboard": "Mainboard", "cpu": "Prozessor", "case": "Gehäuse", "graphics_card": "Grafikkarte",
           "monitor": "Monitor 27 Zoll", "laptop": "Notebook", "aio": "All-in-One PC", "desktop": "Desktop-PC"},
    "nb": {"motherboard": "Hovedkort", "cpu": "Prosessor", "case": "Kabinett", "graphics_card": "Skjermkort",
           "monitor": "Skjerm 27 tommer", "laptop": "Bærbar PC", "aio": "Alt-i-ett PC", "desktop": "Stasjonær PC"},
    "sv": {"motherboard": "Moderkort", "cpu": "Processor", "case": "Chassi", "graphics_card": "Grafikkort",
           "monitor": "Bildskärm 27 tum", "laptop": "Bärbar dator",
           "aio": "Allt-i-ett dator", "desktop": "Stationär dator"},
    "da": {"motherboard": "Bundkort", "cpu": "Processor", "case": "Kabinet", "graphics_card": "Grafikkort",
           "monitor": "Skærm 27 tommer", "laptop": "Bærbar PC", "aio": "Alt-i-en PC", "desktop": "Stationær PC"},
    "fi": {"motherboard": "Emolevy", "cpu": "Prosessori", "case": "Kotelo", "graphics_card": "Näytönohjain",
           "monitor": "Näyttö 27 tuumaa", "laptop": "Kannettava",
           "aio": "All-in-One tietokone", "desktop": "Pöytäkone"},
    "pl": {"motherboard": "Płyta główna", "cpu": "Procesor", "case": "Obudowa", "graphics_card": "Karta graficzna",
           "monitor": "Monitor 27 cali", "laptop": "Laptop",
           "aio": "Komputer All-in-One", "desktop": "Komputer stacjonarny"},
    "es": {"motherboard": "Placa base", "cpu": "Procesador", "case": "Caja PC", "graphics_card": "Tarjeta gráfica",
           "monitor": "Monitor 27 pulgadas", "laptop": "Portátil",
           "aio": "Ordenador todo en uno", "desktop": "Ordenador sobremesa"},
    "it": {"motherboard": "Scheda madre", "cpu": "Processore", "case": "Case PC", "graphics_card": "Scheda video",
           "monitor": "Monitor 27 pollici", "laptop": "Notebook", "aio": "PC All-in-One", "desktop": "PC desktop"},
    "cs": {"motherboard": "Základní deska", "cpu": "Procesor", "case": "PC skříň", "graphics_card": "Grafická karta",
           "monitor": "Monitor 27 palců", "laptop": "Notebook",
           "aio": "Počítač All-in-One", "desktop": "Stolní počítač"},
    "nl": {"motherboard": "Moederbord", "cpu": "Processor", "case": "Behuizing", "graphics_card": "Videokaart",
           "monitor": "Monitor 27 inch", "laptop": "Laptop", "aio": "All-in-One PC", "desktop": "Desktop PC"},
    "id": {"motherboard": "Motherboard", "cpu": "Processor", "case": "Casing PC", "graphics_card": "Kartu grafis",
           "monitor": "Monitor 27 inci", "laptop": "Laptop", "aio": "PC All in One", "desktop": "PC Desktop"},
}


def line_description(product: Product, language: str, variant: int) -> str:
    """How an invoice line names the product, e.g. 'Carte mère MSI MEG X570 ACE (AM4) ATX'."""
    forms = _DESCRIPTIONS[product.category].get(language) or _DESCRIPTIONS[product.category]["en"]
    name = f"{product.brand} {product.model}".strip()
    return forms[variant % len(forms)].format(name=name)


@dataclass(frozen=True)
class AmdTerms:
    """The facts of the AMD + MSI cashback 2020 (promotions.md section 1) the labels need."""

    id: str = "amd-msi-cashback-2020"
    period: tuple[dt.date, dt.date] = (dt.date(2020, 2, 17), dt.date(2020, 3, 17))
    window: tuple[dt.date, dt.date] = (dt.date(2020, 3, 17), dt.date(2020, 4, 29))
    """First and last whole day a claim may be submitted (00:01 on 17 Mar to 00:01 on 30 Apr)."""
    first_day: int = 30
    """A claim is allowed from day 30 after the purchase, the invoice date being day 1."""
    tier1: tuple[str, ...] = ("AT", "DE", "GB", "IE", "PL", "ES", "FR", "SE", "CH", "PT", "FI", "NO", "DK")
    tier2: tuple[str, ...] = ("IT", "CZ", "TR")
    currency: tuple[tuple[str, str], ...] = (("GB", "GBP"), ("PL", "PLN"), ("CZ", "CZK"), ("CH", "CHF"),
                                             ("SE", "SEK"), ("NO", "NOK"), ("TR", "USD"))
    per_participant: int = 1

    def tier(self, country: str | None) -> int | None:
        if country in self.tier1:
            return 1
        if country in self.tier2:
            return 2
        return None

    def currency_of(self, country: str) -> str:
        return dict(self.currency).get(country, "EUR")

    def eligible(self, product: Product, country: str | None) -> bool:
        tier = self.tier(country)
        if product.group is None or tier is None:
            return False
        return product.group != "b450-tier2" or tier == 2

    def earliest_claim(self, purchase: dt.date) -> dt.date:
        return max(self.window[0], purchase + dt.timedelta(days=self.first_day - 1))


AMD_PROMOTION = AmdTerms()


@dataclass(frozen=True)
class VoucherTerms:
    """'Boost Your Success' (promotions.md section 2): Indonesian AIO/desktop voucher of IDR 500,000."""

    id: str = "boost-your-success"
    period: tuple[dt.date, dt.date] = (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    territories: tuple[str, ...] = ("ID",)
    categories: tuple[str, ...] = ("aio", "desktop")
    reward: tuple[int, str] = (500000, "IDR")


VOUCHER_PROMOTION = VoucherTerms()

# The Norwegian terms' table (NOK), Duo / Trio SEKIRA / Trio GUNGNIR; authoritative.
_NOK = {
    "x570-enthusiast": {"ryzen-high": (692, 989, 840), "ryzen-mid": (594, 891, 742), "ryzen-apu": (495, 792, 643)},
    "x570-performance": {"ryzen-high": (593, 890, 741), "ryzen-mid": (495, 792, 643), "ryzen-apu": (396, 693, 544)},
    "x570-arsenal": {"ryzen-high": (495, 792, 643), "ryzen-mid": (397, 694, 545), "ryzen-apu": (298, 595, 446)},
    "x470-performance": {"ryzen-high": (593, 890, 741), "ryzen-mid": (495, 792, 643), "ryzen-apu": (396, 693, 544)},
}
_BUNDLES = ("duo", "trio-sekira", "trio-gungnir")


def reward_amd(board: Product, cpu: Product, case: Product | None, country: str) -> dict | None:
    """The reward a complete, eligible claim earns, where the terms fix it; None where they do not.

    Only the Norwegian NOK table is authoritative (the EUR table and other currencies are
    derived in the terms file): other territories get no reward label.
    """
    bundle = "duo" if case is None else {"case-sekira": "trio-sekira", "case-gungnir": "trio-gungnir"}[case.group]
    if country != "NO" or board.group not in _NOK:
        return None
    amount = _NOK[board.group][cpu.group][_BUNDLES.index(bundle)]
    return {"amount": amount, "currency": "NOK", "bundle": bundle}
