"""Every public door, probed as an attacker would: generated requests by the thousand.

Hypothesis draws requests for each door: intake (valid, invalid, hostile and garbage bodies,
right and wrong keys, repeated Idempotency-Keys), the requester pages (any id, any token, any
form field, against a live request too), the providers' callbacks (signed and not) and the codec
server. They go to the real app over a real worker and Temporal, and each must hold:

- no answer is a server error (5xx);
- no workflow is started but for an accepted intake (202), exactly once per request id;
- nothing a generated requester is called, nor their email address, reaches a log line.

`make test` sends a slice (FUZZ_EXAMPLES per door, 60 by default); `make fuzz` sends 2,000 per
door and prints its figures. Requests are drawn from a fixed seed, so a failure names a
request that fails again.
"""

from __future__ import annotations

import io
import json
import logging
import os
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from google.protobuf import json_format
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.providers.kinds import load_registry
from api.app import create_app
from api.codec_server import create_codec_app
from logs import configure_logging
from rights.signatures import signed_headers
from rights.terms import RequestType
from tests.harness import INTAKE_KEY, MARIA, ROOT, TEST_CODEC, Harness
from tests.test_api import StartRecorder

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
CALLBACK_SECRET = "fuzz-callback-secret-0123456789abcdef"
OPERATOR_TOKEN = "fuzz-operator-token-0123456789abcdef"
UI_ORIGIN = "http://localhost:8233"
LIVE = "{live}"  # replaced by the id of a request that is waiting for verification


@dataclass(frozen=True)
class Probe:
    door: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    content: bytes | None = None
    form: dict[str, str] | None = None


# What a generated requester is called: distinctive, so a leak into a log cannot be chance.
names = st.from_regex(r"\AZq[a-z]{5,10}( [A-Z][a-z]{3,8})?\Z")
emails = st.from_regex(r"\Azq[a-z0-9]{6,10}@example\.(com|org)\Z")
hostile_text = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><meta http-equiv="refresh" content="0;url=https://evil.example">',
        "javascript:alert(1)",
        "Zqline\r\nBcc: victim@example.com",
        "Zq\u202eevil",
        "../../etc/passwd",
        "%00",
        "\x00",
        "é" * 40,
        "x" * 6000,
    ]
)
any_text = st.one_of(st.text(max_size=80), hostile_text)
identifiers = st.one_of(
    st.just(LIVE),
    st.just(LIVE),
    st.just(LIVE),
    st.uuids().map(str),
    st.sampled_from(["req-00000001", "..", "%2e%2e", "<script>", "é", "a" * 70, "-x-"]),
    st.from_regex(r"\A[A-Za-z0-9%._~-]{1,40}\Z"),
)
tokens = st.one_of(
    st.from_regex(r"\A[A-Za-z0-9_-]{43}\Z"),
    st.text(max_size=60),
    hostile_text,
    st.just(""),
)


def person(name_strategy: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"email": st.one_of(emails, any_text), "full_name": st.one_of(name_strategy, any_text)},
        optional={
            "residence": st.sampled_from(["US-CA", "US-CO", "US-TX", "IE", "GB", "US-NY", "XX"]),
            "phone": st.one_of(st.from_regex(r"\A\+1 [0-9]{3} 555 [0-9]{4}\Z"), any_text),
            "authorization_url": st.one_of(st.just("https://agents.example/p.pdf"), any_text),
        },
    )


valid_bodies = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["access", "deletion", "portability", "opt_out"]),
        "channel": st.sampled_from(["web_form", "email", "api"]),
        "requester": st.fixed_dictionaries(
            {
                "email": emails,
                "full_name": names,
                "residence": st.sampled_from(["US-CA", "US-CO", "US-TX", "IE", "GB"]),
            }
        ),
    },
    optional={"details": st.text(max_size=40)},
)
intake_bodies = st.one_of(
    valid_bodies,
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                [
                    "access",
                    "deletion",
                    "correction",
                    "portability",
                    "opt_out",
                    "limit_sensitive",
                    "appeal",
                    "erasure",
                    "",
                ]
            ),
            "channel": st.sampled_from(["web_form", "email", "api", "carrier-pigeon"]),
            "requester": person(names),
        },
        optional={
            "jurisdiction": st.sampled_from(["US-CA", "US-CO", "EU", "GB", "US-NY", "", "us-ca"]),
            "agent": person(names),
            "details": any_text,
            "specific_pieces": st.booleans(),
            "corrections": st.lists(
                st.fixed_dictionaries({"field": any_text, "corrected_value": any_text}),
                max_size=3,
            ),
        },
    ),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=10), children, max_size=3)
        ),
        max_leaves=8,
    ),
)
keys = st.one_of(
    st.just(f"Bearer {INTAKE_KEY}"),
    st.sampled_from(
        ["", "Bearer", "Bearer wrong-key", "Basic Zm9vOmJhcg==", f"Bearer {INTAKE_KEY}x"]
    ),
)


