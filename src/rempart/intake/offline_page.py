"""The victim's offline hashing page: one self-contained HTML file (script, style, the
WebAssembly kernel and both languages inline) under a Content-Security-Policy that forbids
every network request.

Owns assembling the page and its words (French and English). Must not hash anything itself:
the page does, in her browser, with the kernel built from the CLI's C code (page/kernel.c).
"""

from __future__ import annotations

import base64
import hashlib
import json
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from rempart import __version__
from rempart.errors import InputError
from rempart.i18n import Catalog

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["PAGE_TEXT", "page_csp", "render_page", "served_page", "write_page"]

PAGE_FILE = "index.html"

# Keyed catalog (rempart.i18n): what she reads, in plain words.
PAGE_TEXT: Catalog = {
    "title": {
        "en": "Protect your pictures — Rempart",
        "fr": "Protéger vos images — Rempart",
    },
    "promise": {
        "en": "Your pictures never leave this device. This page works without internet: it turns "
        "each picture into codes of numbers: a short code of the whole picture (a hash) and "
        "the fingerprints of a few hundred to two thousand small details in it (where each "
        "detail is, and a code of which nearby spots are lighter or darker). Only these codes"
        " go to the association, in a file you save and send yourself. Nobody can rebuild a "
        "picture from them: the fingerprints of details could at most hint at a blurred "
        "outline of its light and dark areas, so the association keeps them to itself and "
        "never shares them.",
        "fr": "Vos images ne quittent jamais cet appareil. Cette page fonctionne sans internet : "
        "elle transforme chaque image en codes de chiffres : un court code de l'image entière"
        " (une empreinte) et les empreintes de quelques centaines à deux mille petits détails"
        " (où se trouve chaque détail, et un code disant quels points voisins sont plus "
        "clairs ou plus sombres). Seuls ces codes vont à l'association, dans un fichier que "
        "vous enregistrez et envoyez vous-même. Personne ne peut reconstituer une image à "
        "partir d'eux : les empreintes de détails pourraient tout au plus suggérer le contour"
        " flou de ses zones claires et sombres, c'est pourquoi l'association les garde pour "
        "elle et ne les partage jamais.",
    },
    "step1.title": {"en": "1. Choose your pictures", "fr": "1. Choisissez vos images"},
    "statement.legend": {"en": "Who you are", "fr": "Qui vous êtes"},
    "statement.depicted": {
        "en": "I am the person shown in these pictures, or I act for her with her agreement.",
        "fr": "Je suis la personne visible sur ces images, ou j'agis pour elle avec son accord.",
    },
    "minor.legend": {
        "en": "Was the person shown under 18 in any of these pictures?",
        "fr": "La personne visible avait-elle moins de 18 ans sur l'une de ces images ?",
    },
    "minor.no": {"en": "No, 18 or older in all of them", "fr": "Non, 18 ans ou plus sur toutes"},
    "minor.yes": {"en": "Yes, or I am not sure", "fr": "Oui, ou je ne suis pas sûre"},
    "minor.hint": {
        "en": "If so, the association handles it as a minor's case: no picture is ever kept, "
        "and copies are reported to child-protection services only.",
        "fr": "Si oui, l'association la traite comme le dossier d'une mineure : aucune image "
        "n'est jamais conservée, et les copies sont signalées aux services de protection de "
        "l'enfance uniquement.",
    },
    "label.legend": {"en": "A note (optional)", "fr": "Une note (facultative)"},
    "label.hint": {
        "en": 'Only if you want one, for example "holiday 2023". Do not write names. Without '
        "a note, the file holds no name and no file name.",
        "fr": "Seulement si vous le souhaitez, par exemple « vacances 2023 ». N'écrivez pas de "
        "noms. Sans note, le fichier ne contient aucun nom ni aucun nom de fichier.",
    },
    "files.label": {"en": "Pictures and videos:", "fr": "Images et vidéos :"},
    "files.hint": {
        "en": "You can choose many at once. They stay on this device.",
        "fr": "Vous pouvez en choisir plusieurs à la fois. Elles restent sur cet appareil.",
    },
    "start": {"en": "Make the codes", "fr": "Calculer les codes"},
    "step2.title": {
        "en": "2. Making the codes on this device",
        "fr": "2. Calcul des codes sur cet appareil",
    },
    "step2.hint": {
        "en": "Nothing is sent. You may turn off the internet if you wish.",
        "fr": "Rien n'est envoyé. Vous pouvez couper internet si vous le souhaitez.",
    },
    "progress": {
        "en": "{done} of {total} pictures done",
        "fr": "{done} images sur {total} traitées",
    },
    "step3.title": {"en": "3. Save the file of codes", "fr": "3. Enregistrez le fichier de codes"},
    "hashed": {"en": "Codes made for {n} pictures.", "fr": "Codes calculés pour {n} images."},
    "problems.title": {
        "en": "Some could not be read (nothing about them is in the file):",
        "fr": "Certaines n'ont pas pu être lues (rien d'elles n'est dans le fichier) :",
    },
    "problem.video": {
        "en": "File {n}: this browser cannot play this video. Try another browser, or ask "
        "the association.",
        "fr": "Fichier {n} : ce navigateur ne sait pas lire cette vidéo. Essayez un autre "
        "navigateur, ou demandez à l'association.",
    },
    "problem.unreadable": {
        "en": "File {n}: this browser cannot open this picture (HEIC pictures, for example, "
        "open only in some browsers). Try another browser, or save it as JPEG first.",
        "fr": "Fichier {n} : ce navigateur ne sait pas ouvrir cette image (les images HEIC, "
        "par exemple, ne s'ouvrent que dans certains navigateurs). Essayez un autre "
        "navigateur, ou enregistrez-la d'abord en JPEG.",
    },
    "problem.large": {
        "en": "File {n}: this picture is too large (over 100 megapixels).",
        "fr": "Fichier {n} : cette image est trop grande (plus de 100 mégapixels).",
    },
    "problem.kernel": {
        "en": "This browser could not run the page's calculator. Please try a current browser.",
        "fr": "Ce navigateur n'a pas pu lancer le calcul de la page. Essayez un navigateur récent.",
    },
    "save.what": {
        "en": "The file holds only the codes (of each picture and of its details), your answers "
        "above and your note if you wrote one. Send it to the association as it tells you "
        "(e-mail, upload).",
        "fr": "Le fichier ne contient que les codes (de chaque image et de ses détails), vos "
        "réponses ci-dessus et votre note si vous en avez écrit une. Envoyez-le à "
        "l'association comme elle vous l'indique (e-mail, dépôt).",
    },
    "save.sealed": {
        "en": "It is locked so that only the association can open it.",
        "fr": "Il est verrouillé : seule l'association peut l'ouvrir.",
    },
    "save.button": {"en": "Save the file of codes", "fr": "Enregistrer le fichier de codes"},
    "save.done": {
        "en": "Saved. Look for it in your downloads.",
        "fr": "Enregistré. Cherchez-le dans vos téléchargements.",
    },
    "code.title": {"en": "Your withdrawal code", "fr": "Votre code de retrait"},
    "code.explain": {
        "en": "Write it down and keep it. Only you have it. If one day you want your codes "
        "withdrawn, give it to the association: your pictures will no longer be searched for.",
        "fr": "Notez-le et gardez-le. Vous seule l'avez. Si un jour vous voulez retirer vos "
        "codes, donnez-le à l'association : vos images ne seront plus recherchées.",
    },
    "code.file": {
        "en": "Also save it as a file",
        "fr": "L'enregistrer aussi dans un fichier",
    },
    "again": {"en": "Start again with other pictures", "fr": "Recommencer avec d'autres images"},
}

