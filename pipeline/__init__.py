"""claimcheck: proof-of-purchase verification for promotion and cashback claims.

Data flows one way: ingest -> read (OCR, PDF text, barcodes) -> extract -> match
-> rules -> decide.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("claimcheck")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
