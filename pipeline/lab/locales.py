"""How invoices look in each country the sample claims come from: wording, dates, money, retailers.

Retailer ids are those of ``pipeline/data/retailers.toml`` so a claim names a shop the
way claimants do ("Komplett.no", "LDLC"). Addresses and registration numbers are
plausible inventions for synthetic documents, not company-register facts.

>>> LOCALES["NO"].format_date(__import__("datetime").date(2020, 2, 19), 0)
'19.02.2020'
>>> LOCALES["DE"].money(1234.5)
'1.234,50 €'
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

__all__ = ["Retailer", "Locale", "LOCALES", "MARKETPLACE_SELLERS", "shop_town", "legal_entity", "without_brand"]


@dataclass(frozen=True)
class Retailer:
    id: str
    """The id in pipeline/data/retailers.toml."""
    name: str
    """Printed as the header of the invoice."""
    claimed: tuple[str, ...]
    """How claimants type the shop's name."""
    legal: str
    address: tuple[str, ...]
    registration: str
    """VAT / organisation number line as printed."""
    domain: str | None = None
    stores: bool = False
    """Has shops that print till receipts (retail_store channel)."""
    online: bool = True
    marketplace: str | None = None
    """'amazon' or 'ebay': invoices may show a third-party seller."""
    date_style: int = 0
    """Which of the locale's date formats this shop prints."""
    accent: tuple[int, int, int] = (0, 0, 0)
    """Colour of the header band in the 'modern' layout."""


@dataclass(frozen=True)
class Locale:
    country: str
    language: str
    """Key into catalogue descriptions: en fr de nb sv da fi pl es it cs nl id."""
    currency: str
    rate: float
    """Local units per euro."""
    vat: float
    symbol: str
    symbol_first: bool
    thousands: str
    decimal: str
    decimals: int
    title: str
    """The invoice's title word: FAKTURA, RECHNUNG, FACTURE, INVOICE, FAKTUR ..."""
    receipt_title: str
    labels: dict[str, str]
    date_formats: tuple[str, ...]
    """strftime-like patterns with {d} {dd} {m} {mm} {yyyy} {month} {mon}."""
    months: tuple[str, ...]
    retailers: tuple[Retailer, ...]
    people: tuple[tuple[str, ...], tuple[str, ...]]
    """(first names, last names)."""
    streets: tuple[str, ...]
    cities: tuple[str, ...]
    email_tld: str
    utc_offset: str = "+01:00"
    """Offset written in submitted_at (winter time; close enough for claim windows in whole days)."""
    phone: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def format_date(self, day: dt.date, style: int) -> str:
        pattern = self.date_formats[style % len(self.date_formats)]
        return pattern.format(d=day.day, dd=f"{day.day:02d}", m=day.month, mm=f"{day.month:02d}",
                              yyyy=day.year, month=self.months[day.month - 1],
                              mon=self.months[day.month - 1][:3])

    def money(self, amount: float, *, symbol: bool = True) -> str:
        whole = int(round(amount * 10 ** self.decimals))
        units, cents = divmod(abs(whole), 10 ** self.decimals) if self.decimals else (abs(whole), 0)
        digits = f"{units:,}".replace(",", self.thousands)
        text = digits + (f"{self.decimal}{cents:0{self.decimals}d}" if self.decimals else "")
        if amount < 0:
            text = "-" + text
        if not symbol:
            return text
        return f"{self.symbol}{'' if self.symbol in ('£', '$') else ' '}{text}" if self.symbol_first \
            else f"{text} {self.symbol}"

    def local_price(self, eur: float) -> float:
        """A shelf price in local currency: converted, then rounded the way shops price."""
        raw = eur * self.rate
        if self.currency == "IDR":
            return float(max(1000, round(raw / 1000) * 1000))
        if self.currency in ("NOK", "SEK", "DKK", "PLN", "CZK"):
            return float(max(10, round(raw / 10) * 10))
        return float(int(raw)) + (0.90 if raw >= 20 else 0.99)


_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"),
    "nb": ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober",
           "november", "desember"),
    "sv": ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
           "november", "december"),
    "da": ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
           "november", "december"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"),
    "it": ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
           "ottobre", "novembre", "dicembre"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"),
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember"),
}
_NUMERIC_ONLY = ("",) * 12  # languages whose invoices here print numeric dates only (fi, pl, cs)

