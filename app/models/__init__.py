"""The data model, one module per aggregate."""
from app.models.audit import AuditEvent
from app.models.cycle import Cycle, CycleStatus, cycle_institution
from app.models.org import Country, Institution, InstitutionKind
from app.models.questionnaire import Questionnaire, QuestionnaireVersion, VersionStatus
from app.models.response import Answer, Response, ResponseStatus
from app.models.user import Role, RoleAssignment, User, UserSession

__all__ = [
    "Answer", "AuditEvent", "Country", "Cycle", "CycleStatus", "Institution", "InstitutionKind",
    "Questionnaire", "QuestionnaireVersion", "Response", "ResponseStatus", "Role",
    "RoleAssignment", "User", "UserSession", "VersionStatus", "cycle_institution",
]
