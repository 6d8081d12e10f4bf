"""Only the keyholders steer: in production the codec refuses payloads it did not seal.

Anyone who can reach Temporal can send an Update. With the production codec, an Update written
without the payload keys reaches the worker as a payload no converter reads, and the SDK rejects
it before any handler runs: the request is untouched. (Locking Temporal itself, with mTLS and an
authorizer or Temporal Cloud API keys, is in the README.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from client import connection, rights_requests
from rights.codec import REFUSED_PLAINTEXT, EncryptionCodec, encrypted_converter, parse_keys
from rights.models import DenyInput, OperatorNote, RequestStatus
from rights.settings import load_settings
from rights.terms import RequestType
from tests.harness import PRODUCTION, TEST_PAYLOAD_KEYS, Harness

PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"reason": "closed"}')


async def test_the_production_codec_refuses_what_it_did_not_seal(tmp_path: Path) -> None:
    production = connection.load_payload_codec(load_settings(**PRODUCTION, data_dir=tmp_path))
    development = connection.load_payload_codec(load_settings(_env_file=None, data_dir=tmp_path))

    (refused,) = await production.decode([PLAIN])
    (passed,) = await development.decode([PLAIN])
    (sealed,) = await production.encode([PLAIN])
    (opened,) = await production.decode([sealed])

    assert refused.metadata["encoding"] == REFUSED_PLAINTEXT and refused.data == b""
    assert passed == PLAIN
    assert opened == PLAIN


async def test_a_client_without_the_keys_cannot_steer_a_request(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    strict = EncryptionCodec(*parse_keys(TEST_PAYLOAD_KEYS), refuse_plaintext=True)
    keyholder = Client(**{**env.client.config(), "data_converter": encrypted_converter(strict)})
    outsider = Client(**{**env.client.config(), "data_converter": pydantic_data_converter})
    async with Harness.running(env, tmp_path, client=keyholder) as harness:
        request = await harness.submit(RequestType.DELETION)
        rid = request.request_id
        await harness.wait_for_notice(rid, "verification")

        with pytest.raises(rights_requests.RequestRefused):
            await rights_requests.deny(outsider, rid, DenyInput(reason="closed by an outsider"))
        with pytest.raises(rights_requests.RequestRefused):
            await rights_requests.verify_manually(outsider, rid, OperatorNote(note="trust me"))
        untouched = await harness.status(rid)

        await rights_requests.deny(keyholder, rid, DenyInput(reason="closed by the privacy team"))
        final = await harness.result(rid)

    assert untouched.status is RequestStatus.AWAITING_VERIFICATION
    assert untouched.denial_reason is None
    assert final.status is RequestStatus.DENIED
    assert final.denial_reason == "closed by the privacy team"