@st.composite
def intake_probes(draw: st.DrawFn) -> Probe:
    headers = {
        "Authorization": draw(keys) if draw(st.integers(0, 4)) == 0 else f"Bearer {INTAKE_KEY}"
    }
    if draw(st.booleans()):
        headers["Idempotency-Key"] = draw(st.sampled_from(["retry-1", "retry-2", "retry-3"]))
    if draw(st.integers(0, 9)) == 0:
        raw = draw(st.binary(max_size=200))
        return Probe(
            "intake",
            "POST",
            "/v1/requests",
            headers | {"Content-Type": "application/json"},
            content=raw,
        )
    if draw(st.integers(0, 9)) == 0:
        return Probe("intake", "GET", f"/v1/requests/{draw(identifiers)}", headers)
    return Probe("intake", "POST", "/v1/requests", headers, json_body=draw(intake_bodies))


@st.composite
def page_probes(draw: st.DrawFn) -> Probe:
    page = draw(st.sampled_from(["verify", "confirm-deletion", "report", "appeal", ""]))
    path = f"/r/{draw(identifiers)}/{page}"
    method = draw(st.sampled_from(["GET", "POST"]))
    token = draw(tokens)
    if method == "GET":
        query = {"token": token}
        if page == "report":
            query["format"] = draw(st.sampled_from(["html", "json", "zip", "csv", "../x"]))
        return Probe("pages", "GET", path + "?" + httpx.QueryParams(query).__str__())
    form = {"token": token}
    for field_name in ("phone", "date_of_birth", "postal_code", "declaration"):
        if draw(st.booleans()):
            form[field_name] = draw(st.one_of(any_text, st.just(MARIA[2]), st.just("1984-03-12")))
    return Probe("pages", "POST", path, form=form)


@st.composite
def callback_probes(draw: st.DrawFn) -> Probe:
    provider = draw(st.sampled_from(["care-notes", "stripe", "nobody", "..", "é"]))
    body = draw(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "request_id": st.one_of(st.uuids().map(str), any_text),
                    "job_id": any_text,
                    "result": st.sampled_from(["done", "not_found", "failed", "maybe"]),
                },
                optional={
                    "records_affected": st.integers(-5, 10**12),
                    "evidence": st.lists(any_text, max_size=3),
                },
            ),
            st.text(max_size=50),
        )
    )
    content = json.dumps(body).encode()
    if draw(st.booleans()):
        headers = signed_headers(CALLBACK_SECRET, content, now=time.time())
    else:
        headers = {
            "X-Rights-Timestamp": draw(
                st.one_of(st.text(max_size=12), st.just(str(int(time.time()))))
            ),
            "X-Rights-Signature": draw(st.one_of(st.text(max_size=90), st.just("v1=" + "0" * 64))),
            "Content-Type": "application/json",
        }
    return Probe(
        "callbacks", "POST", f"/v1/providers/{provider}/callbacks", headers, content=content
    )


@st.composite
def codec_probes(draw: st.DrawFn) -> Probe:
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        headers["Origin"] = draw(st.sampled_from([UI_ORIGIN, "https://evil.example", ""]))
    if draw(st.booleans()):
        headers["Authorization"] = draw(
            st.sampled_from([f"Bearer {OPERATOR_TOKEN}", "Bearer nope", OPERATOR_TOKEN, ""])
        )
    body = draw(
        st.one_of(
            st.just(SEALED),
            st.fixed_dictionaries(
                {
                    "payloads": st.lists(
                        st.fixed_dictionaries(
                            {
                                "metadata": st.dictionaries(
                                    st.sampled_from(["encoding", "encryption-key-id", "x"]),
                                    st.sampled_from(
                                        ["YmluYXJ5L2VuY3J5cHRlZA==", "dGVzdC0x", "!!", ""]
                                    ),
                                    max_size=2,
                                ),
                                "data": st.one_of(st.just("AAAA"), st.text(max_size=20)),
                            }
                        ),
                        max_size=3,
                    )
                }
            ),
            st.text(max_size=40),
        )
    )
    path = draw(st.sampled_from(["/codec/decode", "/codec/encode", "/codec/other"]))
    return Probe("codec", "POST", path, headers, content=json.dumps(body).encode())


SEALED: Any = None  # a payload sealed with the test key, set once the codec has run


