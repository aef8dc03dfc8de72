"""Which households an audience picks: one filter for broadcasts, events and survey rounds.

`parse` (in `storage.audience_query`) reads the one-line text; `check` holds it against the
store; `household_ids` is the query. Every term is a condition on `households` itself or an
EXISTS subquery keyed by the household, so no join multiplies rows and the commune, category
and village terms can use the households' indexes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from messages.render import N_, _
from storage import surveys, vocab
from storage.audience_query import (
    ANY_LOAN,
    CHANNEL_KINDS,
    GROUP_FLAGS,
    AnswerTerm,
    Audience,
    AudienceError,
    parse,
)
from storage.models import (
    Answer,
    Commune,
    Contact,
    Conversation,
    FollowUp,
    Household,
    HouseholdDeprivation,
    Instalment,
    Loan,
    Province,
    Survey,
    SurveyVersion,
    Unreachable,
    Village,
)
from storage.models.followups import ASSIGNED, DISMISSED, OPEN
from storage.models.households import BASIS_CONSENT
from storage.models.surveys import ANSWERED

__all__ = [
    "AnswerTerm",
    "Audience",
    "AudienceError",
    "check",
    "communes",
    "count",
    "household_ids",
    "parse",
    "resolve",
    "stream_ids",
]

Condition = ColumnElement[bool]
REGISTERED_KIND = "escape_poverty"  # the follow-up that records a registration to escape poverty
UNASKED = frozenset({"note", "calculate"})  # question types that never hold an `answered` value
SELECTS = frozenset({"select_one", "select_multiple"})
ONE_DAY = timedelta(days=1)


# --- the query ---------------------------------------------------------------------------


def household_ids(audience: Audience, *, today: date) -> Select[int]:
    """SELECT households.id of the households the audience picks (no ORDER BY)."""
    return select(Household.id).where(*conditions(audience, today=today))


def conditions(audience: Audience, *, today: date) -> list[Condition]:
    """The WHERE conditions on `households` (ANDed) for the audience."""
    if audience.everyone:
        return []
    found = [*_places(audience), *_register(audience, today), *_activity(audience, today)]
    found += [_answered(term) for term in audience.answers]
    return found


def _places(audience: Audience) -> list[Condition]:
    found: list[Condition] = []
    if audience.provinces:
        in_provinces = select(Commune.code).where(Commune.province_code.in_(audience.provinces))
        found.append(Household.commune_code.in_(in_provinces))
    if audience.communes:
        found.append(Household.commune_code.in_(audience.communes))
    if audience.villages:
        villages = select(Village.id).where(Village.code.in_(audience.villages))
        found.append(Household.village_id.in_(villages))
    if audience.categories:
        found.append(Household.category.in_(audience.categories))
    return found


def _register(audience: Audience, today: date) -> list[Condition]:
    found: list[Condition] = []
    if audience.flags:
        found.append(_flags(audience.flags, today))
    if audience.registered is not None:
        found.append(_yes(_registered(), audience.registered))
    if audience.followups:
        found.append(_open_followup(audience.followups))
    if audience.consent is not None:
        consent = exists().where(
            Contact.household_id == Household.id, Contact.basis == BASIS_CONSENT
        )
        found.append(_yes(consent, audience.consent))
    return found


def _activity(audience: Audience, today: date) -> list[Condition]:
    found: list[Condition] = []
    if audience.loans:
        found.append(_unpaid_loan(audience.loans))
    if audience.overdue is not None:
        found.append(_yes(_overdue(today), audience.overdue))
    if audience.channels:
        found.append(_reachable(audience.channels))
    return found


def _yes(condition: Condition, wanted: bool) -> Condition:
    return condition if wanted else ~condition


def _flags(flags: Sequence[str], today: date) -> Condition:
    """Any of the flags (OR)."""
    found: list[Condition] = []
    if "ethnic_minority" in flags:
        found.append(Household.ethnic_minority.is_(True))
    if "woman_head" in flags:
        found.append(Household.woman_head.is_(True))
    if groups := [GROUP_FLAGS[f] for f in flags if f in GROUP_FLAGS]:
        found.append(Household.group_no.in_(groups))
    if "newly_escaped" in flags:
        since = window_closed_through(today)
        found.append(and_(Household.category == "escaped", Household.recognized_on > since))
    if indicators := [f for f in flags if f in vocab.DEPRIVATIONS]:
        deprived = HouseholdDeprivation.indicator.in_(indicators)
        found.append(exists().where(HouseholdDeprivation.household_id == Household.id, deprived))
    return or_(*found)


def window_closed_through(today: date) -> date:
    """The latest recognition date whose 36-month benefits window has closed by `today`."""
    years = vocab.ESCAPED_BENEFIT_YEARS
    last = date(today.year - years, today.month, 1) - ONE_DAY  # its window ended last month
    while (until := vocab.benefits_until("escaped", last + ONE_DAY)) and until <= today:
        last += ONE_DAY
    return last


def _registered() -> Condition:
    return exists().where(
        FollowUp.household_id == Household.id,
        FollowUp.kind == REGISTERED_KIND,
        FollowUp.status != DISMISSED,
    )


def _open_followup(kinds: Sequence[str]) -> Condition:
    return exists().where(
        FollowUp.household_id == Household.id,
        FollowUp.kind.in_(kinds),
        FollowUp.status.in_((OPEN, ASSIGNED)),
    )


def _unpaid_loan(programmes: Sequence[str]) -> Condition:
    unpaid = exists().where(Instalment.loan_id == Loan.id, Instalment.paid_on.is_(None))
    where = [Loan.household_id == Household.id, unpaid]
    if ANY_LOAN not in programmes:
        where.append(Loan.programme.in_(programmes))
    return exists().where(*where)


def _overdue(today: date) -> Condition:
    return exists().where(
        Loan.household_id == Household.id,
        Instalment.loan_id == Loan.id,
        Instalment.due_on < today,
        Instalment.paid_on.is_(None),
    )


def _reachable(channels: Sequence[str]) -> Condition:
    """A usable contact for any of the channels: not opted out, not shared, not unreachable."""
    routes = [
        and_(
            Contact.kind == CHANNEL_KINDS[name],
            ~exists().where(Unreachable.contact_id == Contact.id, Unreachable.channel == name),
        )
        for name in channels
    ]
    return exists().where(
        Contact.household_id == Household.id,
        Contact.opted_out_at.is_(None),
        Contact.shared.is_(False),
        or_(*routes),
    )


def _answered(term: AnswerTerm) -> Condition:
    """The question answered with one of the values (a whole word of it: select_multiple)."""
    spaced = literal(" ") + Answer.value + literal(" ")
    words = [spaced.icontains(f" {value} ", autoescape=True) for value in term.values]
    return exists().where(
        Answer.household_id == Household.id,
        Answer.question == term.question,
        Answer.status == ANSWERED,
        Conversation.id == Answer.conversation_id,
        SurveyVersion.id == Conversation.version_id,
        Survey.id == SurveyVersion.survey_id,
        Survey.form_id == term.form_id,
        or_(*words),
    )


# --- reading -------------------------------------------------------------------------------


async def count(session: AsyncSession, audience: Audience, *, today: date) -> int:
    """How many households the audience picks."""
    query = select(func.count()).select_from(Household)
    return int(await session.scalar(query.where(*conditions(audience, today=today))) or 0)


async def communes(session: AsyncSession, audience: Audience, *, today: date) -> list[str]:
    """The codes of the communes the audience's households live in, sorted."""
    query = select(Household.commune_code).where(*conditions(audience, today=today))
    found = await session.scalars(query.distinct().order_by(Household.commune_code))
    return list(found)


