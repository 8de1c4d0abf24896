"""The claim as ``../shared/contract.md`` fixes it, loaded and validated.

>>> Claim.model_validate({"claim_id": "C-1", "purchase": {"date": "2020-02-19"},
...                       "documents": {"invoices": ["invoice.jpg"]}}).purchase.date.isoformat()
'2020-02-19'
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ClaimError

__all__ = ["Claim", "Claimant", "Purchase", "Product", "Documents", "load_claim", "find_claim_files"]


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
    claim_id: str = Field(min_length=1)
    promotion_id: str | None = None
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


def load_claim(source: str | Path | dict | Claim, base_dir: str | Path | None = None) -> tuple[Claim, Path]:
    """(claim, folder its documents are relative to). Raises ClaimError with a readable reason."""
    if isinstance(source, Claim):
        return source, Path(base_dir or ".")
    if isinstance(source, dict):
        data, folder = source, Path(base_dir or ".")
    else:
        path = Path(source)
        if path.is_dir():
            path = path / "claim.json"
        folder = path.parent
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ClaimError("CLAIM_INVALID", f"No claim.json found at {path}.") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ClaimError("CLAIM_INVALID", f"The claim file {path} cannot be read: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ClaimError(
                "CLAIM_INVALID", f"The claim file {path} is not valid JSON (line {exc.lineno}: {exc.msg})."
            ) from exc
    if not isinstance(data, dict):
        raise ClaimError("CLAIM_INVALID", "The claim must be a JSON object.")
    try:
        return Claim.model_validate(data), folder
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'claim'}: {err['msg']}" for err in exc.errors()
        )
        raise ClaimError("CLAIM_INVALID", f"The claim is incomplete or malformed: {problems}.") from exc
