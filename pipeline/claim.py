"""The claim as ``docs/contract.md`` fixes it, loaded and validated.

>>> Claim.model_validate({"claim_id": "C-1", "purchase": {"date": "2020-02-19"},
...                       "documents": {"invoices": ["invoice.jpg"]}}).purchase.date.isoformat()
'2020-02-19'
"""
from __future__ import annotations

import datetime as dt
import json
import re
import stat
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ClaimError

if TYPE_CHECKING:
    from .config import IngestConfig

__all__ = ["Claim", "Claimant", "Purchase", "Product", "Documents", "load_claim", "find_claim_files",
           "unsafe_char", "escape_unsafe", "ID_MAX_CHARS"]

ID_MAX_CHARS = 200
"""claim_id and promotion_id: what the claim store's columns hold."""

_UNSAFE = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
                     "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""What no claim field may hold: lone surrogates (not text: no UTF-8 encodes them), control
characters but tab and line breaks (NUL first), and the bidirectional controls that make text
display in another order than it is stored (C-1 U+202E gnp.exe shows as C-1exe.png)."""


class _Model(BaseModel):
    # Unknown fields are kept, not rejected: the contract grows by adding fields.
    model_config = ConfigDict(extra="allow", frozen=True)


class Claimant(_Model):
    email: str | None = None
    country: str | None = None


class Purchase(_Model):
    date: dt.date
    retailer: str | None = None
    channel: Literal["retail_store", "online_retailer", "reseller"] | None = None
    country: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _iso_only(cls, v):
        if isinstance(v, str):
            try:
                return dt.date.fromisoformat(v.strip()[:10]) if len(v.strip()) == 10 else dt.date.fromisoformat(v)
            except ValueError as exc:
                raise ValueError(f"purchase.date must be YYYY-MM-DD, got {v!r}") from exc
        return v


class Product(_Model):
    model: str | None = None
    serial: str | None = None
    chk: str | None = None
    category: str | None = None


class Documents(_Model):
    invoices: list[str] = Field(min_length=1)
    serial_photos: list[str] | None = None


class Claim(_Model):
    claim_id: str = Field(min_length=1, max_length=ID_MAX_CHARS)
    promotion_id: str | None = Field(None, max_length=ID_MAX_CHARS)
    submitted_at: dt.datetime | None = None
    claimant: Claimant | None = None
    purchase: Purchase
    products: list[Product] | None = None
    documents: Documents

    @property
    def country(self) -> str | None:
        """Where the purchase was made, else where the claimant lives."""
        return (self.purchase.country or (self.claimant.country if self.claimant else None) or None)

    @property
    def product_list(self) -> list[Product]:
        return list(self.products or [])


def find_claim_files(root: str | Path) -> list[Path]:
    """Every claim.json below ``root`` (any depth), sorted for a stable order."""
    root = Path(root)
    if root.is_file():
        return [root]
    return sorted(root.rglob("claim.json"))


def unsafe_char(text: str) -> str | None:
    r"""The first character of ``text`` a claim may not hold, described, or None.

    >>> unsafe_char("C-1\u202egnp.exe"), unsafe_char("Elkjøp"), unsafe_char("\ud800")
    ('U+202E RIGHT-TO-LEFT OVERRIDE', None, 'U+D800 (a lone surrogate)')
    """
    m = _UNSAFE.search(text)
    if m is None:
        return None
    c = m.group()
    if "\ud800" <= c <= "\udfff":
        return f"U+{ord(c):04X} (a lone surrogate)"
    return f"U+{ord(c):04X} {unicodedata.name(c, 'CONTROL CHARACTER')}"


def escape_unsafe(text: str, limit: int | None = ID_MAX_CHARS) -> str:
    r"""``text`` with every character a claim may not hold written as a visible ``\uXXXX`` escape,
    cut to ``limit`` characters (None: not cut): an identifier safe to print, store and show.

    >>> print(escape_unsafe("C-\ud800\u202e1"))
    C-\ud800\u202e1
    """
    out = _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", str(text))
    return out if limit is None else out[:limit]


def _where(path: tuple) -> str:
    """Where in the claim, its keys' own odd characters escaped (a message must be safe to show)."""
    return escape_unsafe(".".join(str(p) for p in path), limit=300) or "the claim"


