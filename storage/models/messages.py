"""The message log and outbox: every message in and out, with its household, contact, channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base

INBOUND = "in"
OUTBOUND = "out"

# Statuses
RECEIVED = "received"  # inbound, handled
QUEUED = "queued"  # outbound, waiting for its turn (and its not_before)
SENDING = "sending"  # claimed by a sender, lease running
SENT = "sent"  # the provider accepted it
DELIVERED = "delivered"  # the recipient's device has it
READ = "read"  # the recipient opened it
FAILED = "failed"  # will not be sent (see last_error)
CANCELLED = "cancelled"  # withdrawn before it was sent
SKIPPED = "skipped"  # not sent on purpose: opted out, unreachable, no longer needed
OUT_STATUSES = (QUEUED, SENDING, SENT, DELIVERED, READ, FAILED, CANCELLED, SKIPPED)
STATUSES = (RECEIVED, *OUT_STATUSES)

# Kinds
REPLY = "reply"  # an answer to the household's own message
CONFIRM = "confirm"  # the confirmation of an opt-out: the one message an opted-out contact gets
SURVEY = "survey"  # a survey question sent unprompted (the start of a round)
NOTICE = "notice"  # a message an assistant wrote to one household
BROADCAST = "broadcast"  # one text to an audience
EVENT_CHANGE = "event_change"  # an event the household was told of changed status or date
EVENT_REMINDER = "event_reminder"  # the day before an event the household registered for
LOAN_REMINDER = "loan_reminder"  # an instalment falls due (D-7, D-3, the transaction day)
OVERDUE = "overdue"  # an instalment is past due: one polite notice
SURVEY_REMINDER = "survey_reminder"  # a survey the household has not answered yet

# Priorities: lower goes first
URGENT = 0  # replies to a person
NORMAL = 1  # reminders, survey questions
BULK = 2  # broadcasts


class Message(Base):
    """One message; outbound rows are the outbox: they wait, queued, until the sender takes them."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_channel_address_status", "channel", "address", "status"),
        Index("ix_messages_household", "household_id"),
        Index("ix_messages_due", "status", "channel", "priority", "not_before"),
        Index("ix_messages_provider", "channel", "provider_id"),
        Index("ix_messages_source", "source_kind", "source_id", "status"),
        Index("ix_messages_created_at", "created_at"),  # the log newest first, the API's since
        Index(  # the overview's counts per household, from the index alone
            "ix_messages_household_window", "household_id", "created_at", "direction", "status"
        ),
        Index("ix_messages_household_kind", "household_id", "kind"),  # the inbox
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(64))  # phone (E.164) or chat id
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("households.id", ondelete="SET NULL")
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)  # as rendered for the channel
    # None is stored as SQL NULL, not JSON "null": nothing to encode for most rows
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))  # texts, params
    status: Mapped[str] = mapped_column(String(12))
    priority: Mapped[int] = mapped_column(SmallInteger, default=NORMAL)
    dedup_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    not_before: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    errors: Mapped[int] = mapped_column(SmallInteger, default=0)  # temporary failures so far
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    possible_duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    segments: Mapped[int | None] = mapped_column(SmallInteger)  # SMS parts, for the bill
    source_kind: Mapped[str | None] = mapped_column(String(12))  # broadcast, event, instalment...
    source_id: Mapped[int | None]  # ... and which one: progress, cancelling, staleness
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
