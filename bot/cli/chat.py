"""`loa chat`: play a household's phone on the console."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.console import CONSOLE
from bot.cli.common import app, fail, with_store
from bot.cli.surveys import turn
from bot.config import get_settings
from bot.inbox import policy
from handlers.router import Incoming, handle, start_survey
from messages.phones import InvalidPhone, normalize_phone
from messages.render import _
from storage import messages
from storage.conversations import contacts_for


@app.command("chat")
def chat_command(
    phone: Annotated[str, typer.Option(help=_("The household's phone number"))],
    start: Annotated[str | None, typer.Option(help=_("Begin this survey (form id)"))] = None,
) -> None:
    """Play a household's phone: each line typed is a message from it; replies are printed."""
    try:
        address = normalize_phone(phone)
    except InvalidPhone:
        fail(_("{phone} is not a Vietnamese phone number.").format(phone=phone))
    settings = get_settings()
    rules = policy(settings, {})  # the console shows no buttons

    async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
        await _deliver(sessions, address)
        if start:
            async with sessions() as session, session.begin():
                contacts = (await contacts_for(session, addresses=[address])).get(address)
                if contacts:
                    await start_survey(
                        session, form_id=start, contact=contacts[0], channel=CONSOLE, turn=turn()
                    )
                else:
                    await handle(session, Incoming(CONSOLE, address, ""), turn=turn(), policy=rules)
            await _deliver(sessions, address)
        while (line := await asyncio.to_thread(sys.stdin.readline)) != "":
            async with sessions() as session, session.begin():
                incoming = Incoming(CONSOLE, address, line.rstrip("\r\n"))
                await handle(session, incoming, turn=turn(), policy=rules)
            await _deliver(sessions, address)

    with_store(work)


async def _deliver(sessions: async_sessionmaker[AsyncSession], address: str) -> None:
    """Print what is waiting for this phone, and mark it delivered."""
    async with sessions() as session, session.begin():
        waiting = await messages.take_queued(
            session, channel=CONSOLE, address=address, now=turn().now
        )
    for message in waiting:
        sys.stdout.write(message.text + "\n")
    sys.stdout.flush()
