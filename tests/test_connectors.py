"""Each API connector against its sandbox: the provider's documented answers and failures.

`drive` does what the workflow and its retry policy do with a connector: retry what is
retryable, poll a job until it ends. The retry policy itself, the timers and the escalation to
an operator are exercised through real workflows in test_provider_fulfilment.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from temporalio.exceptions import ApplicationError

from activities.providers.connector import Connector, Journal, Parts, Subject
from activities.providers.kinds import connector_for
from dev.sandbox.server import Reply
from rights.models import OutcomeStatus, ProviderOutcome
from rights.plans import ProviderAction
from tests.live_server import free_port
from tests.provider_sandboxes import (
    ASYNC_JOBS,
    EFFECT,
    KINDS,
    PAYMENT_RETENTION,
    Provider,
    export_of,
    running_provider,
)

ANA = ("ana.ruiz@example.com", "Ana Ruiz", "4242")
BEN = ("ben.okafor@example.com", "Ben Okafor", "4343")
NOBODY = Subject(request_id="unused", email="nobody@example.com", account_id=None)
ACCESS_KINDS = ["stripe", "sendgrid_contacts", "hubspot", "zendesk", "webhook"]
# The wait each sandbox's 429 asks for, as its provider documents the headers.
RATE_LIMIT_WAIT = {
    "stripe": 2,
    "sendgrid_contacts": 2,
    "segment": 2,
    "hubspot": 10,
    "zendesk": 2,
    "webhook": 2,
}


def connector(
    provider: Provider, journal: Journal, reports_dir: Path, environ: dict[str, str] | None = None
) -> Connector:
    parts = Parts(environ or provider.environ, reports_dir, journal, journal.engine)
    built = connector_for(provider.entry, parts)
    assert built is not None
    return built


class Fixture:
    def __init__(self, provider: Provider, journal: Journal, reports_dir: Path) -> None:
        self.provider = provider
        self.sandbox = provider.sandbox
        self.journal = journal
        self.reports_dir = reports_dir
        self.connector = connector(provider, journal, reports_dir)
        self.subject = Subject(
            request_id=uuid.uuid4().hex, email=ANA[0], account_id=ANA[2], specific_pieces=True
        )
        self.errors: list[ApplicationError] = []
        self.polls = 0
        self.states: list[str] = []

    def _attempt(self, call: Callable[[], ProviderOutcome]) -> ProviderOutcome:
        for _ in range(10):
            try:
                return call()
            except ApplicationError as error:
                if error.non_retryable:
                    raise
                self.errors.append(error)
        raise AssertionError(f"still failing after 10 attempts: {self.errors[-1]}")

    def drive(
        self, action: ProviderAction = ProviderAction.DELETE, subject: Subject | None = None
    ) -> ProviderOutcome:
        subject = subject or self.subject
        outcome = self._attempt(lambda: self.connector.fulfil(subject, action))
        while outcome.job is not None:
            job = outcome.job.model_copy(update={"polls": self.polls})
            self.states.append(job.state)
            outcome = self._attempt(lambda job=job: self.connector.resume(subject, action, job))
            self.polls += 1
        return outcome


@pytest.fixture
def journal(database: Engine) -> Journal:
    return Journal(database)


def kind_fixture(kinds: list[str]) -> Callable[..., Iterator[Fixture]]:
    @pytest.fixture(params=kinds)
    def fixture(
        request: pytest.FixtureRequest, journal: Journal, tmp_path: Path
    ) -> Iterator[Fixture]:
        with running_provider(request.param, people=[ANA]) as provider:
            yield Fixture(provider, journal, tmp_path)

    return fixture


fx = kind_fixture(KINDS)
async_fx = kind_fixture(sorted(ASYNC_JOBS))
access_fx = kind_fixture(ACCESS_KINDS)


def no_email_in(outcome: ProviderOutcome) -> None:
    text = outcome.model_dump_json()
    assert ANA[0] not in text and "ana.ruiz" not in text.lower()


def test_found_and_deleted(fx: Fixture) -> None:
    outcome = fx.drive()

    assert outcome.status is OutcomeStatus.DONE, outcome
    assert outcome.records_affected == 1
    assert fx.sandbox.effective_deletions == 1
    assert fx.errors == []
    assert outcome.evidence[0] == "sandbox provider, not the real API"
    no_email_in(outcome)
    if fx.provider.entry.kind in ASYNC_JOBS:
        assert fx.polls == 3


def test_not_found_touches_nothing(fx: Fixture) -> None:
    outcome = fx.drive(subject=NOBODY)

    assert outcome.status is OutcomeStatus.NOT_FOUND, outcome
    assert fx.sandbox.effective_deletions == 0
    method, path = EFFECT[fx.provider.entry.kind].split(" ")
    if fx.provider.entry.kind != "webhook":  # the webhook itself is the lookup
        assert fx.sandbox.calls_to(method, path) == 0


def test_lost_response_then_retry_deletes_once_and_reports_done(fx: Fixture) -> None:
    fx.sandbox.lose_response(EFFECT[fx.provider.entry.kind])

    outcome = fx.drive()

    assert [error.type for error in fx.errors] == ["ProviderUnavailable"]
    assert outcome.status is OutcomeStatus.DONE, outcome
    assert fx.sandbox.effective_deletions == 1
    # The activity completing but its result getting lost: the journal answers, no new call.
    calls = len(fx.sandbox.calls)
    again = fx.connector.fulfil(fx.subject, ProviderAction.DELETE)
    assert again == outcome
    assert len(fx.sandbox.calls) == calls


def test_rate_limited_waits_for_the_providers_reset(fx: Fixture) -> None:
    fx.sandbox.fail(429)

    outcome = fx.drive()

    assert outcome.status is OutcomeStatus.DONE
    [error] = fx.errors
    assert error.type == "ProviderRateLimited" and not error.non_retryable
    expected = RATE_LIMIT_WAIT[fx.provider.entry.kind]
    assert error.next_retry_delay is not None
    # Epoch-based resets lose up to a second to rounding.
    assert timedelta(seconds=expected - 1) <= error.next_retry_delay <= timedelta(seconds=expected)


def test_server_errors_are_retried_until_they_pass(fx: Fixture) -> None:
    fx.sandbox.fail(503, times=3)

    outcome = fx.drive()

    assert [error.type for error in fx.errors] == ["ProviderUnavailable"] * 3
    assert all(not error.non_retryable and "503" in str(error) for error in fx.errors)
    assert outcome.status is OutcomeStatus.DONE
    assert fx.sandbox.effective_deletions == 1


def test_permanent_refusal_is_not_retried(fx: Fixture) -> None:
    fx.sandbox.reject(403)

    with pytest.raises(ApplicationError) as refused:
        fx.drive()

    assert refused.value.type == "ProviderRejected" and refused.value.non_retryable
    assert "403" in str(refused.value) and ANA[0] not in str(refused.value)
    assert fx.sandbox.effective_deletions == 0


def test_async_job_is_polled_through_many_states(async_fx: Fixture) -> None:
    async_fx.sandbox.polls_per_job = 12  # type: ignore[attr-defined]

    outcome = async_fx.drive()

    assert async_fx.polls == 12
    assert outcome.status is OutcomeStatus.DONE
    assert async_fx.sandbox.effective_deletions == 1
    assert any("12" in line for line in outcome.evidence)
    if async_fx.provider.entry.kind == "segment":
        assert async_fx.states[:2] == ["INITIALIZED", "INITIALIZED"]
        assert async_fx.states[2:] == ["RUNNING"] * 10
    else:
        assert set(async_fx.states) == {"pending"}


def test_a_failed_job_is_permanent(async_fx: Fixture) -> None:
    if async_fx.provider.entry.kind == "segment":
        async_fx.sandbox.final_status = "FAILED"  # type: ignore[attr-defined]
    else:
        async_fx.sandbox.fail_jobs = True  # type: ignore[attr-defined]

    with pytest.raises(ApplicationError) as failed:
        async_fx.drive()

    assert failed.value.type == "ProviderRejected" and failed.value.non_retryable
    assert "failed" in str(failed.value).lower()


def test_access_exports_beside_the_report_not_into_history(access_fx: Fixture) -> None:
    outcome = access_fx.drive(ProviderAction.ACCESS)

    assert outcome.status is OutcomeStatus.DONE
    assert outcome.records_affected >= 1
    no_email_in(outcome)
    export = json.loads(
        export_of(
            access_fx.reports_dir, access_fx.subject.request_id, access_fx.provider.entry.name
        ).read_text()
    )
    assert export["provider"] == access_fx.provider.entry.name
    rows = [row for table in export["tables"].values() for row in table]
    assert rows and all(not isinstance(v, (dict, list)) for row in rows for v in row.values())
    kind = access_fx.provider.entry.kind
    if kind != "webhook":
        assert ANA[0] in json.dumps(export)
    assert access_fx.sandbox.effective_deletions == 0


def test_a_categories_answer_keeps_counts_never_content(access_fx: Fixture) -> None:
    categories = dataclasses.replace(access_fx.subject, specific_pieces=False)
    outcome = access_fx.drive(ProviderAction.ACCESS, categories)

    assert outcome.status is OutcomeStatus.DONE
    export = export_of(
        access_fx.reports_dir, categories.request_id, access_fx.provider.entry.name
    ).read_text()
    assert "tables" not in json.loads(export)
    assert sum(json.loads(export)["counts"].values()) == outcome.records_affected >= 1
    assert ANA[0] not in export and ANA[1] not in export


def test_stripe_access_lists_charges_and_card_metadata(journal: Journal, tmp_path: Path) -> None:
    with running_provider("stripe", people=[ANA]) as provider:
        fixture = Fixture(provider, journal, tmp_path)
        fixture.drive(ProviderAction.ACCESS)
    export = json.loads(export_of(tmp_path, fixture.subject.request_id, "stripe").read_text())
    assert [c["amount"] for c in export["tables"]["charges"]] == [12000]
    [card] = export["tables"]["payment_methods"]
    assert card["brand"] == "visa" and card["last4"] == "4242" and card["expires"] == "12/2030"


def test_stripe_retention_rule_makes_the_deletion_retained(
    journal: Journal, tmp_path: Path
) -> None:
    with running_provider("stripe", people=[ANA], retained=[PAYMENT_RETENTION]) as provider:
        outcome = Fixture(provider, journal, tmp_path).drive()
        assert provider.sandbox.effective_deletions == 1
    assert outcome.status is OutcomeStatus.RETAINED
    assert [r.basis for r in outcome.retained] == [PAYMENT_RETENTION.basis]


def test_timeouts_are_retried(journal: Journal, tmp_path: Path) -> None:
    with running_provider("stripe", people=[ANA], timeout_seconds=0.2) as provider:
        provider.sandbox.slow(1.0)
        fixture = Fixture(provider, journal, tmp_path)
        outcome = fixture.drive()
    assert [e.message for e in fixture.errors] == ["stripe: GET /v1/customers timed out"]
    assert outcome.status is OutcomeStatus.DONE


def test_hubspot_never_blocklists_a_stranger(journal: Journal, tmp_path: Path) -> None:
    with running_provider("hubspot", people=[ANA]) as provider:
        fixture = Fixture(provider, journal, tmp_path)
        assert fixture.drive(subject=NOBODY).status is OutcomeStatus.NOT_FOUND
        assert provider.sandbox.blocklist == set()  # type: ignore[attr-defined]
        deleted = fixture.drive()
        assert provider.sandbox.blocklist == {ANA[0]}  # type: ignore[attr-defined]
    assert deleted.note is not None and "blocks this email" in deleted.note


def test_zendesk_deletes_for_good_not_only_softly(journal: Journal, tmp_path: Path) -> None:
    with running_provider("zendesk", people=[ANA]) as provider:
        Fixture(provider, journal, tmp_path).drive()
        sandbox = provider.sandbox
        assert sandbox.users == {}  # type: ignore[attr-defined]
        assert sandbox.tickets == []  # type: ignore[attr-defined]
        assert sandbox.calls_to("DELETE", "/api/v2/users/") == 1
        assert sandbox.calls_to("DELETE", "/api/v2/deleted_users/") == 1


def test_segment_needs_an_account_id_and_reports_partial_success(
    journal: Journal, tmp_path: Path
) -> None:
    with running_provider("segment", people=[ANA]) as provider:
        fixture = Fixture(provider, journal, tmp_path)
        no_id = Subject(request_id="r1", email=ANA[0], account_id=None)
        assert fixture.drive(subject=no_id).status is OutcomeStatus.NOT_FOUND
        assert provider.sandbox.calls == []
        provider.sandbox.final_status = "PARTIAL_SUCCESS"  # type: ignore[attr-defined]
        outcome = fixture.drive()
    assert outcome.status is OutcomeStatus.DONE
    assert outcome.operator_follow_up is not None
    assert "finished partly" in outcome.operator_follow_up


def test_webhook_signature_is_checked_by_the_receiver(journal: Journal, tmp_path: Path) -> None:
    with running_provider("webhook", people=[ANA]) as provider:
        wrong = {**provider.environ, "WEBHOOK_TOKEN": "not-the-shared-secret"}
        fixture = Fixture(provider, journal, tmp_path)
        fixture.connector = connector(provider, journal, tmp_path, wrong)
        with pytest.raises(ApplicationError) as refused:
            fixture.drive()
    assert refused.value.type == "ProviderRejected" and "401" in str(refused.value)


def test_webhook_answer_that_breaks_the_contract_is_escalated(
    journal: Journal, tmp_path: Path
) -> None:
    with running_provider("webhook", people=[ANA]) as provider:
        fixture = Fixture(provider, journal, tmp_path)
        key = f"{fixture.subject.request_id}:delete"
        provider.sandbox.answers[key] = Reply(200, {"status": "erased"})  # type: ignore[attr-defined]
        with pytest.raises(ApplicationError) as refused:
            fixture.drive()
    assert refused.value.non_retryable and "status" in str(refused.value)


def test_webhook_evidence_is_masked_before_it_is_kept(journal: Journal, tmp_path: Path) -> None:
    with running_provider("webhook", people=[ANA]) as provider:
        fixture = Fixture(provider, journal, tmp_path)
        answer = {"status": "done", "records_affected": 1, "evidence": [f"purged {ANA[0]}"]}
        key = f"{fixture.subject.request_id}:delete"
        provider.sandbox.answers[key] = Reply(200, answer)  # type: ignore[attr-defined]
        outcome = fixture.drive()
    assert outcome.evidence[-1] == "purged [email]"


def test_a_redirect_means_a_wrong_base_url(journal: Journal, tmp_path: Path) -> None:
    with running_provider("stripe", people=[ANA]) as provider:
        provider.sandbox.fail(301)
        with pytest.raises(ApplicationError) as refused:
            Fixture(provider, journal, tmp_path).drive()
    assert refused.value.type == "ProviderMisconfigured" and refused.value.non_retryable


def test_stripe_404_for_a_customer_that_still_exists_is_refused(
    journal: Journal, tmp_path: Path
) -> None:
    with running_provider("stripe", people=[ANA]) as provider:
        provider.sandbox.fail(404, on="DELETE /v1/customers/")
        with pytest.raises(ApplicationError) as refused:
            Fixture(provider, journal, tmp_path).drive()
        assert provider.sandbox.effective_deletions == 0
    assert refused.value.type == "ProviderRejected"
    assert "still exists" in str(refused.value)


def test_overlapping_attempts_merge_their_journal_entries(journal: Journal) -> None:
    first = journal.step("r-9", "segment", ProviderAction.DELETE)
    second = journal.step("r-9", "segment", ProviderAction.DELETE)  # read before first wrote

    first.save(regulate_id="reg000001")
    second.save(note="second attempt")

    merged = journal.step("r-9", "segment", ProviderAction.DELETE)
    assert merged.get("regulate_id") == "reg000001"
    assert merged.get("note") == "second attempt"


@pytest.mark.parametrize("kind", KINDS)
def test_a_restarted_sandbox_holds_what_it_held(kind: str, tmp_path: Path) -> None:
    """As a real provider would after `make run` restarts: the person deleted stays deleted
    and is counted once, a job keeps its id and progress, and a repeated call (our journal
    lost, as after a crash) gets the provider's answer to a repeat, the webhook's the first
    answer to its Idempotency-Key."""
    port, state_dir = free_port(), tmp_path / "sandbox"
    journals = [Journal(sa.create_engine(f"sqlite:///{tmp_path / f'{n}.db'}")) for n in (1, 2)]
    ben = Subject(request_id=uuid.uuid4().hex, email=BEN[0], account_id=BEN[2])
    try:
        with running_provider(kind, people=[ANA, BEN], port=port, state_dir=state_dir) as before:
            deletion = Fixture(before, journals[0], tmp_path)
            first = deletion.drive()
            running = deletion.connector.fulfil(ben, ProviderAction.DELETE)
            if running.job is not None:
                running = deletion.connector.resume(ben, ProviderAction.DELETE, running.job)
                assert running.job is not None, "the job should still be running"
        with running_provider(kind, people=[ANA, BEN], port=port, state_dir=state_dir) as after:
            assert not after.sandbox.fresh
            counted_before = dict(after.sandbox.effective_deletions_per_person)
            again = Fixture(after, journals[1], tmp_path).drive(subject=deletion.subject)
            resumed = Fixture(after, journals[0], tmp_path).connector
            while running.job is not None:  # a 404 for the job id would raise
                running = resumed.resume(ben, ProviderAction.DELETE, running.job)
            counts = after.sandbox.effective_deletions_per_person
    finally:
        for journal in journals:
            journal.engine.dispose()
    assert first.status is running.status is OutcomeStatus.DONE
    if kind == "webhook":
        assert again == first
    else:
        assert again.status in (OutcomeStatus.NOT_FOUND, OutcomeStatus.DONE)
    assert counted_before == {ANA[2]: 1, **({} if kind in ASYNC_JOBS else {BEN[2]: 1})}
    assert counts == {ANA[2]: 1, BEN[2]: 1}