def drawn(strategy: st.SearchStrategy[Probe], count: int, number: int) -> list[Probe]:
    """`count` probes from `strategy`, the same ones for the same `number` (the seed)."""
    found: list[Probe] = []

    @seed(number)
    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def collect(probe: Probe) -> None:
        found.append(probe)

    collect()
    return found


@dataclass
class Figures:
    sent: Counter[str] = field(default_factory=Counter)
    by_status: Counter[tuple[str, int]] = field(default_factory=Counter)
    server_errors: list[tuple[Probe, int, str]] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)


@asynccontextmanager
async def doors(
    harness: Harness, starts: StartRecorder
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    config = harness.client.config()
    config["interceptors"] = [starts]
    registry = load_registry(ROOT / "config" / "providers.toml")
    app = create_app(
        harness.settings,
        Client(**config),
        registry=registry,
        environ={"CARE_NOTES_WEBHOOK_SECRET": CALLBACK_SECRET},
    )
    codec_settings = harness.settings.model_copy(
        update={"codec_operator_token": SecretStr(OPERATOR_TOKEN)}
    )
    codec_app = create_codec_app(codec_settings, TEST_CODEC)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        api_transport = httpx.ASGITransport(app=app)
        codec_transport = httpx.ASGITransport(app=codec_app)
        async with (
            httpx.AsyncClient(transport=api_transport, base_url="http://api") as api,
            httpx.AsyncClient(transport=codec_transport, base_url="http://codec") as codec,
        ):
            yield {"api": api, "codec": codec}


async def send(clients: dict[str, httpx.AsyncClient], probe: Probe, live: str) -> httpx.Response:
    client = clients["codec" if probe.door == "codec" else "api"]
    path = probe.path.replace(LIVE, live)
    # Bytes as a client may send them; CR, LF and NUL cannot travel in a header at all.
    headers = {
        name: value.translate({13: None, 10: None, 0: None}).encode("utf-8", "surrogateescape")
        for name, value in probe.headers.items()
    }
    return await client.request(
        probe.method,
        path,
        headers=headers,
        json=probe.json_body,
        content=probe.content,
        data=probe.form,
    )


async def test_no_door_gives_a_server_error_starts_a_refused_run_or_logs_a_person(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    global SEALED
    (sealed,) = await TEST_CODEC.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"1")])
    SEALED = json_format.MessageToDict(Payloads(payloads=[sealed]))
    probes = [
        probe
        for number, strategy in enumerate(
            (intake_probes(), page_probes(), callback_probes(), codec_probes())
        )
        for probe in drawn(strategy, EXAMPLES * (2 if number == 1 else 1), number)
    ]
    log = io.StringIO()
    configure_logging(stream=log)
    starts = StartRecorder()
    figures = Figures()
    try:
        async with Harness.running(env, tmp_path) as harness, doors(harness, starts) as clients:
            live = (await harness.submit(RequestType.DELETION)).request_id
            await harness.wait_for_notice(live, "verification")
            for probe in probes:
                response = await send(clients, probe, live)
                figures.sent[probe.door] += 1
                figures.by_status[probe.door, response.status_code] += 1
                if response.status_code >= 500:
                    figures.server_errors.append((probe, response.status_code, response.text[:200]))
                if probe.path == "/v1/requests" and response.status_code == 202:
                    rid = response.json()["request_id"]
                    figures.accepted.add(rid)
                    harness.track(rid)
            logged = log.getvalue()
    finally:
        logging.getLogger().handlers.clear()

    people = {
        value
        for probe in probes
        if isinstance(probe.json_body, dict)
        for role in ("requester", "agent")
        if isinstance(probe.json_body.get(role), dict)
        for key in ("email", "full_name")
        if isinstance(value := probe.json_body[role].get(key), str)
        and value.lower().startswith("zq")
    }
    leaked = sorted(value for value in people if value in logged)
    started = {workflow_id.removeprefix("rights-request-") for workflow_id in starts.started}
    print(
        f"\nfuzz: {sum(figures.sent.values())} requests ({dict(figures.sent)}), "
        f"statuses {', '.join(f'{d} {c}: {n}' for (d, c), n in sorted(figures.by_status.items()))}"
        ", "
        f"{len(figures.server_errors)} server errors, {len(figures.accepted)} runs accepted, "
        f"{len(started)} runs started, {len(people)} generated people, {len(leaked)} in logs"
    )
    assert figures.server_errors == [], figures.server_errors[:3]
    assert started == figures.accepted
    assert len(starts.started) == len(started)  # once each: a retry never starts a second run
    assert set(starts.attempted) >= set(starts.started)
    assert leaked == []
    assert people, "the generator drew no requester to look for"
