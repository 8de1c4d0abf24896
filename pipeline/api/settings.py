"""The intake API's settings: ``pipeline/data/api.toml`` merged with a user file, validated.

>>> s = load_api_settings()
>>> s.worker.lease_s > 0 and s.intake.max_files > 0
True
"""
from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, ValidationError, field_validator

from ..config import _Section  # frozen, unknown keys refused: as every section of the pipeline's config
from ..datafiles import read_toml
from ..errors import ConfigError

__all__ = ["ApiSettings", "load_api_settings", "DEFAULTS"]

DEFAULTS = "pipeline/data/api.toml"


class IntakeSettings(_Section):
    root: str = Field(min_length=1)
    max_request_bytes: int = Field(gt=0)
    max_files: int = Field(ge=1)


class TokenSettings(_Section):
    rate_per_minute: float = Field(gt=0)
    burst: int = Field(ge=1)


class WorkerSettings(_Section):
    workers: int = Field(ge=1, le=64)
    poll_s: float = Field(gt=0, le=60)
    lease_s: float = Field(ge=2)
    max_attempts: int = Field(ge=1)


class WebhookSettings(_Section):
    url: str
    secret_env: str = Field(min_length=1)
    timeout_s: float = Field(gt=0)
    max_attempts: int = Field(ge=1)
    backoff_s: float = Field(ge=0)
    backoff_max_s: float = Field(ge=0)

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        v = v.strip()
        if v and not v.startswith(("http://", "https://")):
            raise ValueError(f"webhook url must start with http:// or https://, got {v!r}")
        return v

    def secret(self) -> str:
        """The signing secret from the environment; a configured URL without one is an error."""
        value = os.environ.get(self.secret_env, "")
        if self.url and len(value) < 16:
            raise ConfigError(message=f"[webhook].url is set: put a secret of 16+ characters in ${self.secret_env}")
        return value


class PrefectSettings(_Section):
    deployment: str


class ApiSettings(_Section):
    intake: IntakeSettings
    tokens: TokenSettings
    worker: WorkerSettings
    webhook: WebhookSettings
    prefect: PrefectSettings
    source: str | None = None
    """The user file merged over the defaults, if any."""


def load_api_settings(path: str | Path | None = None, **overrides: dict) -> ApiSettings:
    """The defaults, ``path``'s sections merged over them, then ``overrides`` (section -> fields)."""
    data, _ = read_toml(None, packaged="api.toml")
    if path is not None:
        user, _ = read_toml(path, packaged="api.toml")
        for section, values in user.items():
            if not isinstance(values, dict) or section not in data:
                raise ConfigError(message=f"{path}: unknown section [{section}] "
                                          f"(known: {', '.join(sorted(data))})")
            data[section] = {**data[section], **values}
    for section, values in overrides.items():
        data[section] = {**data[section], **values}
    try:
        return ApiSettings(**data, source=str(path) if path else None)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(message=f"API settings {path or DEFAULTS}: {problems}") from exc
