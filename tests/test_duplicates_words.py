"""Reused invoices found by what they say (issue #17): an earlier invoice of the claimed shop
sharing several words rare at that shop (a buyer's name, street, order lines) is compared with
the new one, whatever number, date or total either was read with; the shop's template words,
which every invoice of the shop shows, never make two invoices candidates. Real stores (SQLite
file and PostgreSQL), the packaged ``[duplicates]`` thresholds."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from pipeline.config import load_config
from pipeline.db import RareWords, SqlClaimStore
from pipeline.db import models as m
from pipeline.db.store import words_key
from pipeline.promotions.duplicates import DocumentIdentity, compare, word_hash

from .test_db_store import db_url, pg_url, postgres, store  # noqa: F401 - fixtures

AT = "2020-03-20T10:00:00+00:00"
RULE = RareWords.from_config(load_config().duplicates)
TEMPLATE = [f"fnac-template-{i}" for i in range(40)]  # every invoice of the shop shows these
LINES = ["mpg", "x570", "gaming", "pro", "carbon", "wifi", "ryzen", "3700x"]  # the popular bundle's lines


def invoice(words, *, number=None, day=None, sure=None, shop="fnac", name="facture.jpg") -> DocumentIdentity:
    hashed = tuple(sorted({word_hash(w) for w in words}))
    return DocumentIdentity(name, "invoice", None, (number,) if number else (), (day,) if day else (), (),
                            hashed, hashed if sure is None else tuple(sorted({word_hash(w) for w in sure})),
                            shop=shop)


def buyer(i: int) -> list[str]:
    return [f"prenom{i}", f"nom{i}", f"rue{i}", f"{75000 + i}", f"ville{i % 7}"]


def rec(s, claim_id, doc, promotion="p"):
    return s.record_claim(claim_id, promotion, None, None, [], [], AT, documents=[doc])


def by_words(prior) -> list[str]:
    return sorted(n.claim_id for n in prior.documents if n.how == "words")


@pytest.fixture
def shop(store):  # noqa: F811
    """A big shop: 120 earlier invoices of one template and one bundle, each its own buyer, number
    and date; invoice 7's number, date and total were not read, and few of its words with confidence
    (a badly read photo)."""
    for i in range(120):
        if i == 7:
            rec(store, "C-7", invoice(TEMPLATE + LINES + buyer(7), sure=LINES + buyer(7)))
        else:
            rec(store, f"C-{i}", invoice(TEMPLATE + LINES + buyer(i), number=f"FR2017{i:05d}",
                                         day=f"2020-03-{1 + i % 28:02d}"))
    return store


def test_a_re_photographed_copy_is_found_by_its_buyers_words_and_goes_to_a_person(shop):
    # the copy reads its number and date, and only part of the words (another photo of the page)
    copy = invoice(TEMPLATE[::3] + LINES[:4] + buyer(7)[:4], number="FR20170007", day="2020-03-08")
    prior = rec(shop, "COPY", copy)
    assert by_words(prior) == ["C-7"]
    [found] = [n for n in prior.documents if n.how == "words"]
    assert found.shared_words == 4  # the buyer's name, street and postcode; not the template nor the lines
    assert compare(copy, found.other, by=found.how).relation == "unreadable"  # a person decides, no rejection


def test_other_buyers_of_the_same_bundle_on_the_same_template_are_not_candidates(shop):
    for i in range(200, 210):
        new = invoice(TEMPLATE + LINES + buyer(i))  # nothing but the template, the lines and a new buyer
        assert by_words(rec(shop, f"N-{i}", new)) == []


def test_a_word_shared_by_many_of_the_shops_invoices_is_not_rare(shop):
    # the same city and postcode as many buyers (ville{i % 7}: 17 invoices each, above 2 % of 120),
    # plus two rare words: fewer than rare_words_shared
    near = invoice(TEMPLATE + ["ville3", "75003", "prenom3", "rue3"])
    assert RULE.shared == 3
    assert by_words(rec(shop, "N", near)) == ["C-3"]
    far = invoice(TEMPLATE + ["ville3", "prenom3", "rue999"])
    assert by_words(rec(shop, "M", far)) == []


def test_another_shop_or_promotion_never_shares_words(shop):
    assert by_words(rec(shop, "X", invoice(TEMPLATE + buyer(7), shop="boulanger"))) == []
    assert by_words(rec(shop, "Y", invoice(TEMPLATE + buyer(7)), promotion="other")) == []


def test_a_template_words_list_stops_growing_and_re_recording_counts_an_invoice_once(shop):
    engine = shop.engine
    key = words_key("p", "fnac")
    with engine.connect() as conn:
        listed = conn.execute(select(func.count()).select_from(m.InvoiceWord)
                              .where(m.InvoiceWord.key == key, m.InvoiceWord.word == int(word_hash(TEMPLATE[0]), 16))
                              ).scalar()
        counts = dict(conn.execute(select(m.InvoiceWordCount.word, m.InvoiceWordCount.documents)
                                   .where(m.InvoiceWordCount.key == key)).all())
    assert listed == RULE.max_df  # 120 invoices show it; the first max_df are listed
    assert counts[m.SHOP_INVOICES] == 120 and counts[int(word_hash(TEMPLATE[0]), 16)] == 120
    rec(shop, "C-7", invoice(TEMPLATE + LINES + buyer(7)))  # verified again: counted once
    rec(shop, "C-5", invoice(TEMPLATE + ["prenom5"], number="FR201700005"))  # ... with other words
    with engine.connect() as conn:
        again = dict(conn.execute(select(m.InvoiceWordCount.word, m.InvoiceWordCount.documents)
                                  .where(m.InvoiceWordCount.key == key)).all())
    assert again[m.SHOP_INVOICES] == 120 and again[int(word_hash("nom5"), 16)] == 0
    assert again[int(word_hash("nom7"), 16)] == 1
    rec(shop, "C-9", invoice(TEMPLATE + buyer(9)), promotion="other")  # moved to another promotion
    with engine.connect() as conn:
        moved = dict(conn.execute(select(m.InvoiceWordCount.word, m.InvoiceWordCount.documents)
                                  .where(m.InvoiceWordCount.key == key)).all())
    assert moved[m.SHOP_INVOICES] == 119 and moved[int(word_hash("nom9"), 16)] == 0


def test_earlier_means_earlier_and_released_claims_are_not_found(shop):
    copy = invoice(buyer(7))
    assert by_words(rec(shop, "COPY", copy)) == ["C-7"]
    assert by_words(rec(shop, "C-7", invoice(TEMPLATE + LINES + buyer(7)))) == []  # COPY came after C-7
    shop.release_claim("C-7")
    assert by_words(rec(shop, "COPY2", copy)) == ["COPY"]


def test_a_small_shops_words_are_rare_below_the_minimum_count(tmp_path):
    # three earlier invoices: a word on at most rare_word_min_df of them is rare
    with SqlClaimStore(f"sqlite:///{tmp_path / 'claims.sqlite3'}", rare_words=RULE) as s:
        rng = random.Random(3)
        for i in range(3):
            rec(s, f"C-{i}", invoice(TEMPLATE + buyer(i), number=f"{rng.getrandbits(30)}"))
        found = by_words(rec(s, "NEW", invoice(buyer(1))))
        assert found == ["C-1"]
        # the template (on all three) is not rare once the shop has more invoices than rare_word_min_df
        assert RULE.min_df < 3
        assert by_words(rec(s, "T", invoice(TEMPLATE))) == []


@pytest.mark.parametrize("mine, theirs, relation", [
    # found by rare words: the same number is the same invoice
    (invoice(buyer(1), number="FR1", day="2020-03-01"), invoice(buyer(1) + ["FR1"]), "same"),
    # another number or another date read on both: another invoice (a buyer claiming twice)
    (invoice(buyer(1), number="FR1", day="2020-03-01"), invoice(buyer(1), number="FR2"), "different"),
    (invoice(buyer(1), number="FR1", day="2020-03-01"), invoice(buyer(1), day="2020-03-09"), "different"),
    # a number read on one side only, shown nowhere on the other, read with confidence: another invoice
    (invoice(buyer(1) + TEMPLATE, number="FR1", day="2020-03-01"), invoice(buyer(1) + TEMPLATE), "different"),
    # ... on another read with few confident words, whatever the words each side alone shows (two photos
    # read differently): a person decides
    (invoice(buyer(1) + TEMPLATE, number="FR1", day="2020-03-01"), invoice(buyer(1) + LINES), "unreadable"),
    (invoice(buyer(1) + TEMPLATE), invoice(buyer(1) + LINES), "unreadable"),
    (invoice(buyer(1)), invoice(buyer(1), sure=[]), "unreadable"),
])
def test_compare_by_words(mine, theirs, relation):
    assert compare(mine, theirs, by="words").relation == relation
    assert compare(theirs, mine, by="words").relation == relation


# ------------------------------------------------------------------------------ every reading of an invoice


def test_an_invoice_says_what_any_of_its_readings_read(tmp_path):
    # C-1's first reading (Tesseract read the page in part) shows no invoice number; the cascade's
    # second engine read it whole. C-2 uploads the same invoice again: with C-1's second reading its
    # number is C-1's (rejected); from the first reading alone a person had to decide.
    from pipeline.checks import document_checks
    from pipeline.promotions import apply_promotion

    from .test_promotions_rules import BOARD, CASHBACK, CONFIG, CPU, claim, get, invoice, komplett

    part = invoice("Komplett AS", "Fakturadato: 19.02.2020", "MSI MEG X570 ACE 3990,00",
                   "AMD Ryzen 9 3900X 5490,00", "TOTAL 9480,00 NOK")
    whole = komplett()[1]

    def verify(claim_id, invoices, later, s):
        c = claim(claim_id=claim_id, email=f"{claim_id}@example.no",
                  products=(dict(BOARD, serial=f"602-7C35-010B19120001{claim_id[-1]}"), CPU))
        return apply_promotion(c, invoices, document_checks(c, invoices, [], CONFIG), terms=CASHBACK, store=s,
                               config=CONFIG, later_reads=later)

    for later, expected in (({"faktura.jpg": [whole]}, ("fail", "INVOICE_ALREADY_USED")),
                            (None, ("uncertain", "INVOICE_POSSIBLY_REUSED"))):
        with SqlClaimStore(f"sqlite:///{tmp_path / f'{later is None}.sqlite3'}") as s:
            assert get(verify("C-1", [part], later, s), "duplicate_invoice").status == "pass"
            check = get(verify("C-2", [komplett()], None, s), "duplicate_invoice")
            assert (check.status, check.reason, check.found) == (*expected, "C-1"), check


def test_merged_readings_keep_what_any_reading_read_with_confidence():
    from pipeline.promotions.duplicates import merged

    first = invoice(TEMPLATE + buyer(1), sure=TEMPLATE)
    second = invoice(buyer(1) + ["FR1"], number="fr1", day="2020-03-01", sure=buyer(1))
    both = merged(first, second)
    assert (both.numbers, both.dates, both.shop) == (("fr1",), ("2020-03-01",), "fnac")
    assert set(both.words) == set(first.words) | set(second.words)
    assert set(both.sure_words) == set(first.sure_words) | set(second.sure_words)
    assert merged(first) is first
