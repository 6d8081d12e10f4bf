"""A local stand-in for SendGrid Inbound Parse: posts `.eml` files to the inbound endpoint.

    python -m dev.sandbox.inbound message.eml [more.eml | a-folder …] [--spf fail --dkim fail]

Each message is posted as SendGrid's default (parsed) webhook does: a multipart form with
`from`, `to`, `subject`, `text`, `html`, `headers`, `envelope`, `SPF`, `dkim`, `charsets`,
`attachments`, `attachment-info` and one `attachmentN` file per attachment, with the basic-auth
credentials of `INBOUND_PARSE_CREDENTIALS` (or the development ones `make run` keeps in
`DATA_DIR/inbound-parse-credentials`). `make run` also watches `DATA_DIR/inbound-drop/`: an
`.eml` saved there is posted and moved to `inbound-drop/sent/`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import httpx

from rights.settings import Settings, load_settings

Fields = dict[str, str]
Files = list[tuple[str, tuple[str, bytes, str]]]


def sendgrid_form(
    raw: bytes, *, spf: str = "pass", dkim: str | None = None
) -> tuple[Fields, Files]:
    """The fields and files SendGrid Inbound Parse would post for this message."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    sender = str(message.get("From", ""))
    domain = parseaddr(sender)[1].split("@")[-1] or "unknown.invalid"
    header_block = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    fields: Fields = {
        "from": sender,
        "to": str(message.get("To", "")),
        "subject": str(message.get("Subject", "")),
        "headers": header_block.decode("utf-8", "replace").replace("\r\n", "\n"),
        "envelope": json.dumps(
            {"to": [parseaddr(str(message.get("To", "")))[1]], "from": parseaddr(sender)[1]}
        ),
        "SPF": spf,
        "dkim": dkim if dkim is not None else f"{{@{domain} : pass}}",
        "charsets": json.dumps(
            {"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8", "text": "UTF-8", "html": "UTF-8"}
        ),
    }
    for kind in ("plain", "html"):
        body = message.get_body(preferencelist=(kind,))
        if body is not None and body.get_content_type() == f"text/{kind}":
            fields["text" if kind == "plain" else "html"] = str(body.get_content())
    files: Files = []
    info: dict[str, Any] = {}
    for index, part in enumerate(message.iter_attachments(), start=1):
        name = f"attachment{index}"
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            continue
        filename = part.get_filename() or name
        files.append((name, (filename, content, part.get_content_type())))
        info[name] = {"filename": filename, "name": filename, "type": part.get_content_type()}
    fields["attachments"] = str(len(files))
    if info:
        fields["attachment-info"] = json.dumps(info)
    return fields, files


def credentials(settings: Settings) -> tuple[str, str]:
    """The basic-auth pair SendGrid is configured with."""
    configured = settings.inbound_parse_credentials
    if configured is not None:
        value = configured.get_secret_value()
    else:
        path = settings.data_dir / "inbound-parse-credentials"
        if not path.exists():
            raise SystemExit("INBOUND_PARSE_CREDENTIALS is not set and `make run` has not made one")
        value = path.read_text().strip()
    user, _, password = value.partition(":")
    return user, password


async def post_message(
    http: httpx.AsyncClient,
    auth: tuple[str, str],
    raw: bytes,
    *,
    spf: str = "pass",
    dkim: str | None = None,
) -> httpx.Response:
    """Post one message to `/v1/inbound/email` on `http`'s base URL, as SendGrid would."""
    fields, files = sendgrid_form(raw, spf=spf, dkim=dkim)
    # Multipart even with no attachment, as SendGrid posts: fields are parts without a file name.
    parts: list[tuple[str, Any]] = [(name, (None, value)) for name, value in fields.items()]
    return await http.post("/v1/inbound/email", files=[*parts, *files], auth=auth)


def messages_in(paths: list[Path]) -> list[Path]:
    """The `.eml` files named, or found in the folders named."""
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.glob("*.eml")) if path.is_dir() else [path])
    return found


async def post_files(
    settings: Settings, paths: list[Path], spf: str, dkim: str | None
) -> list[dict[str, Any]]:
    """Post each file; what the endpoint answered for each."""
    answers = []
    async with httpx.AsyncClient(base_url=settings.public_base_url, timeout=30) as http:
        for path in messages_in(paths):
            response = await post_message(
                http, credentials(settings), path.read_bytes(), spf=spf, dkim=dkim
            )
            answers.append({"file": str(path), "status": response.status_code, **response.json()})
    return answers


async def watch_drop_folder(settings: Settings, every: float = 1.0) -> None:
    """`make run`: post every `.eml` saved in `DATA_DIR/inbound-drop/`, then move it to `sent/`."""
    drop = settings.data_dir / "inbound-drop"
    sent = drop / "sent"
    sent.mkdir(parents=True, exist_ok=True)
    while True:
        for path in sorted(drop.glob("*.eml")):
            try:
                [answer] = await post_files(settings, [path], "pass", None)
            except (httpx.HTTPError, ValueError) as error:
                print(f"inbound-drop: {path.name}: {error}", file=sys.stderr, flush=True)
                continue
            print(f"inbound-drop: {path.name}: {answer.get('outcome')}", flush=True)
            path.rename(sent / path.name)
        await asyncio.sleep(every)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help=".eml files or folders of them")
    parser.add_argument("--spf", default="pass", help="SendGrid's SPF verdict (pass, fail, …)")
    parser.add_argument("--dkim", help='SendGrid\'s dkim field, e.g. "{@example.com : fail}"')
    args = parser.parse_args()
    answers = asyncio.run(post_files(load_settings(), args.paths, args.spf, args.dkim))
    print(json.dumps(answers, indent=2))


if __name__ == "__main__":
    main()
