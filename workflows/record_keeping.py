"""The records run themselves: two workflows that Temporal Schedules start.

RecordsPurgeWorkflow (daily) removes what is past retention; MetricsReportWorkflow (each
2 January, for the year before, or for any year `starter.py metrics` names) writes the 11 CCR
§7102 figures. `starter.py schedules apply` creates both schedules, idempotently; they show on
the Temporal UI's Schedules page.
"""

from __future__ import annotations

from temporalio import workflow

from rights.activity_inputs import MetricsInput, MetricsReport, PurgeInput, PurgeResult
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
