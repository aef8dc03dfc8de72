"""Access logs without query strings: searches carry names and phone numbers, tokens may ride
in a link, and none of them belong in a log file."""

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
    """Install the filter once on uvicorn's access logger."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _NoQuery) for f in logger.filters):
        logger.addFilter(_NoQuery())
