"""How a match is told to a caseworker: alterations in plain words, the distance as the docs
explain it, in English and French; never an internal window or variant name."""

from __future__ import annotations

import pytest

from rempart.matching.wording import alterations, describe_match, distance_phrase

_INTERNAL = ("grid", "uncaptioned", "smooth", "original", "flipy", "crop_smooth", "window", "PDQ")


def test_distance_reads_as_bits_that_differ_and_the_threshold_as_the_docs_say() -> None:
    assert distance_phrase(14, 31, lang="en") == "14 bits of 256 differ (a match is 31 or fewer)"
    assert distance_phrase(1, 31, lang="en") == "1 bit of 256 differs (a match is 31 or fewer)"
    assert distance_phrase(0, 31, lang="fr") == "0 bit sur 256 diffère (correspondance jusqu'à 31)"
    assert distance_phrase(14, 31, lang="fr") == (
        "14 bits sur 256 diffèrent (correspondance jusqu'à 31)"
    )


@pytest.mark.parametrize(
    ("window", "variant", "reference", "french"),
    [
        ("grid", None, "grid", "en partie masquée"),
        ("screen", "original", "whole", "dans une capture d'écran"),
        ("cell", None, None, "dans un collage"),
        ("uncaptioned", None, None, "légendée"),
        ("smooth", None, "crop_smooth", "recadrée"),
        ("whole", "flipy", "whole", "en miroir"),
        ("whole", "rotate180", None, "retournée"),
        ("frame", None, "frame", "image d'une vidéo"),
        ("unmarked", "original", "whole", "sous un filigrane semi-transparent"),
    ],
)
def test_each_alteration_has_words_and_no_internal_name(
    window: str, variant: str | None, reference: str | None, french: str
) -> None:
    for lang in ("en", "fr"):
        text = describe_match(
            "pdq", 14, 31, window=window, variant=variant, reference=reference, lang=lang
        )
        assert not any(name in text for name in _INTERNAL), text
    assert french in describe_match(
        "pdq", 14, 31, window=window, variant=variant, reference=reference, lang="fr"
    )


def test_an_unaltered_copy_and_an_exact_file_are_said_plainly() -> None:
    assert describe_match("pdq", 4, 31, window="whole", variant="original", lang="en") == (
        "the same picture, perhaps resized or recompressed — 4 bits of 256 differ "
        "(a match is 31 or fewer)"
    )
    assert describe_match("sha256", 0, 0, lang="fr") == "fichier identique (même empreinte SHA-256)"


def test_alterations_are_listed_once_each_in_a_stable_order() -> None:
    assert alterations(window="grid", reference="grid", variant="flipy", lang="en") == [
        "partly covered (sticker, text or emoji)",
        "mirrored",
    ]
    assert alterations(window="whole", variant="original", reference="whole") == []
