"""Reviewer actions as labels for the threshold lab (``claimcheck labels export``).

Each claim's newest reviewer action becomes an ``expected.json`` in the contract's shape:
approve -> ``{"decision": "approve"}``, reject -> ``{"decision": "reject", "reasons": [code]}``,
request_info -> ``{"decision": "review", ...}`` (the documents did not settle it). The claim
folder is copied (claim.json and the documents it lists) to ``OUT_DIR/<claim_id>/`` beside
its label (an id that is not a plain file name gets its cleaned form and a hash, so two ids
never share a folder: ``folder_name``), never touching the original, so ``claimcheck evaluate
OUT_DIR`` measures the pipeline against what reviewers decided.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from sqlalchemy import func, select

from ..db import models as m
from .claims import document_names, load_claim_json, resolve_document

__all__ = ["label_for", "export_labels", "folder_name"]

_DECISION = {"approve": "approve", "reject": "reject", "request_info": "review"}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def label_for(action: str, reason_code: str | None, reviewer: str, at: str) -> dict:
    """The expected.json for one reviewer action."""
    label: dict = {"decision": _DECISION[action]}
    if action == "approve":
        label["reasons"] = []
    elif reason_code:
        label["reasons"] = [reason_code]
    label["source"] = {"kind": "reviewer", "reviewer": reviewer, "action": action, "at": at}
    return label


def folder_name(claim_id: str, taken: set[str]) -> str:
    """A folder name for ``claim_id``, never one already ``taken`` (compared case-insensitively):
    the id itself when it is a plain file name, else its cleaned form and a hash of the id, so
    two ids that clean alike ("a/b", "a:b") get folders of their own.

    >>> taken = set(); folder_name("C-1", taken), folder_name("a/b", taken), folder_name("a_b", taken)
    ('C-1', 'a_b-c14cddc0', 'a_b')
    """
    clean = _SAFE.sub("_", claim_id).strip("._")[:100] or "claim"
    name = clean
    if clean != claim_id or clean.casefold() in taken:
        name = f"{clean}-{hashlib.sha256(claim_id.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
    n = 2
    while name.casefold() in taken:  # the hash too (it would take 4 billion ids)
        name, n = f"{clean}-{hashlib.sha256(claim_id.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}-{n}", n + 1
    taken.add(name.casefold())
    return name


def export_labels(store, out_dir: str | Path) -> list[Path]:
    """Write a labelled copy of every claim a reviewer acted on; returns the folders written."""
    A, D = m.ReviewerAction, m.Decision
    out_dir = Path(out_dir)
    newest_action = select(func.max(A.id)).group_by(A.claim_id)
    newest_decision = select(func.max(D.id)).group_by(D.claim_id)
    with store.engine.connect() as conn:
        actions = conn.execute(select(A).where(A.id.in_(newest_action)).order_by(A.claim_id)).all()
        dirs = dict(conn.execute(select(D.claim_id, D.extra["claim_dir"].as_string())
                                 .where(D.id.in_(newest_decision))).all())
    written = []
    taken: set[str] = set()
    plain: set[str] = set()
    for claim_id in sorted({a.claim_id for a in actions}):  # plain ids keep their names, in any order
        if _SAFE.sub("_", claim_id).strip("._") == claim_id and claim_id.casefold() not in taken:
            plain.add(claim_id)
            taken.add(claim_id.casefold())
    for a in actions:
        claim_dir = dirs.get(a.claim_id)
        claim = load_claim_json(claim_dir)
        if claim is None:
            continue
        if a.claim_id in plain:
            name = a.claim_id
        else:
            name = folder_name(a.claim_id, taken)
        target = out_dir / name
        if target.exists():
            shutil.rmtree(target)  # an earlier export's copy: never mixed with this one
        target.mkdir(parents=True)
        shutil.copyfile(Path(claim_dir) / "claim.json", target / "claim.json")
        for name in document_names(claim):
            source = resolve_document(claim_dir, claim, name)
            if source is not None and ".." not in Path(name).parts:
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target / name)
        at = a.created_at.isoformat() if a.created_at else ""
        label = label_for(a.action, a.reason_code, a.reviewer, at)
        (target / "expected.json").write_text(json.dumps(label, indent=2) + "\n", encoding="utf-8")
        written.append(target)
    return written
