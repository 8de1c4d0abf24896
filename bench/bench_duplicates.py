#!/usr/bin/env python3
"""One claim's duplicate checks against a store of 1k, 10k, 100k earlier claims, on SQLite and
PostgreSQL: every look-up indexed (serial, invoice number and file, email, participant, look-alike
images through the band index) vs the baseline in the same run, the look-alike search as it was
before (every earlier image hash of the promotion compared in Python).

What the store holds is shaped like a popular promotion: each claim has a serial, its invoice's
sha256 and shop+number, an email, an invoice upload and a serial photo. Shops are drawn
Zipf-like (a few big shops take most claims: one layout, many claims), each shop's layout a
real document's hash (the 100 SROIE receipts); dates over 12 days of the period; 15 % of the
invoices without a date read (no anchor: compared with every look-alike of their layout).
How far an upload's hash is from its layout's follows ``bench_image_distance``:

- ``--uploads mixed`` (default; the lab's mix of forms): 50 % PDFs (no image hash), 40 % phone
  photos (36-140 bits from the layout: any two photos are far apart), 10 % scans or exported
  images (2-40 bits: one layout's scans are look-alikes);
- ``--uploads scans``: every invoice a scan of its shop's layout (2-40 bits) - the worst case,
  where each big shop's layout is one cluster of look-alikes compared day by day.

What each invoice says (the word index, ``DocumentIdentity.shop``): its shop's template (40 words
every invoice of the shop shows), its bundle's lines (6 words shared by every shop's buyers of
the bundle), its buyer (first name of 200, family name of 2,000, street of 5,000, postcode of
1,000, city of 300: common ones are not rare at a big shop) and 3 words of OCR noise; 10 % of
the words not read with confidence. The biggest shop holds ~19 % of the claims (19k invoices of
one template at 100k): its template words' lists stop at ``rare_word_max_df``, a new invoice
asks only for its words rare there.

Serial photos: 10 sticker kinds, 36-140 bits apart (separate photos), 90 % with a decoded serial.
Content keys (``DocumentIdentity.content``, shop|date|total): each claim buys one of three bundles
(60/30/10 %) at its shop's price, the total read on 80 % of the invoices, the number read on 90 %;
an invoice without its number asks for every earlier one of its shop, date and total (newest
``max_near``), one with its number only for those without.

The time per claim ("checks") is ``record_claim``'s transaction up to its commit (every look-up,
and the claim's rows written) plus comparing what each look-alike earlier upload says
(``compare``); "with commit" adds the commit (a disk flush on PostgreSQL). Median and p95 of
``--claims`` new claims. The baseline ratio is checks / baseline.

    .venv/bin/python bench/bench_duplicates.py                                  # SQLite and PostgreSQL
    .venv/bin/python bench/bench_duplicates.py --backends sqlite --sizes 1000 10000
    .venv/bin/python bench/bench_duplicates.py --pg postgresql://postgres@127.0.0.1:5432/test

PostgreSQL: a database of its own is created next to ``--pg`` and dropped at the end.
Measured: see README "Benchmarks".
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
REALWORLD = REPO.parent / "shared" / "realworld"

from sqlalchemy import create_engine, delete, insert, select, text  # noqa: E402

from pipeline.db import SqlClaimStore  # noqa: E402
from pipeline.db import models as m  # noqa: E402
from pipeline.db.store import _index_rows, _word_rows  # noqa: E402
from pipeline.promotions.duplicates import DocumentIdentity, compare, word_hash  # noqa: E402

PROMOTION = "amd-msi-cashback-2020"
AT = "2020-03-20T10:00:00+00:00"
BUYER = (("first", 200), ("family", 2000), ("street", 5000), ("postcode", 1000), ("city", 300))


def _centres(rng: random.Random) -> list[str]:
    """Invoice layouts: real documents' pHashes (SROIE), else random ones."""
    from PIL import Image

    from pipeline.imagehash import phash_image

    out = []
    for img in sorted((REALWORLD / "sroie" / "img").glob("*.jpg"))[:100]:
        import numpy as np

        out.append(phash_image(np.asarray(Image.open(img).convert("L"))))
    while len(out) < 100:
        out.append(f"{rng.getrandbits(256):064x}")
    return out


def _flip(value: str, k: int, rng: random.Random) -> str:
    n = int(value, 16)
    for b in rng.sample(range(256), k):
        n ^= 1 << b
    return f"{n:064x}"


