"""French and English for everything caseworkers and victims read: one catalog for CLI and web.

The English text is the message id, as in gettext: code says `_("Opened case {name}.", name=n)`.
French lives in gettext PO files under `rempart/locale/fr/` (one file per area, merged into one
catalog), which any PO editor opens. Help texts are translated where they are rendered (see
`rempart.cli.localize`). The language comes from REMPART_LANG, else LC_ALL/LANG; English
otherwise. Keyed catalogs (`Messages.lookup`) serve long documents such as the dossier.
This module must not print and reads its catalog only when a message is first translated.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = [
    "LANGUAGES",
    "N_",
    "Catalog",
    "Messages",
    "Phrase",
    "PoEntry",
    "_",
    "catalog",
    "current_language",
    "gettext",
    "joined",
    "ngettext",
    "parse_po",
    "percent",
    "plural_form",
]

LANGUAGES = ("en", "fr")
Catalog = Mapping[str, Mapping[str, str]]
_LOCALE = Path(__file__).parent / "locale"

_CATALOG: dict[str, dict[str, str]] = {
    "demo.title": {
        "en": "Rempart demo — neutral generated images only",
        "fr": "Démonstration de Rempart — images neutres générées uniquement",
    },
    "demo.step.register": {
        "en": "1. On the victim's device: hash {n} images; only the hashes go to the bank",
        "fr": "1. Sur l'appareil de la victime : {n} images hachées ; seules les empreintes "
        "vont dans la banque",
    },
    "demo.step.allow": {
        "en": "   An allow bank holds 1 image the victim agreed to publish",
        "fr": "   Une banque d'exclusion contient 1 image dont la victime accepte la publication",
    },
    "demo.step.match": {
        "en": "2. Altered copies found online, among {d} unrelated images",
        "fr": "2. Copies modifiées trouvées en ligne, parmi {d} images sans rapport",
    },
    "demo.step.withdraw": {
        "en": "3. The victim withdraws item {item}: its copies must stop matching at once",
        "fr": "3. La victime retire l'élément {item} : ses copies ne doivent plus correspondre",
    },
    "demo.step.export": {
        "en": "4. What leaves Rempart in a shared hash list (hashes only, withdrawn items never):",
        "fr": "4. Ce qui sort de Rempart dans une liste d'empreintes partagée (empreintes "
        "seules, jamais les éléments retirés) :",
    },
    "demo.col.copy": {"en": "copy", "fr": "copie"},
    "demo.col.alteration": {"en": "alteration", "fr": "modification"},
    "demo.col.result": {"en": "result", "fr": "résultat"},
    "demo.col.expected": {"en": "expected", "fr": "attendu"},
    "demo.match": {
        "en": "match: item {item}, {how}",
        "fr": "correspondance : élément {item}, {how}",
    },
    "demo.nomatch": {"en": "no match", "fr": "aucune correspondance"},
    "demo.allowed": {
        "en": "allowed (allow bank item {item})",
        "fr": "autorisée (exclusion, élément {item})",
    },
    "demo.distractors": {
        "en": "{n} unrelated images: {m} false matches",
        "fr": "{n} images sans rapport : {m} fausses correspondances",
    },
    "demo.watch.title": {
        "en": "Watching the sites where copies appear",
        "fr": "Surveillance des sites où les copies apparaissent",
    },
    "demo.watch.site": {
        "en": "A demo forum {forum}, its image host {host} and a mirror {mirror} are running "
        "on this machine, with a Telegram channel export.",
        "fr": "Un forum de démonstration {forum}, son hébergeur d'images {host} et un site "
        "miroir {mirror} tournent sur cette machine, avec l'export d'une chaîne Telegram.",
    },
    "demo.watch.register": {
        "en": "The victim hashes {n} photos on her device (with crop and grid hashes).",
        "fr": "La victime calcule l'empreinte de {n} photos sur son appareil "
        "(avec recadrages et grille).",
    },
    "demo.watch.scanning": {"en": "scanning {source}…", "fr": "analyse de {source}…"},
    "demo.watch.progress": {
        "en": "scanning {source}: {n} media hashed, {m} matched",
        "fr": "analyse de {source} : {n} médias hachés, {m} correspondances",
    },
    "demo.watch.scanned": {
        "en": "   {source}: {n} media hashed in memory, {m} copies found, {p}",
        "fr": "   {source} : {n} médias hachés en mémoire, {m} copies trouvées, {p}",
    },
    "demo.watch.summary": {
        "en": "{n} of the {total} copies placed on the sites were found; everything else was "
        "dropped after hashing.",
        "fr": "{n} des {total} copies placées sur les sites ont été trouvées ; tout le reste a "
        "été oublié après le calcul d'empreinte.",
    },
    "demo.watch.missed": {
        "en": "missed: {where} ({alteration})",
        "fr": "manquée : {where} ({alteration})",
    },
    "demo.evidence.title": {
        "en": "Review, sealed evidence and the complaint dossier",
        "fr": "Revue, constats scellés et dossier de plainte",
    },
    "demo.evidence.review": {
        "en": "A caseworker confirms {n} matches (here the demo does it; in real use a person "
        "looks at each one, blurred first).",
        "fr": "Une intervenante confirme {n} correspondances (ici la démonstration le fait ; en "
        "vrai, une personne regarde chacune, floutée d'abord).",
    },
    "demo.evidence.key": {
        "en": "The association's signing key: {fingerprint}; time-stamps from a DEMO authority "
        "running here (no court would trust it).",
        "fr": "Clé de signature de l'association : {fingerprint} ; horodatage par une autorité de "
        "DÉMONSTRATION lancée ici (aucun tribunal ne lui ferait confiance).",
    },
    "demo.evidence.sealed": {
        "en": "   sealed {url}: {size} bytes, SHA-256 {sha}…, verified offline: {verdict}",
        "fr": "   scellé {url} : {size} octets, SHA-256 {sha}…, vérifié hors ligne : {verdict}",
    },
    "demo.evidence.failed": {
        "en": "   capture of {url} failed: {error}",
        "fr": "   le constat de {url} a échoué : {error}",
    },
    "demo.evidence.dossier": {
        "en": "Complaint dossier written: {path} ({pages} pages; `rempart demo --keep` keeps "
        "it, with the sealed bundles in the vault)",
        "fr": "Dossier de plainte écrit : {path} ({pages} pages ; `rempart demo --keep` le "
        "conserve, avec les constats scellés dans le coffre)",
    },
    "demo.col.source": {"en": "source", "fr": "source"},
    "demo.col.item": {"en": "item", "fr": "élément"},
    "demo.col.where": {"en": "seen at", "fr": "vue à"},
    "demo.col.how": {"en": "distance, how", "fr": "distance, comment"},
    "demo.ok": {
        "en": "Everything behaved as expected.",
        "fr": "Tout s'est passé comme prévu.",
    },
    "demo.kept": {
        "en": "The demo's data folder is kept: {home}",
        "fr": "Le dossier de données de la démonstration est conservé : {home}",
    },
    "demo.failed": {
        "en": "Something did not behave as expected: {n} (see above).",
        "fr": "Quelque chose ne s'est pas passé comme prévu : {n} (voir ci-dessus).",
    },
}


# ------------------------------------------------------------------------- the gettext catalog


@dataclass(frozen=True, slots=True)
class PoEntry:
    """One PO entry: `msgid` (English), its plural, and the translations (one per plural form)."""

    msgid: str
    msgid_plural: str | None
    msgstr: tuple[str, ...]
    fuzzy: bool
    line: int


def _po_string(text: str, path: str, line: int) -> str:
    """A PO string literal ("..." with C escapes) to its text."""
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{path}:{line}: expected a quoted string, got {text[:40]!r}")
    body, out, i = text[1:-1], [], 0
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            if i + 1 >= len(body) or body[i + 1] not in escapes:
                raise ValueError(f"{path}:{line}: unknown escape in {text[:40]!r}")
            out.append(escapes[body[i + 1]])
            i += 2
            continue
        if ch == '"':
            raise ValueError(f"{path}:{line}: unescaped quote in {text[:40]!r}")
        out.append(ch)
        i += 1
    return "".join(out)


def parse_po(text: str, path: str = "<po>") -> Iterator[PoEntry]:
    """Entries of a gettext PO file (msgid, msgid_plural, msgstr, msgstr[n]; `#, fuzzy`).

    The header entry (empty msgid) is skipped. Raises ValueError naming the line of a fault.
    """
    fields: dict[str, list[str]] = {}
    current: str | None = None
    flags: set[str] = set()
    start = 0

    def flush() -> PoEntry | None:
        nonlocal fields, flags, current
        entry = None
        if fields:
            if "msgid" not in fields:
                raise ValueError(f"{path}:{start}: entry without msgid")
            msgid = "".join(fields["msgid"])
            plural = "".join(fields["msgid_plural"]) if "msgid_plural" in fields else None
            strs: tuple[str, ...]
            if plural is None:
                strs = ("".join(fields.get("msgstr", [])),)
            else:
                strs = tuple(
                    "".join(fields[f"msgstr[{n}]"]) for n in range(10) if f"msgstr[{n}]" in fields
                )
            if msgid:
                entry = PoEntry(msgid, plural, strs, "fuzzy" in flags, start)
        fields, flags, current = {}, set(), None
        return entry

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            entry = flush()
            if entry:
                yield entry
            continue
        if line.startswith("#,"):
            flags.update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            if current is None:
                raise ValueError(f"{path}:{number}: continuation line without a keyword")
            fields[current].append(_po_string(line, path, number))
            continue
        keyword, _sep, rest = line.partition(" ")
        if keyword not in ("msgctxt", "msgid", "msgid_plural", "msgstr") and not (
            keyword.startswith("msgstr[") and keyword.endswith("]")
        ):
            raise ValueError(f"{path}:{number}: unknown keyword {keyword[:20]!r}")
        if keyword == "msgid" and "msgid" in fields:
            entry = flush()
            if entry:
                yield entry
        if not fields:
            start = number
        if keyword in fields:
            raise ValueError(f"{path}:{number}: {keyword} given twice in one entry")
        current = keyword
        fields[keyword] = [_po_string(rest, path, number)]
    entry = flush()
    if entry:
        yield entry


@cache
def catalog(lang: str) -> Mapping[str, tuple[str, ...]]:
    """The merged catalog of one language: msgid → translations (plural forms in order).

    Untranslated and fuzzy entries are left out, so their English shows. Every PO file of the
    language folder is read; one msgid translated two ways is an error.
    """
    merged: dict[str, tuple[str, ...]] = {}
    folder = _LOCALE / lang
    if not folder.is_dir():
        return merged
    for path in sorted(folder.glob("*.po")):
        for entry in parse_po(path.read_text(encoding="utf-8"), str(path)):
            if entry.fuzzy or not all(entry.msgstr):
                continue
            known = merged.get(entry.msgid)
            if known is not None and known != entry.msgstr:
                raise ValueError(f"{path}:{entry.line}: {entry.msgid[:50]!r} translated twice")
            merged[entry.msgid] = entry.msgstr
    return merged


def current_language(env: Mapping[str, str] | None = None) -> str:
    """REMPART_LANG, else LC_ALL, else LANG: 'fr' for any French locale, else 'en'."""
    env = os.environ if env is None else env
    for key in ("REMPART_LANG", "LC_ALL", "LANG"):
        value = env.get(key, "")
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


def _plural_index(lang: str, n: int) -> int:
    if lang == "fr":
        return 0 if n in (0, 1) else 1
    return 0 if n == 1 else 1


def gettext(msgid: str, /, *, lang: str | None = None, **values: object) -> str:
    """`msgid` in the current (or given) language, formatted with `values` when any are given.

    Values that are Rempart errors are rendered in the same language.
    """
    lang = lang or current_language()
    text = msgid
    if lang != "en":
        found = catalog(lang).get(msgid)
        if found:
            text = found[0]
    return _format(text, lang, values) if values else text


def plural_form(singular: str, plural: str, n: int, /, *, lang: str | None = None) -> str:
    """The singular or plural form for `n` in the current (or given) language, unformatted."""
    lang = lang or current_language()
    forms: tuple[str, ...] = (singular, plural)
    if lang != "en":
        forms = catalog(lang).get(singular) or forms
    return forms[min(_plural_index(lang, n), len(forms) - 1)]


def ngettext(
    singular: str, plural: str, n: int, /, *, lang: str | None = None, **values: object
) -> str:
    """The singular or plural form for `n`, formatted with `n` and `values`."""
    lang = lang or current_language()
    return _format(plural_form(singular, plural, n, lang=lang), lang, {"n": n, **values})


def _format(text: str, lang: str, values: Mapping[str, object]) -> str:
    rendered = {k: _localized_value(v, lang) for k, v in values.items()}
    return text.format(**rendered)


def _localized_value(value: object, lang: str) -> object:
    localize = getattr(value, "localized", None)
    if callable(localize) and isinstance(value, Exception | Phrase):
        return localize(lang)
    return value


class Phrase(str):
    """A message kept as text that can be said again in another language: the `str` is the
    English (what JSON and stored files get), `localized(lang)` renders it from the catalog.

    For verdicts and notes computed in one place and shown later, as errors are:
    `Phrase("event {seq} is missing", seq=4)`.
    """

    template: str
    values: Mapping[str, object]

    def __new__(cls, template: str, /, **values: object) -> Phrase:
        english = _format(template, "en", values) if values else template
        phrase = super().__new__(cls, english)
        phrase.template = template
        phrase.values = values
        return phrase

    def localized(self, lang: str | None = None) -> str:
        """The phrase in `lang` (default: the current language)."""
        return gettext(self.template, lang=lang, **self.values)


def joined(parts: Iterable[object]) -> Phrase:
    """`parts` separated by semicolons, each (and the separator) said in the language the
    whole is said in."""
    values = {f"part{i}": part for i, part in enumerate(parts)}
    return Phrase("{sep}".join(f"{{{name}}}" for name in values), sep=Phrase("; "), **values)


_ = gettext


def percent(share: float, lang: str | None = None) -> str:
    """A share (0.2) as a whole percentage in `lang`: "20%", French "20\u00a0%" (a no-break
    space before the sign, as French typography wants)."""
    whole = round(100 * share)
    return f"{whole}\u00a0%" if (lang or current_language()) == "fr" else f"{whole}%"


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a string for the catalog without translating it here (constants, choices)."""
    return msgid


# --------------------------------------------------------------------------- language objects


@dataclass(frozen=True, slots=True)
class Messages:
    """A language, for code that renders a whole document in one (a dossier, a report)."""

    lang: str = "en"

    @classmethod
    def for_env(cls, env: Mapping[str, str] | None = None) -> Messages:
        return cls(current_language(env))

    def __call__(self, key: str, **values: object) -> str:
        return self.lookup(_CATALOG, key, **values)

    def lookup(self, catalog: Catalog, key: str, **values: object) -> str:
        """A message from a module's own keyed catalog (`{key: {"en": ..., "fr": ...}}`)."""
        entry = catalog[key]
        return entry.get(self.lang, entry["en"]).format(**values)

    def gettext(self, msgid: str, /, **values: object) -> str:
        """`msgid` from the one catalog, in this language."""
        return gettext(msgid, lang=self.lang, **values)

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        return ngettext(singular, plural, n, lang=self.lang, **values)
