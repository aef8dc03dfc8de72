"""Staff users (commune assistants, officers, admins) and the areas they may see."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base

ROLES = ("admin", "officer", "assistant")
AREA_LEVELS = ("province", "district", "commune")


class StaffUser(Base):
    """A person who signs in; the password is an argon2 hash."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    failed_logins: Mapped[int] = mapped_column(SmallInteger, default=0)  # since the last success
    locked_until: Mapped[datetime | None]  # too many failed sign-ins: refused until then

    areas: Mapped[list[StaffArea]] = relationship(lazy="raise", cascade="all, delete-orphan")


class StaffArea(Base):
    """An area a staff user is assigned to: a province, a legacy district or a commune."""

    __tablename__ = "staff_areas"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(10), primary_key=True)


class StaffSession(Base):
    """A signed-in browser: the cookie holds the token, the store only its SHA-256."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    csrf: Mapped[str] = mapped_column(String(64))  # the forms' anti-forgery token
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ApiToken(Base):
    """A staff user's token for the JSON API; the store keeps only its SHA-256."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
