"""Settings: one class, read from LOA_* environment variables and an optional .env file."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from messages.render import _

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/loa.db"
SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
MIN_SECRET = 16


class SettingsError(Exception):
    """A setting is wrong; the message names it in Vietnamese."""


class Settings(BaseSettings):
    """Everything Loa can be told from outside; channel settings arrive with the channels."""

    model_config = SettingsConfigDict(env_prefix="LOA_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "Asia/Ho_Chi_Minh"
    secret_key: str = "dev-only-change-me"
    locale: str = "vi"
    survey_expiry_hours: int = Field(default=72, ge=1)  # a silent conversation expires after
    help_contact: str = ""  # whom an unknown number should call, e.g. "chị Lan, 0912 345 678"

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        driver = value.split("://", 1)[0]
        if "://" not in value or driver not in SUPPORTED_DRIVERS:
            raise ValueError(
                _("it must start with {first} or {second}").format(
                    first=f"{SUPPORTED_DRIVERS[0]}://", second=f"{SUPPORTED_DRIVERS[1]}://"
                )
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                _("{value} is not a time zone name such as Asia/Ho_Chi_Minh").format(value=value)
            ) from exc
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_secret(cls, value: str) -> str:
        if len(value) < MIN_SECRET:
            raise ValueError(_("it needs at least {n} characters").format(n=MIN_SECRET))
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The time zone people read dates in."""
        return ZoneInfo(self.timezone)


def load_settings() -> Settings:
    """Read the settings, turning a validation error into one sentence that names the setting."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "LOA_" + str(first["loc"][0]).upper() if first["loc"] else "LOA_*"
        problem = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(
            _("The setting {name} is wrong: {problem}.").format(name=name, problem=problem)
        ) from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
