"""The command line for intake systems and operators: submit, inspect and steer requests.

Every command prints one JSON object on success; on failure, one line naming the problem on
stderr and exit status 2. `deadlines` needs no server: it is the deadline engine itself.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import date, timedelta
from typing import Any, NoReturn

from pydantic import BaseModel, ValidationError
from temporalio.client import Client

from client import connection, correspondence, rights_requests
from client.desk import DeskFilter, DeskRow, list_requests
from client.schedules import apply_schedules, report_metrics
from rights.codec import PayloadKeyError
from rights.correspondence import ComplaintReply, TriageDone
from rights.deadlines import RightNotGranted, due_dates
from rights.models import (
    Agent,
    AgentRole,
    AppealDecision,
    AppealFiling,
    Channel,
    CorrectionItem,
    DataPoint,
    DenyInput,
    ExtendInput,
    MinorRemoval,
    NewRequest,
    OperatorNote,
    OutcomeStatus,
    ProviderTaskDone,
    ReconfirmationAnswer,
    Requester,
    RequestState,
    RequestStatus,
    ResidenceAnswer,
    RetentionGround,
    SecondOperator,
    StepState,
    VerificationAnswer,
    WaitingOn,
)
from rights.settings import Settings, SettingsError, load_settings
from rights.terms import Jurisdiction, RequestType


class CommandError(Exception):
    pass


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments are one line on stderr naming the problem, for scripts and people alike."""

    def error(self, message: str) -> NoReturn:
        """One line naming the problem, and exit 2."""
        self.exit(2, f"error: {message}\n")


def _days(value: str) -> timedelta:
    days = value.removesuffix("d")
    if not days.isdigit() or not 0 < int(days) <= 366:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of days such as 7d")
    return timedelta(days=int(days))


def _who(command: argparse.ArgumentParser) -> None:
    """Every operator command names who runs it, for the request's status and its record."""
    command.add_argument(
        "--operator",
        default=os.environ.get("RIGHTS_OPERATOR") or getpass.getuser(),
        help="your login, recorded with the action (default: $RIGHTS_OPERATOR, else your user)",
    )


def _choice(kind: type[Any], label: str) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            raise argparse.ArgumentTypeError(
                f"unknown {label} {value!r} (expected one of: {allowed})"
            ) from None

    return parse


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date in YYYY-MM-DD form") from None


def _correction(value: str) -> CorrectionItem:
    field, separator, corrected = value.partition("=")
    if not separator:
        raise argparse.ArgumentTypeError(f"{value!r} is not FIELD=VALUE")
    return CorrectionItem(field=field, corrected_value=corrected)


def _data_point(value: str) -> tuple[DataPoint, str]:
    name, separator, given = value.partition("=")
    if not separator:
        raise argparse.ArgumentTypeError(f"{value!r} is not NAME=VALUE")
    point: DataPoint = _choice(DataPoint, "data point")(name)
    return point, given


