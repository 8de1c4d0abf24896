"""Promotion terms: one TOML file per promotion, validated when loaded.

A terms file says who may claim what, when, where and for how much (see
``pipeline/data/promotions/README.md`` for the field-by-field guide). Loading checks every field
and every cross-reference (a bundle naming an unknown product group, a reward table
missing a cell some territory needs, a time zone that does not exist) and raises
``ConfigError`` whose message names the file, the field and what is wrong.

Times in a terms file are *local* (TOML local date-times, no offset): each territory's
own time zone applies. A start is inclusive from its minute; an end is inclusive
through its minute ("until 23:59" includes 23:59:59). A plain date as a start means
00:00 that day, as an end 23:59 that day.

>>> terms = load_promotions()["amd-msi-cashback-2020"]
>>> terms.territories["NO"].currency, terms.territories["IT"].tier
('NOK', 2)
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import tomllib
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import ConfigError

__all__ = [
    "Terms", "Territory", "ProductGroup", "Bundle", "Reward", "RetailerRules", "Limits", "Documents",
    "Participants", "Period", "ClaimWindow", "load_terms", "load_promotions", "default_promotions_dir",
    "ENV_PROMOTIONS_DIR",
]

ENV_PROMOTIONS_DIR = "CLAIMCHECK_PROMOTIONS_DIR"

_Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
_Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
_Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_MINUTE = dt.timedelta(minutes=1)


class _Strict(BaseModel):
    # A typo in a terms file must be an error, never a silently ignored rule.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _local(value: object, *, end: bool) -> object:
    """A TOML local date or date-time as a naive datetime; dates widen to the whole day."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ValueError("give a local time without an offset: each territory's time zone applies")
        return value.replace(second=0, microsecond=0)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(23, 59) if end else dt.time(0, 0))
    if isinstance(value, str):
        raise ValueError("write the time as a TOML date-time without quotes, e.g. 2020-02-17T00:01:00")
    return value


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not a known IANA time zone (e.g. 'Europe/Oslo')") from exc
    return name


class Period(_Strict):
    """The purchase period, in each territory's local time, both ends inclusive."""

    start: dt.datetime
    end: dt.datetime

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, v):
        return _local(v, end=False)

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, v):
        return _local(v, end=True)

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"end {self.end:%Y-%m-%d %H:%M} is before start {self.start:%Y-%m-%d %H:%M}")
        return self

    def contains_day(self, day: dt.date) -> bool:
        """Whether a purchase dated ``day`` (no time known) is inside: any overlap counts."""
        return self.start.date() <= day <= self.end.date()


class ClaimWindow(_Strict):
    """When a claim may be submitted: fixed local times and/or days counted from the purchase.

    Days count with the invoice date as day 1: ``first_day = 30`` accepts claims from the
    30th day on (a purchase on 17 Feb may be claimed from 17 Mar).
    """

    opens: dt.datetime | None = None
    closes: dt.datetime | None = None
    first_day: int | None = Field(default=None, ge=1)
    last_day: int | None = Field(default=None, ge=1)

    @field_validator("opens", mode="before")
    @classmethod
    def _opens(cls, v):
        return _local(v, end=False)

    @field_validator("closes", mode="before")
    @classmethod
    def _closes(cls, v):
        return _local(v, end=True)

    @model_validator(mode="after")
    def _ordered(self) -> ClaimWindow:
        if self.opens and self.closes and self.closes < self.opens:
            raise ValueError("closes is before opens")
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise ValueError(f"last_day {self.last_day} is before first_day {self.first_day}")
        return self

    @property
    def is_open_ended(self) -> bool:
        return not (self.opens or self.closes or self.first_day or self.last_day)


class Territory(_Strict):
    name: _Text
    tier: int = Field(default=1, ge=1)
    currency: _Currency
    timezone: str

    @field_validator("timezone")
    @classmethod
    def _zone_ok(cls, v: str) -> str:
        return _zone(v)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ProductGroup(_Strict):
    """Eligible products of one kind: a list of model names (each with its aliases), or a
    whole category (``any_model = true``) when the terms name only the category."""

    category: _Key
    label: str | None = None
    models: list[_Text | Annotated[list[_Text], Field(min_length=1)]] = Field(default_factory=list)
    any_model: bool = False
    tiers: list[int] | None = None
    """Only eligible in territories of these tiers."""
    territories: list[_Country] | None = None
    """Only eligible in these territories."""
    note: str | None = None

    @model_validator(mode="after")
    def _models_or_category(self) -> ProductGroup:
        if self.any_model and self.models:
            raise ValueError("give either models or any_model = true, not both")
        if not self.any_model and not self.models:
            raise ValueError("models is empty (list the eligible models, or set any_model = true)")
        return self

    @property
    def names(self) -> list[tuple[str, ...]]:
        """Each model as (canonical name, *aliases)."""
        return [(m,) if isinstance(m, str) else tuple(m) for m in self.models]

    def admitted_in(self, code: str, territory: Territory) -> bool:
        if self.tiers is not None and territory.tier not in self.tiers:
            return False
        return self.territories is None or code in self.territories


