"""broadcasts, events, loans, rounds

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("commune_code", sa.String(length=10), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("register_by", sa.Date(), nullable=True),
        sa.Column("min_size", sa.Integer(), nullable=True),
        sa.Column("quorum_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("feedback_form", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune_code"], ["communes.code"], name=op.f("fk_events_commune_code_communes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_commune_code"), ["commune_code"], unique=False)
        batch_op.create_index("ix_events_starts_at", ["starts_at"], unique=False)

    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sms_text", sa.Text(), nullable=True),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("channel_order", sa.JSON(), nullable=True),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("communes", sa.JSON(), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_broadcasts_event_id_events"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.create_index("ix_broadcasts_status_send_at", ["status", "send_at"], unique=False)

    op.create_table(
        "loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("programme", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("disbursed_on", sa.Date(), nullable=False),
        sa.Column("group_name", sa.String(length=200), nullable=True),
        sa.Column("group_head_phone", sa.String(length=16), nullable=True),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_loans_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
        sa.UniqueConstraint(
            "household_id",
            "programme",
            "disbursed_on",
            name=op.f("uq_loans_household_id_programme_disbursed_on"),
        ),
    )
    op.create_table(
        "relays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_kind", sa.String(length=12), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_by", sa.String(length=120), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_relays_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relays")),
        sa.UniqueConstraint(
            "source_kind",
            "source_id",
            "household_id",
            name=op.f("uq_relays_source_kind_source_id_household_id"),
        ),
    )
    with op.batch_alter_table("relays", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relays_household_id"), ["household_id"], unique=False)

    op.create_table(
        "event_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_event_registrations_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_registrations_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_event_registrations_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_registrations")),
        sa.UniqueConstraint(
            "event_id", "household_id", name=op.f("uq_event_registrations_event_id_household_id")
        ),
    )
    with op.batch_alter_table("event_registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_registrations_household", ["household_id", "status"], unique=False
        )

    op.create_table(
        "instalments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("paid_amount", sa.BigInteger(), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_instalments_loan_id_loans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instalments")),
        sa.UniqueConstraint("loan_id", "due_on", name=op.f("uq_instalments_loan_id_due_on")),
    )
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.create_index("ix_instalments_due_paid", ["due_on", "paid_on"], unique=False)

    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transaction_day", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("transaction_place", sa.String(length=200), nullable=True))

    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedup_key", sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_followups_dedup_key"), ["dedup_key"])

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_kind", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("source_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_messages_source", ["source_kind", "source_id", "status"], unique=False
        )

    with op.batch_alter_table("survey_rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audience", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("deadline", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("max_reminders", sa.SmallInteger(), nullable=False, server_default="2")
        )
        batch_op.add_column(sa.Column("created_by", sa.String(length=64), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("survey_rounds", schema=None) as batch_op:
        batch_op.drop_column("created_by")
        batch_op.drop_column("max_reminders")
        batch_op.drop_column("deadline")
        batch_op.drop_column("audience")

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_source")
        batch_op.drop_column("source_id")
        batch_op.drop_column("source_kind")

    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_followups_dedup_key"), type_="unique")
        batch_op.drop_column("dedup_key")

    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.drop_column("transaction_place")
        batch_op.drop_column("transaction_day")

    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.drop_index("ix_instalments_due_paid")

    op.drop_table("instalments")
    with op.batch_alter_table("event_registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_event_registrations_household")

    op.drop_table("event_registrations")
    with op.batch_alter_table("relays", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relays_household_id"))

    op.drop_table("relays")
    op.drop_table("loans")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcasts_status_send_at")

    op.drop_table("broadcasts")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_starts_at")
        batch_op.drop_index(batch_op.f("ix_events_commune_code"))

    op.drop_table("events")
