"""Requester and operator notices: rendered from `templates/notices/<kind>.j2`, sent once.

A notice is identified by its request id and key; the ledger in the records database makes a
retried activity return the first delivery instead of mailing twice. Links carry tokens derived
here (see `rights.links`), and only the token's hash goes back to the workflow.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from temporalio import activity

from activities.mail import Letter, Mailer, new_message_id
from activities.records import NoticeLedger
from logs import request_context
from rights.activity_inputs import ActivityName, NoticeDelivery, NoticeFacts, SendNoticeInput
from rights.challenges import hash_token
from rights.links import LinkTokens
from rights.models import Recipient, RightsRequest
from rights.notice_content import refuses
from rights.plans import ACCESS_ANSWER_WORDS
from rights.remedies import remedies_for
from rights.residence import country_of
from rights.settings import Settings
from rights.terms import RIGHT_WORDS, SUBMITTABLE_IN_ORDER
from stores.engines import sanitised_database_errors
from templates import TEMPLATES_DIR, template_environment

log = structlog.get_logger()


class NoticeTemplates:
    """Each kind's template defines three blocks: `subject`, `text` and `html`.

    Blocks are rendered one by one, so the shared macros of `_layout.j2` come in the context.
    The environment escapes the HTML block and keeps every printed value on one line without
    control characters, so nothing a requester typed can forge a line of the text block.
    """

    def __init__(self, directory: Path = TEMPLATES_DIR) -> None:
        self._environment = template_environment(directory, trim_blocks=True, lstrip_blocks=True)

    def render(self, kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
        """The kind's subject, plain text and HTML, rendered with `context`."""
        template = self._environment.get_template(f"notices/{kind}.j2")
        layout = self._environment.get_template("notices/_layout.j2").module
        rendered = template.new_context({**context, "layout": layout})
        subject, text, html = (
            "".join(template.blocks[block](rendered)).strip()
            for block in ("subject", "text", "html")
        )
        return subject, text + "\n", html


def with_remedies(input: SendNoticeInput) -> NoticeFacts:
    """The notice's facts, with the requester's remedies on any refusal.

    A notice task a run scheduled before 0.3.0 carries none (its workflow code did not give
    them); it is sent with the regulator and, in the EU and UK, the courts, though without an
    appeal link, which only the run can open.
    """
    facts, request = input.facts, input.request
    if facts.remedies is not None or not refuses(input.kind, kept_back=bool(facts.retained)):
        return facts
    country = country_of(request.requester.residence, request.jurisdiction.value)
    remedies = remedies_for(request.jurisdiction, country, appeal_by=None)
    return facts.model_copy(update={"remedies": remedies})


class NoticeActivities:
    def __init__(
        self,
        settings: Settings,
        mailer: Mailer,
        ledger: NoticeLedger,
        links: LinkTokens,
        templates: NoticeTemplates,
    ) -> None:
        self._settings = settings
        self._mailer = mailer
        self._ledger = ledger
        self._links = links
        self._templates = templates

    @activity.defn(name=ActivityName.SEND_NOTICE)
    def send_notice(self, input: SendNoticeInput) -> NoticeDelivery:
        """Render and send one notice, once: a retry answers from the ledger.

        Synchronous, on an activity thread: the ledger and the mail backend block, and three
        hops to the event loop's small default thread pool per notice made a burst of notices
        queue for it."""
        with (
            request_context(input.request, f"notice:{input.kind.value}"),
            sanitised_database_errors(),
        ):
            return self._send(input)

    def _send(self, input: SendNoticeInput) -> NoticeDelivery:
        request = input.request
        token = self._links.token(request.request_id, input.link) if input.link else None
        hashes = {
            "token_hash": hash_token(token) if token else None,
            "appeal_token_hash": hash_token(
                self._links.token(request.request_id, input.appeal_link)
            )
            if input.appeal_link
            else None,
        }
        already = self._ledger.sent_at(request.request_id, input.key)
        if already is not None:
            log.info("notice_already_sent", key=input.key)
            return NoticeDelivery(key=input.key, sent_at=already, already_sent=True, **hashes)
        letter = self.compose(input, token)
        message_id = self._mailer.send(letter, key=f"{request.request_id}-{input.key}")
        sent_at = datetime.now(UTC)
        self._ledger.record(request.request_id, input.key, input.kind.value, message_id, sent_at)
        log.info("notice_sent", key=input.key, recipient=input.recipient.value)
        return NoticeDelivery(key=input.key, sent_at=sent_at, **hashes)

    def compose(self, input: SendNoticeInput, token: str | None) -> Letter:
        """The letter for `input`, as it would be sent (the token is the link's own)."""
        request = input.request
        recipient = {
            Recipient.REQUESTER: request.agent
            if isinstance(request, RightsRequest) and request.agent and request.agent.is_guardian
            else request.requester,
            Recipient.AGENT: request.agent or request.requester,
        }.get(input.recipient)
        to_address = recipient.email if recipient else self._settings.operator_email
        context = {
            "request": request,
            "facts": with_remedies(input),
            "link": input.link,
            "link_url": self._links.url(request.request_id, input.link) if input.link else None,
            "appeal_url": self._links.url(request.request_id, input.appeal_link)
            if input.appeal_link
            else None,
            "code": token,
            "recipient_name": recipient.full_name if recipient else "privacy team",
            "public_base_url": self._settings.public_base_url,
            "inbound_dir": self._settings.inbound_dir,
            "choices": [(right.value, RIGHT_WORDS[right]) for right in SUBMITTABLE_IN_ORDER],
            "access_words": ACCESS_ANSWER_WORDS.get(input.facts.access_answer)
            if input.facts.access_answer
            else None,
        }
        subject, text, html = self._templates.render(input.kind.value, context)
        return new_letter(
            self._settings,
            to_address,
            (subject, text, html),
            reference=request.request_id,
            kind=input.kind.value,
        )


def new_letter(
    settings: Settings,
    to_address: str,
    rendered: tuple[str, str, str],
    *,
    reference: str,
    kind: str,
) -> Letter:
    """A rendered notice (subject, text, HTML) as the letter every backend sends."""
    subject, text, html = rendered
    return Letter(
        sender=settings.mail_from,
        to=to_address,
        subject=subject,
        text=text,
        html=html,
        reference=reference,
        kind=kind,
        message_id=new_message_id(settings.mail_from.split("@")[-1]),
        date=datetime.now(UTC),
    )
