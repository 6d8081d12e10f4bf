"""Report files stay in their request's folder, keep only what they may, and open safely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from temporalio.exceptions import ApplicationError

from activities.providers.connector import Connector, Journal, Parts, Subject
from activities.providers.kinds import connector_for
from activities.report_files import (
    UnsafeName,
    confined,
    request_folder,
    spreadsheet_safe,
    write_source,
)
from tests.provider_sandboxes import api_entry

RID = "req-files-0001"
HOSTILE_NAMES = ["../../etc/passwd", "..", "a/b", "notes.csv.exe", ".hidden", "", "é" * 3, "x" * 65]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_providers_table_name_cannot_leave_the_request_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafeName):
        write_source(tmp_path, RID, "care-notes", "notes", {name: [{"a": 1}]}, specific_pieces=True)
    assert list(tmp_path.rglob("*")) == []


@pytest.mark.parametrize("request_id", ["../elsewhere", "Req-00000001", "a", "x" * 65 + "-1"])
def test_only_our_request_ids_name_a_folder(tmp_path: Path, request_id: str) -> None:
    with pytest.raises(UnsafeName):
        request_folder(tmp_path, request_id)


def test_confined_paths_stay_inside(tmp_path: Path) -> None:
    folder = tmp_path / RID
    assert confined(folder, "csv", "stripe-charges.csv") == folder / "csv" / "stripe-charges.csv"
    for parts in (("..", "x.json"), ("sources", "../x.json"), ("sources", "a.b.json")):
        with pytest.raises(UnsafeName):
            confined(folder, *parts)


def test_a_link_planted_in_the_folder_cannot_lead_outside(tmp_path: Path) -> None:
    """Names alone are safe; a symbolic link inside the folder is caught by resolving."""
    folder = tmp_path / RID
    folder.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (folder / "sources").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafeName, match="leaves the request's folder"):
        confined(folder, "sources", "stripe.json")


def test_a_categories_source_keeps_counts_only(tmp_path: Path) -> None:
    rows = [{"email": "maria.lopez@example.com", "body": "lab results"}] * 3
    total = write_source(
        tmp_path, RID, "service-database", "our app", {"messages": rows}, specific_pieces=False
    )
    written = (tmp_path / RID / "sources" / "service-database.json").read_text()
    assert total == 3
    assert json.loads(written)["counts"] == {"messages": 3}
    assert "maria" not in written and "lab results" not in written


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1 415 555 0101", "'+1 415 555 0101"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Maria", "Maria"),
        (42, 42),
    ],
)
def test_csv_cells_never_start_a_formula(cell: object, safe: object) -> None:
    assert spreadsheet_safe(cell) == safe


def test_a_provider_answer_naming_a_path_is_refused_as_a_broken_contract(
    tmp_path: Path,
) -> None:
    entry = api_entry("care-notes", "webhook", "http://127.0.0.1:9")
    engine = sa.create_engine("sqlite://")
    reports = tmp_path / "reports"
    built = connector_for(entry, Parts({"CARE_NOTES_TOKEN": "s"}, reports, Journal(engine), engine))
    assert isinstance(built, Connector)
    subject = Subject(request_id=RID, email="maria.lopez@example.com", specific_pieces=True)

    with pytest.raises(ApplicationError) as refused:
        built.write_export(subject, {"../../../etc/cron.d/x": [{"a": 1}]})

    assert refused.value.type == "ProviderRejected" and refused.value.non_retryable
    assert list(reports.rglob("*")) == []
