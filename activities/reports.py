"""Access and portability reports, and their end.

A report answers in two parts, as CCPA §1798.110 and GDPR Art. 15(1) set out: the categories
(what each system holds about the person, where it came from, why it is used, who receives it,
how long it is kept: from the registry's disclosures, with what was found for this person) and,
once the reasonably high standard is met, the specific pieces themselves. It is a file under
`DATA_DIR/reports/<request_id>/`, never an email attachment: `report.json`, and for
portability `export.zip` with a CSV per table. The manifest holds the link's nonce and expiry,
which the download page checks, and a keyed hash of the person's email address, so a later
deletion request finds and removes every earlier report about them. Files are deleted when the
link expires (`delete_report`, run by `ReportExpiryWorkflow` on a durable timer).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from temporalio import activity
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from activities.report_files import (
    confined,
    request_folder,
    spreadsheet_safe,
    subject_key,
    subject_of,
)
from rights.activity_inputs import (
    REPORT_EXPIRY_WORKFLOW,
    ActivityName,
    ExpireReportInput,
    PublishReportInput,
    report_expiry_id,
)
from rights.models import OutcomeStatus, ProviderOutcome
from rights.plans import ACCESS_ANSWER_WORDS, AccessAnswer, ReportFormat
from rights.registry import ProviderEntry, Registry
from rights.terms import Jurisdiction

log = structlog.get_logger()


class ReportActivities:
    def __init__(self, reports_dir: Path, registry: Registry, link_secret: bytes) -> None:
        self._reports_dir = reports_dir
        self._registry = registry
        self._subject_key = subject_key(link_secret)

    @activity.defn(name=ActivityName.PUBLISH_REPORT)
    def publish_report(self, input: PublishReportInput) -> None:
        """Write the report, in both its parts, and the manifest its download page checks."""
        folder = request_folder(self._reports_dir, input.request.request_id)
        sources = {
            source["provider"]: source
            for source in (
                json.loads(path.read_text()) for path in sorted((folder / "sources").glob("*.json"))
            )
        }
        pieces = input.answer is AccessAnswer.SPECIFIC_PIECES
        report: dict[str, Any] = {
            "request_id": input.request.request_id,
            "request_type": input.request.type.value,
            "jurisdiction": input.request.jurisdiction.value,
            "generated_at": datetime.now(UTC).isoformat(),
            "categories": [
                self._categories(entry, input.outcomes, sources.get(entry.name))
                for entry in self._registry.providers
            ],
            "specific_pieces": {
                "provided": pieces,
                "explanation": ACCESS_ANSWER_WORDS[input.answer],
                "sources": [
                    {key: source[key] for key in ("provider", "category", "tables")}
                    for source in sources.values()
                    if pieces and "tables" in source
                ],
            },
            "outcomes": [outcome.model_dump(mode="json") for outcome in input.outcomes],
        }
        if input.request.jurisdiction is Jurisdiction.US_MN:
            report["third_parties"] = third_parties(report["categories"])
        written = [self._write(confined(folder, "report.json"), json.dumps(report, indent=2))]
        if ReportFormat.CSV in input.formats and pieces:
            written.append(self._write_export(folder, report))
        # The sources were the working copy: the report now holds what it may show.
        shutil.rmtree(folder / "sources", ignore_errors=True)
        manifest = {
            "nonce": input.link.nonce,
            "expires_at": input.link.expires_at.isoformat(),
            "files": written,
            "subject": subject_of(self._subject_key, str(input.request.requester.email)),
        }
        self._write(confined(folder, "manifest.json"), json.dumps(manifest, indent=2))

    @activity.defn(name=ActivityName.SCHEDULE_REPORT_EXPIRY)
    async def schedule_report_expiry(self, input: ExpireReportInput) -> None:
        """Start the report's expiry timer, once: a retry finds it started and leaves it."""
        await activity.client().start_workflow(
            REPORT_EXPIRY_WORKFLOW,
            input,
            id=report_expiry_id(input.request_id),
            task_queue=activity.info().task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )

    @activity.defn(name=ActivityName.DELETE_REPORT)
    def delete_report(self, input: ExpireReportInput) -> bool:
        """Remove a report once its link has expired; True if there was one to remove."""
        folder = request_folder(self._reports_dir, input.request_id)
        existed = folder.exists()
        shutil.rmtree(folder, ignore_errors=True)
        log.info("report_deleted", request_id=input.request_id, existed=existed)
        return existed

    def _categories(
        self, entry: ProviderEntry, outcomes: list[ProviderOutcome], source: dict[str, Any] | None
    ) -> dict[str, Any]:
        outcome = next((o for o in outcomes if o.provider == entry.name), None)
        holds = "unknown"
        if outcome is not None and outcome.status is OutcomeStatus.DONE:
            found = outcome.records_affected > 0 or entry.kind == "manual"
            holds = "yes" if found else "no"
        elif outcome is not None and outcome.status is OutcomeStatus.NOT_FOUND:
            holds = "no"
        labels = {table.name: table.category for table in (entry.sql.tables if entry.sql else [])}
        counts: dict[str, int] = (source or {}).get("counts", {})
        return {
            "provider": entry.name,
            "category": entry.category,
            "holds": holds,
            "kinds": [
                {"name": labels.get(table, table.replace("_", " ")), "records": count}
                for table, count in counts.items()
                if count
            ],
            **entry.disclosure.model_dump(),
        }

    def _write(self, path: Path, content: str) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        return str(path.relative_to(self._reports_dir))

    def _write_export(self, folder: Path, report: dict[str, Any]) -> str:
        """The machine-readable download: the report as JSON and one CSV per table."""
        path = confined(folder, "export.zip")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("report.json", json.dumps(report, indent=2))
            for source in report["specific_pieces"]["sources"]:
                for table, rows in source["tables"].items():
                    name = confined(Path("csv"), f"{source['provider']}-{table}.csv")
                    archive.writestr(str(name), _csv(rows))
        return str(path.relative_to(self._reports_dir))


def third_parties(categories: list[dict[str, Any]]) -> dict[str, Any]:
    """Minnesota's list of the specific parties the person's data went to (Minn. Stat.
    §325M.14 subd. 1(h)): every recipient named where we hold or may hold their data, each
    with its role as the registry gives it."""
    named = sorted(
        {
            recipient
            for item in categories
            if item["holds"] != "no"
            for recipient in item["recipients"]
        }
    )
    return {
        "basis": "Minn. Stat. §325M.14 subd. 1(h)",
        "explanation": (
            "The parties your personal data was disclosed to, by name. Those marked as our "
            "service providers receive it only to do work for us under contract."
        ),
        "recipients": named,
    }


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    if rows:
        columns = list(dict.fromkeys(key for row in rows for key in row))
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        writer.writerows(
            {key: spreadsheet_safe(value) for key, value in row.items()} for row in rows
        )
    return buffer.getvalue()