def build_parser() -> argparse.ArgumentParser:
    """The command line, every command and option."""
    parser = OneLineParser(prog="starter.py", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    deadlines = commands.add_parser("deadlines", help="due dates for a jurisdiction and type")
    deadlines.add_argument(
        "--jurisdiction", required=True, type=_choice(Jurisdiction, "jurisdiction")
    )
    deadlines.add_argument("--type", required=True, type=_choice(RequestType, "request type"))
    deadlines.add_argument("--received", required=True, type=_iso_date)
    deadlines.add_argument("--eu-establishment", default=None)

    submit = commands.add_parser("submit", help="start a request")
    submit.add_argument("--type", required=True, type=_choice(RequestType, "request type"))
    submit.add_argument("--jurisdiction", required=True, type=_choice(Jurisdiction, "jurisdiction"))
    submit.add_argument("--email", required=True)
    submit.add_argument("--name", required=True)
    submit.add_argument("--phone")
    submit.add_argument("--channel", default="web_form", type=_choice(Channel, "channel"))
    submit.add_argument("--details")
    submit.add_argument("--specific-pieces", action="store_true")
    submit.add_argument(
        "--correct", action="append", type=_correction, default=[], metavar="FIELD=VALUE"
    )
    submit.add_argument("--agent-name")
    submit.add_argument("--agent-email")
    submit.add_argument("--agent-authorization-url")
    submit.add_argument(
        "--agent-role",
        type=_choice(AgentRole, "agent role"),
        default=AgentRole.AUTHORIZED_AGENT,
        help="parent_or_guardian for a parent or guardian acting for a minor",
    )
    submit.add_argument("--request-id")

    removal = commands.add_parser(
        "remove-minor", help="remove a minor's data the company learned it holds"
    )
    removal.add_argument(
        "--jurisdiction", required=True, type=_choice(Jurisdiction, "jurisdiction")
    )
    removal.add_argument("--email", required=True, help="the address the minor's data is under")
    removal.add_argument("--name", required=True)
    removal.add_argument("--operator", required=True, help="your login: who started it")
    removal.add_argument("--reason", required=True, help="how the team learned it is a minor's")
    confirm_removal = commands.add_parser(
        "confirm-minor-removal", help="confirm, as a second operator, a minor's data removal"
    )
    confirm_removal.add_argument("request_id")
    confirm_removal.add_argument("--operator", required=True, help="your login")

    scheduled = commands.add_parser("schedules", help="the schedules that keep the records")
    scheduled.add_argument("action", choices=["apply"])
    metrics = commands.add_parser("metrics", help="a year's request metrics (11 CCR §7102)")
    metrics.add_argument("--year", required=True, type=int)

    desk = commands.add_parser("list", help="open requests, soonest deadline first")
    desk.add_argument("--status", type=_choice(RequestStatus, "status"))
    desk.add_argument("--type", type=_choice(RequestType, "request type"))
    desk.add_argument("--jurisdiction", type=_choice(Jurisdiction, "jurisdiction"))
    desk.add_argument("--overdue", action="store_true", help="past their response deadline")
    desk.add_argument("--due-within", type=_days, metavar="Nd", help="deadline within N days")
    desk.add_argument(
        "--waiting-on",
        type=_choice(WaitingOn, "waiting on"),
        help="whose move it is: us, requester or provider",
    )
    desk.add_argument("--closed-too", action="store_true", help="answered requests as well")
    desk.add_argument("--json", action="store_true")
    show = commands.add_parser("show", help="one request, step by step, for a person to read")
    show.add_argument("request_id")

    commands.add_parser("status", help="the request step by step").add_argument("request_id")
    for name in ("approve-agent", "verify-manually", "withdraw"):
        command = commands.add_parser(name)
        command.add_argument("request_id")
        command.add_argument("--note")
        _who(command)
    for name in ("reject-agent", "deny"):
        command = commands.add_parser(name)
        command.add_argument("request_id")
        command.add_argument("--reason", required=True)
        _who(command)

    done = commands.add_parser("task-done", help="close an operator task for one provider")
    done.add_argument("request_id")
    done.add_argument("--provider", required=True)
    done.add_argument("--status", required=True, type=_choice(OutcomeStatus, "outcome"))
    done.add_argument("--basis", help="with --status retained: the law or exemption, in words")
    done.add_argument(
        "--ground",
        type=_choice(RetentionGround, "ground"),
        default=RetentionGround.LEGAL_OBLIGATION,
        help="with --status retained: legal_obligation (default) or exemption",
    )
    done.add_argument("--note")
    _who(done)

    extend = commands.add_parser("extend", help="extend the response deadline once, with a reason")
    extend.add_argument("request_id")
    extend.add_argument("--reason", required=True)
    extend.add_argument("--days", required=True, type=int)
    _who(extend)

    verify = commands.add_parser("answer-verification", help="what the verification link sends")
    verify.add_argument("request_id")
    verify.add_argument("--token", required=True)
    verify.add_argument(
        "--data-point", action="append", type=_data_point, default=[], metavar="NAME=VALUE"
    )
    verify.add_argument("--declaration-signed", action="store_true")

    confirm = commands.add_parser("confirm-deletion", help="what the reconfirmation link sends")
    confirm.add_argument("request_id")
    confirm.add_argument("--token", required=True)

    appeal = commands.add_parser("appeal", help="file a requester's appeal of a decision")
    appeal.add_argument("request_id")
    appeal.add_argument("--reason", required=True)
    appeal.add_argument("--channel", default="support_desk", type=_choice(Channel, "channel"))

    decide = commands.add_parser("decide-appeal", help="grant or deny an appeal, with reasons")
    decide.add_argument("request_id", metavar="appeal_id")
    outcome = decide.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--grant", action="store_const", dest="outcome", const="granted")
    outcome.add_argument("--deny", action="store_const", dest="outcome", const="denied")
    decide.add_argument("--reasons", required=True)
    _who(decide)

    residence = commands.add_parser(
        "residence", help="record where the requester lives, told another way than the link"
    )
    residence.add_argument("request_id")
    residence.add_argument("--residence", required=True, help="ISO 3166 code: US-CA, DE, GB")

    message = commands.add_parser("message-status", help="a complaint's or triage item's state")
    message.add_argument("request_id", metavar="correspondence_id")

    reply = commands.add_parser("reply-complaint", help="answer a complaint or question")
    reply.add_argument("request_id", metavar="correspondence_id")
    reply.add_argument("--reply", required=True, help="the answer as sent; blank lines part it")

    triaged = commands.add_parser("triage-done", help="close an email the team has dealt with")
    triaged.add_argument("request_id", metavar="correspondence_id")
    triaged.add_argument("--note", required=True)
    triaged.add_argument("--started-request", help="the request it became, if any")
    return parser


def deadlines_command(args: argparse.Namespace, settings: Settings | None) -> dict[str, Any]:
    """The due dates, straight from the deadline engine."""
    establishment = args.eu_establishment or (settings.eu_establishment if settings else "IE")
    try:
        dates = due_dates(
            args.jurisdiction, args.type, args.received, eu_establishment=establishment
        )
    except (RightNotGranted, ValueError) as error:
        raise CommandError(str(error)) from None
    return dates.model_dump(mode="json")


def new_request(args: argparse.Namespace) -> NewRequest:
    """The request the `submit` options describe."""
    agent = None
    if args.agent_name or args.agent_email:
        agent = Agent(
            full_name=args.agent_name or "",
            email=args.agent_email or "",
            authorization_url=args.agent_authorization_url,
            acts_as=args.agent_role,
        )
    return NewRequest(
        type=args.type,
        jurisdiction=args.jurisdiction,
        requester=Requester(full_name=args.name, email=args.email, phone=args.phone),
        agent=agent,
        channel=args.channel,
        details=args.details,
        specific_pieces=args.specific_pieces,
        corrections=args.correct,
    )


def desk_table(rows: list[DeskRow]) -> str:
    """The desk's list as aligned columns."""
    header = ("REQUEST", "TYPE", "LAW", "STATUS", "WAITING ON", "RESPOND BY", "DAYS LEFT")
    lines = [
        (
            row.request_id,
            row.type,
            row.jurisdiction,
            row.status,
            row.waiting_on or "-",
            str(row.respond_by or "-"),
            "-" if row.days_left is None else str(row.days_left),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in (header, *lines)) for i in range(len(header))]
    table = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (header, *lines)
    ]
    return "\n".join([*table, f"({len(rows)} requests)"])


