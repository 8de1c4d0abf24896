"""The unit of work of every executor: one claim's decision line, in whatever process runs it.

``pipeline.pool``'s watched workers, and through them ``batch``, the Prefect flows (``flows/``) and
the intake API's embedded worker, all run a claim through ``verify_one``: the config this process
was given (``set_config``), the claim store kept open across claims (``_shared_store``), and a
decision line for every claim, never an exception.
"""
from __future__ import annotations

import os
import threading

from .config import Config, load_config
from .errors import ClaimcheckError

__all__ = ["set_config", "verify_one"]

_CONFIG: Config | None = None
_STORE: tuple[tuple, object] | None = None
"""(identity, store): the claim store this process keeps open across claims."""
_STORE_LOCK = threading.RLock()


def set_config(config: Config) -> None:
    """The config ``verify_one`` runs claims with in this process (a claim pool's worker gets its
    parent's, whole)."""
    global _CONFIG
    os.environ["OMP_THREAD_LIMIT"] = str(config.ocr.omp_thread_limit)
    _CONFIG = config
    _close_store()


def _close_store() -> None:
    global _STORE
    if _STORE is not None:
        _STORE[1].close()
        _STORE = None


def _store_identity(config: Config) -> tuple:
    """Which store ``[store]`` means now (``$CLAIMCHECK_STORE`` may change between runs), and for an
    SQLite file which file: one deleted and made again (the lab empties its store) is another store."""
    from .db import store_url

    try:
        url = store_url(config.store.url or None)
    except ClaimcheckError:
        return ("invalid",)
    if url.startswith("sqlite:///"):
        try:
            st = os.stat(url[len("sqlite:///"):])
            return url, st.st_dev, st.st_ino
        except OSError:
            pass
    return (url,)


def _shared_store(config: Config):
    """The claim store of ``[store]``, opened once per process and reused by every claim (opening costs
    an engine and a schema check); True lets verify_claim open it itself (and report why it cannot)."""
    global _STORE
    if not config.store.enabled:
        return None
    with _STORE_LOCK:  # flows may run claims on threads of one process
        ident = _store_identity(config)
        if _STORE is not None and _STORE[0] == ident:
            return _STORE[1]
        _close_store()
        from .verify import default_store

        try:
            store = default_store(config)
        except ClaimcheckError:
            return True
        _STORE = (_store_identity(config), store)
        return store


def verify_one(claim_file: str, rel: str) -> dict:
    """One claim's decision line (a dict with ``claim_path``), never an exception: the unit of work
    of run_batch and of the Prefect flows (one task per claim). With a claim store, the decision is
    also saved there (with ``claim_dir`` and ``claim_path``)."""
    global _CONFIG
    from .verify import claim_id_guess, internal_error, unprocessable, verify_claim

    if _CONFIG is None:
        _CONFIG = load_config()
    config = _CONFIG
    try:
        decision = verify_claim(claim_file, config, store=_shared_store(config), claim_path=rel)
    except ClaimcheckError as exc:
        decision = unprocessable(claim_id_guess(claim_file, config), exc, config)
    except Exception as exc:  # noqa: BLE001 - one claim's bug must not stop a backlog
        decision = unprocessable(claim_id_guess(claim_file, config), internal_error(exc), config)
    out = decision.to_dict()
    out["claim_path"] = rel
    return out
