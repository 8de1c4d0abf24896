"""Reading the TOML data files (config, dates, models, retailers, invoice labels) one way.

Every loader gets the same errors: a ConfigError that names the file, for a file that
cannot be read and for one that is not TOML. Validating the content stays with each loader.

>>> data, source = read_toml(None, packaged="default.toml")
>>> source, "ocr" in data
('pipeline/data/default.toml', True)
"""
from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from .errors import ConfigError

__all__ = ["read_toml", "only_keys"]


def read_toml(path: str | Path | None, *, packaged: str) -> tuple[dict, str]:
    """(data, source) of the file at ``path``, or of ``pipeline/data/<packaged>`` when path is None."""
    source = str(path) if path is not None else f"pipeline/data/{packaged}"
    try:
        if path is None:
            text = resources.files("pipeline.data").joinpath(packaged).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(message=f"{source}: cannot read the file: {exc}") from exc
    try:
        return tomllib.loads(text), source
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(message=f"{source} is not valid TOML: {exc}") from exc


def only_keys(data: dict, allowed, source: str) -> None:
    """A ConfigError naming the file and the keys it has that its loader does not know (a typo must
    not silently fall back to a default)."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ConfigError(message=f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
