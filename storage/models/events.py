"""Events households are told about and register for: classes, job sessions, meetings..."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base

# Kinds
TRAINING = "training"  # a vocational class (Dự án 4)
JOB_SESSION = "job_session"  # phiên giao dịch việc làm
TRANSACTION_DAY = "transaction_day"  # the VBSP's monthly day at the commune's point
MEETING = "meeting"  # a dialogue meeting (họp mặt, đối thoại)
DISTRIBUTION = "distribution"  # support handed out: insurance cards, rice, livestock, seedlings
EVENT_KINDS = (TRAINING, JOB_SESSION, TRANSACTION_DAY, MEETING, DISTRIBUTION)

# Statuses: a notice never promises what has no money behind it
PLANNED = "planned"
CONFIRMED = "confirmed"
POSTPONED = "postponed"
CANCELLED = "cancelled"
EVENT_STATUSES = (PLANNED, CONFIRMED, POSTPONED, CANCELLED)

# Registration statuses
INVITED = "invited"  # the notice went out; a reply "1" registers
REGISTERED = "registered"
WITHDRAWN = "withdrawn"  # registered, then said no
REGISTRATION_STATUSES = (INVITED, REGISTERED, WITHDRAWN)


class Event(Base):
    """Something at a date, time and place, for an audience, with details by kind."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_starts_at", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("communes.code"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    place: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)  # trade, level, employers, items...
    register_by: Mapped[date | None] = mapped_column(Date)  # registration deadline
    min_size: Mapped[int | None] = mapped_column(Integer)  # a class opens with this many
    quorum_at: Mapped[datetime | None]  # when the class reached its minimum size
    revision: Mapped[int] = mapped_column(Integer, default=0)  # bumped by a change of status/date
    feedback_form: Mapped[str | None] = mapped_column(String(64))  # survey after the event
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EventRegistration(Base):
    """A household invited to an event, and whether it registered."""

    __tablename__ = "event_registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "household_id"),
        Index("ix_event_registrations_household", "household_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    channel: Mapped[str | None] = mapped_column(String(20))  # where the registration came from
    status: Mapped[str] = mapped_column(String(12))
    invited_at: Mapped[datetime]
    registered_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