_L = {
    "nb": dict(invoice_no="Fakturanr.", date="Fakturadato", order_no="Ordrenr.", order_date="Ordredato",
               customer_no="Kundenr.", due="Forfallsdato", qty="Antall", item="Beskrivelse", price="Pris",
               amount="Beløp", net="Sum eks. mva", vat="MVA", total="Totalt inkl. mva", paid="Betalt med Visa",
               thanks="Takk for handelen!", customer="Kunde", receipt_no="Kvitt.nr.", cashier="Kasserer",
               card="BANKKORT", seller="Solgt av", ship="Frakt", org="Org.nr.",
               billing="Fakturaadresse", shipping="Leveringsadresse",
               delivery_date="Leveringsdato"),
    "sv": dict(invoice_no="Fakturanummer", date="Fakturadatum", order_no="Ordernummer", order_date="Orderdatum",
               customer_no="Kundnummer", due="Förfallodatum", qty="Antal", item="Benämning", price="À-pris",
               amount="Belopp", net="Summa exkl. moms", vat="Moms", total="Att betala", paid="Betalt med kort",
               thanks="Tack för ditt köp!", customer="Kund", receipt_no="Kvitto nr", cashier="Kassör",
               card="KORT", seller="Säljs av", ship="Frakt", org="Org.nr",
               billing="Faktureringsadress", shipping="Leveransadress",
               delivery_date="Leveransdatum"),
    "da": dict(invoice_no="Fakturanr.", date="Fakturadato", order_no="Ordrenr.", order_date="Ordredato",
               customer_no="Kundenr.", due="Forfaldsdato", qty="Antal", item="Beskrivelse", price="Stk. pris",
               amount="Beløb", net="Subtotal ekskl. moms", vat="Moms", total="Total inkl. moms",
               paid="Betalt med Dankort", thanks="Tak for din handel!", customer="Kunde", receipt_no="Bon nr.",
               cashier="Ekspedient", card="DANKORT", seller="Sælges af", ship="Fragt", org="CVR-nr.",
               billing="Faktureringsadresse", shipping="Leveringsadresse",
               delivery_date="Leveringsdato"),
    "fi": dict(invoice_no="Laskun numero", date="Laskun päivämäärä", order_no="Tilausnumero",
               order_date="Tilauspäivä", customer_no="Asiakasnumero", due="Eräpäivä", qty="Määrä",
               item="Tuote", price="à-hinta", amount="Summa", net="Veroton yhteensä", vat="ALV",
               total="Yhteensä", paid="Maksettu kortilla", thanks="Kiitos ostoksestasi!", customer="Asiakas",
               receipt_no="Kuitti nro", cashier="Myyjä", card="KORTTI", seller="Myyjä", ship="Toimitus",
               org="Y-tunnus",
               billing="Laskutusosoite", shipping="Toimitusosoite",
               delivery_date="Toimituspäivä"),
    "de": dict(invoice_no="Rechnungsnr.", date="Rechnungsdatum", order_no="Bestellnr.", order_date="Bestelldatum",
               customer_no="Kundennr.", due="Zahlbar bis", qty="Menge", item="Artikel", price="Einzelpreis",
               amount="Gesamt", net="Nettobetrag", vat="MwSt.", total="Gesamtbetrag", paid="Bezahlt per PayPal",
               thanks="Vielen Dank für Ihren Einkauf!", customer="Kunde", receipt_no="Bon-Nr.",
               cashier="Kasse", card="EC-KARTE", seller="Verkauft von", ship="Versand", org="USt-IdNr.",
               billing="Rechnungsadresse", shipping="Lieferadresse",
               delivery_date="Lieferdatum"),
    "fr": dict(invoice_no="N° de facture", date="Date de facture", order_no="N° de commande",
               order_date="Date de commande", customer_no="N° client", due="Échéance", qty="Qté",
               item="Désignation", price="Prix unitaire", amount="Montant", net="Total HT", vat="TVA",
               total="Total TTC", paid="Payé par carte bancaire", thanks="Merci de votre achat !",
               customer="Client", receipt_no="Ticket n°", cashier="Caisse", card="CARTE BANCAIRE",
               seller="Vendu par", ship="Livraison", org="N° TVA",
               billing="Adresse de facturation", shipping="Adresse de livraison",
               delivery_date="Date de livraison"),
    "en": dict(invoice_no="Invoice No.", date="Invoice Date", order_no="Order No.", order_date="Order Date",
               customer_no="Account No.", due="Due Date", qty="Qty", item="Description", price="Unit Price",
               amount="Amount", net="Subtotal (ex. VAT)", vat="VAT", total="Total (inc. VAT)",
               paid="Paid by card", thanks="Thank you for your order!", customer="Bill to",
               receipt_no="Receipt No.", cashier="Till", card="CARD", seller="Sold by", ship="Delivery",
               org="VAT Reg No.",
               billing="Billing Address", shipping="Shipping Address",
               delivery_date="Delivery Date"),
    "pl": dict(invoice_no="Nr faktury", date="Data wystawienia", order_no="Nr zamówienia",
               order_date="Data zamówienia", customer_no="Nr klienta", due="Termin płatności", qty="Ilość",
               item="Nazwa towaru", price="Cena brutto", amount="Wartość", net="Wartość netto", vat="VAT",
               total="Razem do zapłaty", paid="Zapłacono kartą", thanks="Dziękujemy za zakupy!",
               customer="Nabywca", receipt_no="Paragon nr", cashier="Kasjer", card="KARTA",
               seller="Sprzedawca", ship="Dostawa", org="NIP",
               billing="Adres rozliczeniowy", shipping="Adres dostawy",
               delivery_date="Data dostawy"),
    "es": dict(invoice_no="Nº de factura", date="Fecha de factura", order_no="Nº de pedido",
               order_date="Fecha de pedido", customer_no="Nº de cliente", due="Vencimiento", qty="Cant.",
               item="Descripción", price="Precio unit.", amount="Importe", net="Base imponible", vat="IVA",
               total="Total", paid="Pagado con tarjeta", thanks="¡Gracias por su compra!", customer="Cliente",
               receipt_no="Ticket nº", cashier="Caja", card="TARJETA", seller="Vendido por", ship="Envío",
               org="CIF",
               billing="Dirección de facturación", shipping="Dirección de envío",
               delivery_date="Fecha de entrega"),
    "it": dict(invoice_no="Numero fattura", date="Data fattura", order_no="Numero ordine", order_date="Data ordine",
               customer_no="Codice cliente", due="Scadenza", qty="Qtà", item="Descrizione", price="Prezzo unit.",
               amount="Importo", net="Imponibile", vat="IVA", total="Totale", paid="Pagato con carta",
               thanks="Grazie per il tuo acquisto!", customer="Cliente", receipt_no="Scontrino n.",
               cashier="Cassa", card="CARTA", seller="Venduto da", ship="Spedizione", org="P.IVA",
               billing="Indirizzo di fatturazione", shipping="Indirizzo di spedizione",
               delivery_date="Data di consegna"),
    "cs": dict(invoice_no="Číslo faktury", date="Datum vystavení", order_no="Číslo objednávky",
               order_date="Datum objednávky", customer_no="Zákaznické číslo", due="Datum splatnosti",
               qty="Množství", item="Popis", price="Cena/ks", amount="Celkem", net="Základ daně", vat="DPH",
               total="Celkem k úhradě", paid="Zaplaceno kartou", thanks="Děkujeme za nákup!",
               customer="Odběratel", receipt_no="Účtenka č.", cashier="Pokladna", card="KARTA",
               seller="Prodávající", ship="Doprava", org="DIČ",
               billing="Fakturační adresa", shipping="Dodací adresa",
               delivery_date="Datum dodání"),
    "nl": dict(invoice_no="Factuurnummer", date="Factuurdatum", order_no="Ordernummer", order_date="Besteldatum",
               customer_no="Klantnummer", due="Vervaldatum", qty="Aantal", item="Omschrijving", price="Prijs",
               amount="Bedrag", net="Subtotaal excl. btw", vat="Btw", total="Totaal incl. btw",
               paid="Betaald met iDEAL", thanks="Bedankt voor je bestelling!", customer="Klant",
               receipt_no="Bonnr.", cashier="Kassa", card="PIN", seller="Verkocht door", ship="Verzending",
               org="Btw-nr.",
               billing="Factuuradres", shipping="Afleveradres",
               delivery_date="Leverdatum"),
    "id": dict(invoice_no="No. Faktur", date="Tanggal", order_no="No. Pesanan", order_date="Tanggal Pesanan",
               customer_no="ID Pelanggan", due="Jatuh Tempo", qty="Jml", item="Nama Barang", price="Harga",
               amount="Jumlah", net="DPP", vat="PPN", total="Total", paid="Dibayar via Transfer Bank",
               thanks="Terima kasih atas pembelian Anda!", customer="Pembeli", receipt_no="No. Struk",
               cashier="Kasir", card="DEBIT", seller="Dijual oleh", ship="Ongkos Kirim", org="NPWP",
               billing="Alamat Penagihan", shipping="Alamat Pengiriman",
               delivery_date="Tanggal Kirim"),
}


