"""Jinja2 with the Vietnamese catalog and Loa's formatting filters."""

from __future__ import annotations

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from messages.phones import national_format
from messages.render import _, day, money, number, translations
from storage.vocab import CATEGORY_LABELS
from web.console import TEMPLATE_DIR

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
    phone=national_format,
    category=lambda code: _(CATEGORY_LABELS[code]) if code in CATEGORY_LABELS else code,
)
templates = Jinja2Templates(env=_env)
