"""The public request form as an attacker and a requester meet it: the rights each law grants,
errors beside their fields, the hidden field bots fill in, and the hourly limits."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from temporalio.testing import WorkflowEnvironment

from rights.models import RequestStatus
from rights.terms import SUBMITTABLE_IN_ORDER
from stores.records import intake_idempotency
from tests.harness import MARIA, Harness

FORM = {"residence": "US-CA", "type": "access", "full_name": MARIA[1], "email": MARIA[0]}


@pytest.fixture
async def form_harness(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Harness]:
    async with Harness.running(
        env, tmp_path, form_limit_per_email=1, form_limit_per_address=3
    ) as harness:
        yield harness


def reference(page: str) -> str:
    found = re.search(r"Request reference: ([0-9a-f-]{36})", page)
    assert found, page
    return found.group(1)


def offered(page: str) -> list[str]:
    return re.findall(r'name="type" value="([a-z_]+)"', page)


async def post(http: httpx.AsyncClient, **changes: Any) -> httpx.Response:
    return await http.post("/request", data={**FORM, "form_id": "f-1", **changes})


async def test_the_form_offers_what_each_law_grants(form_harness: Harness) -> None:
    async with form_harness.pages() as http:
        start = await http.get("/request?type=deletion")
        utah = await http.get("/request?residence=US-UT&type=deletion")
        nevada = await http.get("/request?residence=US-NV")
        japan = await http.get("/request?residence=&other_country=jp")
        nonsense = await http.get("/request?residence=XX-QQ")

    assert start.status_code == 200 and '<select id="residence"' in start.text
    assert 'name="type" value="deletion"' in start.text  # the chosen type is carried along
    assert offered(utah.text) == ["access", "deletion", "correction", "portability", "opt_out"]
    assert 'value="deletion" checked' in utah.text
    assert "Utah Consumer Privacy Act protects you" in utah.text
    # Nevada has no consumer privacy law in force: honoured under the common state rules.
    assert offered(nevada.text) == ["access", "deletion", "correction", "portability", "opt_out"]
    assert "Your state has no consumer privacy law in force" in nevada.text
    assert japan.status_code == 200 and 'name="residence" value="JP"' in japan.text
    assert len(offered(japan.text)) == len(SUBMITTABLE_IN_ORDER)
    assert "None of the privacy laws we apply" in japan.text
    assert nonsense.status_code == 400 and 'id="residence-error"' in nonsense.text


async def test_a_request_from_the_form_starts_once_per_form(form_harness: Harness) -> None:
    async with form_harness.pages() as http:
        sent = await post(http)
        again = await post(http)  # the same form sent twice: one request
    rid = reference(sent.text)
    form_harness.track(rid)

    assert sent.status_code == 200 and "We received your request" in sent.text
    assert again.status_code == 200 and reference(again.text) == rid
    state = await form_harness.wait_for_status(rid, RequestStatus.AWAITING_VERIFICATION)
    assert state.channel.value == "web_form" and state.jurisdiction.value == "US-CA"


async def test_errors_stand_beside_their_fields_and_nothing_starts(
    form_harness: Harness,
) -> None:
    async with form_harness.pages() as http:
        bad = await post(
            http,
            type="",
            email="maria at example",
            full_name="Maria https://evil.example",
            agent_email="dana@agents.example.org",
        )
    assert bad.status_code == 400
    for field in ("type", "email", "full_name", "agent_name"):
        assert f'id="{field}-error"' in bad.text, field
    assert 'aria-describedby="email-error"' in bad.text
    assert 'value="maria at example"' in bad.text  # what was typed is kept to fix
    assert "Request reference" not in bad.text


async def test_a_filled_trap_field_starts_nothing(form_harness: Harness) -> None:
    async with form_harness.pages() as http:
        trapped = await post(http, website="http://spam.example", form_id="f-trap")
    assert trapped.status_code == 400 and "could not be sent" in trapped.text
    assert "Request reference" not in trapped.text
    with form_harness.records_engine.connect() as db:
        assert db.execute(sa.select(sa.func.count()).select_from(intake_idempotency)).scalar() == 0


async def test_the_hourly_limits_answer_429(form_harness: Harness) -> None:
    async with form_harness.pages() as http:
        first = await post(http, form_id="f-a")
        same_email = await post(http, form_id="f-b")
        other_email = await post(http, form_id="f-c", email="james.chen@example.com")
        fourth_from_here = await post(http, form_id="f-d", email="ana.silva@example.com")
    form_harness.track(reference(first.text))
    form_harness.track(reference(other_email.text))

    assert first.status_code == 200
    assert same_email.status_code == 429 and "Too many requests" in same_email.text
    assert other_email.status_code == 200
    assert fourth_from_here.status_code == 429  # three an hour from one address
