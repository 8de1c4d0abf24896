"""Checking an uploaded claim and writing it, atomically, into a claim folder.

The upload's checks answer with the HTTP status a portal can act on, naming every bad field or
file (``IntakeError.problems``): 422 for the contract (a field, a document the claim lists but
no part carries, a part the claim does not list), 413 for too large or too many, 415 for bytes
that are no document type we read, 400 for a file name that tries to leave the claim's folder.
The byte-level checks are the pipeline's own (``pipeline.ingest.sniff_type``, the ``[ingest]``
limits, ``pipeline.ocr.pdf.check_streams``, ``pipeline.ingest.tiff_page_count``): what the
API lets in, the pipeline can read.

A claim is written into ``<root>/.incoming/<random>/`` (each file fsynced, then the folder),
then renamed to ``<root>/<day>/<claim id>--<content hash>``: a crash leaves either no claim
folder or a whole one; ``clear_incoming`` removes what a crash left in ``.incoming``.

>>> bad_name("../x"), bad_name("/etc/passwd"), bad_name("a\\x00b"), bad_name("invoice.jpg")
('it leaves the claim folder', 'it is an absolute path', 'it holds a NUL or control character', None)
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError

from ..claim import Claim, load_claim, unsafe_char
from ..config import IngestConfig
from ..errors import ClaimcheckError

__all__ = ["IntakeError", "Problem", "bad_name", "parse_claim", "listed_documents", "StagedClaim", "stage_files",
           "commit_claim", "clear_incoming", "folder_name", "MANIFEST", "INCOMING"]

MANIFEST = "intake.json"
"""Written beside claim.json: each file's sha256, when and by which token it came."""
INCOMING = ".incoming"
_RESERVED = {"claim.json", MANIFEST, "expected.json", "decision.json"}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Problem:
    field: str
    """Where: a claim field ('purchase.date'), 'claim', 'files' or 'files[invoice.jpg]'."""
    message: str

    def to_dict(self) -> dict:
        return {"field": self.field, "message": self.message}


class IntakeError(Exception):
    """An upload refused, with its HTTP status, a stable code and every problem found."""

    def __init__(self, status: int, code: str, problems: list[Problem]) -> None:
        self.status, self.code, self.problems = status, code, problems
        super().__init__(f"{status} {code}: " + "; ".join(f"{p.field}: {p.message}" for p in problems))

    def to_dict(self) -> dict:
        return {"error": {"status": self.status, "code": self.code,
                          "message": "; ".join(f"{p.field}: {p.message}" for p in self.problems),
                          "problems": [p.to_dict() for p in self.problems]}}


def bad_name(name: str) -> str | None:
    """Why ``name`` cannot be a document's file name in a claim folder, or None.

    One plain file name: no folders, nothing absolute, no NUL or control characters."""
    if not name:
        return "it is empty"
    if any(ord(c) < 32 or ord(c) == 127 for c in name) or unsafe_char(name):
        return "it holds a NUL or control character"
    if name.startswith("/") or name.startswith("\\") or re.match(r"^[A-Za-z]:", name):
        return "it is an absolute path"
    if name in (".", "..") or "/" in name or "\\" in name:
        return "it leaves the claim folder" if ".." in name else "it names a folder (plain file names only)"
    if len(name.encode("utf-8", "surrogateescape")) > 200:
        return "it is longer than 200 bytes"
    if name.startswith("."):
        return "it starts with a dot"
    if name in _RESERVED:
        return f"{name} is the claim folder's own file"
    return None


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "claim"


def parse_claim(text: str | None, limits: IngestConfig) -> tuple[dict, Claim]:
    """The claim JSON as sent, parsed and checked against the contract and ``[ingest]``'s limits."""
    if text is None or not text.strip():
        raise IntakeError(422, "CLAIM_INVALID", [Problem("claim", "the form field 'claim' (the claim JSON) is "
                                                                  "missing")])
    if len(text.encode("utf-8", "surrogatepass")) > limits.claim_max_bytes:
        raise IntakeError(413, "CLAIM_TOO_LARGE", [Problem("claim", f"the claim JSON is larger than "
                                                                    f"{limits.claim_max_bytes} bytes")])
    try:
        data = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"{c} is not JSON")))
    except RecursionError:
        raise IntakeError(413, "CLAIM_TOO_LARGE", [Problem("claim", "the claim JSON nests too deep")]) from None
    except ValueError as exc:
        raise IntakeError(422, "CLAIM_INVALID", [Problem("claim", f"not valid JSON: {exc}")]) from None
    if not isinstance(data, dict):
        raise IntakeError(422, "CLAIM_INVALID", [Problem("claim", "the claim must be a JSON object")])
    try:
        Claim.model_validate(data)
    except ValidationError as exc:
        raise IntakeError(422, "CLAIM_INVALID", [Problem(_loc(e["loc"]), e["msg"]) for e in exc.errors()]) from None
    try:
        claim, _ = load_claim(data, limits=limits)  # depth, counts, text length, unsafe characters
    except ClaimcheckError as exc:
        status = 413 if exc.code == "CLAIM_TOO_LARGE" else 422
        raise IntakeError(status, exc.code, [Problem("claim", exc.message)]) from None
    problems = [Problem("claim_id", why) for why in [bad_id(claim.claim_id)] if why]
    for kind, names in (("invoices", claim.documents.invoices), ("serial_photos", claim.documents.serial_photos)):
        for i, name in enumerate(names or ()):
            why = bad_name(name)
            if why:
                problems.append(Problem(f"documents.{kind}[{i}]", f"{name!r}: {why}"))
    if problems:
        raise IntakeError(422, "CLAIM_INVALID", problems)
    return data, claim


