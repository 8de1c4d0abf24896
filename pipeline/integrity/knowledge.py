"""The integrity signals' data (``pipeline/data/integrity.toml``), validated on load.

>>> kb = default_integrity()
>>> str(kb.vat_rates["NO"][0]), kb.is_editor("Adobe Acrobat Pro DC (21.1.20155)", "pdf")
('25.0', 'acrobat pro')
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..datafiles import read_toml
from ..errors import ConfigError

__all__ = ["IntegrityKnowledge", "PatchKnowledge", "DatesKnowledge", "ScreenKnowledge", "load_integrity",
           "default_integrity"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Sums(_Strict):
    tolerance: float = Field(ge=0)
    rate_tolerance: float = Field(ge=0, le=0.1)
    ocr_max_vat_share: float = Field(gt=0)
    net_labels: list[str] = Field(min_length=1)
    vat_labels: list[str] = Field(min_length=1)
    vat_rates: dict[str, list[float]] = Field(min_length=1)

    @field_validator("vat_rates")
    @classmethod
    def _rates(cls, v: dict[str, list[float]]) -> dict[str, list[float]]:
        for country, rates in v.items():
            if len(country) != 2 or not country.isupper():
                raise ValueError(f"{country}: a country is an ISO 3166-1 alpha-2 code")
            if not rates or any(not 0 <= r < 100 for r in rates):
                raise ValueError(f"{country}: rates are percentages in 0..100")
        return v


class _Editors(_Strict):
    pdf: list[str] = Field(min_length=1)
    image: list[str] = Field(min_length=1)


class _Pdf(_Strict):
    dpi: int = Field(ge=36, le=300)
    hidden_max_contrast: int = Field(ge=0, le=255)
    overlap: float = Field(gt=0, le=1)
    overdrawn_max_size_ratio: float = Field(default=1.5, ge=1)
    min_hidden_chars: int = Field(ge=1)


class PatchKnowledge(_Strict):
    """``[patch]``: a value pasted on a photo (``pipeline.integrity.patches``); sizes in text heights."""
    context_x: float = Field(gt=0, le=20)
    context_y: float = Field(gt=0, le=10)
    pad: float = Field(ge=0, le=2)
    gap: float = Field(ge=0, le=5)
    ring: float = Field(gt=0, le=5)
    strip: float = Field(ge=0, le=1)
    level_percentile: float = Field(ge=50, le=99)
    ink_step: float = Field(gt=0, le=128)
    min_pixels: int = Field(ge=10)
    level_min_pixels: int = Field(ge=8)
    min_words: int = Field(ge=1)
    max_words: int = Field(ge=1, le=50)
    words_reach: float = Field(gt=0, le=50)
    noise_min_around: float = Field(ge=0)
    noise_flat_ratio: float = Field(gt=0, lt=1)
    noise_rough_ratio: float = Field(gt=1)
    sharp_ratio: float = Field(gt=1)
    soft_ratio: float = Field(gt=0, lt=1)
    page_z: float = Field(gt=0)
    page_spread_min: float = Field(gt=0, le=1)
    page_min_words: int = Field(ge=3)
    lone_sharp_ratio: float = Field(gt=1)
    lone_soft_ratio: float = Field(gt=0, lt=1)
    level_min: float = Field(gt=0)
    level_noise: float = Field(ge=0)
    grid_min_around: float = Field(gt=0)
    grid_ratio: float = Field(ge=0, lt=1)
    max_values: int = Field(ge=1, le=10)
    line_reach: float = Field(ge=0, le=50)
    findings: list[Literal["noise", "sharpness", "level", "grid"]]

    @field_validator("lone_sharp_ratio")
    @classmethod
    def _lone_sharp(cls, v: float, info) -> float:
        if v < info.data.get("sharp_ratio", v):
            raise ValueError("lone_sharp_ratio (a page too small to know its spread) must be at least sharp_ratio")
        return v

    @field_validator("lone_soft_ratio")
    @classmethod
    def _lone_soft(cls, v: float, info) -> float:
        if v > info.data.get("soft_ratio", v):
            raise ValueError("lone_soft_ratio (a page too small to know its spread) must be at most soft_ratio")
        return v

    @field_validator("gap")
    @classmethod
    def _gap(cls, v: float, info) -> float:
        pad = info.data.get("pad")
        if pad is not None and v < pad:
            raise ValueError("gap (where the surroundings start) must be at least pad (where the region ends)")
        return v


class DatesKnowledge(_Strict):
    """``[dates]``: the order of the dates one invoice prints (``pipeline.integrity.dates``)."""
    order_after_days: int = Field(ge=0, le=366)
    due_before_days: int = Field(ge=0, le=366)


class ScreenKnowledge(_Strict):
    """``[screens]``: a screen capture uploaded as the invoice (``pipeline.integrity.screens``)."""
    tools: list[str] = Field(min_length=1)
    sizes: list[str] = Field(min_length=1)
    flat_share: float = Field(gt=0, le=1)

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, v: list[str]) -> list[str]:
        for size in v:
            w, _, h = size.partition("x")
            if not (w.isdigit() and h.isdigit() and int(w) > 0 and int(h) > 0):
                raise ValueError(f"{size!r}: a size is WIDTHxHEIGHT in pixels")
        return v

    def is_screen_size(self, width: int, height: int) -> bool:
        """Whether (width, height), either way round, is one of ``sizes``."""
        return f"{width}x{height}" in self.sizes or f"{height}x{width}" in self.sizes

    def tool(self, text: str | None) -> str | None:
        """The capture tool ``text`` names (as listed, accents and case folded), or None."""
        import unicodedata

        folded = unicodedata.normalize("NFKD", (text or "").replace("\u2019", "'")).encode("ascii", "ignore")
        folded = folded.decode().casefold()
        return next((t for t in self.tools if t in folded), None)


class _File(_Strict):
    sums: _Sums
    dates: DatesKnowledge
    screens: ScreenKnowledge
    editors: _Editors
    pdf: _Pdf
    patch: PatchKnowledge


class IntegrityKnowledge:
    """What the integrity signals look for (see ``integrity.toml`` for each field)."""

    def __init__(self, data: _File, source: str) -> None:
        self.source = source
        self.tolerance = Decimal(str(data.sums.tolerance))
        self.rate_tolerance = Decimal(str(data.sums.rate_tolerance))
        self.ocr_max_vat_share = Decimal(str(data.sums.ocr_max_vat_share))
        self.net_labels = tuple(data.sums.net_labels)
        self.vat_labels = tuple(data.sums.vat_labels)
        self.vat_rates = {k: tuple(Decimal(str(r)) for r in v) for k, v in data.sums.vat_rates.items()}
        self.pdf = data.pdf
        self.patch = data.patch
        self.dates = data.dates
        self.screens = data.screens
        self.editors = {"pdf": tuple(x.casefold() for x in data.editors.pdf),
                        "image": tuple(x.casefold() for x in data.editors.image)}

    def is_editor(self, software: str | None, kind: str) -> str | None:
        """The editor ``software`` names (as listed), or None."""
        text = (software or "").casefold()
        return next((e for e in self.editors[kind] if e in text), None)


def load_integrity(path: str | Path | None = None) -> IntegrityKnowledge:
    data, source = read_toml(Path(path) if path else None, packaged="integrity.toml")
    try:
        return IntegrityKnowledge(_File(**data), str(source))
    except (ValidationError, InvalidOperation) as exc:
        raise ConfigError(message=f"{source}: {exc}") from exc


@lru_cache(maxsize=1)
def default_integrity() -> IntegrityKnowledge:
    return load_integrity()
