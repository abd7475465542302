"""French and English for what caseworkers and victims read.

`Messages.for_env()` picks the language from REMPART_LANG, else LANG/LC_ALL; English otherwise.
Messages are plain format strings; this module must not print.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Catalog", "Messages"]

Catalog = Mapping[str, Mapping[str, str]]

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
        "en": "match: item {item}, distance {distance}, {variant}",
        "fr": "correspondance : élément {item}, distance {distance}, {variant}",
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
        "en": "   {source}: {n} media hashed in memory, {m} copies found, {p} problems reported",
        "fr": "   {source} : {n} médias hachés en mémoire, {m} copies trouvées, "
        "{p} problèmes signalés",
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
        "en": "Something did not behave as expected: {n} problems (see above).",
        "fr": "Quelque chose ne s'est pas passé comme prévu : {n} problèmes (voir ci-dessus).",
    },
}


@dataclass(frozen=True, slots=True)
class Messages:
    lang: str = "en"

    @classmethod
    def for_env(cls, env: Mapping[str, str] | None = None) -> Messages:
        env = os.environ if env is None else env
        for key in ("REMPART_LANG", "LC_ALL", "LANG"):
            value = env.get(key, "")
            if value:
                return cls("fr" if value.lower().startswith("fr") else "en")
        return cls()

    def __call__(self, key: str, **values: object) -> str:
        return self.lookup(_CATALOG, key, **values)

    def lookup(self, catalog: Catalog, key: str, **values: object) -> str:
        """A message from a module's own catalog (`{key: {"en": ..., "fr": ...}}`)."""
        entry = catalog[key]
        return entry.get(self.lang, entry["en"]).format(**values)