class World:
    def __init__(self, seed: int, uploads: str = "mixed") -> None:
        self.uploads = uploads
        self.rng = random.Random(seed)
        self.invoice_centres = _centres(self.rng)
        self.weights = [1 / (rank + 1) for rank in range(len(self.invoice_centres))]
        self.sticker_centres = [f"{self.rng.getrandbits(256):064x}" for _ in range(10)]
        self.n = 0

    def claim(self) -> tuple[str, list[str], list[str], list[DocumentIdentity]]:
        rng = self.rng
        self.n += 1
        cid = f"C-{self.n:07d}"
        serial = f"6027c35010b19{self.n:09d}"
        number = f"{204400000 + self.n}"
        shop = rng.choices(range(len(self.invoice_centres)), self.weights)[0]
        centre = self.invoice_centres[shop]
        day = f"2020-02-{17 + rng.randrange(12):02d}" if rng.random() < 0.85 else None
        # what it is about (shop, date, total): one of three bundles at the shop's price, the total read
        # with confidence on 80 % of the invoices
        bundle = rng.choices(range(3), [6, 3, 1])[0]
        total = f"{(549, 899, 1299)[bundle] * 10 + shop % 7}" if rng.random() < 0.8 else None
        said = ([f"shop{shop}-template{i}" for i in range(40)] + [f"bundle{bundle}-line{i}" for i in range(6)]
                + [f"{part}{rng.randrange(n)}" for part, n in BUYER]
                + [f"noise{rng.getrandbits(40)}" for _ in range(3)])
        words = tuple(sorted({word_hash(w) for w in said}))
        sure = tuple(w for w in words if rng.random() >= 0.1)
        form = "scan" if self.uploads == "scans" else rng.choices(["pdf", "photo", "scan"], [50, 40, 10])[0]
        image = None if form == "pdf" else _flip(centre, rng.randint(36, 140) if form == "photo" else
                                                 rng.randint(2, 40), rng)
        numbered = (number,) if rng.random() < 0.9 else ()  # 10 % with the number not read with confidence
        invoice = DocumentIdentity("faktura.jpg", "invoice", image, numbers=numbered, dates=(day,) if day else (),
                                   words=words, sure_words=sure,
                                   content=(f"shop{shop}|{day}|{total}",) if day and total else (), shop=f"shop{shop}")
        sticker = DocumentIdentity("serial.jpg", "serial_photo",
                                   _flip(rng.choice(self.sticker_centres), rng.randint(36, 140), rng),
                                   serials=(serial,) if rng.random() < 0.9 else ())
        fps = [f"sha256:{hashlib.sha256(cid.encode()).hexdigest()}"] + [f"number:shop{shop}:{n}" for n in numbered]
        return cid, [serial], fps, [invoice, sticker]


def fill(store: SqlClaimStore, world: World, count: int) -> None:
    """``count`` earlier claims, written in bulk as ``record_claim`` writes them (same rows, same keys;
    the word counts kept here and written at the end)."""
    engine = store.engine
    with engine.begin() as conn:
        seq0 = conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM claims")).scalar()
        doc0 = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM claim_documents")).scalar()
        counts = {(k, w): n for k, w, n in conn.execute(select(m.InvoiceWordCount.key, m.InvoiceWordCount.word,
                                                               m.InvoiceWordCount.documents))}
    max_df = store.rare_words.max_df
    chunk = 5000
    for start in range(0, count, chunk):
        claims, serials, fps, docs, bands, postings = [], [], [], [], [], []
        for _ in range(min(chunk, count - start)):
            cid, ss, ff, dd = world.claim()
            seq0 += 1
            email = f"{cid.lower()}@example.no"
            claims.append({"seq": seq0, "claim_id": cid, "promotion_id": PROMOTION, "email": email,
                           "participant_key": email, "decided_at": AT, "released": False})
            serials += [{"claim_id": cid, "serial": s} for s in ss]
            fps += [{"claim_id": cid, "kind": f.split(":", 1)[0], "value": f.split(":", 1)[1]} for f in ff]
            for d in dd:
                doc0 += 1
                docs.append({"id": doc0, "claim_id": cid, "name": d.name, "role": d.role, "image_hash": d.image_hash,
                             "identity": d.to_json()})
                bands += [{"doc_id": doc0, "key": k, "anchor": a} for k, a in _index_rows(d, PROMOTION)]
                for _, k, w in _word_rows([d], PROMOTION):
                    counts[k, w] = counts.get((k, w), 0) + 1
                    if w >= 0 and counts[k, w] <= max_df:
                        postings.append({"key": k, "word": w, "doc_id": doc0})
        with engine.begin() as conn:
            conn.execute(insert(m.Claim), claims)
            conn.execute(insert(m.ClaimSerial), serials)
            conn.execute(insert(m.InvoiceFingerprint), fps)
            conn.execute(insert(m.ClaimDocument), docs)
            conn.execute(insert(m.ImageHashBand), bands)
            conn.execute(insert(m.InvoiceWord), postings)
    rows = [{"key": k, "word": w, "documents": n} for (k, w), n in counts.items()]
    with engine.begin() as conn:
        conn.execute(delete(m.InvoiceWordCount))
        for start in range(0, len(rows), 50000):
            conn.execute(insert(m.InvoiceWordCount), rows[start:start + 50000])
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table, column in (("claims", "seq"), ("claim_documents", "id")):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                                  f"(SELECT MAX({column}) FROM {table}))"))
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