_PARTS = resources.files("rempart.intake") / "page"


def _part(name: str) -> str:
    return (_PARTS / name).read_text(encoding="utf-8")


def _digest(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def page_csp(script: str, style: str) -> str:
    """Nothing may load or connect: only this script and style run (by digest), the kernel
    compiles, and the files she picks are read locally (a video plays from memory, through
    a blob: address)."""
    return (
        "default-src 'none'; "
        f"script-src 'sha256-{_digest(script)}' 'wasm-unsafe-eval'; "
        f"style-src 'sha256-{_digest(style)}'; "
        "img-src 'none'; media-src blob:; connect-src 'none'; font-src 'none'; "
        "frame-src 'none'; worker-src 'none'; manifest-src 'none'; object-src 'none'; "
        "form-action 'none'; base-uri 'none'"
    )


def render_page(public_key: ec.EllipticCurvePublicKey | None = None) -> str:
    """The page as one HTML text. With the association's public key, the hash files it saves
    are sealed to it (see sealing.py)."""
    return served_page(public_key)[0]


def served_page(public_key: ec.EllipticCurvePublicKey | None = None) -> tuple[str, str]:
    """The page and its Content-Security-Policy, for a server to send as a header too."""
    key = None
    if public_key is not None:
        from rempart.intake.sealing import key_id, spki_base64

        key = {"id": key_id(public_key), "spki": spki_base64(public_key)}
    wasm = (_PARTS / "kernel.wasm").read_bytes()
    config = {
        "version": __version__,
        "messages": {lang: {k: v[lang] for k, v in PAGE_TEXT.items()} for lang in ("en", "fr")},
        "wasm": base64.b64encode(wasm).decode("ascii"),
        "key": key,
    }
    # Inside <script type="application/json">: "</" must not end the element early.
    config_text = json.dumps(config, ensure_ascii=True, sort_keys=True).replace("</", "<\\/")
    script, style = _part("page.js"), _part("page.css")
    csp = page_csp(script, style)
    page = Template(_part("page.html")).substitute(
        csp=csp, style=style, script=script, config=config_text
    )
    return page, csp


def write_page(folder: Path, public_key: ec.EllipticCurvePublicKey | None = None) -> Path:
    """Write the page into `folder` (made if missing) as index.html; returns its path."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / PAGE_FILE
        path.write_text(render_page(public_key), encoding="utf-8")
    except OSError as exc:
        raise InputError(
            "cannot write the page into {path}: {reason}", path=folder, reason=exc.strerror
        ) from None
    return path
