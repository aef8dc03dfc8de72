"""Settings: one class, read from LOA_* environment variables and an optional .env file."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from messages.render import _

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/loa.db"
SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
MIN_SECRET = 16
QUIET = re.compile(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d")


class SettingsError(Exception):
    """A setting is wrong; the message names it in Vietnamese."""


class ZnsTemplate(BaseModel):
    """An approved ZNS template: its id and which message field fills each parameter."""

    template_id: str
    params: dict[str, str] = Field(default_factory=dict)  # template parameter -> message field


class Settings(BaseSettings):
    """Everything Loa can be told from outside; channel settings arrive with the channels."""

    model_config = SettingsConfigDict(env_prefix="LOA_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "Asia/Ho_Chi_Minh"
    secret_key: str = "dev-only-change-me"
    locale: str = "vi"
    demo: bool = False  # `make demo`: the console shows "Thử như người dân" (try as a household)
    survey_expiry_hours: int = Field(default=72, ge=1)  # a silent conversation expires after
    help_contact: str = ""  # whom an unknown number should call, e.g. "chị Lan, 0912 345 678"
    public_url: str = "http://127.0.0.1:8000"  # where providers reach Loa's webhooks

    # Delivery
    channel_order: str = "zalo,telegram,sms"  # a household's channels, most preferred first
    quiet_hours: str = "21:00-07:00"  # no non-urgent message in these local hours
    daily_cap: int = Field(default=3, ge=1)  # non-urgent messages per household per day
    sender_lease_seconds: int = Field(default=120, ge=5)  # a claimed row is retried after

    # Telegram
    telegram_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base: str = "https://api.telegram.org"
    telegram_per_second: float = Field(default=25, gt=0)
    telegram_per_chat_per_second: float = Field(default=1, gt=0)

    # Zalo Official Account and ZNS
    zalo_app_id: str = ""
    zalo_app_secret: str = ""
    zalo_oa_secret_key: str = ""
    zalo_access_token: str = ""
    zalo_refresh_token: str = ""
    zalo_api_base: str = "https://openapi.zalo.me"
    zalo_zns_api_base: str = "https://business.openapi.zalo.me"
    zalo_oauth_base: str = "https://oauth.zaloapp.com"
    zalo_window_days: int = Field(default=7, ge=1)  # consultation messages only inside it
    zalo_per_second: float = Field(default=10, gt=0)
    zalo_signature_timestamp: str = "body"  # where the signed timestamp is: body or header
    zalo_zns_templates: dict[str, ZnsTemplate] = Field(default_factory=dict)  # by message kind

    # SMS through Kannel
    kannel_sendsms_url: str = ""
    kannel_username: str = ""
    kannel_password: str = ""
    kannel_from: str = ""
    kannel_secret: str = ""
    kannel_per_second: float = Field(default=10, gt=0)
    sms_strip_accents: bool = True
    sms_max_segments: int = Field(default=3, ge=1)

    # Outreach: broadcasts, events, loan reminders, survey rounds
    approval_threshold: int = Field(default=200, ge=0)  # more households: an officer approves
    prices: dict[str, float] = Field(  # VND per message (SMS: per part), for the preview
        default_factory=lambda: {"sms": 250.0, "zalo": 200.0, "telegram": 0.0, "console": 0.0}
    )
    loan_reminder_days: str = "7,3"  # days before an instalment falls due
    survey_reminder_hours: int = Field(default=24, ge=1)  # a silent household is reminded after
    scheduler_seconds: int = Field(default=60, ge=5)  # between two passes of the scheduler

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

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        if value and not QUIET.fullmatch(value.strip()):
            raise ValueError(_("write it as HH:MM-HH:MM, for example 21:00-07:00"))
        return value.strip()

    @field_validator("loan_reminder_days")
    @classmethod
    def _days(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not all(p.isdigit() and 0 < int(p) <= 60 for p in parts):
            raise ValueError(_("write days before the due date, for example 7,3"))
        return ",".join(parts)

    @property
    def reminder_days(self) -> list[int]:
        """Days before an instalment falls due that its household is reminded, furthest first."""
        return sorted({int(p) for p in self.loan_reminder_days.split(",") if p}, reverse=True)

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
