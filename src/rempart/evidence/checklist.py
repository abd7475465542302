"""The NF Z67-147 checklist of one capture: each item a French court looks for in a finding
made on the internet, whether this capture recorded it, and where in the bundle it lives.

The items mirror the checks of AFNOR NF Z67-147 ("mode opératoire de procès-verbal de constat
sur Internet") as bailiffs and courts practise them; they are not the norm's text. Sealing
adds its own (signature, RFC 3161 timestamps, custody log). Pure: context in, items out.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from rempart.evidence.artifacts import JsonValue

__all__ = [
    "CONTEXT",
    "ITEMS",
    "MISSING",
    "NOT_APPLICABLE",
    "RECORDED",
    "SOURCE_ITEMS",
    "ChecklistItem",
    "checklist",
    "source_checklist",
]

RECORDED = "recorded"
NOT_APPLICABLE = "not applicable"
MISSING = "missing"
CONTEXT = "capture/context.json"

Context = Mapping[str, Any]
Verdict = tuple[str, str]  # (status, detail)


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One item: a stable id, what it asks in English and French, where the answer lives
    in the bundle, and how a capture's context answers it."""

    id: str
    en: str
    fr: str
    where: tuple[str, ...]
    judge: Callable[[Context, Collection[str]], Verdict]


def checklist(context: Context, artifacts: Collection[str]) -> list[JsonValue]:
    """Every item, judged against a capture's `context` and its artifact names."""
    return _judged(ITEMS, context, artifacts)


def source_checklist(context: Context, artifacts: Collection[str]) -> list[JsonValue]:
    """The items of a copy found in a file-based source (a Telegram export, a folder or an
    archive, a WARC file): what such a finding must record, judged against its context."""
    return _judged(SOURCE_ITEMS, context, artifacts)


def _judged(
    chosen: tuple[ChecklistItem, ...], context: Context, artifacts: Collection[str]
) -> list[JsonValue]:
    items: list[JsonValue] = []
    for item in chosen:
        status, detail = item.judge(context, artifacts)
        items.append(
            {
                "id": item.id,
                "label": {"en": item.en, "fr": item.fr},
                "status": status,
                "detail": detail,
                "where": list(item.where) if status != NOT_APPLICABLE else [],
            }
        )
    return items


def _get(context: Context, *path: str) -> Any:
    value: Any = context
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _operator(context: Context, _: Collection[str]) -> Verdict:
    name = _get(context, "operator", "name")
    organisation = _get(context, "operator", "organisation")
    if not name:
        return MISSING, "no operator named"
    return RECORDED, f"{name}" + (f", {organisation}" if organisation else "")


def _machine(context: Context, _: Collection[str]) -> Verdict:
    machine = _get(context, "machine") or {}
    if not machine.get("hostname") or not machine.get("os"):
        return MISSING, "machine not described"
    return RECORDED, f"{machine['hostname']}: {machine['os']} ({machine.get('architecture')})"


def _software(context: Context, _: Collection[str]) -> Verdict:
    tools = _get(context, "tools") or {}
    if not tools.get("chromium"):
        return MISSING, "browser version unknown"
    return RECORDED, ", ".join(f"{name} {version}" for name, version in tools.items())


def _machine_state(context: Context, _: Collection[str]) -> Verdict:
    return MISSING, "not checked by Rempart (antivirus, malware): to be attested by the operator"


def _connection(context: Context, _: Collection[str]) -> Verdict:
    public_ip = _get(context, "network", "public_ip")
    if not public_ip or public_ip == "not determined":
        return MISSING, "public IP address not determined: to be given by the operator"
    return RECORDED, f"public IP address {public_ip}"


def _proxy(context: Context, _: Collection[str]) -> Verdict:
    proxy = _get(context, "network", "proxy") or {}
    upstream = proxy.get("upstream") or "none"
    return RECORDED, f"upstream proxy: {upstream}; local relay: {proxy.get('local_relay')}"


