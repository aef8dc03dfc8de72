"""The engine alone: every question type, navigation word, miss and rule, with no store."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.dialogue.engine import NEEDS_HELP, Engine, State, Step
from handlers.dialogue.form import Form
from handlers.dialogue.xlsform import load_form
from storage.models.surveys import ANSWERED, CALCULATED, CLEARED, COMPLETED, SKIPPED, UNANSWERED
from tests.handlers.dialogue.forms import sheets, write_csv

TODAY = date(2026, 11, 21)
HEAD = (
    "type",
    "name",
    "label",
    "hint",
    "required",
    "relevant",
    "constraint",
    "constraint_message",
    "calculation",
    "default",
    "choice_filter",
)
SURVEY = [
    ("note", "hello", "Chào bà con", "", "", "", "", "", "", "", ""),
    ("text", "name", "Chủ hộ tên gì?", "", "yes", "", "", "", "", "", ""),
    (
        "integer",
        "people",
        "Hộ có mấy người?",
        "Ví dụ: 4",
        "yes",
        "",
        ". > 0 and . < 30",
        "Từ 1 đến 29 người",
        "",
        "",
        "",
    ),
    ("decimal", "land", "Bao nhiêu sào đất?", "", "", "", "", "", "", "2", ""),
    ("select_one yn", "loan", "Hộ có cần vay vốn không?", "", "yes", "", "", "", "", "", ""),
    (
        "integer",
        "amount",
        "Cần vay bao nhiêu?",
        "",
        "yes",
        "${loan} = 'yes'",
        ". >= 1000000",
        "",
        "",
        "",
        "",
    ),
    ("select_multiple need", "needs", "Hộ cần gì?", "", "", "", "", "", "", "", ""),
    (
        "select_one crop",
        "crop",
        "Trồng gì?",
        "",
        "",
        "selected(${needs}, 'farm')",
        "",
        "",
        "",
        "",
        "kind = 'farm'",
    ),
    (
        "date",
        "visit",
        "Ngày nào cán bộ đến được?",
        "",
        "",
        "",
        ". >= today()",
        "Chọn một ngày từ hôm nay",
        "",
        "",
        "",
    ),
    ("acknowledge", "ok", "Cán bộ sẽ gọi trước khi đến.", "", "", "", "", "", "", "", ""),
    ("calculate", "per_head", "", "", "", "", "", "", "${amount} div ${people}", "", ""),
    ("note", "bye", "Cảm ơn ${name}, hộ ${people} người.", "", "", "", "", "", "", "", ""),
]
CHOICES = [
    ("yn", "yes", "Có", ""),
    ("yn", "no", "Không", ""),
    ("need", "farm", "Trồng trọt", ""),
    ("need", "job", "Việc làm", ""),
    ("need", "school", "Học nghề", ""),
    ("crop", "rice", "Lúa", "farm"),
    ("crop", "fruit", "Cây ăn trái", "farm"),
    ("crop", "pig", "Heo", "animal"),
]
FOLLOWUPS = [
    ("loan", "${loan} = 'yes'", "high", "Cần vay ${amount} đồng, ${people} người"),
    ("training", "selected(${needs}, 'school')", "normal", "Muốn học nghề"),
    ("visit", "${people} > 20", "low", ""),
]


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> Form:
    """The test form, loaded the way `loa survey import` loads it."""
    book = sheets(
        SURVEY,
        survey_head=HEAD,
        choices=CHOICES,
        choices_head=("list_name", "name", "label", "kind"),
        followups=FOLLOWUPS,
    )
    return load_form(write_csv(tmp_path_factory.mktemp("f") / "f.csv", book))


class Talk:
    """One conversation with the engine."""

    def __init__(self, form: Form) -> None:
        self.engine, self.state = Engine(form), State()
        self.steps: list[Step] = [self.engine.begin(self.state, TODAY)]

    def say(self, text: str) -> str:
        step = self.engine.reply(self.state, text, TODAY)
        self.steps.append(step)
        return "\n".join(p.render(buttons=False)[0] for p in step.prompts)

    @property
    def asking(self) -> str:
        return self.engine.form.questions[self.state.position].name

    def writes(self) -> list[tuple[str, str | None, str]]:
        return [(a.question, a.value, a.status) for s in self.steps for a in s.answers]

    def followups(self) -> list[tuple[str, str, str]]:
        return [(f.kind, f.priority, f.note) for s in self.steps for f in s.followups]


def test_a_whole_conversation_of_every_type(form: Form) -> None:
    talk = Talk(form)
    first = [p.text for p in talk.steps[0].prompts]
    assert first == ["Chào bà con", "Chủ hộ tên gì?"]
    assert "Ví dụ: 4" in talk.say("  Nguyễn   Văn An ")  # people, with its hint
    talk.say("bốn")
    assert talk.asking == "land"
    talk.say("1,5")
    reply = talk.say("co")
    assert talk.asking == "amount"
    assert "Cần vay bao nhiêu?" in reply
    talk.say("20 triệu")
    reply = talk.say("1, 3")
    assert talk.asking == "crop"
    assert "1. Lúa  2. Cây ăn trái" in reply
    assert "Heo" not in reply
    talk.say("lua")
    talk.say("15/12")
    talk.say("ok")
    assert talk.state.status == COMPLETED
    assert talk.writes() == [
        ("name", "Nguyễn Văn An", ANSWERED),
        ("people", "4", ANSWERED),
        ("land", "1.5", ANSWERED),
        ("loan", "yes", ANSWERED),
        ("amount", "20000000", ANSWERED),
        ("needs", "farm school", ANSWERED),
        ("crop", "rice", ANSWERED),
        ("visit", "2026-12-15", ANSWERED),
        ("ok", "OK", ANSWERED),
        ("per_head", "5000000", CALCULATED),
    ]
    assert talk.followups() == [
        ("loan", "high", "Cần vay 20000000 đồng, 4 người"),
        ("training", "normal", "Muốn học nghề"),
    ]
    last = [p.text for p in talk.steps[-1].prompts]
    assert last == ["Cảm ơn Nguyễn Văn An, hộ 4 người."]  # the form's own closing note


def test_plain_text_options_and_buttons(form: Form) -> None:
    talk = Talk(form)
    for answer in ("An", "4", "2"):
        talk.say(answer)
    prompt = talk.steps[-1].prompts[-1]
    text, buttons = prompt.render(buttons=False)
    assert "1. Có  2. Không" in text
    assert buttons is None
    assert "số" in text  # says how to answer
    text, buttons = prompt.render(buttons=True)
    assert text == "Hộ có cần vay vốn không?"
    assert buttons == [{"label": "Có", "value": "1"}, {"label": "Không", "value": "2"}]


def test_a_constraint_message_then_three_misses_open_needs_help(form: Form) -> None:
    talk = Talk(form)
    talk.say("An")
    assert "Từ 1 đến 29 người" in talk.say("45")
    assert talk.asking == "people"
    assert "Ví dụ: 4" in talk.say("không biết")  # the hint, then the question again
    reply = talk.say("abc")
    assert talk.asking == "land"
    assert ("people", None, UNANSWERED) in talk.writes()
    assert talk.followups()[0][0] == NEEDS_HELP
    assert "Bao nhiêu sào đất?" in reply


def test_skip_back_and_help(form: Form) -> None:
    talk = Talk(form)
    assert "Chủ hộ tên gì?" in talk.say("bỏ qua")  # required: asked again
    assert talk.asking == "name"
    talk.say("An")
    talk.say("4")
    talk.say("Bo qua")  # land has a default of 2
    assert ("land", "2", ANSWERED) in talk.writes()
    assert talk.asking == "loan"
    assert "Bao nhiêu sào đất?" in talk.say("quay lại")
    assert talk.asking == "land"
    talk.say("3")
    assert talk.state.answers["land"] == "3"
    help_text = talk.say("trợ giúp")
    assert "1. Có  2. Không" in help_text
    assert talk.asking == "loan"
    talk.say("không")
    assert talk.asking == "needs"  # amount is not relevant
    assert talk.say("bỏ qua")  # optional: skipped
    assert ("needs", None, SKIPPED) in talk.writes()
    assert talk.asking == "visit"  # crop is not relevant without farm


def test_back_on_the_first_question_and_changed_answers_clear_what_no_longer_applies(
    form: Form,
) -> None:
    talk = Talk(form)
    assert "Chủ hộ tên gì?" in talk.say("quay lai")
    for answer in ("An", "4", "1", "có", "5 triệu"):
        talk.say(answer)
    assert talk.asking == "needs"
    talk.say("quay lại")
    talk.say("quay lại")
    assert talk.asking == "loan"
    talk.say("không")
    assert "amount" not in talk.state.answers
    assert ("amount", None, CLEARED) in talk.writes()


def test_a_date_before_today_is_refused(form: Form) -> None:
    talk = Talk(form)
    for answer in ("An", "4", "1", "không", "2"):
        talk.say(answer)
    assert talk.asking == "visit"
    assert "Chọn một ngày từ hôm nay" in talk.say("01/01/2020")
    talk.say("ngày 5 tháng 12")
    assert talk.state.answers["visit"] == "2026-12-05"


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.text(max_size=300) | st.sampled_from(["", "😀", "\x00\x07", "x" * 5000]), max_size=25
    )
)
def test_any_replies_never_crash(form: Form, replies: list[str]) -> None:
    talk = Talk(form)
    for reply in replies:
        talk.say(reply)
        assert talk.state.status == COMPLETED or 0 <= talk.state.position < len(form.questions)


def test_built_in_needs_survey_round_trips_through_json() -> None:
    form = load_form(Path("messages/vi/surveys/needs.csv"))
    assert Form.from_json(form.to_json()) == form
