"""Access and portability reports: JSON, a readable page, and CSV per table for portability.

Reports are files under `DATA_DIR/reports/<request_id>/`, never email attachments; the
manifest holds the link's nonce and expiry, which the download page checks (the token is
re-derived from the nonce with the service's secret).
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from temporalio import activity

from rights.activity_inputs import ActivityName, PublishReportInput, ReportPublished
from rights.plans import ReportFormat

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


class ReportActivities:
    def __init__(self, reports_dir: Path) -> None:
        self._reports_dir = reports_dir
        self._environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    @activity.defn(name=ActivityName.PUBLISH_REPORT)
    def publish_report(self, input: PublishReportInput) -> ReportPublished:
        folder = self._reports_dir / input.request.request_id
        sources = [
            json.loads(path.read_text()) for path in sorted((folder / "sources").glob("*.json"))
        ]
        report: dict[str, Any] = {
            "request_id": input.request.request_id,
            "request_type": input.request.type.value,
            "generated_at": datetime.now(UTC).isoformat(),
            "sources": sources,
            "outcomes": [outcome.model_dump(mode="json") for outcome in input.outcomes],
        }
        written = [self._write(folder / "report.json", json.dumps(report, indent=2))]
        if ReportFormat.HTML in input.formats:
            page = self._environment.get_template("report.html.j2").render(report=report)
            written.append(self._write(folder / "report.html", page))
        if ReportFormat.CSV in input.formats:
            for source in sources:
                for table, rows in source["tables"].items():
                    written.append(
                        self._write_csv(folder / "csv" / f"{source['provider']}-{table}.csv", rows)
                    )
        manifest = {
            "nonce": input.link.nonce,
            "expires_at": input.link.expires_at.isoformat(),
            "files": written,
        }
        self._write(folder / "manifest.json", json.dumps(manifest, indent=2))
        return ReportPublished(files=written, expires_at=input.link.expires_at)

    def _write(self, path: Path, content: str) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        return str(path.relative_to(self._reports_dir))

    def _write_csv(self, path: Path, rows: list[dict[str, Any]]) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            if rows:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        return str(path.relative_to(self._reports_dir))
