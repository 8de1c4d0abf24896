"""Moved to ``pipeline.extract.sellers`` (issue #12: extraction comes before matching and the rules in the
stage order); this name is kept for code written against the old path."""
from ..extract.sellers import *  # noqa: F401,F403
