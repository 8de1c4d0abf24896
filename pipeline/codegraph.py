"""The ``pipeline`` package's own import graph, read from the source (imports inside functions too):
what the cached document checks' code hash covers (``pipeline.cache``) and what
``tests/test_import_graph.py`` holds to the stage order.

>>> any(p.name == "records.py" for p in import_closure(("decision.py",)))
True
"""
from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["module_imports", "module_file", "import_closure", "PACKAGE_ROOT"]

PACKAGE_ROOT = Path(__file__).resolve().parent


def module_imports(path: Path, root: Path) -> set[Path]:
    """The ``pipeline`` modules one source file imports (also inside functions), as files under root."""
    package = path.parent.relative_to(root).parts
    out: set[Path] = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # from .x import y / from ..x import y
                head = list(package[:len(package) - node.level + 1]) + (node.module.split(".") if node.module else [])
            elif (node.module or "").split(".")[0] == "pipeline":
                head = node.module.split(".")[1:]
            else:
                continue
            out |= module_file(root, head)
            for alias in node.names:  # a name may be a module of the package
                out |= module_file(root, head + [alias.name])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "pipeline":
                    out |= module_file(root, alias.name.split(".")[1:])
    return out


def module_file(root: Path, parts: list[str]) -> set[Path]:
    """The file of module ``parts`` under root (a package: its ``__init__.py``), if there is one."""
    for candidate in (root.joinpath(*parts).with_suffix(".py") if parts else None,
                      root.joinpath(*parts, "__init__.py")):
        if candidate is not None and candidate.is_file():
            return {candidate}
    return set()


def import_closure(roots: tuple[str, ...], root: Path | None = None) -> list[Path]:
    """The source files of the given modules (paths relative to the package) and of every ``pipeline``
    module they import, directly or not, with the ``__init__.py`` of each package on the way."""
    root = root or PACKAGE_ROOT
    todo = [root / r for r in roots]
    seen: set[Path] = set()
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        inits = {p / "__init__.py" for p in f.parents if p != root and root in p.parents}
        todo.extend((module_imports(f, root) | {i for i in inits if i.is_file()}) - seen)
    return sorted(seen)