class _CommitClock:
    """When the last transaction began to commit (SQLAlchemy's ``commit`` event fires before it)."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.at = 0.0
        event.listen(engine, "commit", self._mark)

    def _mark(self, _conn) -> None:
        self.at = time.perf_counter()


def one_claim(store: SqlClaimStore, world: World, clock: _CommitClock) -> tuple[float, float, int, int]:
    """(ms until the look-ups are done and compared, ms in all with the commit, earlier uploads compared,
    of which found by rare words)."""
    cid, serials, fps, docs = world.claim()
    email = f"{cid.lower()}@example.no"
    t = time.perf_counter()
    prior = store.record_claim(cid, PROMOTION, email, email, serials, fps, AT, documents=docs)
    done = time.perf_counter()
    mine = {d.name: d for d in docs}
    for near in prior.documents:
        compare(mine[near.document], near.other, by=near.how)
    compared = time.perf_counter() - done
    checks = (clock.at - t) + compared  # the look-ups and inserts of the transaction, then the comparisons
    return (checks * 1000, (time.perf_counter() - t) * 1000, len(prior.documents),
            sum(n.how == "words" for n in prior.documents))


def baseline(store: SqlClaimStore, world: World) -> float:
    """The look-alike search before: every earlier invoice hash of the promotion, compared in Python."""
    docs = [None]
    while docs[0] is None or docs[0].image_hash is None:
        _, _, _, docs = world.claim()
    value = int(docs[0].image_hash, 16)
    t = time.perf_counter()
    with store.engine.connect() as conn:
        rows = conn.execute(select(m.ClaimDocument.image_hash, m.Claim.claim_id)
                            .join(m.Claim, m.Claim.claim_id == m.ClaimDocument.claim_id)
                            .where(m.Claim.promotion_id == PROMOTION, m.Claim.released.is_(False),
                                   m.ClaimDocument.role == "invoice", m.ClaimDocument.image_hash.is_not(None)))
        hits = [cid for h, cid in rows if (int(h, 16) ^ value).bit_count() <= store.max_distance["invoice"]]
    del hits
    return (time.perf_counter() - t) * 1000


def run(name: str, url: str, sizes: list[int], claims: int, seed: int, uploads: str) -> list[dict]:
    store = SqlClaimStore(url)
    clock = _CommitClock(store.engine)
    world = World(seed, uploads)
    out, have = [], 0
    try:
        for size in sizes:
            t = time.perf_counter()
            fill(store, world, size - have)
            have = size
            fill_s = time.perf_counter() - t
            for _ in range(3):
                one_claim(store, world, clock)  # warm caches and plans
            checks, totals, found, by_words = zip(*(one_claim(store, world, clock) for _ in range(claims)))
            have += 3 + claims
            base = [baseline(store, world) for _ in range(max(3, claims // 10))]
            row = {"backend": name, "uploads": uploads, "earlier": size, "checks_median_ms": statistics.median(checks),
                   "checks_p95_ms": sorted(checks)[int(0.95 * (len(checks) - 1))],
                   "with_commit_median_ms": statistics.median(totals), "look_alikes": statistics.mean(found),
                   "by_words": statistics.mean(by_words),
                   "baseline_ms": statistics.median(base), "fill_s": fill_s}
            row["ratio"] = row["checks_median_ms"] / row["baseline_ms"]
            out.append(row)
            print(f"{name:10s} {uploads:5s} {size:>7d} earlier: checks {row['checks_median_ms']:6.2f} ms median, "
                  f"{row['checks_p95_ms']:6.2f} ms p95; with commit {row['with_commit_median_ms']:6.2f} ms; "
                  f"{row['look_alikes']:.1f} earlier uploads compared ({row['by_words']:.2f} by rare words); "
                  f"baseline scan {row['baseline_ms']:8.2f} ms; "
                  f"ratio {row['ratio']:.3f}  [filled in {fill_s:.0f} s]", flush=True)
    finally:
        store.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    ap.add_argument("--pg", default=os.environ.get("CLAIMCHECK_TEST_POSTGRES",
                                                   "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--claims", type=int, default=100, help="new claims timed per size")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--uploads", choices=["mixed", "scans"], default="mixed")
    ap.add_argument("--json", type=Path, help="write the rows here too")
    args = ap.parse_args()
    rows = []
    if "sqlite" in args.backends:
        with tempfile.TemporaryDirectory() as tmp:
            rows += run("sqlite", f"sqlite:///{tmp}/bench.sqlite3", sorted(args.sizes), args.claims, args.seed,
                        args.uploads)
    if "postgresql" in args.backends:
        from pipeline.db.engine import sql_url

        admin = create_engine(sql_url(args.pg), isolation_level="AUTOCOMMIT")
        name = f"claimcheck_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            rows += run("postgresql", admin.url.set(database=name).render_as_string(hide_password=False),
                        sorted(args.sizes), args.claims, args.seed, args.uploads)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
