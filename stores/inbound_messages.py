"""The emails the privacy address received, kept for the privacy team beside their runs.

`DATA_DIR/inbound/<id>/message.txt` holds the text of the message (never its raw MIME), and
`attachments/` the documents an agent sent with a letter, under names made safe here: a name
from the sender never chooses a path. Written before the run starts, so a failed start that
SendGrid retries writes the same files again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def safe_name(index: int, filename: str) -> str:
    """`01-authorization.pdf`: numbered, plain characters only, never a path or a dotfile."""
    stem = _UNSAFE.sub("_", Path(filename).name).strip("._") or "attachment"
    return f"{index:02d}-{stem[:80]}"


def keep_message(inbound_dir: Path, item_id: str, text: str, attachments: list[Attachment]) -> Path:
    """Write the message's text and attachments; the folder they are in."""
    folder = inbound_dir / item_id
    folder.mkdir(parents=True, exist_ok=True)
    message = folder / "message.txt"
    message.write_text(text, encoding="utf-8")
    message.chmod(0o600)
    if attachments:
        kept = folder / "attachments"
        kept.mkdir(exist_ok=True)
        for index, attachment in enumerate(attachments, start=1):
            path = kept / safe_name(index, attachment.filename)
            path.write_bytes(attachment.content)
            path.chmod(0o600)
    return folder
