"""Server-side rendering: one Jinja2 environment (autoescaping on), one ``page`` helper.

A template gets ``_`` (the person's language), ``fmt`` (dates, numbers,
weights, money the French way), ``user``, ``csrf`` (for every form), the
node, the current path, and whatever the handler passes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from web_ui.erasure_words import method_name, verification_name
from web_ui.i18n import Formats, translator
from web_ui.keys import STORE
from web_ui.menu import menu_for
from web_ui.periods import period_name, period_options

__all__ = ["setup_templates", "page", "LANGUAGE", "SESSION"]

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGE = web.RequestKey("language", str)  # the negotiated language
SESSION = web.RequestKey("session", object)  # the node.domain.users.Session, or None


def setup_templates(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the code: no stat() of every template on every page
    )
    env.globals["query"] = _query
    env.globals["method_name"] = method_name
    env.globals["verification_name"] = verification_name
    env.globals["period_options"] = period_options
    env.globals["period_name"] = period_name


def _query(args: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters changed (pagination, filters)."""
    merged = {k: v for k, v in {**args, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(merged) if merged else "?"


def page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """Render ``template`` for this request, in its language."""
    from web_ui.keys import NODE

    language = request.get(LANGUAGE, "fr")
    session = request.get(SESSION)
    base = {
        "_": translator(language),
        "fmt": Formats(language),
        "language": language,
        "user": session.user if session else None,
        "csrf": session.csrf if session else "",
        "node": request.app[NODE],
        "menu": menu_for(request.app[NODE].config.role, session.user if session else None),
        "path": request.path,
        "args": dict(request.query),
        "read_only": getattr(request.app.get(STORE), "writes_held", None) is not None,  # restored, log not back yet
    }
    response = aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)
    return response
