"""Moved to ``pipeline.extract.labels`` (issue #12: extraction comes before matching and the rules in the
stage order); this name is kept for code written against the old path."""
from ..extract.labels import *  # noqa: F401,F403
