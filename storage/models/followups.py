"""Follow-up items: the commune's work list, opened by survey rules and by silence."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base

OPEN = "open"
ASSIGNED = "assigned"
DONE = "done"
DISMISSED = "dismissed"
FOLLOWUP_STATUSES = (OPEN, ASSIGNED, DONE, DISMISSED)
PRIORITIES = ("high", "normal", "low")


class FollowUp(Base):
    """Something a commune assistant must do for one household."""

    __tablename__ = "followups"
    __table_args__ = (
        Index("ix_followups_kind_status", "kind", "status"),
        Index("ix_followups_household", "household_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id", ondelete="SET NULL"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    question: Mapped[str | None] = mapped_column(String(64))  # for needs_help: which question
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    due_on: Mapped[date | None] = mapped_column(Date)
    dedup_key: Mapped[str | None] = mapped_column(String(120), unique=True)  # opened once
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
