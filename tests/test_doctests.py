"""The examples in the pipeline's docstrings run as tests: an example that no longer holds is a
document that lies (one did: a check's status is an enum, not the string it compares equal to)."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pipeline

MODULES = sorted(m.name for m in pkgutil.walk_packages(pipeline.__path__, "pipeline.")
                 if ".db.migrations" not in m.name)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
