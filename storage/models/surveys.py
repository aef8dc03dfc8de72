"""Dialogue surveys: forms and their versions, rounds, conversations and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base

# Conversation statuses
ACTIVE = "active"  # waiting for the household's next reply
COMPLETED = "completed"  # every relevant question answered, skipped or given up on
EXPIRED = "expired"  # no reply within the expiry time
STOPPED = "stopped"  # ended by the household (opt-out) or by staff
CONVERSATION_STATUSES = (ACTIVE, COMPLETED, EXPIRED, STOPPED)

# Answer statuses
ANSWERED = "answered"
SKIPPED = "skipped"  # an optional question the household chose to skip
UNANSWERED = "unanswered"  # given up after three replies that did not fit
CALCULATED = "calculated"  # a `calculate` field, worked out from other answers
CLEARED = "cleared"  # withdrawn: its question no longer applies (never stored)


class Survey(Base):
    """A form, known by its XLSForm `form_id`; its content lives in versions."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]


class SurveyVersion(Base):
    """One imported version of a form, held as Loa's own form model (JSON)."""

    __tablename__ = "survey_versions"
    __table_args__ = (UniqueConstraint("survey_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the definition
    source_name: Mapped[str] = mapped_column(String(255))
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(64))


class SurveyRound(Base):
    """One asking of a survey: a household answers each round once."""

    __tablename__ = "survey_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    audience: Mapped[str | None] = mapped_column(Text)  # None: households asked one by one
    deadline: Mapped[datetime | None]  # then the silent ones become `no_answer` follow-ups
    max_reminders: Mapped[int] = mapped_column(SmallInteger, default=2)  # one a day, after 24 h
    created_by: Mapped[str | None] = mapped_column(String(64))


class Conversation(Base):
    """A household answering one survey round through one contact, one question at a time."""

    __tablename__ = "conversations"
    __table_args__ = (
        # One active conversation per contact.
        Index(
            "uq_conversations_active_contact",
            "contact_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_conversations_round_household", "round_id", "household_id"),
        Index("ix_conversations_version_status", "version_id", "status"),
        Index(  # the overview's 30-day counts per household, from the index alone
            "ix_conversations_household_window", "household_id", "started_at", "status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))
    position: Mapped[int] = mapped_column(SmallInteger)  # index of the question being asked
    misses: Mapped[int] = mapped_column(SmallInteger, default=0)  # replies that did not fit
    trail: Mapped[list[int]] = mapped_column(JSON)  # positions asked, for "quay lại"
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)  # name -> value, the engine's state
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class Answer(Base):
    """One question's answer in one conversation; it belongs to the household."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("conversation_id", "question"),
        Index("ix_answers_question_answered_at", "question", "answered_at"),  # latest answers
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text)  # as ODK exports it
    raw: Mapped[str | None] = mapped_column(Text)  # what the household typed
    status: Mapped[str] = mapped_column(String(12))
    answered_at: Mapped[datetime]
