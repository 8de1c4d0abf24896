"""The one configuration: thresholds, limits, languages and policy, loaded from TOML.

Defaults live in ``pipeline/data/default.toml`` (documented there, field by field).
A user file given with ``--config`` is merged over the defaults section by section,
validated (unknown keys are errors: a typo must not silently fall back to a default),
and identified by ``config_hash``.

>>> cfg = load_config()
>>> cfg.ocr.timeout_s > 0
True
"""
from __future__ import annotations

import hashlib
import json
import string
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .datafiles import read_toml
from .errors import ConfigError
from .knowledge import knowledge_hash

__all__ = ["Config", "load_config", "default_config", "default_reasons", "config_hash", "with_overrides"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IngestConfig(_Section):
    max_file_bytes: int = Field(gt=0)
    max_pixels: int = Field(gt=0)
    max_pages: int = Field(gt=0)
    pdf_dpi: int = Field(ge=72, le=600)
    pdf_max_stream_bytes: int = Field(gt=0)
    pdf_max_font_bytes: int = Field(gt=0)
    pdf_max_inflated_bytes: int = Field(gt=0)
    claim_max_bytes: int = Field(gt=0)
    claim_max_depth: int = Field(ge=3)
    claim_max_products: int = Field(ge=1)
    claim_max_documents: int = Field(ge=1)
    claim_max_text_chars: int = Field(ge=200)


class BatchConfig(_Section):
    claim_timeout_s: float = Field(gt=0)
    claim_max_memory_mb: int = Field(ge=64)
    watch_interval_s: float = Field(gt=0, le=5)
    worker_recycle_mb: int = Field(ge=64)


class WebConfig(_Section):
    login_max_failures: int = Field(ge=1)
    login_max_failures_per_address: int = Field(ge=1)
    login_window_s: float = Field(gt=0)
    render_workers: int = Field(ge=1)
    render_cache_mb: int = Field(ge=0)


class OcrConfig(_Section):
    timeout_s: float = Field(gt=0)
    omp_thread_limit: int = Field(ge=1)
    psm: int = Field(ge=0, le=13)
    sticker_psm: int = Field(ge=0, le=13)
    sticker_reads: list[list[Literal["orient", "deskew", "scale", "background", "denoise", "binarise"]]] = Field(
        min_length=1)
    sticker_mask_barcodes: bool
    sticker_labels: list[str]
    oem: int = Field(ge=0, le=3)
    engine: Literal["tesseract", "ppocr"] = "tesseract"
    """The engine that reads a page image; the cascade ([cascade]) reads again with the next one."""
    always_languages: list[str]
    country_languages: dict[str, list[str]]


class PpocrConfig(_Section):
    """PP-OCRv4 on ONNX Runtime (pipeline/ocr/ppocr.py)."""
    timeout_s: float = Field(gt=0)
    intra_op_threads: int = Field(ge=1, le=64)
    inter_op_threads: int = Field(ge=1, le=64)
    max_side_px: int = Field(ge=320)
    text_score: float = Field(ge=0, le=1)
    use_direction_classifier: bool
    rec_batch: int = Field(ge=1, le=64)
    """Text lines recognised per ONNX Runtime call (rapidocr's ``rec_batch_num``). Lines are sorted by width and a
    batch is padded to its widest line: a smaller batch pads less (cheaper) but reads some lines differently."""
    regions: bool
    """The cascade's second reading recognises only the text lines the first engine read badly or missed."""
    region_known_conf: float = Field(ge=0, le=100)
    det_text_px: float = Field(ge=0)
    """With ``regions``: the page is scaled for detection so that its median text (measured on the first
    reading) is this high; 0 = rapidocr's own sizing (the shorter side enlarged to 736 px)."""
    det_scale_min: float = Field(gt=0, le=1)
    det_scale_max: float = Field(ge=1)
    """With ``regions``: a detected line whose every word the first engine read at this confidence or more
    (and that holds enough of its words) is not recognised again."""


_CASCADE_CHECKS = Literal["purchase_date", "retailer", "product_on_invoice", "serial_number", "chk_code"]


class CascadeConfig(_Section):
    """Which engines read, in order, and when a document is read again by the next one."""
    engines: list[Literal["tesseract", "ppocr"]] = Field(min_length=1)
    escalate_checks: list[_CASCADE_CHECKS]
    escalate_below_chars: int = Field(ge=0)

    @field_validator("engines")
    @classmethod
    def _tesseract_first(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("an engine is named twice")
        if value[0] != "tesseract":
            raise ValueError("the first engine must be tesseract (languages, orientation, clean PDFs)")
        return value


class PreprocessConfig(_Section):
    enabled: bool
    steps: list[Literal["orient", "deskew", "scale", "background", "denoise", "binarise"]]
    target_text_height_px: int = Field(gt=4)
    max_side_px: int = Field(gt=100)
    osd_min_confidence: float = Field(ge=0)
    upside_down_below_conf: float = Field(ge=0, le=100)
    max_deskew_degrees: float = Field(ge=0, le=45)
    min_deskew_degrees: float = Field(ge=0, le=45)
    min_shaded_paper_share: float = Field(ge=0, le=1)


class PdfConfig(_Section):
    timeout_s: float = Field(gt=0)
    min_text_chars: int = Field(ge=0)
    max_garbage_ratio: float = Field(ge=0, le=1)
    pictures: bool
    """OCR the pictures of a page with a text layer (a shop's name only in its logo)."""
    picture_min_px: int = Field(ge=8)
    picture_max_count: int = Field(ge=0, le=50)
    picture_pages: int = Field(ge=0, le=50)
    picture_min_conf: float = Field(ge=0, le=100)


class BarcodeConfig(_Section):
    timeout_s: float = Field(gt=0)
    engines: list[str]
    retry: bool
    scales: list[float]
    rotations: list[int]


class ModelMatchConfig(_Section):
    pass_score: int = Field(ge=0, le=100)
    uncertain_score: int = Field(ge=0, le=100)
    word_pass_ratio: float = Field(ge=0, le=100)
    word_min_ratio: float = Field(ge=0, le=100)
    max_extra_words: int = Field(ge=0)
    conflict_min_score: int = Field(ge=0, le=100)
    min_margin: float = Field(ge=0)
    fail_min_conf: float = Field(ge=0, le=100)
    max_window_lines: int = Field(ge=1, le=5)


class SerialMatchConfig(_Section):
    pass_distance: float = Field(ge=0)
    max_confusable_share: float = Field(ge=0, le=1)
    uncertain_distance: float = Field(ge=0)
    min_uncertain_length: int = Field(ge=1)
    shape_length_tolerance: int = Field(ge=0)
    low_confidence: float = Field(ge=0, le=100)
    one_edit_min_conf: float = Field(ge=0, le=100)
    max_join_words: int = Field(ge=1)
    confusable_cost: float = Field(ge=0, le=1)


class ChkMatchConfig(_Section):
    pass_distance: float = Field(ge=0)
    unlabelled_score: int = Field(ge=0, le=100)
    low_confidence: float = Field(ge=0, le=100)
    one_edit_min_conf: float = Field(ge=0, le=100)
    confusable_cost: float = Field(ge=0, le=1)


class RetailerMatchConfig(_Section):
    pass_score: int = Field(ge=0, le=100)
    uncertain_score: int = Field(ge=0, le=100)
    min_core_chars: int = Field(ge=1)
    short_name_min_mentions: int = Field(ge=1)
    min_coverage: float = Field(ge=0, le=1)
    full_name_gate: int = Field(ge=0, le=100)
    max_window_lines: int = Field(ge=1)
    top_fraction: float = Field(ge=0, le=1)
    outside_top_penalty: int = Field(ge=0)
    seller_min_conf: float = Field(ge=0, le=100)
    known_seller_min_conf: float = Field(ge=0, le=100)


class MatchingConfig(_Section):
    readable_min_chars: int = Field(ge=0)
    readable_min_conf: float = Field(ge=0, le=100)
    date_repaired_score: int = Field(ge=0, le=100)
    date_max_future_days: int = Field(ge=0)
    date_unclear_below_conf: float = Field(ge=0, le=100)
    date_reject_min_conf: float = Field(ge=0, le=100)
    items_min_conf: float = Field(ge=0, le=100)
    items_total_slack: float = Field(ge=0, le=1)
    invoice_phash_max_distance: int = Field(ge=0, le=31)
    retailer_aliases: str = ""
    """An extra retailer alias file merged over the packaged one; empty: none."""
    model: ModelMatchConfig
    serial: SerialMatchConfig
    chk: ChkMatchConfig
    retailer: RetailerMatchConfig

    def get(self, key: str, default=None):
        """Thresholds of one matcher as keyword arguments (``match_model(..., **cfg.matching.get("model"))``)."""
        value = getattr(self, key, default)
        return value.model_dump() if isinstance(value, BaseModel) else value

    def __getitem__(self, key: str):
        return getattr(self, key)


class DuplicatesConfig(_Section):
    read_min_conf: float = Field(ge=0, le=100)
    differing_words: int = Field(ge=1)
    near_number_min_chars: int = Field(ge=2)
    near_number_max_diff: int = Field(ge=0)
    photo_phash_max_distance: int = Field(ge=0, le=31)
    max_near: int = Field(ge=1)
    rare_word_share: float = Field(gt=0, le=1)
    rare_word_min_df: int = Field(ge=1)
    rare_word_max_df: int = Field(ge=1)
    rare_words_shared: int = Field(ge=1)
    rare_words_asked: int = Field(ge=1)

    @model_validator(mode="after")
    def _rare_words_bounds(self) -> DuplicatesConfig:
        if self.rare_word_min_df > self.rare_word_max_df:
            raise ValueError("rare_word_min_df must not exceed rare_word_max_df")
        return self


class IntegrityConfig(_Section):
    checks: list[Literal["invoice_sums", "invoice_dates", "pdf_revisions", "pdf_editor", "pdf_hidden_text",
                         "pdf_fonts", "image_editor", "image_screen", "image_patch"]]


class CacheConfig(_Section):
    enabled: bool
    dir: str
    """Empty: $CLAIMCHECK_CACHE_DIR, else ~/.cache/claimcheck/reads."""


class PromotionsConfig(_Section):
    dir: str
    """Empty: $CLAIMCHECK_PROMOTIONS_DIR, else the shipped pipeline/data/promotions/."""


class StoreConfig(_Section):
    enabled: bool
    url: str
    """Empty: SQLite at $CLAIMCHECK_STORE, else ~/.local/share/claimcheck/claims.sqlite3."""


class DecisionConfig(_Section):
    approve_min_score: float = Field(ge=0, le=1)
    uncertain_score_cap: float = Field(ge=0, le=1)


_PLACEHOLDERS = ("found", "expected", "detail")


class ReasonSpec(_Section):
    severity: Literal["reject", "review"]
    message: str = Field(min_length=1)
    """Sendable as it is, whatever the check found."""
    template: str | None = Field(default=None, min_length=1)
    """The message with what the check read and what the claim says filled in (``{found}``,
    ``{expected}``); used when the check has every value it names, else ``message``."""

    @field_validator("template")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"not a message template: {exc}") from exc
        unknown = sorted(names - set(_PLACEHOLDERS))
        if unknown:
            raise ValueError(f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; "
                             f"allowed: {', '.join('{' + n + '}' for n in _PLACEHOLDERS)}")
        return value

    def placeholders(self) -> tuple[str, ...]:
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.template or "") if name)


