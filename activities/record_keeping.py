"""Records that run themselves: the retention purge and the yearly metrics (11 CCR §7102).

Both are activities of the scheduled workflows in `workflows/record_keeping.py`. The purge
removes what is past its `retain_until` (24 months after the answer, §7101(a)) with the notices
sent for it, and report folders whose link has expired (ReportExpiryWorkflow deletes each on
time; this catches any a worker outage left behind). The metrics count one calendar year's
requests per type from the compliance records, as §7102(a) lists them.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import statistics
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from temporalio import activity

from rights.activity_inputs import (
    ActivityName,
    MetricsInput,
    MetricsReport,
    MetricsRow,
    PurgeInput,
    PurgeResult,
)
from stores.engines import sanitised_database_errors
from stores.records import compliance_records, correspondence_records, notice_ledger

log = structlog.get_logger()

# How a request that was not carried out ended, as the metrics' "denied" reasons.
DENIED = {
    "denied": "denied by the privacy team",
    "unverifiable": "identity could not be verified",
    "not_granted": "the law grants no such right",
    "agent_rejected": "the agent's authorization was not accepted",
    "not_reconfirmed": "the deletion was not confirmed",
    "residence_unknown": "the requester never said where they live",
}


class RecordKeepingActivities:
    def __init__(self, engine: Engine, reports_dir: Path, metrics_dir: Path) -> None:
        self._engine = engine
        self._reports_dir = reports_dir
        self._metrics_dir = metrics_dir

    @activity.defn(name=ActivityName.PURGE_EXPIRED_RECORDS)
    def purge_expired_records(self, input: PurgeInput) -> PurgeResult:
        """Delete what is kept only until before `input.today`; a retry deletes nothing twice."""
        with sanitised_database_errors(), self._engine.begin() as connection:
            expired = [
                row.request_id
                for row in connection.execute(
                    sa.select(compliance_records.c.request_id).where(
                        compliance_records.c.retain_until < input.today
                    )
                )
            ]
            notices = 0
            for chunk in _chunks(expired, 500):
                notices += connection.execute(
                    notice_ledger.delete().where(notice_ledger.c.request_id.in_(chunk))
                ).rowcount
            requests = connection.execute(
                compliance_records.delete().where(compliance_records.c.retain_until < input.today)
            ).rowcount
            messages = connection.execute(
                correspondence_records.delete().where(
                    correspondence_records.c.retain_until < input.today
                )
            ).rowcount
        folders = self._remove_expired_reports(datetime.now(UTC))
        log.info("records_purged", requests=requests, messages=messages, report_folders=folders)
        return PurgeResult(
            compliance_records=requests,
            correspondence_records=messages,
            notices=notices,
            report_folders=folders,
        )

    @activity.defn(name=ActivityName.REPORT_METRICS)
    def report_metrics(self, input: MetricsInput) -> MetricsReport:
        """Count the year's requests and write them as JSON and CSV under DATA_DIR/metrics."""
        start = datetime(input.year, 1, 1, tzinfo=UTC)
        end = datetime(input.year + 1, 1, 1, tzinfo=UTC)
        columns = compliance_records.c
        with sanitised_database_errors(), self._engine.connect() as connection:
            rows = connection.execute(
                sa.select(
                    columns.request_type,
                    columns.status,
                    columns.received_at,
                    columns.responded_at,
                    columns.provider_outcomes,
                ).where(
                    columns.received_at >= start,
                    columns.received_at < end,
                    columns.appeal_of.is_(None),
                )
            ).all()
        report = MetricsReport(year=input.year, rows=metrics_rows(rows))
        self._metrics_dir.mkdir(parents=True, exist_ok=True)
        json_path = self._metrics_dir / f"{input.year}.json"
        csv_path = self._metrics_dir / f"{input.year}.csv"
        json_path.write_text(json.dumps(report.model_dump(mode="json"), indent=2))
        csv_path.write_text(metrics_csv(report))
        return report.model_copy(update={"files": [str(json_path), str(csv_path)]})

    def _remove_expired_reports(self, now: datetime) -> int:
        removed = 0
        for manifest in sorted(self._reports_dir.glob("*/manifest.json")):
            expires_at = datetime.fromisoformat(json.loads(manifest.read_text())["expires_at"])
            if expires_at < now:
                shutil.rmtree(manifest.parent, ignore_errors=True)
                removed += 1
        return removed


def metrics_rows(records: Iterable[Any]) -> list[MetricsRow]:
    """Per request type: received, complied with in whole or in part, denied by reason, and
    the median and mean days from receipt to answer of those answered."""
    by_type: dict[str, list[Any]] = {}
    for record in records:
        by_type.setdefault(record.request_type, []).append(record)
    rows = []
    for request_type, records_of_type in sorted(by_type.items()):
        whole = part = 0
        denied: dict[str, int] = {}
        days = []
        for record in records_of_type:
            if record.status == "completed":
                kept = any(outcome.get("retained") for outcome in record.provider_outcomes or [])
                part, whole = (part + 1, whole) if kept else (part, whole + 1)
            elif record.status in DENIED:
                reason = DENIED[record.status]
                denied[reason] = denied.get(reason, 0) + 1
            if record.responded_at is not None:
                days.append(_days(record.received_at, record.responded_at))
        rows.append(
            MetricsRow(
                request_type=request_type,
                received=len(records_of_type),
                complied_in_whole=whole,
                complied_in_part=part,
                denied=denied,
                median_days=statistics.median(days) if days else None,
                mean_days=round(statistics.fmean(days), 1) if days else None,
            )
        )
    return rows


def metrics_csv(report: MetricsReport) -> str:
    """One line per request type, the denied reasons in one column."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["year", "request_type", "received", "complied_in_whole", "complied_in_part",
         "denied", "denied_by_reason", "median_days", "mean_days"]
    )  # fmt: skip
    for row in report.rows:
        reasons = "; ".join(f"{reason}: {count}" for reason, count in sorted(row.denied.items()))
        writer.writerow(
            [report.year, row.request_type, row.received, row.complied_in_whole,
             row.complied_in_part, sum(row.denied.values()), reasons, row.median_days,
             row.mean_days]
        )  # fmt: skip
    return out.getvalue()


def _days(received: datetime, responded: datetime) -> int:
    """Whole calendar days from receipt to answer (SQLite returns naive UTC times)."""
    received = received if received.tzinfo else received.replace(tzinfo=UTC)
    responded = responded if responded.tzinfo else responded.replace(tzinfo=UTC)
    return (responded.date() - received.date()).days


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
