"""Look-alike uploads in the claim store (SQLite and PostgreSQL): the image-hash index finds
exactly the earlier hashes within the distance, skips the look-alikes whose content already
says "another invoice", and links between claims are shown on both; and ``compare``'s rules."""
from __future__ import annotations

import random
from dataclasses import replace

import pytest
from sqlalchemy import text

from pipeline.db import SqlClaimStore
from pipeline.db.engine import make_engine
from pipeline.promotions.duplicates import DocumentIdentity, compare, word_hash

from .test_db_store import db_url, pg_url, postgres, store  # noqa: F401 - fixtures

AT = "2020-03-20T10:00:00+00:00"


def flip(value: str, bits: list[int]) -> str:
    n = int(value, 16)
    for b in bits:
        n ^= 1 << b
    return f"{n:064x}"


def doc(value: str, *, name="faktura.jpg", numbers=(), dates=(), role="invoice", serials=()) -> DocumentIdentity:
    return DocumentIdentity(name, role, value, tuple(numbers), tuple(dates), tuple(serials))


def rec(s, claim_id, *docs, promotion="p"):
    return s.record_claim(claim_id, promotion, None, None, [], [], AT, documents=list(docs))


def test_the_index_finds_every_hash_within_the_distance_and_none_beyond(store):  # noqa: F811
    rng = random.Random(17)
    base = f"{rng.getrandbits(256):064x}"
    limit = store.max_distance["invoice"]
    # earlier uploads at 0..limit+6 bits, the flipped bits spread over every band
    for k in range(limit + 7):
        rec(store, f"C-{k}", doc(flip(base, rng.sample(range(256), k))))
    for _ in range(30):  # and unrelated ones
        rec(store, f"X-{_}", doc(f"{rng.getrandbits(256):064x}"))
    found = rec(store, "NEW", doc(base)).documents
    assert sorted(n.distance for n in found) == list(range(limit + 1))[:store.max_near]
    assert [n.distance for n in found] == sorted(n.distance for n in found)  # nearest first


def test_a_complete_look_alike_of_another_date_is_not_even_a_candidate(store):  # noqa: F811
    h = "ab" * 32
    rec(store, "C-1", doc(h, numbers=["1001"], dates=["2020-02-17"]))
    rec(store, "C-2", doc(flip(h, [3]), numbers=["1002"], dates=["2020-02-18"]))
    rec(store, "C-3", doc(flip(h, [9])))  # nothing read: always compared
    found = rec(store, "C-4", doc(h, numbers=["1003"], dates=["2020-02-18"])).documents
    assert sorted(n.claim_id for n in found) == ["C-2", "C-3"]
    unread = rec(store, "C-5", doc(h)).documents  # nothing read here: compared with every look-alike
    assert sorted(n.claim_id for n in unread) == ["C-1", "C-2", "C-3", "C-4"]


def test_serial_photos_are_matched_among_serial_photos_within_their_own_distance(store):  # noqa: F811
    h = "5a" * 32
    rec(store, "C-1", doc(h, name="serial.jpg", role="serial_photo", serials=["6027c35010b1912000123"]))
    rec(store, "C-2", doc(h, name="faktura.jpg"))
    limit = store.max_distance["serial_photo"]
    assert not rec(store, "C-3", doc(flip(h, list(range(limit + 1))), name="s.jpg", role="serial_photo")).documents
    [found] = rec(store, "C-4", doc(flip(h, [0, 100]), name="s.jpg", role="serial_photo")).documents
    assert (found.claim_id, found.other.serials, found.other.role) == ("C-1", ("6027c35010b1912000123",),
                                                                       "serial_photo")


def test_re_recording_replaces_a_claims_uploads_and_releasing_frees_them(store):  # noqa: F811
    h = "c3" * 32
    rec(store, "C-1", doc(h))
    rec(store, "C-1", doc(flip(h, list(range(40)))))  # re-verified with another upload
    assert not rec(store, "C-2", doc(h)).documents
    store.release_claim("C-2")
    assert [n.claim_id for n in rec(store, "C-3", doc(flip(h, list(range(40))))).documents] == ["C-1"]


def test_links_show_on_both_claims_and_are_replaced_on_re_verification(store):  # noqa: F811
    store.set_links("C-2", [("C-1", "duplicate_invoice", "INVOICE_POSSIBLY_EDITED", "only the number differs")])
    for claim_id in ("C-1", "C-2"):
        [link] = store.links_for(claim_id)
        assert (link.claim_id, link.other_claim_id, link.reason) == ("C-2", "C-1", "INVOICE_POSSIBLY_EDITED")
    store.set_links("C-2", [])
    assert store.links_for("C-1") == []


def test_image_hashes_kept_by_the_first_schema_become_look_alikes_of_unknown_content(tmp_path):
    from alembic import command

    from pipeline.db.engine import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    h = "e1" * 32
    with engine.begin() as conn:
        command.upgrade(alembic_config(connection=conn), "0001")
        conn.execute(text("INSERT INTO claims (claim_id, promotion_id, released) VALUES ('OLD', 'p', false)"))
        conn.execute(text(f"INSERT INTO invoice_fingerprints VALUES ('OLD', 'phash', '{h}')"))
    engine.dispose()
    with SqlClaimStore(url) as s:  # migrates to head
        [found] = rec(s, "NEW", doc(flip(h, [7]), numbers=["1"], dates=["2020-02-18"])).documents
        assert (found.claim_id, found.other.numbers, found.distance) == ("OLD", (), 1)


# ------------------------------------------------------------------------------ compare


