"""The product catalogue: model families, their models and each model's siblings, as data.

``pipeline/data/catalogue.toml`` lists families ("geforce-rtx-50": GeForce RTX 5060, 5060 Ti,
...); every model of a family is a *sibling* of the others, and a family may name other families
whose models are siblings too (B550 boards and B450 boards share names). ``match_model`` weighs
the claimed model against its siblings on every invoice line, so a read that fits a sibling
better ("RTX 5060 Tl" for a claimed RTX 5060) is not taken for the claimed model.

A model's *key* is its name's tokens without brands, optional and neutral words
(``models.toml``): "MSI GeForce RTX 5060 Ti" -> ('rtx', '5060', 'ti'). Two models are told
apart by their *distinguishing tokens*: the tokens of one key the other lacks.

``grow_catalogue`` adds the models that promotions' terms files list and the catalogue lacks
(``claimcheck catalogue grow``), as ``[[grown]]`` tables appended to the file.

>>> cat = load_catalogue()
>>> m = cat.find("GeForce RTX 5060")
>>> m.family, [s.name for s in cat.siblings(m)][:2]
('geforce-rtx-50', ['GeForce RTX 5050', 'GeForce RTX 5060 Ti'])
>>> cat.distinguishing(m, cat.find("RTX 5060 Ti"))
((), ('ti',))
"""
from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz

from ..datafiles import read_toml
from ..errors import ConfigError
from ..extract.normalise import (
    ModelVocabulary,
    fold_confusables,
    load_model_vocabulary,
    model_tokens,
    normalise_text,
    split_alnum,
)

__all__ = ["Catalogue", "CatalogueModel", "Family", "GrownModel", "describe_model", "grow_catalogue", "grow_file",
           "grown_toml", "load_catalogue", "model_key", "packaged_catalogue_path"]

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_FAMILY_FIELDS = {"category", "line", "models", "siblings"}
_GROWN_FIELDS = {"family", "category", "line", "models", "source"}


def model_key(name: str, vocab: ModelVocabulary | None = None) -> tuple[str, ...]:
    """The tokens that identify a model: brands, optional and neutral words dropped.

    >>> model_key("MSI MAG B550 TOMAHAWK"), model_key("AMD Ryzen 5 3600X")
    (('b', '550', 'tomahawk'), ('ryzen', '5', '3600', 'x'))
    """
    vocab = vocab or load_model_vocabulary()
    skip = vocab.optional_words | vocab.neutral_words
    return tuple(t for t in model_tokens(name, vocab.brands) if t not in skip)


@dataclass(frozen=True)
class CatalogueModel:
    name: str
    """The official name ("GeForce RTX 5060 Ti")."""
    aliases: tuple[str, ...]
    """Other names of the same model ("R5 3600" for "AMD Ryzen 5 3600")."""
    family: str
    category: str
    keys: tuple[tuple[str, ...], ...]
    """``model_key`` of the name, then of each alias."""

    @property
    def key(self) -> tuple[str, ...]:
        return self.keys[0]


@dataclass(frozen=True)
class Family:
    id: str
    category: str
    line: str
    models: tuple[str, ...]
    """Official names of its models."""
    siblings: tuple[str, ...]
    """Other families whose models are siblings of this family's models too."""


