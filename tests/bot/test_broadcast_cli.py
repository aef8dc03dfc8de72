"""`loa broadcast ...` end to end on the test town, with SMS configured (and the console)."""

from __future__ import annotations

import pytest

from bot.cli import common
from bot.clock import FixedClock
from messages.render import _
from scheduler.broadcasts import status_label
from storage.models.broadcasts import CANCELLED, PENDING_APPROVAL, SCHEDULED, SENDING
from tests.conftest import loa
from tests.scheduler.conftest import town  # noqa: F401

TEXT = "Kính gửi {ho_ten}: tối nay họp dân ở {thon}."
PASSWORD = "mat-khau-that-dai\n"


@pytest.fixture
def cli(
    settings_env: str,
    town: dict[str, int],  # noqa: F811
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, int]:
    """The town in the store the CLI opens, SMS through a (never called) Kannel, a fixed clock."""
    monkeypatch.setattr(common, "clock", clock)
    monkeypatch.setattr(common.out, "width", 200)  # table cells on one line each
    monkeypatch.setenv("LOA_KANNEL_SENDSMS_URL", "http://127.0.0.1:9/cgi-bin/sendsms")
    common.get_settings.cache_clear()
    return town


def flat(output: str) -> str:
    """The output with its line breaks and table borders folded to single spaces."""
    return " ".join(output.replace("│", " ").split())


def staff(name: str, role: str, *areas: str) -> None:
    options = [part for code in areas for part in ("--area", code)]
    code, output = loa(
        "staff", "add", name, "--role", role, *options, "--password-stdin", stdin=PASSWORD
    )
    assert code == 0, output


def test_create_previews_and_only_yes_submits(cli: dict[str, int]) -> None:
    code, output = loa("broadcast", "create", "--text", TEXT, "--audience", "commune=29002")
    assert code == 0, output
    text = flat(output)
    assert _("Nothing was sent; run again with --yes to submit.") in text
    assert "sms 2 (500 ₫)" in text  # H001 and H002 by SMS, one part each at 250 đồng
    assert "Kính gửi Nguyễn Văn An: tối nay họp dân ở Ấp 1." in text
    assert "Kinh gui Nguyen Van An: toi nay hop dan o Ap 1." in text
    assert _("not needed") in text
    code, output = loa("broadcast", "list")
    assert code == 0
    assert "Kính gửi" not in output  # nothing stored
    code, output = loa(
        "broadcast",
        "create",
        "--text",
        TEXT,
        "--audience",
        "commune=29002",
        "--title",
        "Họp dân",
        "--yes",
    )
    assert code == 0, output
    assert _("Broadcast {id} stored and scheduled.").format(id=1) in flat(output)
    code, output = loa("broadcast", "list", "--status", SCHEDULED)
    assert "Họp dân" in output
    assert status_label(SCHEDULED) in flat(output)


def test_bad_input_is_one_sentence_and_stores_nothing(cli: dict[str, int]) -> None:
    for args, words in (
        (("--text", "Chào {ten}", "--audience", "commune=29002"), "{ten}"),
        (("--text", TEXT, "--audience", "commune=29008"), "commune=29008"),
        (("--text", TEXT, "--audience", "commune=29002", "--at", "2026-11-20T08:00"), ""),
        (("--text", "Hop dan " + "x" * 470, "--audience", "commune=29002"), "4"),
        (("--text", TEXT, "--audience", "nhom=1"), "nhom"),
    ):
        code, output = loa("broadcast", "create", *args, "--yes")
        assert code == 1, output
        assert words in output
        assert "Traceback" not in output
        assert len(output.strip().splitlines()) <= 3  # one sentence, however wrapped
    code, output = loa("broadcast", "list", "--status", "lost")
    assert code == 1
    code, output = loa("broadcast", "status", "1")
    assert code == 1
    assert _("No broadcast has the number {id}.").format(id=1) in output


def test_approve_cancel_and_status(cli: dict[str, int]) -> None:
    staff("lan", "assistant", "29002")
    staff("binh", "officer", "86")
    code, output = loa(
        "broadcast", "create", "--text", TEXT, "--audience", "all", "--as", "lan", "--yes"
    )
    assert code == 0, output
    assert _("An officer approves it with: loa broadcast approve {id} --as USERNAME").format(
        id=1
    ) in flat(output)
    assert status_label(PENDING_APPROVAL) in flat(loa("broadcast", "list")[1])
    code, output = loa("broadcast", "approve", "1", "--as", "lan")
    assert code == 1
    assert "lan" in output
    code, output = loa("broadcast", "approve", "1")
    assert code != 0  # --as is required
    code, output = loa("broadcast", "approve", "1", "--as", "binh")
    assert code == 0, output
    assert "10:00 21/11/2026" in output
    code, output = loa("scheduler", "tick", "--now", "2026-11-21T10:00")
    assert code == 0, output
    assert f"{_('Broadcasts queued')}: 1" in output
    code, output = loa("broadcast", "status", "1")
    assert code == 0, output
    text = flat(output)
    assert status_label(SENDING) in text
    assert f"{_('Messages waiting')} 3" in text  # H001, H002, H006 by SMS
    assert f"{_('To tell by hand')} 2" in text  # H003 (Zalo is not set up) and H004
    assert "binh" in text
    code, output = loa("broadcast", "cancel", "1")
    assert code == 0, output
    assert _("Broadcast {id} cancelled; {n} messages not yet sent were withdrawn.").format(
        id=1, n=3
    ) in flat(output)
    text = flat(loa("broadcast", "status", "1")[1])
    assert status_label(CANCELLED) in text
    assert f"{_('Cancelled messages')} 3" in text
    code, output = loa("broadcast", "cancel", "1")
    assert code == 1
