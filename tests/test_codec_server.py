"""The codec server for the Temporal UI: decodes for its origin, with the operator token."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from api.codec_server import create_codec_app
from rights.settings import Settings, load_settings
from tests.harness import TEST_CODEC

UI = "http://localhost:8233"
PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"full_name": "Maria Lopez"}')


async def sealed_body() -> dict[str, object]:
    sealed = await TEST_CODEC.encode([PLAIN])
    return json_format.MessageToDict(Payloads(payloads=sealed))


async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_codec_app(settings, TEST_CODEC))
    async with httpx.AsyncClient(transport=transport, base_url="http://codec") as http:
        yield http


@pytest.fixture
async def production_like() -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(_env_file=None, codec_operator_token="op-token-123")
    async for http in client_for(settings):
        yield http


@pytest.fixture
async def development() -> AsyncIterator[httpx.AsyncClient]:
    async for http in client_for(load_settings(_env_file=None)):
        yield http


async def test_decode_with_token_and_ui_origin(production_like: httpx.AsyncClient) -> None:
    response = await production_like.post(
        "/codec/decode",
        json=await sealed_body(),
        headers={"Authorization": "Bearer op-token-123", "Origin": UI},
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == UI
    (payload,) = response.json()["payloads"]
    assert base64.b64decode(payload["data"]) == PLAIN.data


async def test_encode_then_decode_round_trips(production_like: httpx.AsyncClient) -> None:
    headers = {"Authorization": "Bearer op-token-123", "Origin": UI}
    plain = json_format.MessageToDict(Payloads(payloads=[PLAIN]))

    encoded = await production_like.post("/codec/encode", json=plain, headers=headers)
    decoded = await production_like.post("/codec/decode", json=encoded.json(), headers=headers)

    assert b"Maria" not in base64.b64decode(encoded.json()["payloads"][0]["data"])
    assert decoded.json() == plain


async def test_refused_without_token_or_from_another_origin(
    production_like: httpx.AsyncClient,
) -> None:
    body = await sealed_body()

    no_token = await production_like.post("/codec/decode", json=body, headers={"Origin": UI})
    wrong_token = await production_like.post(
        "/codec/decode", json=body, headers={"Origin": UI, "Authorization": "Bearer guess"}
    )
    elsewhere = await production_like.post(
        "/codec/decode",
        json=body,
        headers={"Origin": "https://evil.example", "Authorization": "Bearer op-token-123"},
    )
    preflight_elsewhere = await production_like.options(
        "/codec/decode",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )

    assert (no_token.status_code, wrong_token.status_code) == (401, 401)
    assert elsewhere.status_code == 403
    assert "Maria" not in no_token.text + wrong_token.text + elsewhere.text
    assert "access-control-allow-origin" not in preflight_elsewhere.headers


async def test_ui_preflight_is_allowed(production_like: httpx.AsyncClient) -> None:
    response = await production_like.options(
        "/codec/decode",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == UI


async def test_development_serves_only_the_ui_origin(development: httpx.AsyncClient) -> None:
    body = await sealed_body()

    from_ui = await development.post("/codec/decode", json=body, headers={"Origin": UI})
    no_origin = await development.post("/codec/decode", json=body)

    assert from_ui.status_code == 200
    assert no_origin.status_code == 403


async def test_malformed_body_is_a_400(production_like: httpx.AsyncClient) -> None:
    response = await production_like.post(
        "/codec/decode",
        content=b"[1, 2",
        headers={"Authorization": "Bearer op-token-123", "Content-Type": "application/json"},
    )

    assert response.status_code == 400
