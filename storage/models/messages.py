"""The message log: every message in and out, with its household, contact and channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base

INBOUND = "in"
OUTBOUND = "out"

# Statuses
RECEIVED = "received"  # inbound, handled
QUEUED = "queued"  # outbound, waiting to go out
DELIVERED = "delivered"  # outbound, the recipient's device has it

# Kinds
REPLY = "reply"  # an answer to the household's own message
SURVEY = "survey"  # a survey question sent unprompted (the start of a round)


class Message(Base):
    """One message; outbound rows wait here, queued, until their channel takes them."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_channel_address_status", "channel", "address", "status"),
        Index("ix_messages_household", "household_id"),
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
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # choices, for chat apps
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
