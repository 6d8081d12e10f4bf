"""Sending notices from the workflow: one activity call per notice, keyed so a retry is no resend.

A notice SendGrid refuses for good (`MailRejected`) does not stop the run: it is logged and
kept in the case file as undelivered, where the status query and the record show it.
"""

from __future__ import annotations

import logging

from temporalio import workflow
from temporalio.exceptions import ActivityError

from rights.activity_inputs import (
    LinkPurpose,
    LinkSpec,
    NoticeDelivery,
    NoticeFacts,
    SendNoticeInput,
)
from rights.challenges import Challenge
from rights.models import NoticeKind, NoticeSent, Recipient, RightsRequest
from workflows import effects
from workflows.case_file import CaseFile


class Notifier:
    def __init__(self, request: RightsRequest, case_file: CaseFile) -> None:
        # Replaced once an undetermined request learns where its requester lives.
        self.request = request
        self._case_file = case_file

    async def notify(
        self,
        kind: NoticeKind,
        recipient: Recipient,
        facts: NoticeFacts | None = None,
        *,
        link: LinkSpec | None = None,
        appeal_link: LinkSpec | None = None,
        key: str | None = None,
    ) -> NoticeDelivery | None:
        """Send one notice; None if the mail backend refused it for good (it is recorded).

        A removal of a minor's data writes to nobody but the privacy team."""
        if self.request.minor_removal is not None and recipient is not Recipient.OPERATOR:
            return None
        notices = self._case_file.state.notices
        key = key or f"{kind.value}-{sum(notice.kind is kind for notice in notices) + 1}"
        delivery: NoticeDelivery | None
        try:
            delivery = await effects.send_notice(
                SendNoticeInput(
                    request=self.request,
                    kind=kind,
                    key=key,
                    recipient=recipient,
                    facts=facts or NoticeFacts(),
                    link=link,
                    appeal_link=appeal_link,
                )
            )
        except ActivityError:
            self._case_file.log(logging.ERROR, "notice_rejected", kind=kind.value, key=key)
            delivery = None
        # Workflow time, so the record's dates agree with the timers that drove them.
        self._case_file.add_notice(
            NoticeSent(
                kind=kind,
                key=key,
                recipient=recipient,
                sent_at=workflow.now(),
                delivered=delivery is not None,
            )
        )
        return delivery

    async def send_link(
        self,
        kind: NoticeKind,
        purpose: LinkPurpose,
        challenge: Challenge,
        facts: NoticeFacts | None = None,
    ) -> None:
        """A notice whose link answers `challenge`; the challenge learns the token's hash."""
        link = LinkSpec(
            purpose=purpose, nonce=str(workflow.uuid4()), expires_at=challenge.expires_at
        )
        facts = facts or NoticeFacts(attempts_left=challenge.attempts_left)
        delivery = await self.notify(kind, Recipient.REQUESTER, facts, link=link)
        if delivery is not None and delivery.token_hash is not None:
            challenge.token_hashes.append(delivery.token_hash)
        challenge.armed = True
