"""The import graph of ``pipeline/`` follows the stage order: a module imports only from its own unit
(a top-level module, or a subpackage) or from units before it. Imports inside functions count: a
loop hidden by a call-time import is still a loop.

The few arrows that still point backwards are listed in KNOWN_BACKWARD with why; the list can
only shrink (a listed arrow that no longer exists fails too, so it is taken off).
"""
from __future__ import annotations

from pathlib import Path

from pipeline.codegraph import PACKAGE_ROOT, module_imports

STAGES: tuple[tuple[str, ...], ...] = (
    ("__init__", "errors", "records", "codegraph", "data", "datafiles"),  # records; the data files and their reading
    ("knowledge",),              # the knowledge registry (loaders named, imported when loading)
    ("config", "claim", "decision"),  # configuration, the claim and the decision records (contract)
    ("ingest",),                 # bytes -> typed upload -> pages
    ("ocr", "read", "imagehash"),  # reading: engines, the read orchestration, image hashes
    ("extract",),                # text -> facts: dates, totals, items, invoice numbers, sellers, labels
    ("matching",),               # facts vs the claim: models, serials, retailers
    ("cache", "stored_reads"),   # reads and document checks kept (keyed by what they depend on)
    ("checks", "cascade"),       # the contract's document checks; the reading cascade combines two readings' checks
    ("promotions",),             # terms and promotion rules; the claim store interface
    ("integrity",),              # integrity signals (sums use the products' condition words)
    ("db",),                     # the SQL claim store (implements promotions.store.ClaimStore)
    ("decide",),                 # checks -> approve / review / reject
    ("verify",),                 # the one orchestrator
    ("work", "pool", "batch"),   # many claims: one claim's unit of work, watched worker processes, the batch
    ("lab", "samples", "hostile"),  # sample generators, evaluation
    ("prefect_server", "web", "api", "cli"),  # the Prefect server, reviewer workspace, intake API, command line
)
"""Units in stage order (grouped by stage for reading; the order inside a group counts too): a unit
imports only from units listed before it, except through KNOWN_BACKWARD."""

KNOWN_BACKWARD: dict[tuple[str, str], str] = {}

RANK = {unit: i for i, unit in enumerate(u for units in STAGES for u in units)}


def _unit(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _arrows() -> set[tuple[str, str]]:
    out = set()
    for f in sorted(PACKAGE_ROOT.rglob("*.py")):
        if "migrations" in f.parts:  # Alembic's scripts, run by Alembic, not imported by the package
            continue
        for target in module_imports(f, PACKAGE_ROOT):
            out.add((str(f.relative_to(PACKAGE_ROOT)), str(target.relative_to(PACKAGE_ROOT))))
    return out


def test_every_unit_of_the_package_has_its_place_in_the_stage_order():
    units = {_unit(f) for f in PACKAGE_ROOT.rglob("*.py")} | {
        p.name for p in PACKAGE_ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert units <= set(RANK), f"not in STAGES: {sorted(units - set(RANK))}"


def test_no_import_points_backwards_in_the_stage_order():
    backward = []
    for source, target in _arrows():
        a, b = _unit(PACKAGE_ROOT / source), _unit(PACKAGE_ROOT / target)
        if a != b and RANK[b] >= RANK[a] and (source, target) not in KNOWN_BACKWARD:
            backward.append(f"{source} ({a}) imports {target} ({b})")
    assert not backward, "imports against the stage order:\n" + "\n".join(sorted(backward))


def test_the_known_backward_arrows_still_exist():
    assert set(KNOWN_BACKWARD) <= _arrows()


def test_the_loops_named_in_issue_12_are_gone():
    arrows = {(_unit(PACKAGE_ROOT / s), s, t) for s, t in _arrows()}
    assert not any(s.startswith("extract/") and t.startswith("promotions/") for _, s, t in arrows)
    assert not any(s.startswith("promotions/") and t.startswith("db/") for _, s, t in arrows)
    assert ("lab/report.py", "lab/evaluation.py") not in {(s, t) for _, s, t in arrows}
