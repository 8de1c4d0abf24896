"""``/claims/{id}/documents/{name}``: a claim's file as uploaded, or (``?page=N``) the page as the
pipeline read it, as PNG. Only the files the claim lists, only inside its folder; never rendered
by the browser unless it is a document type."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, PlainTextResponse, Response

from ...errors import ClaimcheckError
from .. import claims
from ..pages import reviewer, state
from .claim import claim_context

router = APIRouter()

_DOC_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


@router.get("/claims/{claim_seg}/documents/{name:path}")
def document(request: Request, claim_seg: str, name: str, page: int | None = None):
    reviewer(request)
    web = state(request)
    claim_id = claims.from_url_id(claim_seg)
    found = claim_context(web, claim_id)
    if found is None:
        return PlainTextResponse("no such claim", status_code=404)
    _latest, record, claim, _saved = found
    if name not in claims.document_names(claim):
        return PlainTextResponse("no such document in this claim", status_code=404)
    path = claims.resolve_document(record.get("claim_dir"), claim, name)
    if path is None:
        return PlainTextResponse("document outside the claim's folder or missing", status_code=403)
    if page is not None:
        try:
            data = claims.render_page_png(path, page, web.config)
        except IndexError:
            return PlainTextResponse("no such page", status_code=404)
        except ClaimcheckError as exc:
            return PlainTextResponse(f"cannot render: {exc.message}", status_code=422)
        return Response(data, media_type="image/png", headers=_DOC_HEADERS)
    media = claims.media_type(path)
    if media is None:  # not a document type: never rendered by the browser
        return FileResponse(path, media_type="application/octet-stream", headers=_DOC_HEADERS,
                            filename=path.name, content_disposition_type="attachment")
    return FileResponse(path, media_type=media, headers=_DOC_HEADERS, filename=path.name,
                        content_disposition_type="inline")
