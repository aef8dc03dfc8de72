"""`loa households codes`: one-time registration codes on an .xlsx to print and cut into slips."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Annotated, Any

import segno
import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import common
from bot.cli.common import err, fail, out, with_store
from bot.cli.registry import households
from bot.config import get_settings
from messages.render import _, number
from storage.households_codes import SlipHousehold, commune_exists, issue_codes, slip_households

BOT_ENV = "LOA_TELEGRAM_BOT_USERNAME"
BOT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")  # Telegram's rule for usernames
QR_SCALE = 4  # pixels per module: about 3.5 cm across on paper, easy for any phone camera
PLAIN_HEIGHT = 45  # points: a slip's height when it has no QR code
CODE_FONT = 22  # the code is read aloud or typed by hand: large letters

Slip = tuple[SlipHousehold, str]  # a household and its one-time code


@households.command("codes")
def codes_command(
    out_file: Annotated[Path, typer.Option("--out", help=_(".xlsx file to write"))],
    commune: Annotated[str | None, typer.Option(help=_("Commune code"))] = None,
    bot: Annotated[
        str | None,
        typer.Option("--bot", envvar=BOT_ENV, help=_("Telegram bot username, for the QR codes")),
    ] = None,
) -> None:
    """Give every household a one-time registration code and write slips to print and cut."""
    if out_file.suffix.lower() != ".xlsx":
        fail(_("The slips are written to an .xlsx file: give a file name ending in .xlsx."))
    settings = get_settings()
    username = _username(bot or str(getattr(settings, "telegram_bot_username", "") or ""))
    slips, fresh = _issue(commune, common.clock.now())
    try:
        write_slips(out_file, slips, sms_to=settings.kannel_from, bot=username)
    except OSError as exc:
        fail(
            _("The file {path} could not be written: {detail}").format(
                path=out_file, detail=exc.strerror or exc
            )
        )
    if not username:
        warning = _("No Telegram bot username (--bot or {env}): the slips have no QR code.")
        err.print(warning.format(env=BOT_ENV), style="yellow", highlight=False)
    out.print(
        _("{n} registration codes written to {path}, {new} of them new.").format(
            n=number(len(slips)), path=out_file, new=number(fresh)
        )
    )


def _username(given: str) -> str:
    name = given.strip().removeprefix("@")
    if name and not BOT_NAME.fullmatch(name):
        fail(_("{name} is not a Telegram bot username.").format(name=given))
    return name


def _issue(commune: str | None, now: datetime) -> tuple[list[Slip], int]:
    """The households and their codes (kept, or new and stored); how many are new."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[list[Slip], int]:
        async with sessions() as session, session.begin():
            if commune and not await commune_exists(session, code=commune):
                fail(_("No commune has the code {code}.").format(code=commune))
            lines = await slip_households(session, commune=commune)
            if not lines:
                fail(_("There is no household to print codes for."))
            codes, fresh = await issue_codes(session, household_ids=[h.id for h in lines], now=now)
        return [(h, codes[h.id]) for h in lines], fresh

    return with_store(work)


def write_slips(path: Path, slips: Sequence[Slip], *, sms_to: str, bot: str) -> None:
    """Write the slips to PATH, whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        _book(slips, sms_to=sms_to, bot=bot).save(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _book(slips: Sequence[Slip], *, sms_to: str, bot: str) -> Any:
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Font

    columns = [
        (_("Household code"), 14),
        (_("Head of household"), 24),
        (_("Village"), 16),
        (_("Registration code"), 24),
    ]
    if sms_to:
        columns.append((_("Register by SMS"), 24))
    images = (
        [Image(_qr_png(f"https://t.me/{bot}?start={code}")) for _h, code in slips] if bot else []
    )
    if images:  # every link has the same length, so every QR code the same size
        columns.append((_("Register on Telegram"), max(20, images[0].width // 7 + 2)))
    book = Workbook()
    sheet = book.active
    sheet.title = _("Registration codes")[:31]
    _header(sheet, columns)
    big = Font(name="Courier New", size=CODE_FONT, bold=True)
    for row, (household, code) in enumerate(slips, 2):
        values = [household.code, household.head_name, household.village, code]
        if sms_to:
            values.append(_("Text DK {code} to {number}").format(code=code, number=sms_to))
        _slip_row(sheet, row, [*values, *([None] if images else [])])
        sheet.cell(row, 4).font = big
        if images:
            image = images[row - 2]
            image.anchor = f"{sheet.cell(row, len(columns)).column_letter}{row}"
            sheet.add_image(image)
        sheet.row_dimensions[row].height = images[0].height * 3 / 4 + 6 if images else PLAIN_HEIGHT
    _page_setup(sheet)
    return book


def _header(sheet: Any, columns: Sequence[tuple[str, int]]) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    _slip_row(sheet, 1, [title for title, _width in columns])
    for index, (_title, width) in enumerate(columns, 1):
        sheet.cell(1, index).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(index)].width = width


def _slip_row(sheet: Any, row: int, values: Sequence[str | None]) -> None:
    """One row, framed in dashes: where the scissors go."""
    from openpyxl.styles import Alignment, Border, Side

    cut = Side(style="dashed")
    box = Border(left=cut, right=cut, top=cut, bottom=cut)
    middle = Alignment(vertical="center", wrap_text=True)
    for index, value in enumerate(values, 1):
        cell = sheet.cell(row, index, value)
        cell.border, cell.alignment = box, middle


def _qr_png(link: str) -> BytesIO:
    """The QR code of LINK as a PNG in memory."""
    buffer = BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=QR_SCALE, border=2)
    buffer.seek(0)
    return buffer


def _page_setup(sheet: Any) -> None:
    """A4 portrait, as wide as the page, the header row on every page."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages as it takes
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.freeze_panes = "A2"
