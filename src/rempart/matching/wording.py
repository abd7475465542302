"""How a match was made, in words a caseworker understands: "cropped, mirrored — 14 bits of
256 differ (a match is 31 or fewer)" instead of window, variant and reference names.

Owns the wording of a match for people (review, dossier, `match`). Pure: values in, text out
through the catalog; must not import the matcher or anything heavy.
"""

from __future__ import annotations

from rempart.i18n import N_, gettext, ngettext

__all__ = ["PDQ_BITS", "alterations", "describe_match", "distance_phrase", "features_phrase"]

PDQ_BITS = 256

# What the part of the fetched picture that matched says about the copy (query windows).
_WINDOWS = {
    "trimmed": N_("borders or black bars removed"),
    "uncaptioned": N_("captioned (a text band added)"),
    "screen": N_("in a screenshot"),
    "cell": N_("in a collage"),
    "deskewed": N_("slightly tilted"),
    "unmarked": N_("under a half-transparent watermark"),
    "grid": N_("partly covered (sticker, text or emoji)"),
    "frame": N_("a frame of a video"),
}
# What the registered hash that matched says (crops and faces of the victim's picture).
_REFERENCES = {
    "crop": N_("cropped"),
    "crop_smooth": N_("cropped"),
    "face": N_("cropped around the face"),
    "face_blanked": N_("face hidden or replaced"),
    "grid": N_("partly covered (sticker, text or emoji)"),
    "frame": N_("a frame of a video"),
}
# Which rotation or flip of the fetched picture matched.
_VARIANTS = {
    "rotate90": N_("turned a quarter turn"),
    "rotate270": N_("turned a quarter turn"),
    "rotate180": N_("turned upside down"),
    "flipy": N_("mirrored"),
    "flipx": N_("mirrored top to bottom"),
    "flip+1": N_("turned and mirrored"),
    "flip-1": N_("turned and mirrored"),
}
_EXACT = {"sha256": "SHA-256", "md5": "MD5"}
_LOCAL_FEATURES = "local-features"  # matching.service.LOCAL_FEATURES (not imported: light)


def features_phrase(inliers: int, *, lang: str | None = None) -> str:
    """ "52 points of the picture agree on one position": a geometric verification's result."""
    return ngettext(
        "{n} point of the picture agrees on one position, scale and angle",
        "{n} points of the picture agree on one position, scale and angle",
        inliers,
        lang=lang,
    )


def distance_phrase(distance: int, threshold: int, *, lang: str | None = None) -> str:
    """ "14 bits of 256 differ (a match is 31 or fewer)": a PDQ distance as the docs explain it."""
    differ = ngettext(
        "{n} bit of {bits} differs",
        "{n} bits of {bits} differ",
        distance,
        lang=lang,
        bits=PDQ_BITS,
    )
    return gettext(
        "{differ} (a match is {threshold} or fewer)",
        lang=lang,
        differ=differ,
        threshold=threshold,
    )


def alterations(
    *,
    window: str | None = None,
    variant: str | None = None,
    reference: str | None = None,
    lang: str | None = None,
) -> list[str]:
    """How the copy differs from the victim's picture, each in a few words ("cropped",
    "mirrored"); empty when it is the whole picture, as it is (perhaps recompressed)."""
    found: list[str] = []
    for names, key in ((_REFERENCES, reference), (_WINDOWS, window), (_VARIANTS, variant)):
        phrase = names.get(key or "")
        if phrase is not None:
            text = gettext(phrase, lang=lang)
            if text not in found:
                found.append(text)
    return found


def describe_match(
    method: str,
    distance: int,
    threshold: int,
    *,
    window: str | None = None,
    variant: str | None = None,
    reference: str | None = None,
    corroborated: int | None = None,
    lang: str | None = None,
) -> str:
    """One sentence on how a copy matched: an identical file (same digest), or how it was
    altered and how close its PDQ hash is, or which local features verified it (then
    `distance` is the number of agreeing points and `threshold` the minimum). `corroborated`:
    the agreeing points of the local features that confirmed a PDQ match above 31 bits.
    Which registered crop or cell matched is an internal label ("r0c2"): it stays in the
    JSON, not in the sentence."""
    exact = _EXACT.get(method.lower())
    if exact is not None:
        return gettext("identical file (same {digest} digest)", lang=lang, digest=exact)
    if method.lower() == _LOCAL_FEATURES:
        changes = alterations(window=window, lang=lang)
        what = (
            gettext("a copy {changes}", lang=lang, changes=", ".join(changes))
            if changes
            else gettext("the picture, or a part of it", lang=lang)
        )
        return gettext(
            "{what}, found by its local features and verified geometrically — {points} "
            "(a match needs {threshold} or more)",
            lang=lang,
            what=what,
            points=features_phrase(distance, lang=lang),
            threshold=threshold,
        )
    if method.lower() != "pdq":
        return gettext("matched by {method}", lang=lang, method=method)
    changes = alterations(window=window, variant=variant, reference=reference, lang=lang)
    what = (
        gettext("a copy {changes}", lang=lang, changes=", ".join(changes))
        if changes
        else gettext("the same picture, perhaps resized or recompressed", lang=lang)
    )
    sentence = gettext(
        "{what} — {distance}",
        lang=lang,
        what=what,
        distance=distance_phrase(distance, threshold, lang=lang),
    )
    if corroborated is None:
        return sentence
    return gettext(
        "{sentence}; corroborated by local features: {points}",
        lang=lang,
        sentence=sentence,
        points=features_phrase(corroborated, lang=lang),
    )