def _time(context: Context, _: Collection[str]) -> Verdict:
    started = _get(context, "time", "started_at")
    finished = _get(context, "time", "finished_at")
    if not started or not finished:
        return MISSING, "start or end time missing"
    return RECORDED, f"{started} to {finished} (UTC)"


def _clock_sync(context: Context, _: Collection[str]) -> Verdict:
    synchronised = _get(context, "time", "clock", "ntp_synchronized")
    if synchronised is True:
        return RECORDED, "system clock synchronised (NTP)"
    if synchronised is False:
        return MISSING, "system clock not synchronised (NTP): rely on the sealed timestamps"
    return MISSING, "clock synchronisation unknown: rely on the sealed timestamps"


def _clean_profile(context: Context, _: Collection[str]) -> Verdict:
    profile = _get(context, "browser", "profile") or {}
    if profile.get("fresh") is True and profile.get("cookies_at_start") == 0:
        return RECORDED, "fresh browser profile: no cookies, cache or storage"
    return MISSING, "the browser profile was not shown clean"


def _dns(context: Context, _: Collection[str]) -> Verdict:
    network = _get(context, "network") or {}
    if not any(server.get("address") for server in network.get("servers") or []):
        return MISSING, "no server address recorded"
    names = len(network.get("dns") or {})
    if not names:
        return RECORDED, "servers named by IP address: no name to resolve"
    return RECORDED, f"{names} name(s) resolved, server addresses recorded"


def _tls(context: Context, _: Collection[str]) -> Verdict:
    final_url = str(_get(context, "page", "final_url") or "")
    if not final_url.startswith("https:"):
        return NOT_APPLICABLE, "the page was served over plain HTTP"
    origins = _get(context, "tls") or []
    if not any(origin.get("chain_pem") for origin in origins):
        return MISSING, "no certificate chain recorded"
    trusted = origins[0].get("trusted")
    return RECORDED, "certificate " + {True: "trusted", False: "not trusted"}.get(
        trusted, "trust unknown"
    ) + " by Chromium"


def _path(context: Context, _: Collection[str]) -> Verdict:
    path = _get(context, "page", "link_path") or []
    if len(path) <= 1:
        return RECORDED, "address entered directly"
    return RECORDED, f"{len(path) - 1} links followed from {path[0]}"


def _address(context: Context, _: Collection[str]) -> Verdict:
    page = _get(context, "page") or {}
    hops = len(page.get("redirect_chain") or [])
    return RECORDED, f"{page.get('final_url')} after {hops} redirect(s)"


def _screenshot(context: Context, artifacts: Collection[str]) -> Verdict:
    shot = _get(context, "screenshot") or {}
    if _get(context, "no_media"):
        return NOT_APPLICABLE, "no picture may be kept (minor's case)"
    if "capture/screenshot.png" not in artifacts:
        return MISSING, "no screenshot"
    if shot.get("capped"):
        return (
            RECORDED,
            f"full page, cut at {shot.get('height_px')} px of {shot.get('page_height_px')}",
        )
    return RECORDED, "full page"


def _source(context: Context, artifacts: Collection[str]) -> Verdict:
    if "capture/page.html" not in artifacts:
        return MISSING, "no page source"
    return RECORDED, "page as rendered, and as served (WARC)"


def _exchanges(context: Context, artifacts: Collection[str]) -> Verdict:
    if "archive/data.warc.gz" not in artifacts:
        return MISSING, "no WARC"
    count = _get(context, "requests", "answered")
    return RECORDED, f"{count} HTTP exchanges with headers"


def _downloads(context: Context, artifacts: Collection[str]) -> Verdict:
    media = _get(context, "media") or {}
    if not media.get("count"):
        return NOT_APPLICABLE, "the page served no picture or video"
    if _get(context, "no_media"):
        return RECORDED, f"{media['count']} files: digests only, no picture kept (minor's case)"
    return RECORDED, f"{media['count']} files as served"


