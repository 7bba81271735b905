"""The data model, one module per aggregate."""
from app.models.audit import AuditEvent
from app.models.cycle import Cycle, CycleStatus, cycle_institution
from app.models.evidence import EvidenceBlob, EvidenceFile
from app.models.export import ExportFile, ExportJob, ExportState
from app.models.org import Country, Institution, InstitutionKind
from app.models.questionnaire import Questionnaire, QuestionnaireVersion, VersionStatus
from app.models.response import Answer, AnswerDraft, Response, ResponseStatus
from app.models.review import (Comment, ReviewAction, ReviewedScore, ReviewEvent, ScoreSnapshot, Thread,
                               ThreadKind)
from app.models.user import Role, RoleAssignment, User, UserSession

__all__ = [
    "Answer", "AnswerDraft", "AuditEvent", "Comment", "Country", "Cycle", "CycleStatus", "EvidenceBlob", "EvidenceFile", "ExportFile", "ExportJob", "ExportState",
    "Institution", "InstitutionKind",
    "Questionnaire", "QuestionnaireVersion", "Response", "ResponseStatus", "ReviewAction", "ReviewEvent",
    "ReviewedScore", "Role", "ScoreSnapshot", "Thread", "ThreadKind",
    "RoleAssignment", "User", "UserSession", "VersionStatus", "cycle_institution",
]
