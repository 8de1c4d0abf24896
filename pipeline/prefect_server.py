"""Is a Prefect server configured? Answered without importing Prefect (~1 s).

Prefect reads ``PREFECT_API_URL`` from the environment, else from the active profile in
``$PREFECT_PROFILES_PATH`` (default ``$PREFECT_HOME/profiles.toml``, ``~/.prefect``), the
profile named by ``$PREFECT_PROFILE`` or the file's ``active``. Without one, a flow run starts
Prefect's embedded server (6-13 s here): the quick commands run the same code without Prefect
instead (see README, "Flows").

>>> configured_api_url({"PREFECT_API_URL": "http://127.0.0.1:4200/api"})
'http://127.0.0.1:4200/api'
>>> configured_api_url({"PREFECT_HOME": "/nonexistent"}) is None
True
"""
from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

__all__ = ["configured_api_url"]


def configured_api_url(env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    url = (env.get("PREFECT_API_URL") or "").strip()
    if url:
        return url
    home = Path(env.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(env.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    name = env.get("PREFECT_PROFILE") or data.get("active") or "ephemeral"
    profile = (data.get("profiles") or {}).get(name) or {}
    url = str(profile.get("PREFECT_API_URL") or "").strip()
    return url or None
