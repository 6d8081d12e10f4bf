"""What a request is waiting on, in words a requester and an operator can act on.

The deadline watch uses this for the extension notice's reason (the blocking step in plain
words, never boilerplate), for the operators' alerts (where it is stuck and what unblocks it),
and to decide that a request waiting only on its requester gets no extension.
"""

from __future__ import annotations

from typing import NamedTuple

from rights.models import Channel, RequestState, RequestStatus, WaitingOn

# The statuses in which a request still waits on someone.
OPEN: frozenset[RequestStatus] = frozenset(
    {
        RequestStatus.RECEIVED,
        RequestStatus.AWAITING_RESIDENCE,
        RequestStatus.AWAITING_AGENT_AUTHORIZATION,
        RequestStatus.AWAITING_VERIFICATION,
        RequestStatus.AWAITING_RECONFIRMATION,
        RequestStatus.AWAITING_APPEAL_DECISION,
        RequestStatus.FULFILLING,
        RequestStatus.RESPONDING,
    }
)


class Blockage(NamedTuple):
    waiting_on: WaitingOn
    # Finishes the requester's "we need more time because …".
    step: str
    # The operators' "stuck at: …", and what moves it on.
    stuck: str
    unblock: str


def blockage(state: RequestState) -> Blockage:
    """Where `state` is stuck, and the command that moves it on."""
    rid = state.request_id
    match state.status:
        case RequestStatus.AWAITING_AGENT_AUTHORIZATION:
            return Blockage(
                WaitingOn.US,
                "our privacy team is reviewing the proof of permission of the agent who made "
                "the request",
                "the agent's proof of permission awaits an operator's decision",
                f"decide: starter.py approve-agent {rid}, or reject-agent {rid} --reason ...",
            )
        case RequestStatus.AWAITING_VERIFICATION:
            return Blockage(
                WaitingOn.REQUESTER,
                "we are waiting for you to confirm your identity",
                "waiting for the requester to confirm their identity",
                f"the requester must answer the verification link; or starter.py "
                f"verify-manually {rid}; or, at the deadline, starter.py deny {rid} --reason ...",
            )
        case RequestStatus.AWAITING_RECONFIRMATION if state.channel is Channel.OPERATOR:
            return Blockage(
                WaitingOn.US,
                "our privacy team is confirming the removal",
                "a minor's data removal awaits a second operator's confirmation",
                f"starter.py confirm-minor-removal {rid} --operator LOGIN (not the one who "
                "started it)",
            )
        case RequestStatus.AWAITING_RECONFIRMATION:
            return Blockage(
                WaitingOn.REQUESTER,
                "we are waiting for you to confirm that you want your data deleted",
                "waiting for the requester to confirm the deletion",
                "the requester must answer the confirmation link; it closes by itself if not",
            )
        case RequestStatus.AWAITING_RESIDENCE:
            return Blockage(
                WaitingOn.REQUESTER,
                "we are waiting for you to tell us where you live",
                "waiting for the requester to say where they live (which law applies)",
                f"the requester must answer the receipt's link; or, told another way, "
                f"starter.py residence {rid} --residence CODE",
            )
        case RequestStatus.AWAITING_APPEAL_DECISION:
            return Blockage(
                WaitingOn.US,
                "our privacy team is reviewing your appeal",
                "the appeal awaits an operator's decision",
                f"decide: starter.py decide-appeal {rid} --grant|--deny --reasons ...",
            )
        case RequestStatus.FULFILLING if state.open_tasks:
            places = ", ".join(sorted({task.provider for task in state.open_tasks}))
            return Blockage(
                WaitingOn.US,
                "our privacy team is completing part of the work by hand",
                f"operator tasks open at {places}",
                f"close the open tasks: starter.py task-done {rid} --provider P "
                "--status done|not_found|retained",
            )
        case RequestStatus.FULFILLING:
            return Blockage(
                WaitingOn.PROVIDER,
                "the companies that hold your information for us are still processing the request",
                "providers' jobs still running",
                f"the providers' jobs are polled on timers; see starter.py status {rid}",
            )
        case _:
            return Blockage(
                WaitingOn.US,
                "we are preparing our answer",
                f"status {state.status.value}",
                f"see starter.py status {rid}",
            )


def waiting_on(state: RequestState) -> WaitingOn:
    """Whose move it is: nobody's once the request is answered."""
    return blockage(state).waiting_on if state.status in OPEN else WaitingOn.NOBODY


def current_details(state: RequestState) -> str:
    """The run's page in the Temporal UI, as markdown: where it stands and by when, naming
    steps, providers and dates only, never the person."""
    what = state.type.value.replace("_", " ")
    lines = [f"**{state.status.value.replace('_', ' ').capitalize()}** · {what} request · "
             f"{state.jurisdiction.value}"]  # fmt: skip
    if state.status in OPEN:
        stuck = blockage(state)
        lines.append(f"Waiting on {stuck.waiting_on.value}: {stuck.stuck}")
    extended = " (extended)" if state.extended else ""
    lines.append(f"Respond by {state.respond_by}{extended} · received {state.due_dates.received}")
    if state.status is RequestStatus.AWAITING_VERIFICATION:
        lines.append(f"Verification answers so far: {state.verification_attempts}")
    if state.open_tasks:
        lines.append("Open tasks: " + ", ".join(sorted(t.provider for t in state.open_tasks)))
    for pause in state.clock_pauses:
        lines.append(f"Clock paused {pause.paused_on} to {pause.restarted_on}")
    return "\n\n".join(lines)
