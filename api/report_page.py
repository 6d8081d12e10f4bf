"""The access report's page, while its link is valid: readable, as JSON, or (portability) as a
zip of JSON and CSV files. The token is checked against the report's manifest.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from api.pages import (
    LINK_TOKEN,
    REQUEST_ID,
    Ctx,
    bad_link,
    link_closed,
    message_page,
    not_ours,
    page,
    read_json,
    throttled,
    too_many,
    wrong_token,
)
from rights.activity_inputs import LinkPurpose

router = APIRouter(prefix="/r/{request_id}", include_in_schema=False)

REPORT_FILES = {"json": ("report.json", "application/json"), "zip": ("export.zip", None)}


@router.get("/report", response_model=None)
async def report(
    request_id: str, request: Request, ctx: Ctx, token: str = "", format: str = "html"
) -> Response:
    """The access report while its link is valid: a readable page, `json`, or `zip`."""
    if await throttled(ctx, request, request_id):
        return too_many(ctx, request, request_id)
    if not REQUEST_ID.match(request_id):
        return not_ours(ctx, request)
    if not LINK_TOKEN.match(token):
        await wrong_token(ctx, request, request_id, "report", "malformed token")
        return bad_link(ctx, request, request_id)
    folder = ctx.settings.reports_dir / request_id
    manifest = await asyncio.to_thread(read_json, folder / "manifest.json")
    if manifest is None:
        return link_closed(ctx, request, request_id)
    if not ctx.links.matches(request_id, LinkPurpose.REPORT, manifest["nonce"], token):
        await wrong_token(ctx, request, request_id, "report", "wrong token")
        return bad_link(ctx, request, request_id)
    if datetime.fromisoformat(manifest["expires_at"]) <= datetime.now(UTC):
        return link_closed(ctx, request, request_id)
    if format in REPORT_FILES:
        name, media_type = REPORT_FILES[format]
        if not (folder / name).is_file():
            return message_page(
                ctx, request, request_id, "Not part of this report", "", status_code=404
            )
        return FileResponse(folder / name, media_type=media_type, filename=name)
    if format != "html":
        return message_page(
            ctx, request, request_id, "Unknown format", "Ask for html, json or zip.", 400
        )
    content = await asyncio.to_thread(read_json, folder / "report.json")
    if content is None:
        return link_closed(ctx, request, request_id)
    base = f"{ctx.settings.public_base_url}/r/{request_id}/report?token={token}"
    downloads = {"JSON": f"{base}&format=json"}
    if (folder / "export.zip").is_file():
        downloads["CSV files and JSON (zip)"] = f"{base}&format=zip"
    return page(ctx, request, "report", request_id=request_id, report=content, downloads=downloads)
