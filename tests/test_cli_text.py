"""Hostile text never reaches a terminal raw; long URLs stay readable in narrow tables."""

from __future__ import annotations

from rempart.cli.text import middle, safe, shown


def test_escape_sequences_and_bidi_overrides_are_made_visible() -> None:
    hostile = "a\x1b]0;pwned\x07b\u202egpj.exe\x1b[2J"
    cleaned = safe(hostile)
    assert "\x1b" not in cleaned and "\x07" not in cleaned and "\u202e" not in cleaned
    assert "<U+202E>" in cleaned


def test_middle_keeps_both_ends_of_a_long_url() -> None:
    url = "http://forum.example/threads/very-long-thread-name-1234/page-7#post-99"
    short = middle(url, 40)
    assert len(short) == 40
    assert short.startswith("http://forum.example/")
    assert short.endswith("#post-99")
    assert middle("short", 40) == "short"


def test_shown_escapes_rich_markup() -> None:
    assert shown("[bold]x[/]") == "\\[bold]x\\[/]"
