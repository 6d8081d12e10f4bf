"""Payload encryption for Temporal: AES-256-GCM, a key id on every payload, rotation by config.

Temporal keeps every workflow input, activity argument and result, Update argument and failure
message in its history and shows them in its UI. With this codec on every client and worker,
what Temporal stores is ciphertext: names, emails and answers never reach it in plaintext.
New payloads use the current key; older payloads still decode as long as their key id stays
configured, so a key is rotated by adding a new current key and keeping the old one.

Not importable from workflow code (the sandbox refuses `cryptography`); clients and workers
apply it to the data converter, outside the sandbox.
"""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import Iterable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

ENCODING = b"binary/encrypted"
# What a refused plaintext payload becomes: an encoding no converter reads, so an Update or a
# start sent by a client without the keys fails to decode and is rejected, never acted on.
REFUSED_PLAINTEXT = b"binary/refused-plaintext"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class PayloadKeyError(ValueError):
    """The key configuration is unusable; the message names PAYLOAD_KEYS, never a key."""


class EncryptionCodec(PayloadCodec):
    """Seals every payload; with `refuse_plaintext` (production), unsealed ones are refused.

    Refusing plaintext is what makes the keys, not mere access to Temporal, the power to steer a
    request: an operator Update written by a client without them reaches the workflow as an
    undecodable payload, and the SDK rejects the Update before any handler runs.
    """

    def __init__(
        self, keys: dict[str, bytes], current: str, *, refuse_plaintext: bool = False
    ) -> None:
        if current not in keys:
            raise PayloadKeyError(f"PAYLOAD_KEYS: current key id {current!r} is not configured")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise PayloadKeyError(f"PAYLOAD_KEYS: key {key_id!r} must be 32 bytes (AES-256)")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = current
        self._refuse_plaintext = refuse_plaintext

    @property
    def current_key_id(self) -> str:
        """The id of the key that seals new payloads."""
        return self._current

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Seal each payload with the current key."""
        return [self._encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Open each sealed payload with its key; plaintext as configured."""
        return [self._decrypt(payload) for payload in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: self._current.encode()},
            data=nonce + sealed,
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            if self._refuse_plaintext:
                return Payload(metadata={"encoding": REFUSED_PLAINTEXT})
            return payload
        key_id = payload.metadata[KEY_ID].decode()
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(f"PAYLOAD_KEYS: no key with id {key_id!r} to decode a payload")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            return Payload.FromString(cipher.decrypt(nonce, sealed, None))
        except InvalidTag:
            raise PayloadKeyError(f"payload under key {key_id!r} failed authentication") from None


def parse_keys(spec: str) -> tuple[dict[str, bytes], str]:
    """`id:base64key,id:base64key`; the last one listed is the current key."""
    keys: dict[str, bytes] = {}
    current = ""
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        key_id, separator, encoded = entry.partition(":")
        if not separator or not key_id:
            raise PayloadKeyError("PAYLOAD_KEYS: each entry must be KEY_ID:BASE64_KEY")
        try:
            keys[key_id] = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise PayloadKeyError(f"PAYLOAD_KEYS: key {key_id!r} is not valid base64") from None
        current = key_id
    if not keys:
        raise PayloadKeyError("PAYLOAD_KEYS: no keys configured")
    return keys, current


def format_keys(keys: Iterable[tuple[str, bytes]]) -> str:
    """PAYLOAD_KEYS's form of `keys`, the last current."""
    return ",".join(f"{key_id}:{base64.b64encode(key).decode()}" for key_id, key in keys)


def encrypted_converter(codec: PayloadCodec) -> DataConverter:
    """The pydantic converter, with payloads and failure messages sealed by `codec`."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
