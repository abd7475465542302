"""The notice itself: which kind a recipient gets, the legal ground it cites, the checks it must
pass before approval (DSA Art. 16(2) a–d, TAKE IT DOWN), and its exact text from templates.

Pure: values in, text and bytes out. Must not touch the store, the network or the clock; the
caller passes times in. A notice never carries a picture or the victim's name: only URLs,
digests and the sealed capture's reference and digest.

    facts = NoticeFacts(...)
    checks(facts)               # every element PASS or MISSING, in order
    render(facts, "fr")         # RenderedNotice(subject, body), plain text
    form_fields(facts, "en")    # ready-to-paste answers in a web form's order
    message_bytes(facts, rendered, sender=..., message_id=..., date=...)
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from enum import StrEnum
from functools import cache
from importlib import resources

import jinja2

from rempart.config import Identity
from rempart.i18n import N_, gettext
from rempart.takedown.recipients import Channel, Recipient
from rempart.takedown.registry import Role

__all__ = [
    "BASES",
    "DSA_TARGET",
    "LANGUAGES",
    "TAKE_IT_DOWN_DEADLINE",
    "Check",
    "Copy",
    "LegalBasis",
    "NoticeFacts",
    "NoticeKind",
    "NoticeStatus",
    "RenderedNotice",
    "Reupload",
    "checks",
    "clean",
    "due_after",
    "form_fields",
    "kind_for",
    "language_for",
    "message_bytes",
    "render",
]

LANGUAGES = ("fr", "en")  # the languages a notice template exists in
TAKE_IT_DOWN_DEADLINE = timedelta(hours=48)  # the Act's duty for covered platforms
# The DSA asks for action "without undue delay" and sets no number. Rempart follows up after
# 72 hours: past the 48 hours of TAKE IT DOWN and the UK duty, well inside the 10 days in which
# Point de Contact sees most of its reports acted on.
DSA_TARGET = timedelta(hours=72)


class NoticeKind(StrEnum):
    """What a notice is. Stored by value: never rename one."""

    DSA = "dsa"  # DSA Art. 16 notice to a hosting service (plus TAKE IT DOWN for US ones)
    ABUSE = "abuse"  # abuse report to a CDN, a network or a registrar
    DELISTING = "delisting"  # request to a search engine to delist the URLs
    PHAROS = "pharos"  # report to the French police platform, pasted in its form
    HOTLINE = "hotline"  # a minor's case: child-protection channel, references only
    MANUAL = "manual"  # nobody known: the caseworker finds who hosts it
    COMPLAINT = "complaint"  # a complaint to the regulator (Arcom) under DSA Art. 53


class LegalBasis(StrEnum):
    """The French criminal ground a notice cites. Stored by value."""

    LEAK = "226-2-1"  # sharing sexual images without consent
    DEEPFAKE = "226-8-1"  # sharing sexual montages or generated content without consent


BASES: Mapping[str, LegalBasis] = {"leak": LegalBasis.LEAK, "deepfake": LegalBasis.DEEPFAKE}


class NoticeStatus(StrEnum):
    """Where a notice stands. Stored by value: never rename one."""

    DRAFTED = "drafted"
    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"
    SUBMITTED = "submitted"  # a web form, submitted by the caseworker (ticket recorded)
    UNCERTAIN = "uncertain"  # interrupted while the server had the message: check by hand
    FAILED = "failed"
    ACKNOWLEDGED = "acknowledged"
    REMOVED = "removed"
    REFUSED = "refused"
    DISABLED = "disabled"  # access disabled (geo-blocked, hidden) rather than removed
    NO_ANSWER = "no-answer"  # the due date passed without acknowledgement or removal


@dataclass(frozen=True, slots=True)
class Copy:
    """One copy a notice covers: where it is, the media's SHA-256, the sealed capture's."""

    url: str
    sha256: str
    finding: int | None = None
    page_url: str | None = None
    capture: int | None = None
    capture_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Reupload:
    """A copy uploaded again: its URL, the earlier copy's, when that one was found removed
    (YYYY-MM-DD, or "") and the earlier notices about it (date, recipient, Message-ID)."""

    url: str
    earlier_url: str
    removed_on: str = ""
    notified: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """Everything a notice says, already chosen: nothing here is looked up."""

    kind: NoticeKind
    case: str  # the case's pseudonym, as our reference; never the victim's name
    recipient_name: str
    recipient_role: str
    recipient_channel: str
    recipient_address: str
    legal_basis: LegalBasis
    language: str
    copies: tuple[Copy, ...]
    sender: Identity
    notice: int | None = None
    take_it_down: bool = False
    references_only: bool = False
    found_at: datetime | None = None
    earlier: tuple[str, ...] = field(default=())  # earlier notices cited (escalations)
    reuploads: tuple[Reupload, ...] = field(default=())  # known identical copies cited


@dataclass(frozen=True, slots=True)
class Check:
    """One element a notice must hold: its code (`16(2)(a)`), what it is, whether present."""

    code: str
    label: str  # a catalog message id
    ok: bool
    detail: str = ""  # a catalog message id: what is missing and how to fix it

    def text(self, lang: str | None = None) -> str:
        return gettext(self.label, lang=lang)


@dataclass(frozen=True, slots=True)
class RenderedNotice:
    subject: str
    body: str


def kind_for(recipient: Recipient, *, minor: bool) -> NoticeKind:
    """The kind of notice a recipient gets (a minor's case: the hotline kind, always)."""
    if minor or recipient.references_only or recipient.role is Role.HOTLINE:
        return NoticeKind.HOTLINE
    if recipient.channel is Channel.MANUAL:
        return NoticeKind.MANUAL
    if recipient.platform == "pharos":
        return NoticeKind.PHAROS
    if recipient.role in (Role.HOST, Role.MESSAGING):
        return NoticeKind.DSA
    if recipient.role is Role.SEARCH:
        return NoticeKind.DELISTING
    return NoticeKind.ABUSE


def language_for(language: str, country: str) -> str:
    """The recipient's language where a template exists, else French for France, else English."""
    if language in LANGUAGES:
        return language
    return "fr" if country == "FR" else "en"


def due_after(
    facts_kind: NoticeKind,
    take_it_down: bool,
    sent_at: datetime,
    *,
    deadline: timedelta | None = None,
) -> datetime | None:
    """When an answer is due: 48 h under TAKE IT DOWN, the DSA target for other notices to a
    host, CDN or registrar; none for a Pharos report or a hotline (the police take it on).
    `deadline`: the one `notify plan` chose for this notice (its platform's response time
    when shorter, the configured DSA target), used instead when given."""
    if deadline is not None and facts_kind not in (NoticeKind.PHAROS, NoticeKind.HOTLINE):
        return sent_at + deadline
    if take_it_down:
        return sent_at + TAKE_IT_DOWN_DEADLINE
    if facts_kind in (
        NoticeKind.DSA,
        NoticeKind.ABUSE,
        NoticeKind.DELISTING,
        NoticeKind.COMPLAINT,
    ):
        return sent_at + DSA_TARGET
    return None


# ------------------------------------------------------------------------------------ checks

_CHECK_LABELS = {
    "16(2)(a)": N_("a substantiated explanation of why the content is illegal"),
    "16(2)(b)": N_("the exact URL of each copy, and what else identifies it"),
    "16(2)(c)": N_("the notifier's name and e-mail address"),
    "16(2)(d)": N_("a statement of good faith that the notice is accurate and complete"),
    "tida:signature": N_("TAKE IT DOWN: a signature of the person acting for the victim"),
    "tida:identification": N_("TAKE IT DOWN: identification of each copy and where it is"),
    "tida:good-faith": N_("TAKE IT DOWN: a statement of good faith that it is not consensual"),
    "tida:contact": N_("TAKE IT DOWN: contact details of the requester"),
    "no-media": N_("no picture attached: URLs, digests and capture references only"),
    "evidence": N_("each copy has a sealed capture (reference and digest)"),
}
_ADVICE = {
    "16(2)(a)": N_("choose the legal ground: `rempart notify plan --basis leak|deepfake`"),
    "16(2)(b)": N_("a copy has no web address: it cannot be notified this way"),
    "16(2)(c)": N_('set `rempart config set organisation.email "…"`'),
    "tida:signature": N_('set `rempart config set caseworker.name "…"`'),
    "tida:contact": N_('set `rempart config set organisation.email "…"`'),
    "evidence": N_("seal them first: `rempart capture --confirmed` (advised, not required)"),
}
ADVISORY = frozenset({"evidence"})  # shown, not required for approval


def _has_url(copy: Copy) -> bool:
    return copy.url.lower().startswith(("http://", "https://"))


def checks(facts: NoticeFacts) -> tuple[Check, ...]:
    """Every element this notice must hold, PASS or MISSING, in the order a reader checks.

    The DSA's 16(2) elements for every notice to a host (the notifier's name and e-mail are
    not required for child sexual abuse material, so not for a hotline); TAKE IT DOWN's for
    US platforms; no media ever; a sealed capture per copy is advised."""
    sender = facts.sender
    found: list[tuple[str, bool]] = []
    explanation = facts.legal_basis in tuple(LegalBasis) and bool(facts.copies)
    urls = bool(facts.copies) and all(_has_url(c) and len(c.sha256) == 64 for c in facts.copies)
    if facts.kind is NoticeKind.DSA:
        found += [
            ("16(2)(a)", explanation),
            ("16(2)(b)", urls),
            ("16(2)(c)", bool(sender.name.strip() and sender.email.strip())),
            ("16(2)(d)", _states_good_faith(facts)),
        ]
    else:
        found += [("16(2)(a)", explanation), ("16(2)(b)", urls)]
        if facts.kind is not NoticeKind.HOTLINE:
            found.append(("16(2)(c)", bool(sender.name.strip() and sender.email.strip())))
    if facts.take_it_down:
        found += [
            ("tida:signature", bool(sender.caseworker.strip() and sender.name.strip())),
            ("tida:identification", urls),
            ("tida:good-faith", _states_good_faith(facts)),
            ("tida:contact", bool(sender.email.strip())),
        ]
    found.append(("no-media", True))
    if facts.kind is not NoticeKind.HOTLINE:
        found.append(("evidence", all(c.capture_sha256 for c in facts.copies)))
    return tuple(
        Check(code, _CHECK_LABELS[code], ok, "" if ok else _ADVICE.get(code, ""))
        for code, ok in found
    )


_GOOD_FAITH = {
    "en": "declares in good faith that the information and allegations in this notice are "
    "accurate and complete",
    "fr": "déclare de bonne foi que les informations et allégations contenues dans cette "
    "notification sont exactes et complètes",
}


def _states_good_faith(facts: NoticeFacts) -> bool:
    """Whether the text as rendered holds the statement of good faith (16(2)(d))."""
    language = facts.language if facts.language in LANGUAGES else "en"
    body = " ".join(render(facts, language).body.split())
    return _GOOD_FAITH[language] in body


def blocking(found: Sequence[Check]) -> tuple[Check, ...]:
    """The failed checks that stop approval (a missing capture is advice only)."""
    return tuple(c for c in found if not c.ok and c.code not in ADVISORY)


# -------------------------------------------------------------------------------- rendering

_STRIP = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})