def _r(id, name, claimed, legal, address, registration, domain=None, stores=False, online=True,
       marketplace=None, date_style=0, accent=(0, 0, 0)) -> Retailer:
    return Retailer(id, name, tuple(claimed), legal, tuple(address), registration, domain, stores, online,
                    marketplace, date_style, accent)


_AMAZON_DE = _r("amazon.de", "amazon.de", ("Amazon", "amazon.de"), "Amazon EU S.à r.l.",
                ("Amazon EU S.à r.l., Niederlassung Deutschland", "Marcel-Breuer-Str. 12, 80807 München"),
                "USt-IdNr. DE814584193", "amazon.de", marketplace="amazon", accent=(35, 47, 62))
_AMAZON_FR = _r("amazon.fr", "amazon.fr", ("Amazon", "amazon.fr"), "Amazon EU S.à r.l.",
                ("Amazon EU S.à r.l., Succursale Française", "67 Boulevard du Général Leclerc, 92110 Clichy"),
                "N° TVA FR12487773327", "amazon.fr", marketplace="amazon", accent=(35, 47, 62))
_AMAZON_UK = _r("amazon.co.uk", "amazon.co.uk", ("Amazon", "Amazon UK", "amazon.co.uk"), "Amazon EU S.à r.l.",
                ("Amazon EU S.à r.l., UK Branch", "1 Principal Place, Worship Street, London EC2A 2FA"),
                "VAT Reg No. GB727255821", "amazon.co.uk", marketplace="amazon", accent=(35, 47, 62))
_AMAZON_IT = _r("amazon.it", "amazon.it", ("Amazon", "amazon.it"), "Amazon EU S.à r.l.",
                ("Amazon EU S.à r.l., Succursale Italiana", "Viale Monte Grappa 3/5, 20124 Milano"),
                "P.IVA IT08973230967", "amazon.it", marketplace="amazon", accent=(35, 47, 62))
_AMAZON_ES = _r("amazon.es", "amazon.es", ("Amazon", "amazon.es"), "Amazon EU S.à r.l.",
                ("Amazon EU S.à r.l., Sucursal en España", "Calle Ramírez de Prado 5, 28045 Madrid"),
                "CIF W0184081H", "amazon.es", marketplace="amazon", accent=(35, 47, 62))
_EBAY_DE = _r("ebay", "eBay", ("eBay", "ebay.de"), "eBay GmbH",
              ("eBay GmbH, Albert-Einstein-Ring 2-6", "14532 Kleinmachnow"), "USt-IdNr. DE230000000",
              "ebay.de", marketplace="ebay", accent=(229, 50, 56))
_EBAY_UK = _r("ebay", "eBay", ("eBay", "ebay.co.uk"), "eBay (UK) Limited",
              ("eBay (UK) Limited, 1 More London Place", "London SE1 2AF"), "VAT Reg No. GB000000000",
              "ebay.co.uk", marketplace="ebay", accent=(229, 50, 56))

# Third-party sellers seen on marketplace invoices (invented names).
MARKETPLACE_SELLERS = {
    "de": ("TechDeals24 GmbH", "PC-Ecke Handels GmbH", "HardwareOutlet Berlin UG", "Tronic-Versand KG"),
    "fr": ("InfoDiscount SAS", "PCPieces Express SARL", "MegaTech Import SAS"),
    "en": ("BestPrice Computers Ltd", "GadgetZone UK Ltd", "PCParts Direct Ltd"),
    "it": ("Informatica Sud S.r.l.", "TecnoShop Milano S.r.l."),
    "es": ("Tecnoventas Online S.L.", "InfoPiezas Madrid S.L."),
}

