"""``integrity_checks``: every integrity signal of ``[integrity].checks`` for one claim's uploads,
one check per signal (the first document that raised it gives the evidence).

>>> from pipeline.config import default_config
>>> sorted(default_config().integrity.checks)[:2]
['image_editor', 'image_patch']
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from ..checks import Read
from ..claim import Claim
from ..config import Config
from ..decision import Check
from ..errors import ClaimcheckError
from ..records import DocumentRead
from .dates import check_invoice_dates
from .documents import PDF_CHECKS, image_editor_check, pdf_checks
from .knowledge import default_integrity
from .patches import image_patch_check, read_pixels
from .screens import image_screen_check
from .sums import check_invoice_sums

__all__ = ["integrity_checks", "SIGNALS"]

SIGNALS = ("invoice_sums", "invoice_dates", *PDF_CHECKS, "image_editor", "image_screen", "image_patch")
"""Every integrity signal a document can raise (``[integrity].checks`` picks among them)."""

_RANK = {"fail": 0, "uncertain": 1, "pass": 2, "skipped": 3}
_log = logging.getLogger(__name__)


def _merge(checks: list[Check]) -> list[Check]:
    """One check per name: the worst status across documents, the first raised first."""
    best: dict[str, Check] = {}
    for c in checks:
        if c.name not in best or _RANK[c.status] < _RANK[best[c.name].status]:
            best[c.name] = c
    return list(best.values())


def _read_again(folder: Path, config: Config, name: str, doc: DocumentRead, number: int,
                boxes: Sequence) -> list[tuple[str, float]]:
    """PP-OCR's reading of each box of page ``number`` of upload ``name`` (a margin of half the text's
    height above and below, a height left and right); ('', 0) for each when it cannot read them."""
    from ..ocr import ppocr

    try:
        grey = read_pixels(folder, name, doc, number, config)
        if grey is None:
            return [("", 0.0)] * len(boxes)
        crops = []
        for x0, y0, x1, y1 in boxes:
            h = max(4, y1 - y0)
            crops.append(grey[max(0, y0 - h // 2):y1 + h // 2, max(0, x0 - h):x1 + h])
        readable = [i for i, c in enumerate(crops) if c.shape[0] >= 4 and c.shape[1] >= 4]
        texts = ppocr.recognise([crops[i] for i in readable], config.ppocr, what=f"{name} p.{number}")
        out = [("", 0.0)] * len(boxes)
        for i, text in zip(readable, texts, strict=True):
            out[i] = text
        return out
    except (ClaimcheckError, OSError, ValueError) as exc:
        _log.warning("reading figures of %s again: %s", name, exc)
        return [("", 0.0)] * len(boxes)


def integrity_checks(claim: Claim, folder: Path | None, invoices: Sequence[Read], photos: Sequence[Read],
                     doc_checks: Sequence[Check], config: Config) -> list[Check]:
    """The integrity signals of the claim's uploads (invoices and serial photos)."""
    wanted = set(config.integrity.checks)
    if not wanted:
        return []
    from ..ocr.pdf import pdf_forensics

    kb = default_integrity()
    out: list[Check] = []
    if "invoice_sums" in wanted:
        read_again = None if folder is None else partial(_read_again, folder, config)
        out.append(check_invoice_sums(claim, invoices, doc_checks, min_conf=config.duplicates.read_min_conf,
                                      knowledge=kb, read_again=read_again))
    if "invoice_dates" in wanted:
        out.append(check_invoice_dates(claim, invoices, doc_checks, min_conf=config.duplicates.read_min_conf,
                                       knowledge=kb.dates))
    models = [p.model for p in claim.product_list if p.model]
    for name, doc in [*invoices, *photos]:
        if not isinstance(doc, DocumentRead) or folder is None:
            continue
        path = (folder / name).resolve()
        if doc.kind == "pdf" and wanted & set(PDF_CHECKS):
            try:
                forensics = pdf_forensics(path.read_bytes(), name, config.ingest, dpi=kb.pdf.dpi)
            except (ClaimcheckError, OSError) as exc:  # read once already: a second failure is not the claim's
                _log.warning("integrity of %s: %s", name, exc)
                continue
            out += [c for c in pdf_checks(name, forensics, dpi=config.ingest.pdf_dpi, models=models, knowledge=kb)
                    if c.name in wanted]
        elif doc.kind != "pdf" and "image_editor" in wanted:
            out.append(image_editor_check(name, path, knowledge=kb))
        if doc.kind != "pdf" and "image_screen" in wanted and any(name == n for n, _ in invoices):
            out.append(image_screen_check(name, path, knowledge=kb.screens))
    if "image_patch" in wanted and folder is not None:
        out.append(image_patch_check(folder, invoices, doc_checks, models, config, kb=kb.patch))
    return _merge(out)