async def stream_ids(
    session: AsyncSession, audience: Audience, *, today: date, batch: int = 2000
) -> AsyncIterator[list[int]]:
    """The household ids in batches, ascending, by keyset (id > last): flat memory, and safe
    while the caller writes between batches."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    query = household_ids(audience, today=today).order_by(Household.id).limit(batch)
    last: int | None = None
    while True:
        page = query if last is None else query.where(Household.id > last)
        ids = list((await session.scalars(page)).all())  # one fetch, not one per row
        if ids:
            yield ids
        if len(ids) < batch:
            return
        last = ids[-1]


# --- checking against the store -------------------------------------------------------------


async def resolve(session: AsyncSession, text: str) -> Audience:
    """Parse the text and check it against the store."""
    audience = parse(text)
    await check(session, audience)
    return audience


async def check(session: AsyncSession, audience: Audience) -> None:
    """AudienceError when a unit code, survey, question or choice is not in the store."""
    units = (
        (Province.code, audience.provinces, N_("No province has these codes: {codes}.")),
        (Commune.code, audience.communes, N_("No commune has these codes: {codes}.")),
        (Village.code, audience.villages, N_("No village has these codes: {codes}.")),
    )
    for column, codes, message in units:
        if codes:
            known = set(await session.scalars(select(column).where(column.in_(codes))))
            if unknown := [code for code in codes if code not in known]:
                raise AudienceError(_(message).format(codes=", ".join(unknown)))
    for term in audience.answers:
        await _check_answer(session, term)


async def _check_answer(session: AsyncSession, term: AnswerTerm) -> None:
    version = await surveys.latest_version(session, form_id=term.form_id)
    if version is None:
        raise AudienceError(await _no_survey(session, term.form_id))
    form = version.definition
    asked = {q["name"]: q for q in form["questions"] if q["type"] not in UNASKED}
    question = asked.get(term.question)
    if question is None:
        message = _("The survey {form_id} has no question {question}; its questions are: {names}.")
        names = ", ".join(asked)
        raise AudienceError(
            message.format(form_id=term.form_id, question=term.question, names=names)
        )
    if question["type"] in SELECTS:
        choices = [c["name"] for c in form["choices"].get(question["choice_list"], [])]
        _check_choices(term, choices)


def _check_choices(term: AnswerTerm, choices: list[str]) -> None:
    known = {name.lower() for name in choices}
    wrong = [value for value in term.values if value not in known]
    if wrong:
        message = _(
            "The question {form_id}.{question} has no choice “{value}”; use one of: {choices}."
        )
        where = {"form_id": term.form_id, "question": term.question}
        raise AudienceError(message.format(**where, value=wrong[0], choices=", ".join(choices)))


async def _no_survey(session: AsyncSession, form_id: str) -> str:
    forms = list(await session.scalars(select(Survey.form_id).order_by(Survey.form_id)))
    if not forms:
        return _("There is no survey {form_id}; no survey has been loaded yet.").format(
            form_id=form_id
        )
    message = _("There is no survey {form_id}; the surveys are: {forms}.")
    return message.format(form_id=form_id, forms=", ".join(forms))