def clean(text: object, limit: int = 2_000) -> str:
    """Outside text fit for a plain-text e-mail: control, invisible and direction-changing
    characters removed (a URL cannot reorder or hide the text around it), cut to `limit`."""
    kept = "".join(c for c in str(text) if unicodedata.category(c) not in _STRIP)
    return kept[:limit]


@cache
def _environment() -> jinja2.Environment:
    folder = resources.files("rempart.takedown").joinpath("templates")
    loader = jinja2.FunctionLoader(lambda name: folder.joinpath(name).read_text("utf-8"))
    return jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"], default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _context(facts: NoticeFacts, lang: str) -> dict[str, object]:
    sender = facts.sender
    return {
        "kind": facts.kind.value,
        "notice": facts.notice,
        "case": clean(facts.case, 100),
        "recipient": clean(facts.recipient_name, 300),
        "basis": facts.legal_basis.value,
        "deepfake": facts.legal_basis is LegalBasis.DEEPFAKE,
        "take_it_down": facts.take_it_down,
        "references_only": facts.references_only or facts.kind is NoticeKind.HOTLINE,
        "organisation": clean(sender.name, 300),
        "org_address": clean(sender.address, 500),
        "org_email": clean(sender.email, 300),
        "org_phone": clean(sender.phone, 100),
        "org_website": clean(sender.website, 300),
        "trusted_flagger": sender.trusted_flagger and bool(sender.designation.strip()),
        "designation": clean(sender.designation, 300),
        "designated_by": clean(sender.designated_by or "Arcom", 300),
        "caseworker": clean(sender.caseworker, 200),
        "found_at": facts.found_at.strftime("%Y-%m-%d") if facts.found_at else "",
        "earlier": [clean(e, 500) for e in facts.earlier],
        "reuploads": [
            {
                "url": clean(r.url),
                "earlier_url": clean(r.earlier_url),
                "removed_on": clean(r.removed_on, 10),
                "notified": [clean(n, 300) for n in r.notified],
            }
            for r in facts.reuploads
        ],
        "copies": [
            {
                "url": clean(c.url),
                "page_url": clean(c.page_url) if c.page_url and c.page_url != c.url else "",
                "sha256": clean(c.sha256, 64),
                "capture": c.capture,
                "capture_sha256": clean(c.capture_sha256 or "", 64),
            }
            for c in facts.copies
        ],
        "lang": lang,
    }