def _inspect(data, limits: IngestConfig) -> None:
    """Depth, text and counts of a parsed claim against ``[ingest]``'s limits, without recursion."""
    stack = [(data, 1, ())]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, dict | list):
            if depth > limits.claim_max_depth:
                raise ClaimError("CLAIM_TOO_LARGE", f"The claim nests deeper than {limits.claim_max_depth} levels "
                                                    f"(at {_where(path)}); a claim is 3 levels deep.")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _check_text(key, path + (key,), limits)
                stack.append((item, depth + 1, path + (key,)))
        elif isinstance(value, str):
            _check_text(value, path, limits)


def _check_text(text: str, path: tuple, limits: IngestConfig) -> None:
    if len(text) > limits.claim_max_text_chars:
        raise ClaimError("CLAIM_TOO_LARGE", f"{_where(path)} is {len(text)} characters long; the limit is "
                                            f"{limits.claim_max_text_chars}.")
    bad = unsafe_char(text)
    if bad is not None:
        raise ClaimError("CLAIM_INVALID", f"{_where(path)} holds {bad}, which a claim may not contain.")


def _counts(data: dict, limits: IngestConfig) -> None:
    products = data.get("products")
    if isinstance(products, list) and len(products) > limits.claim_max_products:
        raise ClaimError("CLAIM_TOO_LARGE", f"The claim lists {len(products)} products; the limit is "
                                            f"{limits.claim_max_products}.")
    docs = data.get("documents")
    if isinstance(docs, dict):
        n = sum(len(v) for k, v in docs.items() if k in ("invoices", "serial_photos") and isinstance(v, list))
        if n > limits.claim_max_documents:
            raise ClaimError("CLAIM_TOO_LARGE", f"The claim lists {n} documents; the limit is "
                                                f"{limits.claim_max_documents}.")


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def read_claim_json(path: Path, limits: IngestConfig) -> object:
    """The parsed claim.json at ``path``, its size checked before it is read and its parse never
    raising anything but ClaimError (deep nesting, huge numbers, NaN included)."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise ClaimError("CLAIM_INVALID", f"The claim file {path} is not a regular file.")
        if st.st_size > limits.claim_max_bytes:
            raise ClaimError("CLAIM_TOO_LARGE", f"The claim file is {st.st_size / 1024:.0f} KB; the limit is "
                                                f"{limits.claim_max_bytes / 1024:.0f} KB.")
        with path.open("rb") as f:
            raw = f.read(limits.claim_max_bytes + 1)
        text = raw.decode("utf-8")
    except FileNotFoundError as exc:
        raise ClaimError("CLAIM_INVALID", f"No claim.json found at {path}.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ClaimError("CLAIM_INVALID", f"The claim file {path} cannot be read: {exc}") from exc
    if len(raw) > limits.claim_max_bytes:
        raise ClaimError("CLAIM_TOO_LARGE", f"The claim file is larger than {limits.claim_max_bytes / 1024:.0f} KB.")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ClaimError(
            "CLAIM_INVALID", f"The claim file {path} is not valid JSON (line {exc.lineno}: {exc.msg})."
        ) from exc
    except RecursionError as exc:
        raise ClaimError("CLAIM_TOO_LARGE", f"The claim file nests deeper than {limits.claim_max_depth} "
                                            "levels.") from exc
    except ValueError as exc:  # a number too long to convert, NaN, Infinity
        raise ClaimError("CLAIM_INVALID", f"The claim file {path} is not valid JSON: {exc}.") from exc


def load_claim(source: str | Path | dict | Claim, base_dir: str | Path | None = None,
               limits: IngestConfig | None = None) -> tuple[Claim, Path]:
    """(claim, folder its documents are relative to). Raises ClaimError with a readable reason:
    CLAIM_INVALID (not JSON, not the contract, a character no claim may hold) or CLAIM_TOO_LARGE
    (over ``[ingest]``'s claim limits: size, depth, products, documents, text length)."""
    if isinstance(source, Claim):
        return source, Path(base_dir or ".")
    if limits is None:
        from .config import default_config

        limits = default_config().ingest
    if isinstance(source, dict):
        data, folder = source, Path(base_dir or ".")
    else:
        path = Path(source)
        if path.is_dir():
            path = path / "claim.json"
        folder = path.parent
        data = read_claim_json(path, limits)
    if not isinstance(data, dict):
        raise ClaimError("CLAIM_INVALID", "The claim must be a JSON object.")
    _inspect(data, limits)
    _counts(data, limits)
    try:
        return Claim.model_validate(data), folder
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'claim'}: {err['msg']}" for err in exc.errors()
        )
        raise ClaimError("CLAIM_INVALID", f"The claim is incomplete or malformed: {problems}.") from exc