@dataclass(frozen=True)
class Catalogue:
    families: dict[str, Family]
    models: dict[str, CatalogueModel]
    """By official name."""
    source: str
    vocabulary: ModelVocabulary
    by_key: dict[tuple[str, ...], CatalogueModel] = field(repr=False, default_factory=dict)
    anchors: dict[str, tuple[CatalogueModel, ...]] = field(repr=False, default_factory=dict)
    """Chunks of model names that hold a digit ("b550", "mag27cq") and their digit runs of three or
    more, OCR confusables folded -> the models: where an invoice line is looked up for the models
    it may name."""
    numbers: frozenset[str] = field(repr=False, default=frozenset())
    """The numbers (three digits or more) in model names: "3600", "550", "242"."""

    def find(self, name: str) -> CatalogueModel | None:
        """The model named ``name`` (its official name or an alias, brands and optional words aside)."""
        return self.by_key.get(model_key(name, self.vocabulary))

    def siblings(self, model: CatalogueModel) -> tuple[CatalogueModel, ...]:
        return _siblings(self, model.name)

    def distinguishing(self, a: CatalogueModel, b: CatalogueModel) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(tokens of a's key that b's lacks, tokens of b's key that a's lacks), each in key order."""
        return _difference(a.key, b.key), _difference(b.key, a.key)

    def __len__(self) -> int:
        return len(self.models)


def _difference(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    rest = list(b)
    out = []
    for t in a:
        if t in rest:
            rest.remove(t)
        else:
            out.append(t)
    return tuple(out)


_SIBLINGS: dict[tuple[int, str], tuple[CatalogueModel, ...]] = {}


def _siblings(cat: Catalogue, name: str) -> tuple[CatalogueModel, ...]:
    hit = _SIBLINGS.get((id(cat), name))
    if hit is None:
        model = cat.models[name]
        fam = cat.families[model.family]
        names = list(fam.models)
        for other in fam.siblings:
            names += cat.families[other].models
        hit = tuple(cat.models[n] for n in dict.fromkeys(names) if n != name)
        if len(_SIBLINGS) > 65536:
            _SIBLINGS.clear()
        _SIBLINGS[(id(cat), name)] = hit
    return hit


def _names(raw, where: str) -> list[tuple[str, ...]]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(message=f"{where}: 'models' must be a non-empty list of names (or [name, alias, ...] lists)")
    out = []
    for item in raw:
        names = (item,) if isinstance(item, str) else tuple(item) if isinstance(item, list) else ()
        if not names or not all(isinstance(n, str) and n.strip() for n in names):
            raise ConfigError(message=f"{where}: {item!r} is not a model name or a list of names")
        out.append(tuple(n.strip() for n in names))
    return out


def _text(raw, where: str, name: str, *, required: bool = True) -> str:
    if raw is None and not required:
        return ""
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(message=f"{where}: '{name}' must be a non-empty string")
    return raw.strip()


def _parse(data: dict, source: str, vocab: ModelVocabulary) -> Catalogue:
    unknown = sorted(set(data) - {"families", "grown"})
    if unknown:
        raise ConfigError(message=f"{source}: unknown field(s) {', '.join(unknown)}; expected families, grown")
    fams = data.get("families")
    if not isinstance(fams, dict) or not fams:
        raise ConfigError(message=f"{source}: no [families.<id>] tables")
    raw_families: dict[str, dict] = {}
    for fid, body in fams.items():
        where = f"{source}: families.{fid}"
        if not _ID.match(fid):
            raise ConfigError(message=f"{where}: a family id is lower-case letters, digits and '-'")
        if not isinstance(body, dict):
            raise ConfigError(message=f"{where} must be a table")
        bad = sorted(set(body) - _FAMILY_FIELDS)
        if bad:
            raise ConfigError(message=f"{where}: unknown field(s) {', '.join(bad)}; expected "
                                      f"{', '.join(sorted(_FAMILY_FIELDS))}")
        sib = body.get("siblings", [])
        if not isinstance(sib, list) or not all(isinstance(s, str) for s in sib):
            raise ConfigError(message=f"{where}: 'siblings' must be a list of family ids")
        raw_families[fid] = {"category": _text(body.get("category"), where, "category"),
                             "line": _text(body.get("line"), where, "line", required=False),
                             "models": _names(body.get("models"), where), "siblings": list(sib)}
    grown = data.get("grown", [])
    if not isinstance(grown, list):
        raise ConfigError(message=f"{source}: 'grown' must be [[grown]] tables")
    for k, body in enumerate(grown):
        where = f"{source}: grown[{k}]"
        if not isinstance(body, dict):
            raise ConfigError(message=f"{where} must be a table")
        bad = sorted(set(body) - _GROWN_FIELDS)
        if bad:
            raise ConfigError(message=f"{where}: unknown field(s) {', '.join(bad)}")
        fid = _text(body.get("family"), where, "family")
        if not _ID.match(fid):
            raise ConfigError(message=f"{where}: family id {fid!r} is lower-case letters, digits and '-'")
        names = _names(body.get("models"), where)
        _text(body.get("source"), where, "source")
        if fid not in raw_families:
            raw_families[fid] = {"category": _text(body.get("category"), where, "category"),
                                 "line": _text(body.get("line"), where, "line", required=False),
                                 "models": [], "siblings": []}
        raw_families[fid]["models"] += names
    models: dict[str, CatalogueModel] = {}
    by_key: dict[tuple[str, ...], CatalogueModel] = {}
    families: dict[str, Family] = {}
    for fid, f in raw_families.items():
        for other in f["siblings"]:
            if other not in raw_families or other == fid:
                raise ConfigError(message=f"{source}: families.{fid}: sibling family {other!r} does not exist")
        official = []
        for names in f["models"]:
            keys = tuple(model_key(n, vocab) for n in names)
            for n, key in zip(names, keys):
                if not key:
                    raise ConfigError(message=f"{source}: families.{fid}: {n!r} has no tokens besides brands "
                                              "and optional words")
                if key in by_key:
                    raise ConfigError(message=f"{source}: {n!r} (family {fid}) is listed twice: it names "
                                              f"{by_key[key].name!r} of family {by_key[key].family}")
            model = CatalogueModel(names[0], names[1:], fid, f["category"], keys)
            for key in keys:
                by_key[key] = model
            models[model.name] = model
            official.append(model.name)
        families[fid] = Family(fid, f["category"], f["line"], tuple(official), tuple(f["siblings"]))
    anchors = _anchors(models.values(), vocab)
    cat = Catalogue(families, models, source, vocab, by_key, anchors, frozenset(a for a in anchors if a.isdigit()))
    _check_distinguishable(cat)
    return cat


def name_anchors(name: str) -> set[str]:
    """The anchors of one name (see ``Catalogue.anchors``)."""
    out = set()
    for chunk in normalise_text(name).split():
        if any(c.isdigit() for c in chunk):
            out.add(fold_confusables(chunk))
            out.update(run for run in split_alnum(chunk) if run.isdigit() and len(run) >= 3)
    return out


def _anchors(models: Iterable[CatalogueModel], vocab: ModelVocabulary) -> dict[str, tuple[CatalogueModel, ...]]:
    index: dict[str, list[CatalogueModel]] = {}
    for m in models:
        for anchor in set().union(*(name_anchors(n) for n in (m.name, *m.aliases))):
            index.setdefault(anchor, []).append(m)
    return {k: tuple(v) for k, v in index.items()}


def _check_distinguishable(cat: Catalogue) -> None:
    """Two models whose names OCR confusions make equal could never be told apart on an invoice."""
    seen: dict[str, CatalogueModel] = {}
    for m in cat.models.values():
        for key in m.keys:
            folded = fold_confusables("".join(key))
            other = seen.setdefault(folded, m)
            if other is not m:
                raise ConfigError(message=f"{cat.source}: {m.name!r} and {other.name!r} differ only by characters "
                                          "OCR confuses; they cannot be told apart")


def packaged_catalogue_path() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "catalogue.toml"


def load_catalogue(path: str | Path | None = None, *, vocabulary: ModelVocabulary | None = None) -> Catalogue:
    """The catalogue at ``path``, or the packaged ``catalogue.toml``; validated.

    Raises ConfigError naming the file and the family or model at fault.
    """
    if path is None and vocabulary is None:
        return _default_catalogue()
    return _parse(*read_toml(path, packaged="catalogue.toml"), vocabulary or load_model_vocabulary())


@lru_cache(maxsize=1)
def _default_catalogue() -> Catalogue:
    return _parse(*read_toml(None, packaged="catalogue.toml"), load_model_vocabulary())


# ------------------------------------------------------------------------------ growing from terms files

@dataclass(frozen=True)
class GrownModel:
    names: tuple[str, ...]
    """Official name, then aliases, as the terms file gives them."""
    family: str
    category: str
    source: str
    """"<terms file>#products.<group>"."""
    new_family: bool


def _family_for(cat: Catalogue, key: tuple[str, ...], category: str, fallback: str) -> tuple[str, bool]:
    """The family a new model joins: the one of its category whose model's key reads most like its own
    (rapidfuzz ratio of the keys run together, at least 80: "rtx5070ti" ~ "rtx5060ti"), else a new
    family named ``fallback``."""
    joined = "".join(key)
    best, best_ratio = None, 80.0
    for m in cat.models.values():
        if m.category != category:
            continue
        ratio = max(fuzz.ratio(joined, "".join(k)) for k in m.keys)
        if ratio > best_ratio or (best is None and ratio == best_ratio):
            best, best_ratio = m.family, ratio
    return (best, False) if best else (fallback, True)


def grow_catalogue(terms: Iterable, catalogue: Catalogue) -> list[GrownModel]:
    """The eligible models of ``terms`` (Terms objects) that ``catalogue`` lacks, each with the family it
    joins. Category-wide groups (any_model) name no model and add nothing."""
    out: list[GrownModel] = []
    seen: set[tuple[str, ...]] = set()
    for t in terms:
        for gid, group in t.products.items():
            for names in group.names:
                keys = [model_key(n, catalogue.vocabulary) for n in names]
                if any(k in catalogue.by_key or k in seen for k in keys) or not all(keys):
                    continue
                seen.update(keys)
                fallback = f"{t.id}-{gid}"
                family, new = _family_for(catalogue, keys[0], group.category, fallback)
                out.append(GrownModel(tuple(names), family, group.category, f"{Path(t.file).name}#products.{gid}",
                                      new))
    return out


def grown_toml(grown: list[GrownModel], catalogue: Catalogue) -> str:
    """``[[grown]]`` tables for ``grown``, one per family and source, to append to the catalogue file."""
    blocks: dict[tuple[str, str], list[GrownModel]] = {}
    for g in grown:
        blocks.setdefault((g.family, g.source), []).append(g)
    out = []
    for (family, source), items in blocks.items():
        lines = ["", "[[grown]]", f"family = {json.dumps(family)}"]
        if family not in catalogue.families:
            lines.append(f"category = {json.dumps(items[0].category)}")
        models = ", ".join(json.dumps(g.names[0]) if len(g.names) == 1 else
                           "[" + ", ".join(json.dumps(n) for n in g.names) + "]" for g in items)
        lines += [f"models = [{models}]", f"source = {json.dumps(source)}"]
        out.append("\n".join(lines))
    return "\n".join(out) + ("\n" if out else "")


def grow_file(path: str | Path | None, terms: Iterable, *, write: bool = True) -> tuple[list[GrownModel], str]:
    """Grow the catalogue file at ``path`` (None: the packaged one) with the eligible models of
    ``terms`` (loaded terms files: ``promotions.load_promotions(dir).values()``) that it lacks: returns
    them and the TOML appended (written when ``write``). The grown file is loaded back before it is
    kept: a grown entry that breaks the catalogue's rules (two names OCR cannot tell apart) is an
    error and nothing is written."""
    target = Path(path) if path is not None else packaged_catalogue_path()
    catalogue = _parse(*read_toml(target, packaged="catalogue.toml"), load_model_vocabulary())
    grown = grow_catalogue(terms, catalogue)
    text = grown_toml(grown, catalogue)
    if grown:
        current = target.read_text(encoding="utf-8")
        merged = current.rstrip("\n") + "\n" + text
        _parse(tomllib.loads(merged), str(target), catalogue.vocabulary)
        if write:
            tmp = target.with_suffix(target.suffix + ".tmp")
            tmp.write_text(merged, encoding="utf-8")
            tmp.replace(target)
            _default_catalogue.cache_clear()
    return grown, text


def describe_model(catalogue: Catalogue, name: str) -> dict | None:
    """A catalogue model, its family and each sibling with the tokens that tell them apart."""
    model = catalogue.find(name)
    if model is None:
        return None
    siblings = []
    for s in catalogue.siblings(model):
        own, theirs = catalogue.distinguishing(model, s)
        siblings.append({"name": s.name, "family": s.family, "only_this": list(own), "only_sibling": list(theirs)})
    return {"name": model.name, "aliases": list(model.aliases), "family": model.family, "category": model.category,
            "key": list(model.key), "siblings": siblings}
