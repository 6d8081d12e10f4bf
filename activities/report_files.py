"""Where access-report files live, and what may be written there.

Everything for one request is under `REPORTS_DIR/<request_id>/`, and nothing outside it: the
request id must be one of ours, and every other name in a path (a provider's, a table's, one a
provider's answer chose) is checked and confined to that folder, so no answer can write beside
another request's report or anywhere else. A source written for a categories answer keeps only
how many records each table holds, never their content.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

from rights.models import REQUEST_ID_PATTERN

_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# Spreadsheet programs run a cell that begins with one of these as a formula (OWASP CSV
# injection): such a cell is prefixed with an apostrophe, which shows the text as it is.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


SUBJECT_PURPOSE = b"rights-report-subject-v1"


class UnsafeName(ValueError):
    """A name that cannot be a file name inside a request's report folder."""


def request_folder(reports_dir: Path, request_id: str) -> Path:
    """The folder of one request's report files; only our request ids name one."""
    if not _REQUEST_ID.match(request_id):
        raise UnsafeName("request id is not one of ours")
    return reports_dir / request_id


def safe_name(name: str) -> str:
    """`name` if it can be a file name inside a request's folder."""
    if not _NAME.match(name):
        raise UnsafeName("names are 1 to 64 letters, digits, '_' or '-'")
    return name


def confined(folder: Path, *parts: str) -> Path:
    """`folder/part/…`, each part a safe name (with one `.extension` at most), never outside."""
    checked = []
    for part in parts:
        stem, dot, extension = part.partition(".")
        checked.append(safe_name(stem) + (dot + safe_name(extension) if dot else ""))
    path = folder.joinpath(*checked)
    if not path.resolve().is_relative_to(folder.resolve()):
        raise UnsafeName("path leaves the request's folder")
    return path


def write_source(
    reports_dir: Path,
    request_id: str,
    provider: str,
    category: str,
    tables: dict[str, list[dict[str, Any]]],
    *,
    specific_pieces: bool,
) -> int:
    """One provider's records for the report, beside it (personal data never enters history).

    Rows are flat (nested values become JSON text) so the CSV format can hold them. Returns
    how many records were found.
    """
    folder = request_folder(reports_dir, request_id)
    target = confined(folder, "sources", f"{provider}.json")
    counts = {safe_name(name): len(rows) for name, rows in tables.items()}
    payload: dict[str, Any] = {"provider": provider, "category": category, "counts": counts}
    if specific_pieces:
        payload["tables"] = {
            name: [
                {
                    key: json.dumps(value) if isinstance(value, dict | list) else value
                    for key, value in row.items()
                }
                for row in rows
            ]
            for name, rows in tables.items()
        }
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(payload, default=str, indent=2))
    return sum(counts.values())


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that no spreadsheet will run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def subject_key(link_secret: bytes) -> bytes:
    """The key that pseudonymises whom a report is about; derived for this purpose alone."""
    return hmac.new(link_secret, SUBJECT_PURPOSE, hashlib.sha256).digest()


def subject_of(key: bytes, email: str) -> str:
    """Whom a report is about, as its manifest records it: a keyed hash of the address."""
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def reports_about(reports_dir: Path, subject: str, *, besides: str) -> list[Path]:
    """Report folders of requests other than `besides` about the same person."""
    found = []
    for manifest in sorted(reports_dir.glob("*/manifest.json")):
        if manifest.parent.name == besides:
            continue
        try:
            recorded = str(json.loads(manifest.read_text()).get("subject", ""))
        except (OSError, ValueError):
            continue
        if hmac.compare_digest(recorded.encode(), subject.encode()):
            found.append(manifest.parent)
    return found
