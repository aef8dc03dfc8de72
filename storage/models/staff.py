"""Staff users (commune assistants, officers, admins) and the areas they may see."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
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

    areas: Mapped[list[StaffArea]] = relationship(lazy="raise", cascade="all, delete-orphan")


class StaffArea(Base):
    """An area a staff user is assigned to: a province, a legacy district or a commune."""

    __tablename__ = "staff_areas"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
