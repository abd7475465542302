"""Every table of the store, from the modules of `rempart.store.tables` (one per stage).

Hashes only, never images. Types stay portable between SQLite and PostgreSQL.
"""

from __future__ import annotations

from rempart.store.tables.accounts import (
    AccessEvent,
    Account,
    AccountCase,
    ApiToken,
    LoginThrottle,
    TokenBank,
    TokenCase,
    WebSession,
)
from rempart.store.tables.banks import (
    Bank,
    BankKind,
    Case,
    Item,
    ItemAction,
    ItemEvent,
    ItemFeatures,
    ItemSignal,
)
from rempart.store.tables.base import (
    Base,
)
from rempart.store.tables.evidence import (
    CaptureRow,
    CustodyRow,
)
from rempart.store.tables.intake import IntakeSubmission, IntakeSubmissionItem
from rempart.store.tables.scans import (
    Finding,
    FindingStatus,
    PageValidator,
    ReviewClaim,
    ScanProblem,
    ScanRun,
    SeenMedia,
    SeenSignals,
    Sighting,
    SourceRow,
)
from rempart.store.tables.takedown import (
    CaseGround,
    FindingReupload,
    NoticeEscalation,
    NoticeEventRow,
    NoticeItemRow,
    NoticeRow,
    OutboxRow,
    RecheckSchedule,
    UrlCheck,
)

__all__ = [
    "AccessEvent",
    "Account",
    "AccountCase",
    "ApiToken",
    "Bank",
    "BankKind",
    "Base",
    "CaptureRow",
    "Case",
    "CaseGround",
    "CustodyRow",
    "Finding",
    "FindingReupload",
    "FindingStatus",
    "IntakeSubmission",
    "IntakeSubmissionItem",
    "Item",
    "ItemAction",
    "ItemEvent",
    "ItemFeatures",
    "ItemSignal",
    "LoginThrottle",
    "NoticeEscalation",
    "NoticeEventRow",
    "NoticeItemRow",
    "NoticeRow",
    "OutboxRow",
    "PageValidator",
    "RecheckSchedule",
    "ReviewClaim",
    "ScanProblem",
    "ScanRun",
    "SeenMedia",
    "SeenSignals",
    "Sighting",
    "SourceRow",
    "TokenBank",
    "TokenCase",
    "UrlCheck",
    "WebSession",
]
