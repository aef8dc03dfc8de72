"""The audit log: who changed what, when, and through which import or user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class AuditEntry(Base):
    """One change to one record."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity", "entity_key"),
        Index("ix_audit_log_actor", "actor", "id"),  # the audit page's "who", newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]  # ids follow time, so no index of its own
    actor: Mapped[str] = mapped_column(String(64))  # staff username, or "cli" / "system"
    source: Mapped[str] = mapped_column(String(255))  # "import:<file>", "user", "cli"
    action: Mapped[str] = mapped_column(String(16))  # create, update or delete
    entity: Mapped[str] = mapped_column(String(32))  # table name
    entity_key: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)  # field -> [old, new]
