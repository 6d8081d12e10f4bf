"""The codec server: lets the privacy team's Temporal UI show decrypted payloads.

The UI posts `{"payloads": [...]}` (proto3 JSON) to `/codec/decode` and `/codec/encode`
(https://docs.temporal.io/production-deployment/data-encryption). Only the UI's origin may
call it from a browser, and, where CODEC_OPERATOR_TOKEN is set (always in production), only
with `Authorization: Bearer <token>`. It listens on its own port, apart from the public API,
so requester-facing traffic can never reach it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from api.security import key_matches
from client.connection import load_payload_codec
from logs import configure_logging
from rights.codec import EncryptionCodec, PayloadKeyError
from rights.settings import Settings, load_settings


def create_codec_app(settings: Settings, codec: EncryptionCodec) -> FastAPI:
    """The codec server app: decode and encode for the Temporal UI's origin only."""
    app = FastAPI(title="Payload codec", docs_url=None, redoc_url=None, openapi_url=None)
    token = settings.codec_operator_token

    def refusal(request: Request) -> JSONResponse | None:
        origin = request.headers.get("origin")
        if origin is not None and origin != settings.temporal_ui_origin:
            return JSONResponse(status_code=403, content={"error": "origin not allowed"})
        if token is None:
            if origin is None:
                return JSONResponse(
                    status_code=403, content={"error": "only the Temporal UI may call this"}
                )
            return None
        presented = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not key_matches(presented, [token.get_secret_value().encode()]):
            return JSONResponse(status_code=401, content={"error": "operator token required"})
        return None

    async def transform(request: Request, encode: bool) -> JSONResponse:
        refused = refusal(request)
        if refused is not None:
            return refused
        try:
            body: Any = await request.json()
            payloads = json_format.ParseDict(body, Payloads())
        except (ValueError, json_format.ParseError):
            return JSONResponse(status_code=400, content={"error": 'expected {"payloads": [...]}'})
        try:
            step = codec.encode if encode else codec.decode
            result = Payloads(payloads=await step(payloads.payloads))
        except PayloadKeyError as error:
            return JSONResponse(status_code=422, content={"error": str(error)})
        return JSONResponse(content=json_format.MessageToDict(result))

    @app.post("/codec/decode")
    async def decode(request: Request) -> JSONResponse:
        return await transform(request, encode=False)

    @app.post("/codec/encode")
    async def encode(request: Request) -> JSONResponse:
        return await transform(request, encode=True)

    app.add_middleware(
        CORSMiddleware,
        allow_origins=[settings.temporal_ui_origin],
        allow_methods=["POST"],
        allow_headers=["authorization", "content-type", "x-namespace"],
        allow_credentials=True,
    )
    return app


def codec_config(settings: Settings, codec: EncryptionCodec) -> uvicorn.Config:
    """The codec server on CODEC_PORT: loopback only, unless an operator token guards it."""
    return uvicorn.Config(
        create_codec_app(settings, codec),
        host="127.0.0.1" if settings.codec_operator_token is None else settings.api_host,
        port=settings.codec_port,
        log_config=None,
    )


async def serve_codec(settings: Settings, codec: EncryptionCodec) -> None:
    """Serve the codec server until stopped."""
    await uvicorn.Server(codec_config(settings, codec)).serve()


if __name__ == "__main__":
    configure_logging()
    settings = load_settings()
    asyncio.run(serve_codec(settings, load_payload_codec(settings)))
