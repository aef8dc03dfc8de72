"""Files staff upload: spreadsheets only, 20 MB at most, kept on disk while they are read."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from messages.render import _

MAX_BYTES = 20 * 1024 * 1024
SPREADSHEETS = (".xlsx", ".csv")
_CHUNK = 1024 * 1024


class UploadError(ValueError):
    """An upload refused; the message is a Vietnamese sentence for the form."""


def _looks_right(path: Path, suffix: str) -> bool:
    """An .xlsx is a zip with a workbook inside; a .csv is text without NUL bytes."""
    if suffix == ".xlsx":
        if not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as archive:
            return any(name.startswith("xl/") for name in archive.namelist())
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a cut in the middle of a character at the end of the sample is fine
        return exc.start >= len(head) - 3
    return True


@contextmanager
def saved(upload: UploadFile | None, *, suffixes: tuple[str, ...] = SPREADSHEETS) -> Iterator[Path]:
    """The upload written to a temporary file with its own name; removed afterwards.

    Raises UploadError for no file, a name without an accepted ending, content that is not
    what the ending says, or more than 20 MB.
    """
    name = Path(upload.filename or "").name if upload is not None else ""
    if upload is None or not name:
        raise UploadError(_("Choose a file to upload."))
    suffix = Path(name).suffix.lower()
    if suffix not in suffixes:
        raise UploadError(
            _("The file must be a spreadsheet ({kinds}).").format(kinds=", ".join(suffixes))
        )
    with tempfile.TemporaryDirectory(prefix="loa-upload-") as folder:
        path = Path(folder) / name
        size = 0
        with path.open("wb") as out:
            while chunk := upload.file.read(_CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise UploadError(_("The file is larger than 20 MB."))
                out.write(chunk)
        if size == 0:
            raise UploadError(_("The file is empty."))
        if not _looks_right(path, suffix):
            raise UploadError(
                _("The file is not a real {kind} spreadsheet.").format(kind=suffix[1:].upper())
            )
        yield path
