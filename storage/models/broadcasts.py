"""Broadcasts (one text to an audience, approved when large) and relays (delivery by hand)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base

# Broadcast statuses
DRAFT = "draft"  # being written; nothing checked or queued
PENDING_APPROVAL = "pending_approval"  # submitted; waits for an officer
SCHEDULED = "scheduled"  # approved (or small enough): the scheduler queues it at send_at
SENDING = "sending"  # queued; messages are going out
DONE = "done"  # every message sent, failed or skipped
CANCELLED = "cancelled"  # withdrawn; what was not yet sent stays unsent
BROADCAST_STATUSES = (DRAFT, PENDING_APPROVAL, SCHEDULED, SENDING, DONE, CANCELLED)

# What a message or a relay is about (messages.source_kind, relays.source_kind)
SOURCE_BROADCAST = "broadcast"
SOURCE_EVENT = "event"
SOURCE_INSTALMENT = "instalment"
SOURCE_ROUND = "round"


class Broadcast(Base):
    """One text to the households of an audience, sent at a time, with a lifecycle."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)  # with placeholders such as {ho_ten}
    sms_text: Mapped[str | None] = mapped_column(Text)  # None: derived from `text`
    audience: Mapped[str] = mapped_column(Text)  # the one-line audience query
    channel_order: Mapped[list[str] | None] = mapped_column(JSON)  # None: LOA_CHANNEL_ORDER
    send_at: Mapped[datetime]
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)  # goes on holidays too
    status: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    households: Mapped[int] = mapped_column(Integer, default=0)  # in the audience at submission
    communes: Mapped[list[str]] = mapped_column(JSON)  # the communes the audience spans
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]  # every row queued (and every relay written)
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Relay(Base):
    """A household no channel reaches: a village relay carries the text by hand."""

    __tablename__ = "relays"
    __table_args__ = (UniqueConstraint("source_kind", "source_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_kind: Mapped[str] = mapped_column(String(12))
    source_id: Mapped[int] = mapped_column(Integer)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)  # as the household should hear it
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    delivered_by: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
