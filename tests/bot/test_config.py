"""Settings: defaults, and a wrong setting stops start-up with a sentence naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("LOA_DATABASE_URL", "LOA_TIMEZONE", "LOA_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///var/loa.db"
    assert settings.timezone == "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOA_DATABASE_URL", "mysql://root@localhost/loa"),
        ("LOA_TIMEZONE", "Asia/Hanoi_City"),
        ("LOA_SECRET_KEY", "short"),
    ],
)
def test_a_wrong_setting_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"Thiết lập {name} không đúng")


def test_env_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LOA_TIMEZONE", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("LOA_TIMEZONE=Asia/Bangkok\n")
    assert load_settings().timezone == "Asia/Bangkok"
