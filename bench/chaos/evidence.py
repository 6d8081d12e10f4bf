"""Where the figures come from: the notice ledger, the runs' histories, and the SQL provider's
deletions (the sandboxes count their own)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from client import rights_requests
from stores.records import notice_ledger

# An account row whose email is replaced (the SQL provider's tombstone) is a deletion that
# removed data; counted by a trigger, as the sandboxes count theirs.
ERASURE_AUDIT = (
    "CREATE TABLE IF NOT EXISTS chaos_erasures (account_id INTEGER NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS chaos_count_erasures AFTER UPDATE OF email ON accounts "
    "WHEN OLD.email IS NOT NEW.email BEGIN INSERT INTO chaos_erasures VALUES (OLD.id); END",
)


def count_erasures(service: Engine) -> None:
    """From now on, count the SQL provider's deletions in the service database."""
    with service.begin() as connection:
        for statement in ERASURE_AUDIT:
            connection.execute(sa.text(statement))


def erasures(service: Engine) -> Counter[str]:
    """The SQL provider's deletions that removed data, by account id."""
    with service.connect() as connection:
        rows = connection.execute(sa.text("SELECT account_id FROM chaos_erasures"))
        return Counter(str(account_id) for (account_id,) in rows)


def ledger_times(records: Engine) -> dict[tuple[str, str], list[float]]:
    """When the notice ledger says each (request, notice kind) was sent (Unix times)."""
    sent: dict[tuple[str, str], list[float]] = {}
    columns = notice_ledger.c
    with records.connect() as connection:
        rows = connection.execute(sa.select(columns.request_id, columns.kind, columns.sent_at))
        for request_id, kind, sent_at in rows:
            moment = sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=UTC)
            sent.setdefault((request_id, kind), []).append(moment.timestamp())
    return sent


LOCAL_ACTIVITY_MARKER = "core_local_activity"


@dataclass(frozen=True)
class ActivityRun:
    """One activity of a run as its history ends it: which, on which queue ("local" for a local
    activity, run by the workflow's worker), after how many attempts (the history records the
    last one only; the failed ones are its retries)."""

    activity: str
    task_queue: str
    attempts: int


async def activity_runs(client: Client, request_id: str) -> list[ActivityRun]:
    """Every activity the run started, with the attempt it ended on; a local activity's comes
    from its marker, whose data the SDK writes as plain JSON (ids, attempt and times only)."""
    handle = client.get_workflow_handle(rights_requests.workflow_id(request_id))
    history = await handle.fetch_history()
    scheduled: dict[int, tuple[str, str]] = {}
    runs: list[ActivityRun] = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            order = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = (order.activity_type.name, order.task_queue.name)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = event.activity_task_started_event_attributes
            activity, queue = scheduled[started.scheduled_event_id]
            runs.append(ActivityRun(activity, queue, started.attempt))
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == LOCAL_ACTIVITY_MARKER:
                data = json.loads(marker.details["data"].payloads[0].data)
                runs.append(ActivityRun(data["activity_type"], "local", data["attempt"]))
    return runs


async def retried_activities(client: Client, request_ids: Iterable[str]) -> str:
    """Activities whose history ends on a second attempt or later, by kind (and provider)."""
    again: Counter[str] = Counter()
    for rid in request_ids:
        for run in await activity_runs(client, rid):
            if run.attempts > 1:
                _, _, provider = run.task_queue.partition(".provider.")
                again[f"{run.activity}@{provider}" if provider else run.activity] += 1
    kinds = ", ".join(f"{name} {count}" for name, count in again.most_common())
    return f"{again.total()}: {kinds}" if again else "0"