LOCALES: dict[str, Locale] = {}


def _add(locale: Locale) -> None:
    LOCALES[locale.country] = locale


_add(Locale(
    "NO", "nb", "NOK", 10.2, 0.25, "kr", True, " ", ",", 2, "FAKTURA", "KVITTERING", _L["nb"],
    ("{dd}.{mm}.{yyyy}", "{d}. {month} {yyyy}"), _MONTHS["nb"],
    (
        _r("komplett.no", "Komplett.no", ("Komplett.no", "Komplett"), "Komplett AS",
           ("Komplett AS, Postboks 2094, 3202 Sandefjord",), "Org.nr. 980 284 158 MVA", "komplett.no",
           accent=(0, 84, 150)),
        _r("elkjop.no", "Elkjøp", ("Elkjøp", "Elkjop"), "Elkjøp Norge AS",
           ("Elkjøp Norge AS, Solheimveien 6-8, 1473 Lørenskog",), "Org.nr. 911 047 233 MVA", "elkjop.no",
           stores=True, date_style=1, accent=(0, 65, 140)),
        _r("power.no", "POWER", ("Power.no", "Power"), "POWER Norge AS",
           ("POWER Norge AS, Strandveien 50, 1366 Lysaker",), "Org.nr. 916 286 074 MVA", "power.no",
           stores=True, accent=(227, 6, 19)),
        _r("proshop", "Proshop", ("Proshop",), "Proshop Norge AS",
           ("Proshop Norge AS, Ole Deviks vei 4, 0668 Oslo",), "Org.nr. 913 530 159 MVA", "proshop.no",
           accent=(0, 0, 0)),
        _r("netonnet", "NetOnNet", ("NetOnNet",), "NetOnNet AS",
           ("NetOnNet AS, Stanseveien 28, 0976 Oslo",), "Org.nr. 989 498 746 MVA", "netonnet.no", stores=True,
           accent=(0, 112, 60)),
    ),
    (("Kari", "Ola", "Ingrid", "Lars", "Nora", "Jonas", "Sigrid", "Henrik"),
     ("Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen", "Bakken")),
    ("Storgata", "Kirkeveien", "Bygdøy allé", "Strandgata", "Skolegata"),
    ("0182 Oslo", "5003 Bergen", "7011 Trondheim", "4006 Stavanger", "9008 Tromsø"), "no",
))
_add(Locale(
    "SE", "sv", "SEK", 10.6, 0.25, "kr", False, " ", ",", 2, "FAKTURA", "KVITTO", _L["sv"],
    ("{yyyy}-{mm}-{dd}", "{d} {month} {yyyy}"), _MONTHS["sv"],
    (
        _r("inet.se", "Inet", ("Inet", "Inet.se"), "Inet AB", ("Inet AB, Sörredsbacken 6, 418 78 Göteborg",),
           "Org.nr 556577-9708", "inet.se", stores=True, accent=(230, 0, 76)),
        _r("webhallen", "Webhallen", ("Webhallen",), "Webhallen Sverige AB",
           ("Webhallen Sverige AB, Box 1085, 164 21 Kista",), "Org.nr 556569-1434", "webhallen.com", stores=True,
           accent=(0, 0, 0)),
        _r("elgiganten.se", "Elgiganten", ("Elgiganten",), "Elgiganten AB",
           ("Elgiganten AB, Box 1264, 164 29 Kista",), "Org.nr 556430-0142", "elgiganten.se", stores=True,
           date_style=1, accent=(0, 65, 140)),
        _r("komplett.se", "Komplett.se", ("Komplett.se", "Komplett"), "Komplett Services Sweden AB",
           ("Komplett Services Sweden AB, Box 6054, 906 04 Umeå",), "Org.nr 556624-9792", "komplett.se",
           accent=(0, 84, 150)),
    ),
    (("Anna", "Erik", "Maria", "Johan", "Elin", "Oskar", "Sara", "Lukas"),
     ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Persson", "Svensson")),
    ("Drottninggatan", "Kungsgatan", "Storgatan", "Vasagatan"),
    ("111 51 Stockholm", "411 07 Göteborg", "211 22 Malmö", "753 20 Uppsala"), "se",
))
_add(Locale(
    "DK", "da", "DKK", 7.47, 0.25, "kr.", False, ".", ",", 2, "FAKTURA", "KVITTERING", _L["da"],
    ("{dd}.{mm}.{yyyy}", "{dd}-{mm}-{yyyy}", "{d}. {month} {yyyy}"), _MONTHS["da"],
    (
        _r("proshop", "Proshop", ("Proshop", "Proshop.dk"), "Proshop A/S",
           ("Proshop A/S, Skejby Nordlandsvej 301, 8200 Aarhus N",), "CVR-nr. 33 08 96 10", "proshop.dk",
           accent=(0, 0, 0)),
        _r("elgiganten.dk", "Elgiganten", ("Elgiganten",), "Elgiganten A/S",
           ("Elgiganten A/S, Arne Jacobsens Allé 16, 2300 København S",), "CVR-nr. 18 29 39 61",
           "elgiganten.dk", stores=True, date_style=1, accent=(0, 65, 140)),
        _r("komplett.dk", "Komplett.dk", ("Komplett.dk", "Komplett"), "Komplett Services Denmark A/S",
           ("Komplett Services Denmark A/S, Hedegaardsvej 88, 2300 København S",), "CVR-nr. 29 21 54 50",
           "komplett.dk", date_style=2, accent=(0, 84, 150)),
    ),
    (("Mette", "Søren", "Anne", "Mads", "Camilla", "Rasmus"), ("Jensen", "Nielsen", "Hansen", "Pedersen",
                                                                 "Andersen", "Christensen")),
    ("Vesterbrogade", "Nørregade", "Østergade", "Jernbanegade"), ("1620 København V", "8000 Aarhus C",
                                                                   "5000 Odense C"), "dk",
))
_add(Locale(
    "FI", "fi", "EUR", 1.0, 0.24, "€", False, " ", ",", 2, "LASKU", "KUITTI", _L["fi"],
    ("{d}.{m}.{yyyy}", "{dd}.{mm}.{yyyy}"), _NUMERIC_ONLY,
    (
        _r("gigantti.fi", "Gigantti", ("Gigantti",), "Gigantti Oy",
           ("Gigantti Oy, Valuraudankuja 1, 00700 Helsinki",), "Y-tunnus 0793887-6", "gigantti.fi", stores=True,
           accent=(0, 65, 140)),
        _r("power.fi", "POWER", ("Power.fi", "Power"), "Power Finland Oy",
           ("Power Finland Oy, Kutomotie 16, 00380 Helsinki",), "Y-tunnus 0932271-1", "power.fi", stores=True,
           date_style=1, accent=(227, 6, 19)),
    ),
    (("Matti", "Anna", "Juha", "Laura", "Mikko", "Emilia"), ("Meikäläinen", "Virtanen", "Korhonen", "Nieminen",
                                                             "Mäkinen", "Hämäläinen")),
    ("Mannerheimintie", "Hämeenkatu", "Aleksanterinkatu"), ("00100 Helsinki", "33100 Tampere", "20100 Turku"), "fi",
    utc_offset="+02:00",
))
_DE_RETAILERS = (
    _r("mindfactory", "Mindfactory AG", ("Mindfactory",), "Mindfactory AG",
       ("Preussenstrasse 14, 26388 Wilhelmshaven",), "USt-IdNr. DE814196577", "mindfactory.de",
       accent=(0, 70, 127)),
    _r("alternate.de", "ALTERNATE", ("Alternate", "Alternate.de"), "ALTERNATE GmbH",
       ("ALTERNATE GmbH, Philipp-Reis-Str. 9, 35440 Linden",), "USt-IdNr. DE811870911", "alternate.de",
       date_style=1, accent=(0, 51, 102)),
    _r("caseking", "Caseking", ("Caseking",), "Caseking GmbH",
       ("Caseking GmbH, Gaußstraße 1, 10589 Berlin",), "USt-IdNr. DE250224780", "caseking.de",
       accent=(20, 20, 20)),
    _r("mediamarkt", "MediaMarkt", ("MediaMarkt", "Media Markt"), "MediaMarkt E-Business GmbH",
       ("MediaMarkt E-Business GmbH, Wankelstraße 5, 85046 Ingolstadt",), "USt-IdNr. DE261221222",
       "mediamarkt.de", stores=True, accent=(223, 0, 0)),
    _r("saturn", "SATURN", ("Saturn",), "Saturn Online GmbH",
       ("Saturn Online GmbH, Wankelstraße 5, 85046 Ingolstadt",), "USt-IdNr. DE813049547", "saturn.de",
       stores=True, date_style=1, accent=(255, 102, 0)),
)
_DE_LABELS = _L["de"]
_add(Locale(
    "DE", "de", "EUR", 1.0, 0.19, "€", False, ".", ",", 2, "RECHNUNG", "KASSENBON", _DE_LABELS,
    ("{dd}.{mm}.{yyyy}", "{d}. {month} {yyyy}"), _MONTHS["de"], _DE_RETAILERS + (_AMAZON_DE, _EBAY_DE),
    (("Max", "Anna", "Lukas", "Julia", "Felix", "Laura", "Jonas", "Lena"),
     ("Mustermann", "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner")),
    ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Lindenallee", "Schulstraße"),
    ("10115 Berlin", "80331 München", "20095 Hamburg", "50667 Köln", "60311 Frankfurt am Main"), "de",
))
_add(Locale(
    "AT", "de", "EUR", 1.0, 0.20, "€", True, ".", ",", 2, "RECHNUNG", "KASSENBON",
    {**_DE_LABELS, "vat": "USt.", "org": "UID-Nr."}, ("{dd}.{mm}.{yyyy}", "{d}. {month} {yyyy}"), _MONTHS["de"],
    (
        _r("mediamarkt", "MediaMarkt", ("MediaMarkt", "Media Markt"), "MediaMarkt E-Business GmbH",
           ("Media Markt TV-HiFi-Elektro GmbH, Triester Straße 87, 1100 Wien",), "UID-Nr. ATU36921204",
           "mediamarkt.at", stores=True, accent=(223, 0, 0)),
        _r("alza", "Alza.at", ("Alza", "Alza.at"), "Alza.cz a.s.",
           ("Alza.cz a.s., Jankovcova 1522/53, 170 00 Praha 7",), "UID-Nr. ATU71534706", "alza.at",
           date_style=1, accent=(0, 136, 61)),
    ),
    (("Lukas", "Anna", "David", "Sophie", "Tobias"), ("Gruber", "Huber", "Bauer", "Wagner", "Pichler")),
    ("Mariahilfer Straße", "Landstraßer Hauptstraße", "Herrengasse"), ("1060 Wien", "8010 Graz", "4020 Linz"),
    "at",
))
_add(Locale(
    "FR", "fr", "EUR", 1.0, 0.20, "€", False, " ", ",", 2, "FACTURE", "TICKET DE CAISSE", _L["fr"],
    ("{dd}/{mm}/{yyyy}", "{d} {month} {yyyy}"), _MONTHS["fr"],
    (
        _r("ldlc", "LDLC.com", ("LDLC", "LDLC.com"), "LDLC.com SA",
           ("LDLC.com SA, 2 rue des Érables, 69760 Limonest",), "N° TVA FR25403554181", "ldlc.com",
           stores=True, accent=(0, 94, 184)),
        _r("materiel.net", "Materiel.net", ("Materiel.net",), "Domisys SAS",
           ("Domisys SAS, 5 rue de l'Industrie, 44800 Saint-Herblain",), "N° TVA FR63419255285", "materiel.net",
           date_style=1, accent=(226, 0, 26)),
        _r("fnac", "Fnac", ("Fnac", "Fnac.com"), "Fnac Darty",
           ("Fnac Direct, 9 rue des Bateaux-Lavoirs, 94200 Ivry-sur-Seine",), "N° TVA FR29377853536", "fnac.com",
           stores=True, accent=(225, 167, 0)),
        _r("boulanger", "Boulanger", ("Boulanger",), "Boulanger SA",
           ("Boulanger SA, Avenue de la Motte, 59810 Lesquin",), "N° TVA FR54347384570", "boulanger.com",
           stores=True, date_style=1, accent=(242, 101, 34)),
        _AMAZON_FR,
    ),
    (("Jean", "Marie", "Pierre", "Camille", "Louis", "Chloé", "Hugo", "Léa"),
     ("Dupont", "Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Lefebvre", "Girard")),
    ("rue de la République", "avenue Victor Hugo", "boulevard Voltaire", "rue Pasteur"),
    ("75011 Paris", "69003 Lyon", "13001 Marseille", "31000 Toulouse", "44000 Nantes"), "fr",
))
_UK_RETAILERS = (
    _r("scan.co.uk", "Scan Computers", ("Scan", "Scan Computers"), "Scan Computers International Ltd",
       ("Scan Computers International Ltd, Unit 1 Hawthorne Park", "Bolton BL6 4AE"), "VAT Reg No. GB676513524",
       "scan.co.uk", accent=(0, 61, 165)),
    _r("overclockers.co.uk", "Overclockers UK", ("Overclockers UK", "Overclockers"), "Overclockers UK Limited",
       ("Overclockers UK Limited, Unit 5 Lymedale Cross", "Newcastle-under-Lyme ST5 9BT"),
       "VAT Reg No. GB803734310", "overclockers.co.uk", date_style=1, accent=(230, 85, 13)),
    _r("currys", "Currys PC World", ("Currys", "Currys PC World"), "DSG Retail Ltd",
       ("DSG Retail Ltd, 1 Portal Way", "London W3 6RS"), "VAT Reg No. GB226652123", "currys.co.uk",
       stores=True, date_style=2, accent=(76, 18, 161)),
    _r("ebuyer", "Ebuyer.com", ("Ebuyer", "Ebuyer.com"), "Ebuyer (UK) Ltd",
       ("Ebuyer (UK) Ltd, Ebuyer House, Howden", "East Yorkshire DN14 7UW"), "VAT Reg No. GB744627418",
       "ebuyer.com", accent=(0, 102, 204)),
)
_add(Locale(
    "GB", "en", "GBP", 0.85, 0.20, "£", True, ",", ".", 2, "INVOICE", "RECEIPT", _L["en"],
    ("{dd}/{mm}/{yyyy}", "{d} {mon} {yyyy}", "{d} {month} {yyyy}"), _MONTHS["en"],
    _UK_RETAILERS + (_AMAZON_UK, _EBAY_UK),
    (("John", "Emma", "Oliver", "Sophie", "Harry", "Amelia", "George", "Olivia"),
     ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Evans")),
    ("High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane"),
    ("London SW1A 1AA", "Manchester M1 2AB", "Leeds LS1 4DT", "Bristol BS1 5TR", "Glasgow G1 1XQ"), "co.uk",
    utc_offset="+00:00", extra={"title_alt": "TAX INVOICE"},
))
_add(Locale(
    "IE", "en", "EUR", 1.0, 0.23, "€", True, ",", ".", 2, "INVOICE", "RECEIPT", _L["en"],
    ("{dd}/{mm}/{yyyy}", "{d} {mon} {yyyy}"), _MONTHS["en"],
    (
        _r("currys", "Currys", ("Currys",), "Currys Group Limited",
           ("Currys Ireland, Unit 1 Blanchardstown Retail Park", "Dublin 15"), "VAT Reg No. IE6388047V",
           "currys.ie", stores=True, accent=(76, 18, 161)),
        _r("scan.co.uk", "Scan Computers", ("Scan", "Scan Computers"), "Scan Computers International Ltd",
           ("Scan Computers International Ltd, Unit 1 Hawthorne Park", "Bolton BL6 4AE"),
           "VAT Reg No. GB676513524", "scan.co.uk", date_style=1, accent=(0, 61, 165)),
    ),
    (("Seán", "Aoife", "Conor", "Niamh", "Cian"), ("Murphy", "Kelly", "O'Brien", "Byrne", "Ryan")),
    ("Main Street", "O'Connell Street", "Church Road"), ("Dublin 2", "Cork T12 X70A", "Galway H91 E2K5"), "ie",
    utc_offset="+00:00",
))
_add(Locale(
    "PL", "pl", "PLN", 4.3, 0.23, "zł", False, " ", ",", 2, "FAKTURA VAT", "PARAGON FISKALNY", _L["pl"],
    ("{dd}.{mm}.{yyyy}", "{yyyy}-{mm}-{dd}"), _NUMERIC_ONLY,
    (
        _r("x-kom", "x-kom", ("x-kom",), "x-kom sp. z o.o.",
           ("x-kom sp. z o.o., ul. Bojkowska 37, 44-100 Gliwice",), "NIP 9542583988", "x-kom.pl", stores=True,
           accent=(0, 0, 0)),
        _r("morele", "Morele.net", ("Morele", "Morele.net"), "Morele.net sp. z o.o.",
           ("Morele.net sp. z o.o., ul. Fabryczna 20a, 31-553 Kraków",), "NIP 6762432248", "morele.net",
           date_style=1, accent=(239, 125, 0)),
        _r("komputronik", "Komputronik", ("Komputronik",), "Komputronik S.A.",
           ("Komputronik S.A., ul. Wołczyńska 37, 60-003 Poznań",), "NIP 9721079088", "komputronik.pl",
           stores=True, accent=(0, 90, 170)),
    ),
    (("Jan", "Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena"), ("Kowalski", "Nowak", "Wiśniewski",
                                                                    "Wójcik", "Kamiński", "Lewandowski")),
    ("ul. Marszałkowska", "ul. Długa", "ul. Piotrkowska", "ul. Floriańska"),
    ("00-001 Warszawa", "31-001 Kraków", "90-001 Łódź", "50-001 Wrocław"), "pl",
))
_add(Locale(
    "ES", "es", "EUR", 1.0, 0.21, "€", False, ".", ",", 2, "FACTURA", "TICKET", _L["es"],
    ("{dd}/{mm}/{yyyy}", "{d} de {month} de {yyyy}"), _MONTHS["es"],
    (
        _r("pccomponentes", "PcComponentes", ("PcComponentes", "PC Componentes"),
           "PC Componentes y Multimedia S.L.U.",
           ("PC Componentes y Multimedia S.L.U., Avda. Europa, Parcela 2-5 y 2-6", "30840 Alhama de Murcia"),
           "CIF B73347494", "pccomponentes.com", accent=(255, 96, 0)),
        _r("mediamarkt", "MediaMarkt", ("MediaMarkt", "Media Markt"), "MediaMarkt E-Business GmbH",
           ("Media Markt Saturn Administración España S.A.U.", "Calle Pujades 2, 08005 Barcelona"),
           "CIF A62384169", "mediamarkt.es", stores=True, date_style=1, accent=(223, 0, 0)),
        _AMAZON_ES,
    ),
    (("Juan", "María", "Carlos", "Lucía", "Javier", "Sofía"), ("García", "Pérez", "López", "Sánchez", "Martínez",
                                                               "Fernández")),
    ("Calle Mayor", "Gran Vía", "Calle de Alcalá", "Avenida de la Constitución"),
    ("28013 Madrid", "08001 Barcelona", "46001 Valencia", "41001 Sevilla"), "es",
))
_add(Locale(
    "IT", "it", "EUR", 1.0, 0.22, "€", True, ".", ",", 2, "FATTURA", "SCONTRINO", _L["it"],
    ("{dd}/{mm}/{yyyy}", "{d} {month} {yyyy}"), _MONTHS["it"],
    (
        _AMAZON_IT,
        _r("mediamarkt", "MediaWorld", ("MediaWorld", "MediaMarkt"), "MediaMarkt E-Business GmbH",
           ("Mediamarket S.p.A.", "Via Furlanelli 69, 20843 Verano Brianza (MB)"), "P.IVA 02630120166",
           "mediaworld.it", stores=True, date_style=1, accent=(223, 0, 0)),
    ),
    (("Mario", "Giulia", "Luca", "Francesca", "Marco", "Chiara"), ("Rossi", "Russo", "Ferrari", "Esposito",
                                                                   "Bianchi", "Romano")),
    ("Via Roma", "Corso Italia", "Via Garibaldi", "Via Mazzini"),
    ("00184 Roma", "20121 Milano", "10121 Torino", "80132 Napoli"), "it",
))
_add(Locale(
    "CZ", "cs", "CZK", 25.0, 0.21, "Kč", False, " ", ",", 0, "FAKTURA - DAŇOVÝ DOKLAD", "ÚČTENKA", _L["cs"],
    ("{dd}.{mm}.{yyyy}", "{d}. {m}. {yyyy}"), _NUMERIC_ONLY,
    (
        _r("alza", "Alza.cz", ("Alza", "Alza.cz"), "Alza.cz a.s.",
           ("Alza.cz a.s., Jankovcova 1522/53, 170 00 Praha 7",), "DIČ CZ27082440", "alza.cz", stores=True,
           accent=(0, 136, 61)),
    ),
    (("Jan", "Petra", "Tomáš", "Lucie", "Martin"), ("Novák", "Svoboda", "Dvořák", "Černý", "Procházka")),
    ("Václavské náměstí", "Národní", "Masarykova"), ("110 00 Praha 1", "602 00 Brno", "702 00 Ostrava"), "cz",
))
_add(Locale(
    "NL", "nl", "EUR", 1.0, 0.21, "€", True, ".", ",", 2, "FACTUUR", "KASSABON", _L["nl"],
    ("{dd}-{mm}-{yyyy}", "{d} {month} {yyyy}"), _MONTHS["nl"],
    (
        _r("coolblue", "Coolblue", ("Coolblue",), "Coolblue B.V.",
           ("Coolblue B.V., Weena 664, 3012 CN Rotterdam",), "Btw-nr. NL810433941B01", "coolblue.nl",
           stores=True, accent=(0, 144, 227)),
        _r("bol.com", "bol.com", ("bol.com", "bol"), "bol.com b.v.",
           ("bol.com b.v., Papendorpseweg 100, 3528 BJ Utrecht",), "Btw-nr. NL817519949B01", "bol.com",
           date_style=1, accent=(0, 0, 164)),
        _r("mediamarkt", "MediaMarkt", ("MediaMarkt", "Media Markt"), "MediaMarkt E-Business GmbH",
           ("Media Markt Saturn Holding Nederland B.V.", "Wilhelminakade 91, 3072 AP Rotterdam"),
           "Btw-nr. NL009393524B01", "mediamarkt.nl", stores=True, accent=(223, 0, 0)),
    ),
    (("Jan", "Sanne", "Daan", "Emma", "Bram", "Lotte"), ("Jansen", "de Vries", "van Dijk", "Bakker", "Visser",
                                                         "Smit")),
    ("Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenstraat"),
    ("1012 AB Amsterdam", "3011 AA Rotterdam", "3511 AB Utrecht", "2511 AA Den Haag"), "nl",
))
_add(Locale(
    "ID", "id", "IDR", 17000.0, 0.11, "Rp", True, ".", ",", 0, "FAKTUR", "STRUK PEMBELIAN", _L["id"],
    ("{dd}/{mm}/{yyyy}", "{d} {month} {yyyy}", "{dd}-{mm}-{yyyy}"), _MONTHS["id"],
    (
        _r("enter.co.id", "Enter Komputer", ("Enter Komputer", "enter.co.id"), "PT Enter Komputer Indonesia",
           ("PT Enter Komputer Indonesia", "Mangga Dua Mall Lt. 3, Jakarta Pusat 10730"), "NPWP 01.234.567.8-031.000",
           "enter.co.id", stores=True, accent=(237, 28, 36)),
        _r("bhinneka", "Bhinneka.com", ("Bhinneka", "Bhinneka.com"), "PT Bhinneka Mentari Dimensi",
           ("PT Bhinneka Mentari Dimensi", "Jl. Gunung Sahari Raya No. 73C, Jakarta Pusat 10610"),
           "NPWP 01.718.327.8-073.000", "bhinneka.com", date_style=1, accent=(0, 82, 155)),
        _r("blibli", "Blibli.com", ("Blibli", "Blibli.com"), "PT Global Digital Niaga",
           ("PT Global Digital Niaga", "Jl. Aipda K.S. Tubun No. 2C, Jakarta Barat 11410"),
           "NPWP 03.160.474.8-039.000", "blibli.com", date_style=2, accent=(0, 149, 218)),
    ),
    (("Budi", "Siti", "Agus", "Dewi", "Andi", "Rina"), ("Santoso", "Wijaya", "Saputra", "Hidayat", "Kusuma",
                                                        "Pratama")),
    ("Jl. Sudirman", "Jl. Thamrin", "Jl. Gatot Subroto", "Jl. Diponegoro"),
    ("Jakarta Selatan 12190", "Bandung 40115", "Surabaya 60271", "Medan 20112"), "co.id", utc_offset="+07:00",
))


_COMPANY_FORM = re.compile(r"(?:\b(?:AS|ASA|AB|A/S|Oy|GmbH|AG|SA|SAS|S\.A\.|S\.A\.U\.|S\.L\.U\.|S\.p\.A\.|Ltd|Limited|"
                           r"B\.V\.|b\.v\.|a\.s\.|sp\. z o\.o\.|S\.à r\.l\.)|^PT )", re.IGNORECASE)


def shop_town(retailer: Retailer) -> str:
    """The town of the shop's address ('Rotterdam' of 'Weena 664, 3012 CN Rotterdam'): what a store
    prints beside its brand ("MediaMarkt Rotterdam")."""
    last = retailer.address[-1].split(",")[-1]
    last = re.sub(r"\([^)]*\)", " ", last)
    last = re.sub(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", " ", last)  # UK postcodes
    last = re.sub(r"\b\d[\d -]*\d\b(\s+[A-Z]{2}\b)?", " ", last)  # postal codes (NL: 3012 CN)
    words = [w for w in last.split() if not any(c.isdigit() for c in w)]
    return " ".join(words) or retailer.address[-1]


def legal_entity(retailer: Retailer) -> str:
    """The company that sold, as its invoices print it: the local entity opening the address when
    there is one ('Media Markt Saturn Holding Nederland B.V.'), else the legal name."""
    first = retailer.address[0].split(",")[0].strip()
    return first if _COMPANY_FORM.search(first) else retailer.legal


def brand_words(retailer: Retailer) -> set[str]:
    """The words of the shop's trading name and domain ('komplett', 'mediamarkt', 'media', 'markt')."""
    text = " ".join((retailer.name, *retailer.claimed, retailer.domain or ""))
    out = set()
    for w in re.split(r"[\s/,.()-]+", text.lower()):
        if len(w) >= 3 and w not in ("com", "www", "net", "the", "online", "computers", "pc", "world"):
            out.add(w)
    glued = re.sub(r"[^a-zø-ÿ0-9]", "", retailer.name.lower().split(".")[0])
    if len(glued) >= 3:
        out.add(glued)
    return out


def without_brand(text: str, retailer: Retailer) -> str:
    """``text`` with every comma-separated part naming the shop dropped (its legal name, its brand):
    what an invoice whose name is only in its logo still prints of the address."""
    words = brand_words(retailer)
    parts = [p.strip() for p in text.split(",")]
    keep = [p for p in parts if not (set(re.split(r"[\s/,.()-]+", p.lower())) & words)
            and p.strip() != legal_entity(retailer)]
    return ", ".join(keep)
