"""The Temporal Schedules that keep the records: created or updated by one idempotent call.

`records-purge` runs RecordsPurgeWorkflow every day at 03:00 UTC; `metrics-report` runs
MetricsReportWorkflow every 2 January at 04:00 UTC for the year just ended; `overdue-sweep`
runs OverdueSweepWorkflow every day at 05:00 UTC, after the watches' midnight alerts. A run
already in progress is never overlapped (the next one is skipped), and a missed time is caught
up for a day, so an outage delays the records' upkeep but does not lose it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from rights.activity_inputs import MetricsInput, MetricsReport
from rights.settings import Settings
from workflows.record_keeping import (
    MetricsReportWorkflow,
    OverdueSweepWorkflow,
    RecordsPurgeWorkflow,
)

PURGE = "records-purge"
METRICS = "metrics-report"
SWEEP = "overdue-sweep"


def schedules(settings: Settings) -> dict[str, Schedule]:
    """Every schedule, by id, as this release wants them."""
    policy = SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1))
    return {
        PURGE: Schedule(
            action=ScheduleActionStartWorkflow(
                RecordsPurgeWorkflow.run,
                id=f"{PURGE}-run",
                task_queue=settings.task_queue,
                static_summary="Remove records past retention and expired report files",
            ),
            spec=ScheduleSpec(cron_expressions=["0 3 * * *"]),
            policy=policy,
        ),
        METRICS: Schedule(
            action=ScheduleActionStartWorkflow(
                MetricsReportWorkflow.run,
                id=f"{METRICS}-run",
                task_queue=settings.task_queue,
                static_summary="Count last year's requests (11 CCR §7102)",
            ),
            spec=ScheduleSpec(cron_expressions=["0 4 2 1 *"]),
            policy=policy,
        ),
        SWEEP: Schedule(
            action=ScheduleActionStartWorkflow(
                OverdueSweepWorkflow.run,
                id=f"{SWEEP}-run",
                task_queue=settings.task_queue,
                static_summary="Alert on deadlines past or near that no watch has alerted on",
            ),
            spec=ScheduleSpec(cron_expressions=["0 5 * * *"]),
            policy=policy,
        ),
    }


async def apply_schedules(client: Client, settings: Settings) -> dict[str, str]:
    """Create each schedule, or bring an existing one up to date; which it was, by id."""
    done = {}
    for schedule_id, schedule in schedules(settings).items():
        try:
            await client.create_schedule(schedule_id, schedule)
            done[schedule_id] = "created"
        except ScheduleAlreadyRunningError:

            def replace(_: ScheduleUpdateInput, wanted: Schedule = schedule) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=wanted)

            await client.get_schedule_handle(schedule_id).update(replace)
            done[schedule_id] = "updated"
    return done


async def report_metrics(client: Client, settings: Settings, year: int) -> MetricsReport:
    """One year's §7102 figures now, by the same workflow the yearly schedule runs."""
    return await client.execute_workflow(
        MetricsReportWorkflow.run,
        MetricsInput(year=year),
        id=f"{METRICS}-{year}-{uuid.uuid4().hex[:8]}",
        task_queue=settings.task_queue,
    )
