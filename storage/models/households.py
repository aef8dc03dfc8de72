"""Households, their deprivation indicators and their contacts (phones now, chat ids later)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base
from storage.vocab import CATEGORIES

CONTACT_PHONE = "phone"  # an E.164 phone number: SMS, the console, Zalo ZNS
CONTACT_TELEGRAM = "telegram"  # a Telegram chat id
CONTACT_ZALO = "zalo"  # a Zalo user id (as the Official Account sees it)
CONTACT_KINDS = (CONTACT_PHONE, CONTACT_TELEGRAM, CONTACT_ZALO)

# Why Loa may write to a contact
BASIS_REGISTER = "register"  # the commune's register: public-service basis
BASIS_CONSENT = "consent"  # the household registered itself and agreed


class Household(Base):
    """A household on the commune's register, keyed by its code (Mã hộ)."""

    __tablename__ = "households"
    __table_args__ = (Index("ix_households_commune_category", "commune_code", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    head_name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), index=True)
    commune_code: Mapped[str] = mapped_column(ForeignKey("communes.code"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    recognized_on: Mapped[date | None] = mapped_column(Date)
    ethnicity: Mapped[str | None] = mapped_column(String(60))
    ethnic_minority: Mapped[bool] = mapped_column(Boolean, default=False)
    woman_head: Mapped[bool] = mapped_column(Boolean, default=False)
    group_no: Mapped[int | None] = mapped_column(SmallInteger)  # Nhóm 1, 2 or 3
    members: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="household", lazy="raise", order_by="Contact.position"
    )
    deprivations: Mapped[list[HouseholdDeprivation]] = relationship(
        lazy="raise", cascade="all, delete-orphan"
    )


class HouseholdDeprivation(Base):
    """One deprivation indicator a household lacks (Decree 07/2021)."""

    __tablename__ = "household_deprivations"

    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), primary_key=True
    )
    indicator: Mapped[str] = mapped_column(String(32), primary_key=True)


class Contact(Base):
    """A way to reach a household; a phone shared by two households is kept and flagged."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("household_id", "kind", "address"),
        Index("ix_contacts_kind_address", "kind", "address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)  # another household has it too
    created_at: Mapped[datetime]
    basis: Mapped[str | None] = mapped_column(String(12))  # None: registered, not yet agreed
    basis_at: Mapped[datetime | None]
    consent_channel: Mapped[str | None] = mapped_column(String(20))
    consent_version: Mapped[str | None] = mapped_column(String(16))  # hash of the words agreed to
    opted_out_at: Mapped[datetime | None]  # HUY/DỪNG/STOP: nothing but a confirmation
    introduced_at: Mapped[datetime | None]  # the register basis's first message said who writes
    last_seen_at: Mapped[datetime | None]  # the contact's last message (Zalo's window)
    phone: Mapped[str | None] = mapped_column(String(16))  # a chat contact's proven phone
    name: Mapped[str | None] = mapped_column(String(120))  # as the chat app gives it

    household: Mapped[Household] = relationship(back_populates="contacts", lazy="raise")


__all__ = [
    "BASIS_CONSENT",
    "BASIS_REGISTER",
    "CATEGORIES",
    "CONTACT_KINDS",
    "CONTACT_PHONE",
    "CONTACT_TELEGRAM",
    "CONTACT_ZALO",
    "Contact",
    "Household",
    "HouseholdDeprivation",
]
