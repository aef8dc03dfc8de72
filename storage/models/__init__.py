"""Typed SQLAlchemy models, one module per aggregate; importing this registers them all."""

from storage.models.areas import Commune, CommuneAlias, District, Province, Village
from storage.models.audit import AuditEntry
from storage.models.base import Base
from storage.models.households import CONTACT_PHONE, Contact, Household, HouseholdDeprivation
from storage.models.staff import AREA_LEVELS, ROLES, StaffArea, StaffUser

__all__ = [
    "AREA_LEVELS",
    "CONTACT_PHONE",
    "ROLES",
    "AuditEntry",
    "Base",
    "Commune",
    "CommuneAlias",
    "Contact",
    "District",
    "Household",
    "HouseholdDeprivation",
    "Province",
    "StaffArea",
    "StaffUser",
    "Village",
]
