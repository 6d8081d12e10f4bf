"""The service's own store of access reports, as a provider every deletion reaches.

A deletion request removes every earlier report prepared for the same email address (found by
the keyed hash each report's manifest records), so a report of someone's health data does not
outlive their request to be forgotten. Not a registry entry: the worker adds it to a deletion's
plan whenever such reports exist, under the reserved name `access-reports`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from activities.providers.connector import Connector, Journal, Step, Subject
from activities.report_files import reports_about, subject_key, subject_of
from rights.models import OutcomeStatus, ProviderOutcome
from rights.plans import ProviderAction
from rights.registry import ACCESS_REPORTS, Disclosure, ProviderEntry

ENTRY = ProviderEntry(
    name=ACCESS_REPORTS,
    kind="access_reports",
    category="access reports we prepared for you earlier",
    serves=[ProviderAction.DELETE],
    disclosure=Disclosure(
        sources=["our answers to your earlier requests to know"],
        purposes=["answering your request"],
        recipients=["nobody: you download it yourself"],
        retention="until its download link expires",
    ),
)


class AccessReportsConnector(Connector):
    def __init__(self, journal: Journal, reports_dir: Path, link_secret: bytes) -> None:
        super().__init__(ENTRY, journal, reports_dir)
        self._key = subject_key(link_secret)

    def exist_for(self, subject: Subject) -> bool:
        """Whether reports of earlier requests about this person are still kept."""
        return bool(self._reports_of(subject))

    def start(self, subject: Subject, action: ProviderAction, step: Step) -> ProviderOutcome:
        """Delete every earlier report about the person (the folders named in the journal)."""
        if action is not ProviderAction.DELETE:
            raise self.unsupported(action)
        # Named in the journal first: a retry after a crash deletes and counts the same folders.
        earlier: list[str] | None = step.get("folders")
        if earlier is None:
            earlier = [folder.name for folder in self._reports_of(subject)]
            step.save(folders=earlier)
        for name in earlier:
            shutil.rmtree(self._reports_dir / name, ignore_errors=True)
        return self.outcome(
            OutcomeStatus.DONE if earlier else OutcomeStatus.NOT_FOUND,
            [f"{len(earlier)} earlier report folders deleted"],
            affected=len(earlier),
        )

    def _reports_of(self, subject: Subject) -> list[Path]:
        wanted = subject_of(self._key, subject.email)
        return reports_about(self._reports_dir, wanted, besides=subject.request_id)
