"""The records run themselves: three workflows that Temporal Schedules start.

RecordsPurgeWorkflow (daily) removes what is past retention; MetricsReportWorkflow (each
2 January, for the year before, or for any year `starter.py metrics` names) writes the 11 CCR
§7102 figures; OverdueSweepWorkflow (daily) alerts the privacy team to any request past or near
its deadline whose own watch has not. `starter.py schedules apply` creates the schedules,
idempotently; they show on the Temporal UI's Schedules page.
"""

from __future__ import annotations

from temporalio import workflow

from rights.activity_inputs import (
    MetricsInput,
    MetricsReport,
    PurgeInput,
    PurgeResult,
    SweepInput,
    SweepResult,
)
from workflows import effects


@workflow.defn
class RecordsPurgeWorkflow:
    @workflow.run
    async def run(self) -> PurgeResult:
        """Everything kept only until before today goes (records, their notices, reports)."""
        today = workflow.now().date()
        workflow.set_current_details(f"Removing what was kept until before {today}")
        return await effects.purge_expired_records(PurgeInput(today=today))


@workflow.defn
class MetricsReportWorkflow:
    @workflow.run
    async def run(self, input: MetricsInput | None = None) -> MetricsReport:
        """The year's figures per request type; by default the calendar year just ended."""
        year = input.year if input is not None else workflow.now().year - 1
        workflow.set_current_details(f"Counting the requests received in {year}")
        return await effects.report_metrics(MetricsInput(year=year))


@workflow.defn
class OverdueSweepWorkflow:
    @workflow.run
    async def run(self, input: SweepInput | None = None) -> SweepResult:
        """Requests past or near their deadline without their alert, as of now (or `input.now`,
        for a sweep re-run for a day an outage skipped)."""
        now = input.now if input is not None else workflow.now()
        workflow.set_current_details(
            f"Looking for deadlines without an alert as of {now:%Y-%m-%d %H:%M} UTC"
        )
        result = await effects.sweep_overdue(SweepInput(now=now))
        workflow.set_current_details(
            f"{result.near_or_overdue} open requests past or near their deadline; "
            f"{len(result.missed)} without their alert"
            + ("; digest sent to the privacy team" if result.digest_sent else "")
        )
        return result
