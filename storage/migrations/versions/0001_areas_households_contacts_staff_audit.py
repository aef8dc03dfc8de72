"""areas, households, contacts, staff, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_key", sa.String(length=64), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_entity", ["entity", "entity_key"], unique=False)

    op.create_table(
        "provinces",
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_provinces")),
    )
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    op.create_table(
        "districts",
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("province_code", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["province_code"], ["provinces.code"], name=op.f("fk_districts_province_code_provinces")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_districts")),
    )
    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_districts_province_code"), ["province_code"], unique=False
        )

    op.create_table(
        "staff_areas",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_areas_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_id", "level", "code", name=op.f("pk_staff_areas")),
    )
    op.create_table(
        "communes",
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_key", sa.String(length=120), nullable=False),
        sa.Column("province_code", sa.String(length=10), nullable=False),
        sa.Column("district_code", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_communes_district_code_districts")
        ),
        sa.ForeignKeyConstraint(
            ["province_code"], ["provinces.code"], name=op.f("fk_communes_province_code_provinces")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_communes")),
    )
    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_communes_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_communes_name_key"), ["name_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_communes_province_code"), ["province_code"], unique=False
        )

    op.create_table(
        "commune_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_code", sa.String(length=10), nullable=False),
        sa.Column("old_code", sa.String(length=10), nullable=True),
        sa.Column("old_name", sa.String(length=120), nullable=True),
        sa.Column("old_name_key", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["commune_code"],
            ["communes.code"],
            name=op.f("fk_commune_aliases_commune_code_communes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commune_aliases")),
        sa.UniqueConstraint("old_code", name=op.f("uq_commune_aliases_old_code")),
    )
    with op.batch_alter_table("commune_aliases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commune_aliases_commune_code"), ["commune_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commune_aliases_old_name_key"), ["old_name_key"], unique=False
        )

    op.create_table(
        "villages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("commune_code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_key", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune_code"], ["communes.code"], name=op.f("fk_villages_commune_code_communes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_villages")),
        sa.UniqueConstraint("code", name=op.f("uq_villages_code")),
        sa.UniqueConstraint(
            "commune_code", "name_key", name=op.f("uq_villages_commune_code_name_key")
        ),
    )
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("head_name", sa.String(length=120), nullable=False),
        sa.Column("name_key", sa.String(length=120), nullable=False),
        sa.Column("commune_code", sa.String(length=10), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("recognized_on", sa.Date(), nullable=True),
        sa.Column("ethnicity", sa.String(length=60), nullable=True),
        sa.Column("ethnic_minority", sa.Boolean(), nullable=False),
        sa.Column("woman_head", sa.Boolean(), nullable=False),
        sa.Column("group_no", sa.SmallInteger(), nullable=True),
        sa.Column("members", sa.SmallInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune_code"], ["communes.code"], name=op.f("fk_households_commune_code_communes")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_households_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint("code", name=op.f("uq_households_code")),
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_index(
            "ix_households_commune_category", ["commune_code", "category"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_households_name_key"), ["name_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_households_village_id"), ["village_id"], unique=False)

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_contacts_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint(
            "household_id", "kind", "address", name=op.f("uq_contacts_household_id_kind_address")
        ),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index("ix_contacts_kind_address", ["kind", "address"], unique=False)

    op.create_table(
        "household_deprivations",
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_household_deprivations_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "household_id", "indicator", name=op.f("pk_household_deprivations")
        ),
    )


def downgrade() -> None:

    op.drop_table("household_deprivations")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_kind_address")

    op.drop_table("contacts")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_households_village_id"))
        batch_op.drop_index(batch_op.f("ix_households_name_key"))
        batch_op.drop_index("ix_households_commune_category")

    op.drop_table("households")
    op.drop_table("villages")
    with op.batch_alter_table("commune_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commune_aliases_old_name_key"))
        batch_op.drop_index(batch_op.f("ix_commune_aliases_commune_code"))

    op.drop_table("commune_aliases")
    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_communes_province_code"))
        batch_op.drop_index(batch_op.f("ix_communes_name_key"))
        batch_op.drop_index(batch_op.f("ix_communes_district_code"))

    op.drop_table("communes")
    op.drop_table("staff_areas")
    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_districts_province_code"))

    op.drop_table("districts")
    op.drop_table("staff_users")
    op.drop_table("provinces")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_entity")

    op.drop_table("audit_log")
