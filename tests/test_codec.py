"""The payload codec: sealed payloads, key ids, rotation, and refusals that name no secret."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.converter import SerializationContext, WithSerializationContext
from temporalio.worker import Replayer

from rights.codec import (
    ENCODING,
    KEY_ID,
    EncryptionCodec,
    PayloadKeyError,
    encrypted_converter,
    format_keys,
    parse_keys,
)
from tests.harness import TEST_PAYLOAD_KEYS
from worker import ContextFreeRunner, workflow_runner
from workflows.rights_request import RightsRequestWorkflow

PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"email": "maria@example.com"}')
HISTORY = Path(__file__).parent / "histories" / "0.1.0" / "deletion_completed.json"


def rotated() -> EncryptionCodec:
    """The test key kept for old payloads, a new key current."""
    return EncryptionCodec(
        *parse_keys(TEST_PAYLOAD_KEYS + "," + format_keys([("test-2", secrets.token_bytes(32))]))
    )


async def test_payloads_are_sealed_with_the_current_key_id() -> None:
    codec = EncryptionCodec(*parse_keys(TEST_PAYLOAD_KEYS))

    (sealed,) = await codec.encode([PLAIN])

    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == b"test-1"
    assert b"maria" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [PLAIN]


async def test_after_rotation_old_payloads_decode_and_new_ones_use_the_new_key() -> None:
    (old,) = await EncryptionCodec(*parse_keys(TEST_PAYLOAD_KEYS)).encode([PLAIN])
    codec = rotated()

    (new,) = await codec.encode([PLAIN])

    assert await codec.decode([old]) == [PLAIN]
    assert new.metadata[KEY_ID] == b"test-2"


async def test_histories_written_under_the_old_key_replay_after_rotation() -> None:
    replayer = Replayer(
        workflows=[RightsRequestWorkflow],
        data_converter=encrypted_converter(rotated()),
        workflow_runner=workflow_runner(encrypted_converter(rotated()), strict=True),
    )

    result = await replayer.replay_workflow(
        WorkflowHistory.from_json("deletion", HISTORY.read_text()), raise_on_replay_failure=False
    )

    assert result.replay_failure is None


async def test_a_retired_key_is_named_and_tampering_is_refused() -> None:
    (sealed,) = await EncryptionCodec(*parse_keys(TEST_PAYLOAD_KEYS)).encode([PLAIN])
    stranger = EncryptionCodec({"other": secrets.token_bytes(32)}, "other")
    flipped_last_byte = sealed.data[:-1] + bytes([sealed.data[-1] ^ 0xFF])
    tampered = Payload(metadata=sealed.metadata, data=flipped_last_byte)

    with pytest.raises(PayloadKeyError, match="no key with id 'test-1'"):
        await stranger.decode([sealed])
    with pytest.raises(PayloadKeyError, match="failed authentication"):
        await EncryptionCodec(*parse_keys(TEST_PAYLOAD_KEYS)).decode([tampered])


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("", "no keys configured"),
        ("just-a-key", "each entry must be KEY_ID:BASE64_KEY"),
        ("k1:not base64!", "key 'k1' is not valid base64"),
        ("k1:" + format_keys([("x", b"short")]).split(":")[1], "key 'k1' must be 32 bytes"),
    ],
)
def test_bad_key_configuration_names_the_problem_not_the_key(spec: str, problem: str) -> None:
    with pytest.raises(PayloadKeyError) as raised:
        EncryptionCodec(*parse_keys(spec))

    assert problem in str(raised.value) and "PAYLOAD_KEYS" in str(raised.value)


class ContextReadingCodec(EncryptionCodec, WithSerializationContext):
    """A codec that would seal each payload for its workflow or activity."""

    def with_context(self, context: SerializationContext) -> ContextReadingCodec:
        return self


def test_the_worker_refuses_a_codec_that_reads_serialization_contexts() -> None:
    # The strict sandbox answers "no context" without entering it: right for our codec,
    # silently wrong for one that seals per workflow, so that one is refused.
    codec = ContextReadingCodec(*parse_keys(TEST_PAYLOAD_KEYS))

    with pytest.raises(TypeError, match="payload codec reads serialization contexts"):
        workflow_runner(encrypted_converter(codec), strict=True)

    ours = EncryptionCodec(*parse_keys(TEST_PAYLOAD_KEYS))
    assert isinstance(workflow_runner(encrypted_converter(ours), strict=True), ContextFreeRunner)