class Bundle(_Strict):
    """Products that must be bought together, on one invoice. Each part is a product group
    id or a category; one product fills one part."""

    label: _Text
    parts: list[_Key] = Field(min_length=1)


class Reward(_Strict):
    """What a valid claim earns.

    kind 'table': amounts by row group x column group x bundle, per currency; amounts are set
    in ``set_in`` and a territory's currency uses its own table when there is one, else the
    ``set_in`` table times ``conversion[currency]``. kind 'fixed': one amount per currency.
    kind 'item': a thing, not money (a game code).
    """

    kind: Literal["table", "fixed", "item"]
    label: str | None = None
    set_in: _Currency | None = None
    rows: _Key | None = None
    columns: _Key | None = None
    bundles: list[_Key] | None = None
    table: dict[_Currency, dict[_Key, dict[_Key, list[Annotated[float, Field(ge=0)]]]]] | None = None
    amounts: dict[_Currency, Annotated[float, Field(ge=0)]] | None = None
    conversion: dict[_Currency, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    """Local currency units per one ``set_in`` unit."""
    conversion_confirmed: bool = False
    """False: the rates are placeholders; rewards computed with them say so."""
    item: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Reward:
        need = {"table": ("set_in", "rows", "columns", "bundles", "table"), "fixed": ("amounts",),
                "item": ("item",)}[self.kind]
        missing = [f for f in need if not getattr(self, f)]
        if missing:
            raise ValueError(f"kind = {self.kind!r} needs {', '.join(missing)}")
        if self.kind == "table" and self.set_in not in self.table:
            raise ValueError(f"table.{self.set_in} is missing: amounts are set in {self.set_in}")
        return self


class RetailerRules(_Strict):
    excluded: list[_Text] = Field(default_factory=list)
    """Retailer names, ids or domains whose sales are excluded (eBay, Amazon Marketplace)."""
    third_party_sellers: Literal["excluded", "allowed"] = "allowed"
    """'excluded': on a marketplace's invoice (Amazon, Cdiscount, ...) a "sold by" line naming
    someone other than the marketplace itself excludes the purchase."""
    partners: list[_Text] = Field(default_factory=list)
    """When not empty, only these retailers; others go to a reviewer (not rejected)."""
    note: str | None = None


class Limits(_Strict):
    per_participant: int | None = Field(default=None, ge=1)
    per_email: int | None = Field(default=None, ge=1)
    per_serial: int = Field(default=1, ge=1)
    invoice_reuse: Literal["never", "same_participant", "allowed"] = "never"
    """'same_participant': one invoice may back several claims of one participant (one product
    each, as on the member portal), never claims of different participants."""


class Documents(_Strict):
    serial_photo: bool = False
    """A photo of the serial-number sticker is required."""
    serial_number: bool = False
    """Every claimed product must give its serial number."""
    chk_code: bool = False
    """Every claimed product must give the CHK code from its serial sticker."""
    invoice_number: bool = False
    """The invoice must show its invoice number."""
    invoice_formats: list[str] = Field(default_factory=list)
    """The portal's upload rules; informative (the pipeline reads more formats)."""
    invoice_max_width_px: int | None = None
    note: str | None = None


class Participants(_Strict):
    purchase_in_residence: bool = True
    """The purchase country (when given) must be the claimant's territory."""
    min_age: int | None = None
    conditions: list[str] = Field(default_factory=list)
    """Rules the pipeline cannot check from a claim (age, bank account, third-party filing)."""


class Review(_Strict):
    days_to_complete: int | None = None
    """Calendar days a claimant has to send what is missing before the claim is void."""
    returns_void_claim: bool = False


class Terms(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: _Text
    kind: _Text = "promotion"
    summary: str | None = None
    source: str | None = None
    invented: list[str] = Field(default_factory=list)
    """Facts not given by the source documents, each saying which field holds a placeholder."""
    timezone: str
    """Zone for claims whose territory is unknown or not eligible."""
    period: Period
    claim_window: ClaimWindow = Field(default_factory=ClaimWindow)
    territories: dict[_Country, Territory] = Field(min_length=1)
    products: dict[_Key, ProductGroup] = Field(min_length=1)
    bundles: dict[_Key, Bundle] = Field(default_factory=dict)
    """Smallest first: when a claim forms several, the last one listed wins."""
    reward: Reward
    retailers: RetailerRules = Field(default_factory=RetailerRules)
    participants: Participants = Field(default_factory=Participants)
    limits: Limits = Field(default_factory=Limits)
    documents: Documents = Field(default_factory=Documents)
    review: Review = Field(default_factory=Review)
    conditions: list[_Key] | None = None
    """The product conditions the promotion accepts ("new", "used", "refurbished", "b_stock", "open_box",
    "demo", "ex_display": ``[conditions]`` of ``labels.toml``), read from each product's invoice line;
    absent: not checked."""
    notes: list[str] = Field(default_factory=list)

    _file: str = PrivateAttr(default="")
    _digest: str = PrivateAttr(default="")

    @field_validator("timezone")
    @classmethod
    def _zone_ok(cls, v: str) -> str:
        return _zone(v)

    @field_validator("conditions")
    @classmethod
    def _conditions_known(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        from ..extract.labels import default_knowledge

        known = ["new", *default_knowledge().conditions]
        unknown = [c for c in v if c not in known]
        if unknown or not v:
            raise ValueError(f"{', '.join(unknown) or 'an empty list'}: expected some of {', '.join(known)}")
        return v

    @property
    def file(self) -> str:
        """The terms file this came from."""
        return self._file

    @property
    def digest(self) -> str:
        """'sha256:<hex>' of the terms file's bytes: which version of the terms a decision used."""
        return self._digest

    @cached_property
    def categories(self) -> frozenset[str]:
        return frozenset(g.category for g in self.products.values())

    def territory(self, code: str | None) -> Territory | None:
        return self.territories.get(_country(code)) if code else None

    @model_validator(mode="after")
    def _references(self) -> Terms:
        tiers = {t.tier for t in self.territories.values()}
        for gid, group in self.products.items():
            for tier in group.tiers or ():
                if tier not in tiers:
                    raise ValueError(f"products.{gid}.tiers: no territory has tier {tier}")
            for code in group.territories or ():
                if code not in self.territories:
                    raise ValueError(f"products.{gid}.territories: {code} is not in [territories]")
        # A bundle part names a group or a category; the two readings must agree.
        clash = {gid for gid in set(self.products) & self.categories
                 if [g for g, x in self.products.items() if x.category == gid] != [gid]}
        if clash:
            raise ValueError(f"products: {', '.join(sorted(clash))} is both a group id and a category")
        for bid, bundle in self.bundles.items():
            for part in bundle.parts:
                if part not in self.products and part not in self.categories:
                    raise ValueError(f"bundles.{bid}.parts: {part!r} is neither a product group nor a category "
                                     f"(groups: {', '.join(self.products)}; categories: "
                                     f"{', '.join(sorted(self.categories))})")
        self._check_reward()
        return self

    def _check_reward(self) -> None:
        r = self.reward
        if r.kind == "fixed":
            for code, t in self.territories.items():
                if t.currency not in r.amounts and t.currency not in r.conversion:
                    raise ValueError(f"reward.amounts: no amount in {t.currency} for territory {code}, "
                                     "and no reward.conversion rate for it")
            return
        if r.kind != "table":
            return
        if set(r.bundles) != set(self.bundles) or len(r.bundles) != len(set(r.bundles)):
            raise ValueError(f"reward.bundles must list each bundle once ({', '.join(self.bundles)}), "
                             f"got {', '.join(r.bundles)}")
        for axis, category in (("rows", r.rows), ("columns", r.columns)):
            if category not in self.categories:
                raise ValueError(f"reward.{axis}: {category!r} is not a product category of this promotion")
            for bid, bundle in self.bundles.items():
                if not any(p == category or self.products.get(p, None) and self.products[p].category == category
                           for p in bundle.parts):
                    raise ValueError(f"reward.{axis}: bundle {bid!r} has no {category} part")
        row_groups = {g for g, x in self.products.items() if x.category == r.rows}
        col_groups = {g for g, x in self.products.items() if x.category == r.columns}
        for currency, rows in r.table.items():
            where = f"reward.table.{currency}"
            for row, cols in rows.items():
                if row not in row_groups:
                    raise ValueError(f"{where}.{row}: not a {r.rows} group ({', '.join(sorted(row_groups))})")
                for col, cell in cols.items():
                    if col not in col_groups:
                        raise ValueError(f"{where}.{row}.{col}: not a {r.columns} group "
                                         f"({', '.join(sorted(col_groups))})")
                    if len(cell) != len(r.bundles):
                        raise ValueError(f"{where}.{row}.{col}: {len(cell)} amounts, expected one per bundle "
                                         f"({', '.join(r.bundles)})")
        for code, t in self.territories.items():
            own = r.table.get(t.currency)
            if own is None and t.currency != r.set_in and t.currency not in r.conversion:
                raise ValueError(f"reward: territory {code} is paid in {t.currency} but there is neither "
                                 f"reward.table.{t.currency} nor reward.conversion.{t.currency}")
            table, currency = (own, t.currency) if own is not None else (r.table[r.set_in], r.set_in)
            for row in sorted(row_groups):
                if not self.products[row].admitted_in(code, t):
                    continue
                for col in sorted(col_groups):
                    if not self.products[col].admitted_in(code, t):
                        continue
                    if col not in table.get(row, {}):
                        raise ValueError(f"reward.table.{currency}.{row}.{col} is missing "
                                         f"(needed for territory {code})")


def _country(code: str) -> str:
    code = code.strip().upper()
    return "GB" if code == "UK" else code


# ---------------------------------------------------------------------------------------- loading

_PATTERNS = {
    r"^[A-Z]{2}$": "must be an ISO 3166-1 alpha-2 country code in capitals, e.g. NO",
    r"^[A-Z]{3}$": "must be an ISO 4217 currency code in capitals, e.g. NOK",
    r"^[a-z0-9][a-z0-9_-]*$": "must be lower-case letters, digits, '-' or '_'",
    r"^[a-z0-9][a-z0-9-]*$": "must be lower-case letters, digits or '-'",
}


def _problems(exc: ValidationError) -> str:
    out = []
    for err in exc.errors():
        parts = [str(p) for p in err["loc"]]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (a typo?)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "string_pattern_mismatch":
            msg = f"{err['input']!r} " + _PATTERNS.get(err["ctx"]["pattern"], msg)
        parts = [p for p in parts if p != "[key]"]  # a table key: the key itself is in the message
        loc = ".".join(parts)
        out.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(out)


def load_terms(path: str | Path) -> Terms:
    """One terms file, validated. Raises ConfigError naming the file, the field and the problem.

    The file's name (without .toml) must be its ``id``: a claim names a promotion by id, and a
    reader of the folder should find it by name.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(message=f"{path}: cannot read the terms file: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(message=f"{path}: not valid TOML: {exc}") from exc
    try:
        terms = Terms(**data)
    except ValidationError as exc:
        raise ConfigError(message=f"{path}: {_problems(exc)}") from exc
    except TypeError as exc:  # a top-level key that is not a valid identifier
        raise ConfigError(message=f"{path}: {exc}") from exc
    if terms.id != path.stem:
        raise ConfigError(message=f"{path}: id: {terms.id!r} must equal the file name ({path.stem!r})")
    terms._file = str(path)
    terms._digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    return terms


def default_promotions_dir() -> Path:
    """``$CLAIMCHECK_PROMOTIONS_DIR``, else the terms shipped in the package (``pipeline/data/promotions``,
    package data: the same folder in a checkout and in an installed wheel)."""
    env = os.environ.get(ENV_PROMOTIONS_DIR)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "data" / "promotions"


_CACHE: dict[tuple, Mapping[str, Terms]] = {}


def load_promotions(folder: str | Path | None = None) -> dict[str, Terms]:
    """Every ``*.toml`` terms file of a folder, by promotion id; validated, cached per folder
    (a file edited, added or removed is reloaded). Files starting with '_' or '.' are skipped.

    >>> sorted(load_promotions())[:1]
    ['amd-msi-cashback-2020']
    """
    folder = Path(folder) if folder is not None else default_promotions_dir()
    if not folder.is_dir():
        raise ConfigError(message=f"{folder}: promotions folder not found")
    files = sorted(p for p in folder.glob("*.toml") if not p.name.startswith(("_", ".")))
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    key = (str(folder.resolve()), stamp)
    if key not in _CACHE:
        out: dict[str, Terms] = {}
        for p in files:
            terms = load_terms(p)
            out[terms.id] = terms
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = out
    return dict(_CACHE[key])

