"""Logs without personal data: access lines lose their query strings (searches carry names and
phone numbers, tokens may ride in a link), and the SQLite driver's debug lines, which print every
statement's parameters, stay off even when the root logger is set to DEBUG."""

from __future__ import annotations

import logging


class _NoQuery(logging.Filter):
    """Cut `?...` from the path uvicorn's access log line prints."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = args[2].split("?", 1)[0]
            record.args = (*args[:2], path, *args[3:])
        return True


def hide_queries() -> None:
    """Install the filter once on uvicorn's access logger; keep aiosqlite at INFO."""
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _NoQuery) for f in logger.filters):
        logger.addFilter(_NoQuery())