class Config(_Section):
    ingest: IngestConfig
    batch: BatchConfig
    web: WebConfig
    ocr: OcrConfig
    ppocr: PpocrConfig
    cascade: CascadeConfig
    preprocess: PreprocessConfig
    pdf: PdfConfig
    barcodes: BarcodeConfig
    cache: CacheConfig
    promotions: PromotionsConfig
    store: StoreConfig
    matching: MatchingConfig
    duplicates: DuplicatesConfig
    integrity: IntegrityConfig
    decision: DecisionConfig
    reasons: dict[str, ReasonSpec]
    source: str = "default"
    """Where the config came from; not part of the hash."""

    @property
    def hash(self) -> str:
        return config_hash(self)

    def languages_for(self, country: str | None) -> list[str]:
        """Tesseract languages for a country code, the always-languages appended, no repeats."""
        langs = list(self.ocr.country_languages.get((country or "").upper(), []))
        for lang in self.ocr.always_languages:
            if lang not in langs:
                langs.append(lang)
        return langs


def with_overrides(cfg: Config, *, promotions_dir: str | None = None, store_url: str | None = None) -> Config:
    """The config with command-line choices of terms folder and store applied."""
    update = {}
    if promotions_dir:
        update["promotions"] = cfg.promotions.model_copy(update={"dir": str(promotions_dir)})
    if store_url:
        update["store"] = cfg.store.model_copy(update={"url": str(store_url), "enabled": True})
    return cfg.model_copy(update=update) if update else cfg


