"""channels, registration, outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_tokens",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_channel_tokens")),
    )
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_registrations_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
    )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index("ix_registrations_status", ["status", "created_at"], unique=False)

    op.create_table(
        "registration_codes",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_registration_codes_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_registration_codes_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_registration_codes")),
    )
    with op.batch_alter_table("registration_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registration_codes_household_id"), ["household_id"], unique=False
        )

    op.create_table(
        "unreachable",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_unreachable_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", "channel", name=op.f("pk_unreachable")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("basis", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("basis_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("consent_channel", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("consent_version", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("introduced_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("name", sa.String(length=120), nullable=True))
    # Every contact so far came from the commune's register: its basis is public service.
    op.execute("UPDATE contacts SET basis = 'register', basis_at = created_at")

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("priority", sa.SmallInteger(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("dedup_key", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("attempts", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("errors", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("provider_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("possible_duplicate", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("segments", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_messages_due", ["status", "channel", "priority", "not_before"], unique=False
        )
        batch_op.create_index("ix_messages_provider", ["channel", "provider_id"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_messages_dedup_key"), ["dedup_key"])


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_messages_dedup_key"), type_="unique")
        batch_op.drop_index("ix_messages_provider")
        batch_op.drop_index("ix_messages_due")
        batch_op.drop_column("sent_at")
        batch_op.drop_column("segments")
        batch_op.drop_column("possible_duplicate")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("provider_id")
        batch_op.drop_column("last_error")
        batch_op.drop_column("errors")
        batch_op.drop_column("attempts")
        batch_op.drop_column("not_before")
        batch_op.drop_column("dedup_key")
        batch_op.drop_column("priority")
        batch_op.drop_column("data")

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("name")
        batch_op.drop_column("phone")
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("introduced_at")
        batch_op.drop_column("opted_out_at")
        batch_op.drop_column("consent_version")
        batch_op.drop_column("consent_channel")
        batch_op.drop_column("basis_at")
        batch_op.drop_column("basis")

    op.drop_table("unreachable")
    with op.batch_alter_table("registration_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_codes_household_id"))

    op.drop_table("registration_codes")
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_registrations_status")

    op.drop_table("registrations")
    op.drop_table("channel_tokens")
