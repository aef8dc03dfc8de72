"""Loans from the Bank for Social Policies (NHCSXH / VBSP) and their instalments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Loan(Base):
    """One loan of a household under a programme, disbursed on a day."""

    __tablename__ = "loans"
    __table_args__ = (UniqueConstraint("household_id", "programme", "disbursed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    programme: Mapped[str] = mapped_column(String(32))  # a code of storage.vocab.LOAN_PROGRAMMES
    amount: Mapped[int] = mapped_column(BigInteger)  # VND
    disbursed_on: Mapped[date] = mapped_column(Date)
    group_name: Mapped[str | None] = mapped_column(String(200))  # Tổ TK&VV
    group_head_phone: Mapped[str | None] = mapped_column(String(16))  # E.164
    source_name: Mapped[str] = mapped_column(String(255))  # the file it came from
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Instalment(Base):
    """What a loan's household owes on one day: principal and interest; paid or not."""

    __tablename__ = "instalments"
    __table_args__ = (
        UniqueConstraint("loan_id", "due_on"),
        Index("ix_instalments_due_paid", "due_on", "paid_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"))
    due_on: Mapped[date] = mapped_column(Date)
    principal: Mapped[int] = mapped_column(BigInteger)  # VND
    interest: Mapped[int] = mapped_column(BigInteger)  # VND
    paid_on: Mapped[date | None] = mapped_column(Date)
    paid_amount: Mapped[int | None] = mapped_column(BigInteger)
    overdue_at: Mapped[datetime | None]  # when it became an `overdue` follow-up
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
