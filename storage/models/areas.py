"""Administrative units: province, optional legacy district, commune, village; merger aliases."""

from __future__ import annotations

from sqlalchemy import ForeignKey, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base


class Province(Base):
    """A province (tỉnh / thành phố), keyed by its official code."""

    __tablename__ = "provinces"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class District(Base):
    """A district (huyện) of the three-tier system before 1 July 2025; kept for old lists."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), index=True)


class Commune(Base):
    """A commune (xã / phường / đặc khu), the unit that owns households and follow-up lists."""

    __tablename__ = "communes"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), index=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), index=True)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"), index=True)
    transaction_day: Mapped[int | None] = mapped_column(SmallInteger)  # VBSP's day of the month
    transaction_place: Mapped[str | None] = mapped_column(String(200))  # điểm giao dịch xã

    province: Mapped[Province] = relationship(lazy="raise")
    villages: Mapped[list[Village]] = relationship(back_populates="commune", lazy="raise")


class CommuneAlias(Base):
    """An old commune merged into a new one (2025 reform): its code and/or name."""

    __tablename__ = "commune_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_code: Mapped[str] = mapped_column(ForeignKey("communes.code"), index=True)
    old_code: Mapped[str | None] = mapped_column(String(10), unique=True)
    old_name: Mapped[str | None] = mapped_column(String(120))
    old_name_key: Mapped[str | None] = mapped_column(String(120), index=True)


class Village(Base):
    """A village (thôn, ấp, buôn, bản, tổ dân phố) inside a commune."""

    __tablename__ = "villages"
    __table_args__ = (UniqueConstraint("commune_code", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    commune_code: Mapped[str] = mapped_column(ForeignKey("communes.code"))
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120))

    commune: Mapped[Commune] = relationship(back_populates="villages", lazy="raise")