def _inv(numbers=(), dates=(), words=(), sure=None):
    hashed = tuple(word_hash(w) for w in words)
    return DocumentIdentity("x.jpg", "invoice", None, tuple(numbers), tuple(dates), (), hashed,
                            hashed if sure is None else tuple(word_hash(w) for w in sure))


TEMPLATE = [f"w{i}" for i in range(40)]
KARI, OLA = ["kari", "nordmann", "storgata", "oslo"], ["ola", "hansen", "kirkeveien", "bergen"]


@pytest.mark.parametrize("mine, theirs, relation", [
    # the same number: the same invoice, whatever else
    (_inv(["1"], ["2020-02-17"], TEMPLATE), _inv(["1"], ["2020-02-18"], TEMPLATE + OLA), "same"),
    # another number and another date: another invoice (one shop's invoices without a buyer)
    (_inv(["1"], ["2020-02-17"], TEMPLATE), _inv(["2"], ["2020-02-18"], TEMPLATE), "different"),
    # another number, the same day, another buyer: another invoice
    (_inv(["1"], ["2020-02-17"], TEMPLATE + KARI), _inv(["2"], ["2020-02-17"], TEMPLATE + OLA), "different"),
    # another number, nothing else differs: an edited copy?
    (_inv(["1"], ["2020-02-17"], TEMPLATE + KARI), _inv(["2"], ["2020-02-17"], TEMPLATE + KARI), "edited"),
    (_inv(["1"], [], TEMPLATE + KARI), _inv(["2"], [], TEMPLATE + KARI), "edited"),
    # no number read on either side: a person looks
    (_inv([], ["2020-02-17"], TEMPLATE + KARI), _inv([], ["2020-02-18"], TEMPLATE + OLA), "unreadable"),
    # a number read on one side, shown among the other's words: the same
    (_inv(["204417811"], ["2020-02-17"], TEMPLATE), _inv([], ["2020-02-17"], TEMPLATE + ["204417811"]), "same"),
    # ... shown nowhere on a well-read other side: another number
    (_inv(["204417811"], ["2020-02-17"], TEMPLATE + KARI), _inv([], ["2020-02-17"], TEMPLATE + OLA), "different"),
    # ... on a side read without confidence: cannot tell
    (_inv(["204417811"], ["2020-02-17"], TEMPLATE + KARI), _inv([], ["2020-02-17"], TEMPLATE + OLA, sure=[]),
     "unreadable"),
    # numbers one character apart, each read with confidence: one misread digit of a re-photographed
    # copy (lab seed 47: "236430257" / "238430257"), or two of one series: a person looks
    (_inv(["238430257"], ["2020-03-11"], TEMPLATE + KARI), _inv(["236430257"], ["2020-03-11"], TEMPLATE + OLA),
     "unreadable"),
    # ... and one read among the other's words, one character off
    (_inv([], ["2020-03-11"], TEMPLATE + KARI + ["238430257"]), _inv(["236430257"], ["2020-03-11"], TEMPLATE + OLA),
     "unreadable"),
    # ... but on another date, read with confidence on both, another invoice of the series
    (_inv(["238430257"], ["2020-03-11"], TEMPLATE + KARI), _inv(["236430257"], ["2020-03-12"], TEMPLATE + OLA),
     "different"),
    # short numbers one character apart are two numbers
    (_inv(["12"], ["2020-02-17"], TEMPLATE + KARI), _inv(["13"], ["2020-02-17"], TEMPLATE + OLA), "different"),
])
def test_compare_decides_from_what_the_documents_say(mine, theirs, relation):
    assert compare(mine, theirs).relation == relation
    assert compare(theirs, mine).relation == relation  # the order of the claims does not matter


def test_a_copy_whose_number_ocr_misread_is_no_other_invoice():
    """This claim's copy read "133566220" (no label found, so no number) where the earlier invoice
    says "111566220": two characters apart on a word read as printed, a person looks; the words of
    a well-read copy that show nothing like the number still make it another invoice."""
    plain = {word_hash(w): w for w in TEMPLATE + OLA + ["133566220"]}
    copy = replace(_inv([], ["2020-03-05"], TEMPLATE + OLA + ["133566220"], sure=TEMPLATE + OLA), plain=plain)
    earlier = _inv(["111566220"], ["2020-03-05"], TEMPLATE + KARI)
    assert compare(copy, earlier).relation == "unreadable"
    far = replace(copy, plain={word_hash(w): w for w in TEMPLATE + OLA + ["987654321"]},
                  words=tuple(word_hash(w) for w in TEMPLATE + OLA + ["987654321"]))
    assert compare(far, earlier).relation == "different"
    assert compare(copy, earlier, near_max_diff=1).relation == "different"
    # a number found but read without confidence: near the earlier one, a person looks; far, it is
    # another invoice's (lab seed 47: C-47-0196's 17203278546 against C-47-0195's 1t202451414)
    unsure = replace(_inv([], ["2020-03-05"], TEMPLATE + OLA), unsure_numbers=("111566228",))
    assert compare(unsure, earlier).relation == "unreadable"
    assert compare(replace(unsure, unsure_numbers=("17203278546",)), earlier).relation == "different"
    assert DocumentIdentity.from_json("x.jpg", "invoice", None, unsure.to_json()).unsure_numbers == ("111566228",)



@pytest.mark.parametrize("a, b, relation", [
    (["6027c35"], ["6027c35"], "same"), (["6027c35"], ["6027c99"], "different"), ([], ["6027c35"], "unreadable")])
def test_compare_serial_photos_by_their_decoded_serials(a, b, relation):
    def photo(serials):
        return DocumentIdentity("s.jpg", "serial_photo", None, serials=tuple(serials))
    assert compare(photo(a), photo(b)).relation == relation
