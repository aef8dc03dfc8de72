"""Registration (printed one-time codes, pending claims), reachability and provider tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base

# Registration statuses
PENDING = "pending"  # waiting for an assistant
APPROVED = "approved"
REJECTED = "rejected"
REGISTRATION_STATUSES = (PENDING, APPROVED, REJECTED)

# Why a contact cannot be reached on a channel
BLOCKED = "blocked"  # Telegram: the person blocked the bot
UNFOLLOWED = "unfollowed"  # Zalo: stopped following the Official Account
OUTSIDE_WINDOW = "outside_window"  # Zalo: no message from the person in the last 7 days
INVALID_ADDRESS = "invalid_address"  # the provider does not know this chat or phone
UNDELIVERABLE = "not_delivered"  # the network could not deliver it


class RegistrationCode(Base):
    """A one-time code the commune printed for a household; using it proves the household."""

    __tablename__ = "registration_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))


class Registration(Base):
    """A contact that claimed a household without proof, waiting for an assistant's decision."""

    __tablename__ = "registrations"
    __table_args__ = (Index("ix_registrations_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(16))  # the contact kind it would become
    address: Mapped[str] = mapped_column(String(64))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    phone: Mapped[str | None] = mapped_column(String(16))  # the phone it showed, if any
    name: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))


class Unreachable(Base):
    """A contact that cannot be reached on one channel (blocked, unfollowed, not delivered)."""

    __tablename__ = "unreachable"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    since: Mapped[datetime]


class ChannelToken(Base):
    """A provider's rotating tokens (Zalo): the pair is replaced in one transaction."""

    __tablename__ = "channel_tokens"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime]