def bad_id(claim_id: str) -> str | None:
    if claim_id != claim_id.strip():
        return "it starts or ends with a space"
    return None


def listed_documents(claim: Claim) -> list[str]:
    return list(dict.fromkeys([*claim.documents.invoices, *(claim.documents.serial_photos or [])]))


@dataclass
class StagedClaim:
    """A claim written into ``.incoming``: not a claim folder yet."""

    folder: Path
    files: dict[str, str] = field(default_factory=dict)
    """File name -> sha256."""
    content_sha256: str = ""


def folder_name(claim_id: str, content_sha256: str) -> str:
    """A claim folder's name: the claim_id's safe characters and the content hash."""
    safe = _SAFE.sub("_", claim_id).strip("._")[:80] or "claim"
    return f"{safe}--{content_sha256[:16]}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_bytes(name: str, path: Path, size: int, limits: IngestConfig) -> None:
    from ..ingest import sniff_type, tiff_page_count

    field = f"files[{name}]"
    if size == 0:
        raise IntakeError(415, "DOCUMENT_UNREADABLE", [Problem(field, "the file is empty")])
    if size > limits.max_file_bytes:
        raise IntakeError(413, "DOCUMENT_TOO_LARGE", [Problem(field, f"{size} bytes; the limit is "
                                                                     f"{limits.max_file_bytes}")])
    with path.open("rb") as f:
        head = f.read(1024)
    kind = sniff_type(head)
    if kind is None:
        raise IntakeError(415, "UNSUPPORTED_TYPE", [Problem(field, "not an image or PDF we read (accepted: JPEG, "
                                                                   "PNG, GIF, WebP, TIFF, BMP, HEIC, PDF)")])
    if kind == "tiff" and tiff_page_count(path.read_bytes(), limits.max_pages + 1) > limits.max_pages:
        raise IntakeError(413, "DOCUMENT_TOO_LARGE", [Problem(field, f"more than {limits.max_pages} pages")])
    if kind == "pdf":
        from ..ocr.pdf import check_streams

        try:
            check_streams(path.read_bytes(), name, limits)
        except ClaimcheckError as exc:
            status = 413 if exc.code == "DOCUMENT_TOO_LARGE" else 415
            raise IntakeError(status, exc.code, [Problem(field, exc.message)]) from None


def stage_files(root: Path, claim_text: str, claim: Claim, parts: list[tuple[str | None, BinaryIO]],
                limits: IngestConfig, max_files: int, manifest: dict) -> StagedClaim:
    """Check the file parts against the claim and write claim.json, the files and the manifest
    into a fresh folder below ``root/.incoming`` (removed again on any refusal)."""
    listed = listed_documents(claim)
    if len(parts) > max_files:
        raise IntakeError(413, "TOO_MANY_FILES", [Problem("files", f"{len(parts)} files; the limit is {max_files}")])
    problems, seen = [], set()
    for filename, _ in parts:
        name = filename or ""
        why = bad_name(name)
        if why and (name.startswith(("/", "\\")) or ".." in name or "\x00" in name):
            raise IntakeError(400, "BAD_FILE_NAME", [Problem(f"files[{name!r}]", why)])
        if why:
            problems.append(Problem(f"files[{name!r}]", why))
        elif name not in listed:
            problems.append(Problem(f"files[{name}]", "the claim does not list this file"))
        elif name in seen:
            problems.append(Problem(f"files[{name}]", "sent twice"))
        seen.add(name)
    problems += [Problem(f"files[{n}]", "listed in the claim but not uploaded") for n in listed if n not in seen]
    if problems:
        raise IntakeError(422, "FILES_DO_NOT_MATCH_CLAIM", problems)
    folder = root / INCOMING / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        staged = StagedClaim(folder)
        for name, stream in parts:
            path = folder / name
            digest = hashlib.sha256()
            size = 0
            with path.open("xb") as out:
                while chunk := stream.read(1 << 20):
                    size += len(chunk)
                    if size > limits.max_file_bytes:
                        break
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            _check_bytes(name, path, size, limits)
            staged.files[name] = digest.hexdigest()
        claim_bytes = claim_text.encode("utf-8")
        content = hashlib.sha256(claim_bytes)
        for name in sorted(staged.files):
            content.update(b"\0" + name.encode() + b"\0" + staged.files[name].encode())
        staged.content_sha256 = content.hexdigest()
        for name, data in (("claim.json", claim_bytes),
                           (MANIFEST, json.dumps({**manifest, "files": staged.files,
                                                  "content_sha256": staged.content_sha256}, indent=1).encode())):
            with (folder / name).open("xb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        _fsync_dir(folder)
        return staged
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def commit_claim(root: Path, staged: StagedClaim, claim_id: str, received: dt.datetime) -> Path:
    """Rename the staged folder to its claim folder; the same content already there is kept as it is."""
    day = root / received.strftime("%Y-%m-%d")
    day.mkdir(parents=True, exist_ok=True)
    final = day / folder_name(claim_id, staged.content_sha256)
    try:
        os.rename(staged.folder, final)
    except OSError:
        if not (final / MANIFEST).is_file():
            raise
        shutil.rmtree(staged.folder, ignore_errors=True)  # the same upload, written by its first try
        return final.resolve()
    _fsync_dir(day)
    return final.resolve()


def clear_incoming(root: Path) -> int:
    """Remove what interrupted uploads left in ``.incoming``; returns how many folders."""
    incoming = root / INCOMING
    if not incoming.is_dir():
        return 0
    n = 0
    for child in incoming.iterdir():
        shutil.rmtree(child, ignore_errors=True)
        n += 1
    return n
