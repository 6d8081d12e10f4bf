"""ReportExpiryWorkflow: an access report's files are deleted when its download link expires.

Started (by the `schedule_report_expiry` activity) when a request's run publishes a report,
as a workflow of its own rather than a child, so the request's run can end while it waits: a
durable timer, so the deletion happens on time whichever worker is up, through deploys and
restarts. Id `report-expiry-<request_id>`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from rights.activity_inputs import REPORT_EXPIRY_WORKFLOW, ExpireReportInput
from workflows import effects


@workflow.defn(name=REPORT_EXPIRY_WORKFLOW)
class ReportExpiryWorkflow:
    @workflow.run
    async def run(self, input: ExpireReportInput) -> bool:
        """True if report files were there to delete."""
        wait = input.expires_at - workflow.now()
        if wait > timedelta(0):
            await workflow.sleep(wait, summary="Access report link expires")
        return await effects.delete_report(input)
