"""console indexes: the overview's 30-day windows, the inbox, survey results, the audit page

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The overview counts the last 30 days of messages and survey conversations per commune
    # or village: per household, from these covering indexes, in household order (SQLite
    # visits the index pages in order instead of the tables at random). The time index
    # serves the message log newest first and the API's `since`.
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_messages_household_window",
            ["household_id", "created_at", "direction", "status"],
            unique=False,
        )
        # The inbox: a household's free-text messages.
        batch_op.create_index("ix_messages_household_kind", ["household_id", "kind"], unique=False)
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversations_household_window",
            ["household_id", "started_at", "status"],
            unique=False,
        )
    # Survey results: the latest free answers to a question, newest first.
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_answers_question_answered_at", ["question", "answered_at"], unique=False
        )
    # The audit page filtered by who, newest first.
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_actor", ["actor", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_actor")
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_index("ix_answers_question_answered_at")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_household_window")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_household_kind")
        batch_op.drop_index("ix_messages_household_window")
        batch_op.drop_index("ix_messages_created_at")