def render(facts: NoticeFacts, lang: str | None = None) -> RenderedNotice:
    """The notice's subject and plain-text body in `lang` (default: the notice's language)."""
    lang = lang if lang in LANGUAGES else facts.language
    if lang not in LANGUAGES:
        lang = "en"
    template = _environment().get_template(f"notice.{lang}.txt.j2")
    text = template.render(_context(facts, lang))
    subject, _sep, body = text.partition("\n")
    return RenderedNotice(subject.removeprefix("Subject: ").strip(), body.lstrip("\n"))


def form_fields(facts: NoticeFacts, lang: str | None = None) -> tuple[tuple[str, str], ...]:
    """Answers in the order web forms ask (Pharos, platforms' NCII and DSA forms): reporter,
    contact, URLs, category, legal ground, description, good faith."""
    rendered = render(facts, lang)
    lang = lang if lang in LANGUAGES else facts.language
    sender = facts.sender
    urls = "\n".join(clean(c.url) for c in facts.copies)
    category = (
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"
        if facts.legal_basis is LegalBasis.DEEPFAKE
        else "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"
    )
    return (
        (gettext("Reporter", lang=lang), clean(sender.name)),
        (
            gettext("Trusted flagger", lang=lang),
            clean(sender.designation) if sender.trusted_flagger else "",
        ),
        (gettext("E-mail", lang=lang), clean(sender.email)),
        (gettext("Phone", lang=lang), clean(sender.phone)),
        (gettext("URLs", lang=lang), urls),
        (gettext("Category", lang=lang), category),
        (gettext("Legal ground", lang=lang), f"Code pénal, art. {facts.legal_basis.value}"),
        (gettext("Description", lang=lang), rendered.body),
        (gettext("Our reference", lang=lang), clean(facts.case, 100)),
    )


def message_bytes(
    facts: NoticeFacts,
    rendered: RenderedNotice,
    *,
    sender: str,
    message_id: str,
    date: datetime,
) -> bytes:
    """The exact e-mail sent: plain text, UTF-8, the stable Message-ID, no attachment."""
    message = EmailMessage(policy=SMTP)
    message["From"] = f"{clean(facts.sender.name, 200)} <{sender}>" if facts.sender.name else sender
    message["To"] = clean(facts.recipient_address, 300)
    message["Subject"] = clean(rendered.subject, 300)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    if facts.sender.email and facts.sender.email != sender:
        message["Reply-To"] = clean(facts.sender.email, 300)
    message["Auto-Submitted"] = "no"
    message.set_content(rendered.body, charset="utf-8", cte="quoted-printable")
    return message.as_bytes()