def readable(state: RequestState) -> str:
    """A request's state as a person reads it: its dates, steps, notices, tasks and who acted."""
    due = state.due_dates
    lines = [
        f"{state.request_id}: {state.type.value.replace('_', ' ')} request, "
        f"{state.jurisdiction.value}, {state.channel.value}",
        f"  status      {state.status.value}",
        f"  received    {due.received}",
        f"  respond by  {state.respond_by}{' (extended)' if state.extended else ''}"
        f"  [{due.legal_basis.respond_by}]",
        "steps:",
        *(
            f"  {step.name.value:<26}{step.status.value:<9}{_when(step):<18}"
            f"{step.note or ''}".rstrip()
            for step in state.steps
        ),
    ]
    if state.notices:
        lines.append("notices:")
        lines += [f"  {n.sent_at:%Y-%m-%d %H:%M}  {n.kind.value} to {n.recipient.value}"
                  for n in state.notices]  # fmt: skip
    if state.open_tasks:
        lines.append("open tasks:")
        lines += [f"  {task.provider}: {task.detail}" for task in state.open_tasks]
    if state.operator_actions:
        lines.append("operator actions:")
        lines += [f"  {a.at:%Y-%m-%d %H:%M}  {a.action} by {a.operator or '?'}"
                  f"{': ' + a.note if a.note else ''}" for a in state.operator_actions]  # fmt: skip
    return "\n".join(lines)


def _when(step: StepState) -> str:
    moment = step.finished_at or step.started_at
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def minor_removal(args: argparse.Namespace) -> NewRequest:
    """The deletion `remove-minor` starts: nobody verified or written to but the team."""
    return NewRequest(
        type=RequestType.DELETION,
        jurisdiction=args.jurisdiction,
        requester=Requester(full_name=args.name, email=args.email),
        channel=Channel.OPERATOR,
        minor_removal=MinorRemoval(started_by=args.operator, reason=args.reason),
    )


