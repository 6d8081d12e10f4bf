"""`POST /v1/inbound/email`: the privacy address's mail, as SendGrid Inbound Parse posts it.

SendGrid posts each message as a multipart form (`from`, `to`, `subject`, `text`, `html`,
`headers`, `envelope`, `SPF`, `dkim`, `charsets`, `attachments`, `attachment1`…), with the
basic-auth credentials configured in its URL (`INBOUND_PARSE_CREDENTIALS`, compared in constant
time). `rights.inbound_mail` decides what the message is; this module acts on it:

- a rights request is admitted and started as if by intake (channel `email`), the sender's
  address the requester's (the verification link proves it is theirs);
- a complaint, a triage item or a "which request?" reply starts a `CorrespondenceWorkflow`;
- an auto-reply or a bounce is a log line and nothing else.

The message's text (and an agent's attachments) is kept under `DATA_DIR/inbound/<id>/` for the
privacy team; the raw message never reaches Temporal or a log. Ids are derived from the
Message-ID, so SendGrid's redelivery of one message starts one run. Every outcome is 200, so
SendGrid stops retrying; an outage of Temporal or the disk is 5xx, so it retries.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from email.parser import HeaderParser
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, EmailStr, TypeAdapter, ValidationError
from starlette.datastructures import UploadFile

from api.context import ApiContext, context
from api.intake import error_response
from client import correspondence, rights_requests
from rights.correspondence import Correspondence, CorrespondenceKind
from rights.inbound_mail import InboundMessage, MessageReading, Reading, new_text, read_message
from rights.models import Channel, NewRequest, Requester
from rights.terms import RequestType
from rights.text import name_problem
from stores.inbound_messages import Attachment, keep_message

router = APIRouter(prefix="/v1", tags=["inbound email"])
log = structlog.get_logger()

# The most attachments, and the kinds, kept beside an agent's letter.
MAX_ATTACHMENTS = 10
KEPT_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/gif", "text/plain"}
KIND_OF_READING = {
    Reading.COMPLAINT: CorrespondenceKind.COMPLAINT,
    Reading.TRIAGE: CorrespondenceKind.TRIAGE,
    Reading.CHOOSE_REQUEST: CorrespondenceKind.CHOOSE_REQUEST,
}
_EMAIL = TypeAdapter(EmailStr)


class InboundOutcome(BaseModel):
    """What became of the message: `request`, `complaint`, `triage`, `choose_request`,
    `ignored` or `duplicate`, with the id of the run it started."""

    outcome: str
    id: str | None = None
    reason: str | None = None


class _Text(HTMLParser):
    """An HTML-only message's text, one block per line, without its markup or scripts."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skipping += 1
        if tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "blockquote":
            self.parts.append("> ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skipping = max(self._skipping - 1, 0)
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The readable text of an HTML body."""
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts).strip()


def authorized(request: Request, ctx: ApiContext) -> JSONResponse | None:
    """None when the request carries the configured basic-auth credentials, else the refusal."""
    configured = ctx.settings.inbound_parse_credentials
    if configured is None:
        return error_response(
            503, "INBOUND_PARSE_CREDENTIALS", "email intake is not configured on this service"
        )
    presented = b""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            presented = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            presented = b""
    if not hmac.compare_digest(presented, configured.get_secret_value().encode()):
        response = error_response(401, "Authorization", "the Inbound Parse credentials are wrong")
        response.headers["WWW-Authenticate"] = 'Basic realm="inbound-email"'
        return response
    return None


@router.post("/inbound/email", response_model=InboundOutcome)
async def inbound_email(
    request: Request,
    ctx: Annotated[ApiContext, Depends(context)],
    content_type: Annotated[str, Header()] = "",
) -> InboundOutcome | JSONResponse:
    """One email to the privacy address, as SendGrid Inbound Parse posts it."""
    refused = authorized(request, ctx)
    if refused is not None:
        return refused
    if not content_type.startswith("multipart/form-data"):
        return error_response(415, "Content-Type", "Inbound Parse posts multipart/form-data")
    limit = ctx.settings.inbound_max_body_bytes
    form = await request.form(max_files=MAX_ATTACHMENTS * 2, max_part_size=limit)
    fields = {name: value for name, value in form.items() if isinstance(value, str)}
    files = [value for value in form.values() if isinstance(value, UploadFile)]
    headers = {
        name.lower(): str(value)
        for name, value in HeaderParser().parsestr(fields.get("headers", "")).items()
    }
    name, address = parseaddr(fields.get("from", "") or headers.get("from", ""))
    try:
        sender = _EMAIL.validate_python(address)
    except ValidationError:
        log.info("inbound_ignored", reason="no_sender")
        return InboundOutcome(outcome="ignored", reason="no_sender")
    text = fields.get("text", "") or html_text(fields.get("html", ""))
    message = InboundMessage(
        sender=sender,
        subject=fields.get("subject", ""),
        text=text,
        headers=headers,
        spf=fields.get("SPF", "none"),
        dkim=fields.get("dkim", "none"),
        content_type=headers.get("content-type", "text/plain"),
    )
    our_domain = ctx.settings.mail_from.split("@")[-1]
    reading = read_message(message, our_domain)
    if reading.reading is Reading.IGNORED:
        assert reading.ignored is not None
        log.info("inbound_ignored", reason=reading.ignored.value)
        return InboundOutcome(outcome="ignored", reason=reading.ignored.value)
    message_id = headers.get("message-id") or "\0".join(
        (sender, message.subject, headers.get("date", ""), text)
    )
    item_id = ctx.links.message_id(message_id)
    requester = Requester(
        full_name=name if name and name_problem(name) is None else sender.split("@")[0],
        email=sender,
        residence=reading.residence,
    )
    kept = await _attachments(files) if reading.triage is not None else []
    keep_message(ctx.settings.inbound_dir, item_id, text, kept)
    try:
        if reading.reading is Reading.REQUEST:
            return await _start_request(ctx, item_id, reading, requester, text)
        return await _start_correspondence(ctx, item_id, reading, requester, len(kept))
    except rights_requests.DuplicateRequest:
        log.info("inbound_duplicate", id=item_id)
        return InboundOutcome(outcome="duplicate", id=item_id)


async def _start_request(
    ctx: ApiContext, item_id: str, reading: MessageReading, requester: Requester, text: str
) -> InboundOutcome | JSONResponse:
    assert reading.type is not None
    # A correction said in words goes to the privacy team with the words; no other request
    # carries the message's text into its run.
    details = new_text(text).strip()[:5000] if reading.type is RequestType.CORRECTION else None
    new = NewRequest(
        type=reading.type,
        jurisdiction=reading.jurisdiction,
        requester=requester,
        channel=Channel.EMAIL,
        details=details or None,
    )
    try:
        await rights_requests.submit_request(
            ctx.client, ctx.settings, new, request_id=item_id, received_at=ctx.clock()
        )
    except rights_requests.DuplicateRequest:
        raise
    except rights_requests.RequestRefused as error:
        field, _, problem = str(error).partition(": ")
        return error_response(422, field, problem)
    log.info("inbound_request", id=item_id, request_type=reading.type.value)
    return InboundOutcome(outcome="request", id=item_id)


async def _start_correspondence(
    ctx: ApiContext,
    item_id: str,
    reading: MessageReading,
    requester: Requester,
    attachments: int,
) -> InboundOutcome:
    message = Correspondence(
        request_id=item_id,
        type=KIND_OF_READING[reading.reading],
        jurisdiction=reading.jurisdiction,
        requester=requester,
        channel=Channel.EMAIL,
        reason=reading.triage,
        about_request=reading.about_request,
        attachments=attachments,
    )
    await correspondence.start_correspondence(ctx.client, ctx.settings, message)
    reason = reading.triage.value if reading.triage else None
    log.info("inbound_correspondence", id=item_id, kind=message.type.value, reason=reason)
    return InboundOutcome(outcome=message.type.value, id=item_id, reason=reason)


async def _attachments(files: list[UploadFile]) -> list[Attachment]:
    """The attachments worth keeping for the privacy team: documents and images, at most ten."""
    kept: list[Attachment] = []
    for upload in files[:MAX_ATTACHMENTS]:
        kind = (upload.content_type or "").split(";")[0].strip().lower()
        if kind in KEPT_TYPES:
            kept.append(Attachment(upload.filename or "attachment", kind, await upload.read()))
    return kept
