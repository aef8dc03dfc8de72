"""`loa demo-outreach` also leaves a survey round answered from the phones: answers, completed
conversations, follow-ups opened by the form's rules, free text for the inbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from storage.db import create_engine, session_factory
from storage.models import Answer, Conversation, FollowUp, Message
from tests.conftest import loa


def _counts(url: str) -> dict[str, object]:
    async def read() -> dict[str, object]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                statuses = dict(
                    (
                        await session.execute(
                            select(Conversation.status, func.count()).group_by(Conversation.status)
                        )
                    ).all()
                )
                kinds = set(await session.scalars(select(FollowUp.kind).distinct()))
                answers = await session.scalar(select(func.count()).select_from(Answer))
                free = await session.scalar(
                    select(func.count())
                    .select_from(Message)
                    .where(Message.direction == "in", Message.text.like("%xã%"))
                )
                return {"statuses": statuses, "kinds": kinds, "answers": answers, "free": free}
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_the_demo_round_is_answered_through_the_dialogue_engine(
    demo: Path, settings_env: str
) -> None:
    surveys = sorted(str(p) for p in Path("messages/vi/surveys").glob("*.csv"))
    assert loa("survey", "import", *surveys)[0] == 0
    code, output = loa("demo-outreach")
    assert code == 0, output
    assert "Đợt khảo sát" in output
    found = _counts(settings_env)
    statuses = found["statuses"]
    assert isinstance(statuses, dict)
    assert statuses.get("completed", 0) >= 5
    assert statuses.get("active", 0) >= 2  # half-way and silent households
    assert int(found["answers"]) >= 30  # type: ignore[call-overload]
    kinds = found["kinds"]
    assert isinstance(kinds, set)
    assert {"escape_poverty", "loan", "visit", "training", "needs_help"} <= kinds
    assert int(found["free"]) >= 1  # type: ignore[call-overload]

    code, output = loa("demo-outreach")  # `make demo` again: the round is not asked twice
    assert code == 0, output
    assert _counts(settings_env)["answers"] == found["answers"]
