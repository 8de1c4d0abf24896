"""Which claims changed decision between two runs, and why: the checks whose status changed.

Runs are the JSON lines of ``claimcheck batch`` (or of ``evaluate``'s results.jsonl).
Claims are matched by ``claim_path`` when both lines have one, else by ``claim_id``.

>>> a = [{"claim_id": "C-1", "decision": "approve", "score": 0.9, "reasons": [],
...       "checks": [{"name": "retailer", "product": None, "status": "pass", "score": 90}]}]
>>> b = [{"claim_id": "C-1", "decision": "review", "score": 0.5, "reasons": [{"code": "RETAILER_NOT_FOUND"}],
...       "checks": [{"name": "retailer", "product": None, "status": "uncertain", "score": 50}]}]
>>> diff_results(a, b)[0]["checks"][0]["status_b"]
'uncertain'
"""
from __future__ import annotations

import json
from pathlib import Path

__all__ = ["diff_runs", "diff_results", "load_run"]


def load_run(path: str | Path) -> list[dict]:
    """Decisions of a run; a torn or blank line is skipped."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def _key(result: dict) -> str:
    return result.get("claim_path") or str(result.get("claim_id"))


def _checks(result: dict) -> dict[tuple, dict]:
    return {(c.get("name"), c.get("product")): c for c in result.get("checks", [])}


def _check_changes(a: dict, b: dict) -> list[dict]:
    ca, cb = _checks(a), _checks(b)
    out = []
    for key in sorted(set(ca) | set(cb), key=lambda k: (str(k[0]), -1 if k[1] is None else k[1])):
        x, y = ca.get(key, {}), cb.get(key, {})
        if x.get("status") == y.get("status") and x.get("score") == y.get("score"):
            continue
        out.append({"name": key[0], "product": key[1], "status_a": x.get("status"), "status_b": y.get("status"),
                    "score_a": x.get("score"), "score_b": y.get("score"), "found_a": x.get("found"),
                    "found_b": y.get("found")})
    return out


def diff_results(run_a: list[dict], run_b: list[dict], *, all_changes: bool = False) -> list[dict]:
    """Per claim whose decision differs (or, with ``all_changes``, whose checks differ): what changed."""
    a = {_key(r): r for r in run_a}
    b = {_key(r): r for r in run_b}
    rows = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if x is None or y is None:
            rows.append({"claim": key, "claim_id": (x or y).get("claim_id"),
                         "decision_a": x.get("decision") if x else None,
                         "decision_b": y.get("decision") if y else None,
                         "only_in": "a" if y is None else "b", "checks": [], "reasons_added": [],
                         "reasons_removed": []})
            continue
        changed = x.get("decision") != y.get("decision")
        checks = _check_changes(x, y)
        if not changed and not (all_changes and checks):
            continue
        ra = [r.get("code") for r in x.get("reasons", [])]
        rb = [r.get("code") for r in y.get("reasons", [])]
        rows.append({"claim": key, "claim_id": x.get("claim_id"), "decision_a": x.get("decision"),
                     "decision_b": y.get("decision"), "score_a": x.get("score"), "score_b": y.get("score"),
                     "reasons_added": [c for c in rb if c not in ra], "reasons_removed": [c for c in ra if c not in rb],
                     "checks": checks, "config_a": x.get("config_hash"), "config_b": y.get("config_hash")})
    return rows


def diff_runs(a: str | Path, b: str | Path, *, all_changes: bool = False) -> list[dict]:
    """Claims that changed decision between run A and run B (JSON lines files), with the checks that changed."""
    return diff_results(load_run(a), load_run(b), all_changes=all_changes)
