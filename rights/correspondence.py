"""Messages the service receives that are not (yet) rights requests, tracked all the same.

The privacy policy names one address for requests, complaints and questions. What arrives
there and is not a request a run can carry out on its own becomes correspondence: a complaint
or question the privacy team answers in writing; a message a person must read first (triage:
a reply to one of our notices, an agent's letter, a forwarded one, one whose sender could not be
authenticated, a right not yet handled end to end); or a "which request do you mean?" reply.
Each is a `CorrespondenceWorkflow` run with its own record, so none lapses in an inbox.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field

from rights.models import (
    REQUEST_ID_PATTERN,
    Agent,
    Channel,
    LongText,
    Model,
    NoticeSent,
    Requester,
)
from rights.terms import Jurisdiction


class CorrespondenceKind(StrEnum):
    # A complaint or a question: acknowledged at once, answered by the privacy team.
    COMPLAINT = "complaint"
    # A message a person must read before anything is done with it.
    TRIAGE = "triage"
    # It names no request we can tell: the sender gets the request form's links.
    CHOOSE_REQUEST = "choose_request"


class TriageReason(StrEnum):
    UNAUTHENTICATED = "unauthenticated"
    REPLY_TO_NOTICE = "reply_to_notice"
    FORWARDED = "forwarded"
    AGENT = "agent"
    NOT_SUBMITTABLE = "not_submittable"


TRIAGE_WORDS: dict[TriageReason, str] = {
    TriageReason.UNAUTHENTICATED: "its sender failed both SPF and DKIM, so it may be forged; "
    "nothing was sent to the address it claims",
    TriageReason.REPLY_TO_NOTICE: "it answers one of our notices",
    TriageReason.FORWARDED: "it was forwarded, so its author may not be its sender",
    TriageReason.AGENT: "it comes from someone acting for another person, whose permission "
    "must be reviewed",
    TriageReason.NOT_SUBMITTABLE: "it asks for a right this service does not yet carry out on "
    "its own",
}
"""Why a message waits for a person, in the words of the privacy team's notice."""


class CorrespondenceStatus(StrEnum):
    AWAITING_REPLY = "awaiting_reply"
    AWAITING_TRIAGE = "awaiting_triage"
    ANSWERED = "answered"
    TRIAGED = "triaged"
    SENT = "sent"


class Correspondence(Model):
    """A message as its run is started with: who sent it, what it is, where it is kept.

    `request_id` is the correspondence id, named so that notices give it as the reference as
    they do a request's. The message itself is never here: its text is a file under
    `DATA_DIR/inbound/<request_id>/` for the privacy team to read.
    """

    request_id: str
    type: CorrespondenceKind
    jurisdiction: Jurisdiction
    requester: Requester
    agent: Agent | None = None
    channel: Channel
    # Stamped by its run when it starts: the moment the service accepted the message.
    received_at: AwareDatetime | None = None
    reason: TriageReason | None = None
    # A request this message answers (a reply to one of its notices), when it names one.
    about_request: str | None = None
    attachments: Annotated[int, Field(ge=0)] = 0


class CorrespondencePolicy(Model):
    """Timing fixed into the run from the settings when it starts."""

    reply_days: int = 30
    triage_days: int = 5
    escalation_days: tuple[int, ...] = (14, 7, 3, 1)


class CorrespondenceInput(Model):
    correspondence: Correspondence
    policy: CorrespondencePolicy = CorrespondencePolicy()


class ComplaintReply(Model):
    """The privacy team's written answer to a complaint or question, sent as written."""

    reply: LongText


class TriageDone(Model):
    """The privacy team has dealt with a message: how, and the request it started, if any.

    The note stays in the Update (encrypted in history); the state and the record keep only
    "triaged" and the request id, so no personal detail a note may hold reaches them.
    """

    note: Annotated[str, Field(min_length=3, max_length=1000)]
    started_request: Annotated[str, Field(pattern=REQUEST_ID_PATTERN)] | None = None


class CorrespondenceState(BaseModel):
    """A message's progress, with no personal data: what the status query and the record show."""

    correspondence_id: str
    type: CorrespondenceKind
    jurisdiction: Jurisdiction
    channel: Channel
    received_at: datetime
    status: CorrespondenceStatus
    reason: TriageReason | None = None
    about_request: str | None = None
    # The UK's Data (Use and Access) Act 2025 wants complaints acknowledged within 30 days.
    acknowledged_at: datetime | None = None
    answer_by: date
    answered_at: datetime | None = None
    outcome: str | None = None
    notices: list[NoticeSent] = []
    closed_at: datetime | None = None


def correspondence_workflow_id(correspondence_id: str) -> str:
    """The run's id: opaque, like a request's (no address, no subject in it)."""
    return f"correspondence-{correspondence_id}"