def _digests(context: Context, artifacts: Collection[str]) -> Verdict:
    return RECORDED, f"SHA-256 of {len(artifacts)} files, taken at acquisition"


ITEMS: tuple[ChecklistItem, ...] = (
    ChecklistItem(
        "operator",
        "Identity of the person making the finding",
        "Identité de la personne qui effectue le constat",
        (f"{CONTEXT}#/operator",),
        _operator,
    ),
    ChecklistItem(
        "machine",
        "Computer used: name, operating system",
        "Matériel utilisé : nom, système d'exploitation",
        (f"{CONTEXT}#/machine",),
        _machine,
    ),
    ChecklistItem(
        "software",
        "Software used and its versions (browser, capture tools)",
        "Logiciels utilisés et leurs versions (navigateur, outils de capture)",
        (f"{CONTEXT}#/tools",),
        _software,
    ),
    ChecklistItem(
        "machine_state",
        "State of the computer (antivirus, no malicious software)",
        "État de l'ordinateur (antivirus, absence de logiciel malveillant)",
        (),
        _machine_state,
    ),
    ChecklistItem(
        "connection",
        "Internet connection and public IP address",
        "Connexion à Internet et adresse IP publique",
        (f"{CONTEXT}#/network/public_ip",),
        _connection,
    ),
    ChecklistItem(
        "proxy",
        "Whether a proxy was used, and which",
        "Utilisation ou non d'un serveur mandataire (proxy), lequel",
        (f"{CONTEXT}#/network/proxy",),
        _proxy,
    ),
    ChecklistItem(
        "time",
        "Date and time of the finding, start and end",
        "Date et heures de début et de fin du constat",
        (f"{CONTEXT}#/time",),
        _time,
    ),
    ChecklistItem(
        "clock",
        "Clock synchronised with a time reference",
        "Horloge synchronisée sur une référence de temps",
        (f"{CONTEXT}#/time/clock",),
        _clock_sync,
    ),
    ChecklistItem(
        "clean_profile",
        "Cache, cookies and history cleared before the finding",
        "Purge du cache, des cookies et de l'historique avant le constat",
        (f"{CONTEXT}#/browser/profile",),
        _clean_profile,
    ),
    ChecklistItem(
        "dns",
        "Name resolution (DNS) and server addresses contacted",
        "Résolution des noms (DNS) et adresses des serveurs contactés",
        (f"{CONTEXT}#/network/dns", f"{CONTEXT}#/network/servers", "archive/data.warc.gz"),
        _dns,
    ),
    ChecklistItem(
        "tls",
        "Certificate of the site (HTTPS)",
        "Certificat du site (HTTPS)",
        (f"{CONTEXT}#/tls",),
        _tls,
    ),
    ChecklistItem(
        "path",
        "Path to the page from a public entry point",
        "Cheminement jusqu'à la page depuis un point d'entrée public",
        (f"{CONTEXT}#/page/link_path",),
        _path,
    ),
    ChecklistItem(
        "address",
        "Address of the page shown, redirections included",
        "Adresse de la page affichée, redirections comprises",
        (f"{CONTEXT}#/page",),
        _address,
    ),
    ChecklistItem(
        "screenshot",
        "Screenshot of the whole page",
        "Capture d'écran de la page entière",
        ("capture/screenshot.png", f"{CONTEXT}#/screenshot"),
        _screenshot,
    ),
    ChecklistItem(
        "source",
        "Source code of the page",
        "Code source de la page",
        ("capture/page.html", "archive/data.warc.gz"),
        _source,
    ),
    ChecklistItem(
        "exchanges",
        "HTTP exchanges and headers",
        "Échanges HTTP et en-têtes",
        ("archive/data.warc.gz", f"{CONTEXT}#/page/response_headers"),
        _exchanges,
    ),
    ChecklistItem(
        "downloads",
        "Files downloaded (pictures, videos), as served",
        "Fichiers téléchargés (images, vidéos), tels que servis",
        ("media/", f"{CONTEXT}#/media"),
        _downloads,
    ),
    ChecklistItem(
        "digests",
        "Digest of every file, taken at acquisition",
        "Empreinte de chaque fichier, calculée à l'acquisition",
        ("artifact list of the bundle",),
        _digests,
    ),
)


