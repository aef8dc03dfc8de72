"""Typed SQLAlchemy models, one module per aggregate; importing this registers them all."""

from storage.models.areas import Commune, CommuneAlias, District, Province, Village
from storage.models.audit import AuditEntry
from storage.models.base import Base
from storage.models.broadcasts import Broadcast, Relay
from storage.models.channels import ChannelToken, Registration, RegistrationCode, Unreachable
from storage.models.events import Event, EventRegistration
from storage.models.followups import FollowUp
from storage.models.households import CONTACT_PHONE, Contact, Household, HouseholdDeprivation
from storage.models.loans import Instalment, Loan
from storage.models.messages import Message
from storage.models.staff import AREA_LEVELS, ROLES, ApiToken, StaffArea, StaffSession, StaffUser
from storage.models.surveys import (
    Answer,
    Conversation,
    Survey,
    SurveyRound,
    SurveyVersion,
)

__all__ = [
    "AREA_LEVELS",
    "CONTACT_PHONE",
    "ROLES",
    "Answer",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Broadcast",
    "ChannelToken",
    "Commune",
    "CommuneAlias",
    "Contact",
    "Conversation",
    "District",
    "Event",
    "EventRegistration",
    "FollowUp",
    "Household",
    "HouseholdDeprivation",
    "Instalment",
    "Loan",
    "Message",
    "Province",
    "Registration",
    "RegistrationCode",
    "Relay",
    "StaffArea",
    "StaffSession",
    "StaffUser",
    "Survey",
    "SurveyRound",
    "SurveyVersion",
    "Unreachable",
    "Village",
]
