"""The notice, page and report templates, and the one Jinja environment that renders them all.

Every template is autoescaped whatever its file name (Starlette's default escapes only `.html`,
`.htm` and `.xml`, so a `*.html.j2` page would render a requester's markup live), and every
value a template prints passes through `rights.text.one_line`, so no field can break a line of a
plain-text notice or hide behind a bidirectional override. Markup built by the templates
themselves (macros, `caller()`) is already escaped and passes unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from rights.text import one_line

TEMPLATES_DIR = Path(__file__).resolve().parent


def _printable(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, Markup):
        return one_line(value)
    return value


def template_environment(directory: Path = TEMPLATES_DIR, **options: Any) -> jinja2.Environment:
    """The Jinja environment every template is rendered in (from `directory`, for a test that
    checks what an edited copy would render)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=True,
        finalize=_printable,
        undefined=jinja2.StrictUndefined,
        **options,
    )