async def server_command(args: argparse.Namespace, settings: Settings) -> Any:
    """Run a command that needs Temporal; its result to print."""
    client: Client = await connection.connect(settings)
    rid: str = getattr(args, "request_id", None) or ""
    commands: dict[str, Callable[[], Coroutine[Any, Any, Any]]] = {
        "status": lambda: rights_requests.request_status(client, rid),
        "approve-agent": lambda: rights_requests.approve_agent(
            client, rid, OperatorNote(note=args.note, operator=args.operator)
        ),
        "verify-manually": lambda: rights_requests.verify_manually(
            client, rid, OperatorNote(note=args.note, operator=args.operator)
        ),
        "withdraw": lambda: rights_requests.withdraw(
            client, rid, OperatorNote(note=args.note, operator=args.operator)
        ),
        "confirm-minor-removal": lambda: rights_requests.confirm_minor_removal(
            client, rid, SecondOperator(operator=args.operator)
        ),
        "reject-agent": lambda: rights_requests.reject_agent(
            client, rid, DenyInput(reason=args.reason, operator=args.operator)
        ),
        "deny": lambda: rights_requests.deny(
            client, rid, DenyInput(reason=args.reason, operator=args.operator)
        ),
        "task-done": lambda: rights_requests.provider_task_done(
            client,
            rid,
            ProviderTaskDone(
                provider=args.provider,
                status=args.status,
                basis=args.basis,
                ground=args.ground,
                note=args.note,
                operator=args.operator,
            ),
        ),
        "extend": lambda: rights_requests.extend(
            client, rid, ExtendInput(reason=args.reason, days=args.days, operator=args.operator)
        ),
        "appeal": lambda: rights_requests.file_appeal(
            client, rid, AppealFiling(reason=args.reason, channel=args.channel)
        ),
        "decide-appeal": lambda: rights_requests.decide_appeal(
            client,
            rid,
            AppealDecision(outcome=args.outcome, reasons=args.reasons, operator=args.operator),
        ),
        "answer-verification": lambda: rights_requests.answer_verification(
            client,
            rid,
            VerificationAnswer(
                token=args.token,
                data_points=dict(args.data_point),
                declaration_signed=args.declaration_signed,
            ),
        ),
        "confirm-deletion": lambda: rights_requests.confirm_deletion(
            client, rid, ReconfirmationAnswer(token=args.token)
        ),
        "residence": lambda: rights_requests.give_residence(
            client, rid, ResidenceAnswer(residence=args.residence)
        ),
        "message-status": lambda: correspondence.correspondence_status(client, rid),
        "reply-complaint": lambda: correspondence.reply_to_complaint(
            client, rid, ComplaintReply(reply=args.reply)
        ),
        "triage-done": lambda: correspondence.triage_done(
            client, rid, TriageDone(note=args.note, started_request=args.started_request)
        ),
    }
    if args.command == "list":
        rows = await list_requests(
            client,
            DeskFilter(
                status=args.status,
                type=args.type,
                jurisdiction=args.jurisdiction,
                overdue=args.overdue,
                due_within=args.due_within,
                waiting_on=args.waiting_on,
                closed_too=args.closed_too,
            ),
        )
        return [row.model_dump(mode="json") for row in rows] if args.json else desk_table(rows)
    if args.command == "show":
        return readable(await rights_requests.request_status(client, rid))
    if args.command == "schedules":
        return await apply_schedules(client, settings)
    if args.command == "metrics":
        return await report_metrics(client, settings, args.year)
    if args.command in ("submit", "remove-minor"):
        new = new_request(args) if args.command == "submit" else minor_removal(args)
        request = await rights_requests.submit_request(
            client, settings, new, request_id=getattr(args, "request_id", None)
        )
        return {
            "request_id": request.request_id,
            "workflow_id": rights_requests.workflow_id(request.request_id),
        }
    return await commands[args.command]()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 0, or 2 with one line on stderr."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "deadlines":
            output = deadlines_command(args, None)
        else:
            output = asyncio.run(server_command(args, load_settings()))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'input'}: {item['msg']}"
            for item in error.errors()
        )
        return _fail(problems)
    except (
        CommandError,
        SettingsError,
        PayloadKeyError,
        rights_requests.RequestRefused,
        rights_requests.UnknownRequest,
    ) as error:
        return _fail(str(error))
    except RuntimeError as error:
        return _fail(f"cannot reach Temporal: {error}")
    if isinstance(output, str):  # `list` and `show` print for a person unless --json
        print(output)
        return 0
    if isinstance(output, BaseModel):
        output = output.model_dump(mode="json")
    print(json.dumps(output, indent=2, ensure_ascii=False))
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal client's runtime threads can abort interpreter shutdown
    # ("PyGILState_Release ... must be current"); the command is done, so skip it.
    os._exit(status)