# ------------------------------------------------------------- copies in file-based sources


def _source_software(context: Context, _: Collection[str]) -> Verdict:
    tools = _get(context, "tools") or {}
    if not tools.get("rempart"):
        return MISSING, "software versions unknown"
    return RECORDED, ", ".join(f"{name} {version}" for name, version in tools.items())


def _source_origin(context: Context, _: Collection[str]) -> Verdict:
    source = _get(context, "source") or {}
    files = source.get("files") or []
    if not source.get("kind") or not files:
        return MISSING, "the source and its files are not described"
    return RECORDED, (
        f"{source['kind']} source {source.get('name')}: {len(files)} file(s) of the export "
        "digested (SHA-256, size, modification time)"
    )


def _source_record(context: Context, artifacts: Collection[str]) -> Verdict:
    record = _get(context, "record") or {}
    kind = record.get("kind")
    if not kind:
        return MISSING, "the record is not described"
    if kind == "telegram message":
        if "source/message.json" not in artifacts:
            return MISSING, "the message is not kept"
        return RECORDED, (
            f"message {record.get('message_id')} of {record.get('chat', {}).get('name')!r}, "
            "as the export holds it"
        )
    if kind == "WARC record":
        how = "copied as stored" if record.get("copied") else "headers and digests only"
        return RECORDED, f"record at offset {record.get('offset')} of {record.get('file')}: {how}"
    return RECORDED, f"{kind}: {record.get('file_on_disk')}"


def _source_posted(context: Context, _: Collection[str]) -> Verdict:
    posted = _get(context, "posted") or {}
    record = _get(context, "record") or {}
    if posted.get("at"):
        author = record.get("author") or (posted.get("context") or {}).get("from")
        return RECORDED, f"posted {posted['at']}" + (f" by {author}" if author else "")
    return NOT_APPLICABLE, "the source gives no posting date"


def _source_media(context: Context, artifacts: Collection[str]) -> Verdict:
    media = _get(context, "media") or {}
    if not media.get("count"):
        return MISSING, "no media recorded"
    if _get(context, "no_media"):
        return RECORDED, "digests only, no picture kept (minor's case)"
    return RECORDED, "media as stored in the source, with its digest"


SOURCE_ITEMS: tuple[ChecklistItem, ...] = (
    ITEMS[0],  # operator
    ITEMS[1],  # machine
    ChecklistItem(
        "software",
        "Software used and its versions",
        "Logiciels utilisés et leurs versions",
        (f"{CONTEXT}#/tools",),
        _source_software,
    ),
    ITEMS[3],  # machine state
    ITEMS[6],  # time
    ITEMS[7],  # clock
    ChecklistItem(
        "origin",
        "Where the copy was found: the source and its files, with their digests",
        "Où la copie a été trouvée : la source et ses fichiers, avec leurs empreintes",
        (f"{CONTEXT}#/source",),
        _source_origin,
    ),
    ChecklistItem(
        "record",
        "The message or record as found",
        "Le message ou l'enregistrement tel que trouvé",
        (f"{CONTEXT}#/record", "source/message.json", "archive/data.warc.gz"),
        _source_record,
    ),
    ChecklistItem(
        "posted",
        "When and by whom it was posted, where the source says",
        "Quand et par qui il a été publié, si la source le dit",
        (f"{CONTEXT}#/posted",),
        _source_posted,
    ),
    ChecklistItem(
        "downloads",
        "The media as stored in the source",
        "Le média tel que stocké dans la source",
        ("media/", f"{CONTEXT}#/media"),
        _source_media,
    ),
    ITEMS[-1],  # digests
)