def config_hash(cfg: Config) -> str:
    # Where reads are cached cannot change a decision, so it is not part of the identity.
    # The terms' own hash is in each decision (promotion.terms_sha256); folder and store paths are not identity.
    # [batch] says how claims are run (a claim stopped at its limits says so in its own decision).
    # What claimcheck knows (retailers, dates, catalogue ...) decides too: its content hash is in.
    payload = cfg.model_dump(exclude={"source", "cache", "promotions", "store", "batch", "web"})
    payload["knowledge"] = knowledge_hash()
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(path: Path | None, packaged: str = "default.toml") -> dict:
    return read_toml(path, packaged=packaged)[0]


def load_config(path: str | Path | None = None) -> Config:
    """The defaults, with the TOML file at ``path`` merged over them; validated."""
    data = _read_toml(None)
    data["reasons"] = _read_toml(None, "reasons.toml")
    source = "default"
    if path is not None:
        data = _merge(data, _read_toml(Path(path)))
        source = str(path)
    try:
        return Config(**data, source=source)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(message=f"{source}: {problems}") from exc


@lru_cache(maxsize=1)
def default_config() -> Config:
    return load_config()


def default_reasons() -> dict[str, ReasonSpec]:
    """``data/reasons.toml``, validated: each reason code's severity and message."""
    return default_config().reasons
