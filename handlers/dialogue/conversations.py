"""Running conversations over the store: start one, take replies, expire the silent ones.

Replies are taken in batches: everything a batch decides is gathered in a `Batch` and
written with one statement per table, so a busy hour costs a few statements per hundred
messages rather than several per message. A batch of one is the ordinary case.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.dialogue.engine import Engine, State, Step
from handlers.dialogue.form import Form
from handlers.dialogue.prompts import Prompt
from messages.render import _
from storage import conversations as store
from storage import messages, surveys
from storage.followups import NewFollowUp, open_followups
from storage.messages import Outbound, Party
from storage.models.messages import REPLY, SURVEY
from storage.models.surveys import ACTIVE, COMPLETED, EXPIRED

log = logging.getLogger(__name__)
_ENGINES: OrderedDict[str, Engine] = OrderedDict()  # content hash -> engine; forms never change
_ENGINE_CACHE = 64


@dataclass(frozen=True)
class Turn:
    """When messages are handled: the instant (UTC) and the local day for dates in answers."""

    now: datetime
    today: date
    buttons: bool = False  # the channel shows options as buttons

    @classmethod
    def at(cls, now: datetime, zone: tzinfo) -> Turn:
        """The turn at `now`, its day as people in `zone` count it."""
        return cls(now=now, today=now.astimezone(zone).date())


class StartRefused(Exception):
    """A survey cannot start for this contact; the message is for the household or the staff."""


@dataclass
class Batch:
    """Everything a batch of messages decided, written together by `flush`."""

    inbound: list[tuple[Party, str, str, str | None]] = field(default_factory=list)
    outbound: list[tuple[Party, Outbound]] = field(default_factory=list)
    answers: list[tuple[store.ConversationRow, store.AnswerRow]] = field(default_factory=list)
    followups: list[NewFollowUp] = field(default_factory=list)
    changed: dict[int, store.ConversationRow] = field(default_factory=dict)

    async def flush(self, session: AsyncSession, *, now: datetime) -> None:
        """Write it all: messages in, answers, conversations, follow-ups, messages out."""
        await messages.log_inbound(session, self.inbound, now=now)
        await store.write_answers(session, self.answers, now=now)
        await store.save_conversations(session, list(self.changed.values()), now=now)
        await open_followups(session, self.followups, now=now)
        await messages.queue(session, self.outbound, now=now)


async def engine_for(session: AsyncSession, *, version_id: int, content_hash: str) -> Engine:
    """The engine of a form version, built once per process."""
    engine = _ENGINES.get(content_hash)
    if engine is None:
        version = await surveys.version_by_id(session, version_id=version_id)
        engine = Engine(Form.from_json(version.definition))
        _ENGINES[content_hash] = engine
        if len(_ENGINES) > _ENGINE_CACHE:
            _ENGINES.popitem(last=False)
    else:
        _ENGINES.move_to_end(content_hash)
    return engine


async def start(
    session: AsyncSession,
    *,
    form_id: str,
    contact: store.ContactRef,
    channel: str,
    turn: Turn,
    batch: Batch,
) -> list[Outbound]:
    """Begin the survey's open round for a contact: its first messages; StartRefused if not."""
    version = await surveys.latest_version(session, form_id=form_id)
    if version is None:
        raise StartRefused(_("There is no survey {form_id}.").format(form_id=form_id))
    round_id = await surveys.open_round(
        session, survey_id=version.survey_id, title=version.title, now=turn.now
    )
    for contact_id, status in await store.round_conversations(
        session, round_id=round_id, household_id=contact.household_id
    ):
        if status == COMPLETED:
            raise StartRefused(_("Your household has already answered this survey. Thank you."))
        if status == ACTIVE and contact_id != contact.contact_id:
            raise StartRefused(_("Your household is answering this survey on another phone."))
    if await store.active_conversations(session, contact_ids=[contact.contact_id]):
        raise StartRefused(_("This phone is in the middle of another survey."))
    row = await store.create_conversation(
        session,
        round_id=round_id,
        version_id=version.id,
        version_hash=version.content_hash,
        survey_id=version.survey_id,
        contact=contact,
        channel=channel,
        now=turn.now,
    )
    engine = await engine_for(session, version_id=version.id, content_hash=version.content_hash)
    state = State()
    return _take(row, state, engine.begin(state, turn.today), turn, batch, kind=SURVEY)


def _state(row: store.ConversationRow) -> State:
    """The engine's state of a stored conversation (a copy: the engine changes it)."""
    return State(row.position, row.misses, list(row.trail), dict(row.answers), row.status)


async def current_question(
    session: AsyncSession, row: store.ConversationRow, today: date
) -> Prompt | None:
    """The question a running conversation waits on (a reminder asks it again)."""
    engine = await engine_for(session, version_id=row.version_id, content_hash=row.version_hash)
    return engine.current(_state(row), today)


async def reply(
    session: AsyncSession, row: store.ConversationRow, text: str, turn: Turn, batch: Batch
) -> list[Outbound]:
    """Take a household's reply in its running conversation; a fault is answered, not raised."""
    engine = await engine_for(session, version_id=row.version_id, content_hash=row.version_hash)
    state = _state(row)
    try:
        step = engine.reply(state, text, turn.today)
    except Exception:  # one odd reply must not stop the service; the state stays as it was
        log.exception("conversation %s: reply %r could not be handled", row.id, text[:200])
        sorry = _("Sorry, something went wrong. Please send your answer again.")
        return [Outbound(sorry, REPLY, None, row.id)]
    return _take(row, state, step, turn, batch, kind=REPLY)


def expire(row: store.ConversationRow, batch: Batch, *, now: datetime, after: timedelta) -> bool:
    """Close a conversation that has been silent for longer than AFTER; whether it was."""
    if row.updated_at + after >= now:
        return False
    row.status = EXPIRED
    batch.changed[row.id] = row
    return True


def _take(
    row: store.ConversationRow, state: State, step: Step, turn: Turn, batch: Batch, *, kind: str
) -> list[Outbound]:
    """Put what a step decided into the batch; the messages it sends."""
    row.position, row.misses, row.trail = state.position, state.misses, state.trail
    row.answers, row.status = state.answers, state.status
    batch.changed[row.id] = row
    batch.answers += [
        (row, store.AnswerRow(a.question, a.value, a.raw, a.status)) for a in step.answers
    ]
    batch.followups += [
        NewFollowUp(row.household_id, f.kind, f.priority, f.note, row.survey_id, row.id, f.question)
        for f in step.followups
    ]
    sent = []
    for prompt in step.prompts:
        text, buttons = prompt.render(buttons=turn.buttons)
        sent.append(Outbound(text, kind, buttons, row.id))
    return sent
