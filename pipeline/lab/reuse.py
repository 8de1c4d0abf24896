"""Reusing a lab run: the same labelled set, decided again under the same everything, is not verified again.

``claimcheck evaluate`` verifies a set in path order against a claim store of its own, emptied first
(``evaluation._run_with_fresh_store``). Everything such a run decides from is then known before it
starts, so a run can be keyed by all of it and its outputs (``results.jsonl`` and the claim store it
leaves) kept; a later run with the same key restores them instead of deciding 500 claims again. The
key (``run_key``) is a SHA-256 over:

- the set: its root's absolute path (each decision's ``claim_dir``), and per claim, in the order
  the run takes them, its ``claim_path`` and the name and bytes of every file in its folder
  (``claim.json``, the documents, anything else), except its ``expected.json`` (the label, read
  only by the report) and the folders below it that hold claims of their own (keyed as those);
- the effective config, whole (every section and threshold), the knowledge files
  (``knowledge_hash()``), the bytes of the promotions' terms files and of an extra retailer alias
  file (their paths are config, their content is not);
- the code: every file of the ``pipeline`` package (source and data: the packaged terms too), the
  installed distributions' names and versions (PP-OCR's models ship in one), the Tesseract binary
  (path, size, time) and Python's version;
- today's date (a claim without a submission time judges dates against today);
- the number of worker processes: claims decided at the same moment record in the order they
  finish, so a duplicate pair decided side by side by two workers may come out either way; a run
  is restored only for the command that could have made it.

The claim store is part of the run: it starts empty, and the same claims in the same order give it
the same contents, so it needs no key of its own. A per-claim key would not be sound here: a
duplicate or a claim limit depends on the claims before it, so reuse is all or nothing: one byte
of one claim, one threshold or one line of a knowledge file changed and every claim is verified
again. There is no reuse when the config names a ``[store].url`` (a store that is not the run's
own), when the read cache is off, or with ``reuse=False`` (``--no-reuse``).

A run is kept only when it is the inputs' outcome, not the machine's: no worker stopped for time or
memory or lost, and no decision carrying an engine failure, a timeout, an internal error or an
unavailable store (``TRANSIENT``). Kept runs live beside the reads, in ``<read cache>/runs/``
(clearing the cache clears them), as a folder per key written under a temporary name and renamed
into place, with each file's SHA-256 in ``meta.json``: a damaged entry is a miss, never a result.
The newest ``KEEP`` runs are kept.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..config import Config

__all__ = ["run_key", "RunCache", "KeptRun", "TRANSIENT", "KEEP", "code_hash", "reusable"]

FORMAT = 1
KEEP = 8
"""How many kept runs a cache holds (the newest)."""

TRANSIENT = frozenset({"ENGINE_FAILED", "ENGINE_MISSING", "OCR_TIMEOUT", "INTERNAL_ERROR", "CLAIM_STORE_UNAVAILABLE"})
"""Reason codes that may be the machine's (load, a crash, a missing engine), not the claim's: a run
whose decisions carry one is not kept."""

_CHUNK = 1 << 20


def _file_digest(path: Path, digest) -> None:
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)


def _claim_files(folder: Path) -> list[Path]:
    """The files of one claim folder, sorted: every file below it except its ``expected.json`` and the
    folders below it that hold a claim.json of their own (those claims are keyed themselves)."""
    out: list[Path] = []
    for here, dirs, files in os.walk(folder, followlinks=False):
        base = Path(here)
        dirs[:] = sorted(d for d in dirs if not (base / d / "claim.json").is_file())
        for name in sorted(files):
            if base == folder and name == "expected.json":
                continue
            out.append(base / name)
    return out


def _set_digest(root: Path, jobs: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    digest.update(str(root.resolve()).encode("utf-8", "surrogateescape") + b"\0")
    for claim_file, rel in jobs:
        folder = Path(claim_file).parent
        digest.update(b"claim\0" + rel.encode("utf-8", "surrogateescape") + b"\0")
        for f in _claim_files(folder):
            digest.update(str(f.relative_to(folder)).encode("utf-8", "surrogateescape") + b"\0")
            try:
                digest.update(str(f.stat().st_size).encode() + b"\0")
                _file_digest(f, digest)
            except OSError as exc:  # unreadable now: key what is seen (a run reads the same error)
                digest.update(f"error:{type(exc).__name__}:{exc.errno}".encode())
            digest.update(b"\0")
    return digest.hexdigest()


def _tree_digest(root: Path, suffixes: tuple[str, ...] | None = None) -> str:
    digest = hashlib.sha256()
    if root.is_file():
        _file_digest(root, digest)
        return digest.hexdigest()
    for f in sorted(root.rglob("*")):
        if not f.is_file() or "__pycache__" in f.parts or (suffixes and f.suffix not in suffixes):
            continue
        digest.update(str(f.relative_to(root)).encode() + b"\0")
        _file_digest(f, digest)
        digest.update(b"\0")
    return digest.hexdigest()


def _distributions() -> list[str]:
    """The distributions installed in this interpreter's site-packages, by their metadata folders'
    names (``name-version.dist-info``; reading each one's metadata would cost ~0.5 s). Not every
    ``sys.path`` entry: the working folder of ``python -m`` would make the key depend on it."""
    import site
    import sysconfig

    folders = {*site.getsitepackages(), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    return sorted({p.name for entry in folders if Path(entry).is_dir() for p in Path(entry).iterdir()
                   if p.suffix in (".dist-info", ".egg-info")})


def _tesseract() -> list | None:
    """The Tesseract binary on PATH, by path, size and time (running it for its version costs ~1 s
    under load; another version is another binary)."""
    path = shutil.which("tesseract")
    if not path:
        return None
    st = os.stat(path)
    return [os.path.realpath(path), st.st_size, st.st_mtime_ns]


def code_hash() -> str:
    """Every file of the ``pipeline`` package (code and data), the installed distributions (PP-OCR's
    models are package data of theirs), Tesseract's binary and Python's version."""
    from ..codegraph import PACKAGE_ROOT

    return hashlib.sha256(json.dumps({"package": _tree_digest(PACKAGE_ROOT), "dists": _distributions(),
                                      "tesseract": _tesseract(), "python": sys.version}).encode()).hexdigest()


_ENV_PROMOTIONS_DIR = "CLAIMCHECK_PROMOTIONS_DIR"
"""``promotions.terms.ENV_PROMOTIONS_DIR`` (importing the promotions package costs a second)."""


def _data_files(config: Config) -> dict:
    """The bytes of the files the config (or the environment) names by path: the promotions' terms
    and an extra alias file. The packaged terms are in ``code_hash``."""
    folder = config.promotions.dir or os.environ.get(_ENV_PROMOTIONS_DIR)
    out: dict = {}
    if folder:
        terms = Path(folder)
        out["promotions"] = [str(terms.resolve()), _tree_digest(terms) if terms.exists() else None]
    if config.matching.retailer_aliases:
        extra = Path(config.matching.retailer_aliases)
        out["retailer_aliases"] = _tree_digest(extra) if extra.exists() else None
    return out


def reusable(config: Config) -> bool:
    """Whether a run under ``config`` can be kept: its store is the run's own, and reads are cached."""
    return config.cache.enabled and not config.store.url


def run_key(root: str | Path, jobs: list[tuple[str, str]], config: Config, workers: int = 1) -> str:
    """The key of a lab run over ``jobs`` (``batch.claim_jobs(root)``, in that order) under ``config``
    against a fresh claim store of its own, with ``workers`` processes (see the module docstring)."""
    from ..knowledge import knowledge_hash

    parts = {
        "format": FORMAT,
        "set": _set_digest(Path(root), jobs),
        "config": config.model_dump(mode="json"),
        "knowledge": knowledge_hash(),
        "files": _data_files(config),
        "code": code_hash(),
        "today": dt.date.today().isoformat(),
        "workers": workers,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    _file_digest(path, digest)
    return digest.hexdigest()


def _transient(result: dict) -> bool:
    error = result.get("error")
    codes = {error.get("code")} if isinstance(error, dict) else set()
    codes |= {r.get("code") for r in result.get("reasons") or () if isinstance(r, dict)}
    codes |= {c.get("reason") for c in result.get("checks") or () if isinstance(c, dict)}
    return bool(codes & TRANSIENT)


def machine_free(results: Path) -> bool:
    """Whether no decision of a results file carries a reason that may be the machine's (``TRANSIENT``)."""
    for line in results.read_text(encoding="utf-8").splitlines():
        try:
            if _transient(json.loads(line)):
                return False
        except (ValueError, AttributeError):
            return False  # a torn line: not a whole run
    return True


def _copy_store(src: Path, dst: Path) -> None:
    """A consistent copy of an SQLite store (its WAL folded in), through SQLite's backup API."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(dst)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


@dataclass(frozen=True)
class KeptRun:
    """A run restored from the cache: what its summary said."""

    key: str
    processed: int
    decisions: dict
    seconds: float
    """How long the run that made these decisions took."""
    made_at: str


class RunCache:
    """Kept lab runs in ``folder`` (``<read cache>/runs``)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _entry(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def get(self, key: str, results: Path, store: Path | None) -> KeptRun | None:
        """Restore the run kept under ``key`` into ``results`` (and ``store``, when the run had one);
        None (nothing written) when there is none or it is damaged."""
        entry = self._entry(key)
        try:
            meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT or meta.get("key") != key:
                raise ValueError("another entry")
            # read once, checked, and written from what was checked (the entry may be replaced meanwhile)
            blobs = {name: (entry / name).read_bytes() for name in meta["files"]}
            for name, blob in blobs.items():
                if hashlib.sha256(blob).hexdigest() != meta["files"][name]:
                    raise ValueError(f"{name} does not match its checksum")
            if "results.jsonl" not in blobs:
                raise ValueError("no results")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            shutil.rmtree(entry, ignore_errors=True)  # damaged: made again by the next run
            return None
        if store is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{store}{suffix}").unlink(missing_ok=True)
            if "claims.sqlite3" in blobs:
                store.write_bytes(blobs["claims.sqlite3"])
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_bytes(blobs["results.jsonl"])
        try:
            os.utime(entry)  # the newest runs are the ones kept
        except OSError:
            pass
        return KeptRun(key, meta["processed"], meta["decisions"], meta["seconds"], meta["made_at"])

    def put(self, key: str, results: Path, store: Path | None, summary: dict) -> bool:
        """Keep a finished run's results (and its store); False when it is not kept (see ``machine_free``)."""
        if not machine_free(results):
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.folder, prefix=".tmp-"))
        try:
            shutil.copyfile(results, tmp / "results.jsonl")
            names = ["results.jsonl"]
            if store is not None and store.is_file():
                _copy_store(store, tmp / "claims.sqlite3")
                names.append("claims.sqlite3")
            meta = {"format": FORMAT, "key": key, "files": {n: _sha256(tmp / n) for n in names},
                    "processed": summary["processed"], "decisions": summary["decisions"],
                    "seconds": summary["seconds"],
                    "made_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
            (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
            entry = self._entry(key)
            entry.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(entry, ignore_errors=True)
            os.replace(tmp, entry)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            return False
        self._prune()
        return True

    def _prune(self) -> None:
        entries = sorted((e for d in self.folder.iterdir() if d.is_dir() and not d.name.startswith(".")
                          for e in d.iterdir() if e.is_dir()), key=lambda e: e.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            shutil.rmtree(old, ignore_errors=True)
