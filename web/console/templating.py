"""Jinja2 with the Vietnamese catalog, Loa's formatting filters and the page helper."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from messages.phones import national_format
from messages.render import _, day, moment, money, number, translations
from storage.vocab import CATEGORY_LABELS
from web.console import TEMPLATE_DIR
from web.console.auth import Staff

_env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(),
    extensions=["jinja2.ext.i18n"],
)
_env.install_gettext_translations(translations(), newstyle=True)  # type: ignore[attr-defined]
_env.filters.update(
    day=day,
    money=money,
    number=number,
    moment=moment,
    phone=national_format,
    category=lambda code: _(CATEGORY_LABELS[code]) if code in CATEGORY_LABELS else code,
)
templates = Jinja2Templates(env=_env)


def page(
    request: Request,
    name: str,
    staff: Staff | None,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a console template; `staff` (for the menu) and `csrf` (for forms) are given."""
    values = {
        "staff": staff,
        "csrf": staff.csrf if staff else "",
        "demo_tryout": bool(staff) and request.app.state.settings.demo,
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, values, status_code=status_code)
