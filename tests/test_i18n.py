"""One catalog for every word a caseworker reads: French present, nothing bypassing it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import i18n_extract
from rempart.cli import app
from rempart.errors import InputError, NotFound
from rempart.i18n import Messages, catalog, gettext, ngettext, parse_po


def test_every_message_and_help_text_has_its_french() -> None:
    lacking = [f"{where}: {msgid[:60]!r}" for msgid, _plural, where in i18n_extract.missing()]
    assert not lacking, "no French for:\n" + "\n".join(lacking)


def test_entry_points_print_no_english_outside_the_catalog() -> None:
    raw = list(i18n_extract.raw_output())
    assert not raw, "literal English shown without the catalog:\n" + "\n".join(raw)


def test_errors_are_catalog_templates_not_fstrings() -> None:
    raw = list(i18n_extract.raw_errors())
    assert not raw, "errors built with f-strings (use a template and values):\n" + "\n".join(raw)


def test_catalog_files_parse_and_no_message_is_translated_twice() -> None:
    catalog.cache_clear()
    assert catalog("fr")  # raises with the file and line of any fault


def test_a_translation_keeps_the_placeholders_of_its_english() -> None:
    import re
    from pathlib import Path

    import rempart

    fields = re.compile(r"\{([^{}]*)\}")
    wrong = []
    for path in (Path(rempart.__file__).parent / "locale" / "fr").glob("*.po"):
        for entry in parse_po(path.read_text(encoding="utf-8"), str(path)):
            english = set(fields.findall(entry.msgid + (entry.msgid_plural or "")))
            if any(set(fields.findall(form)) - english - {"n"} for form in entry.msgstr):
                wrong.append(f"{path.name}:{entry.line}: {entry.msgid[:50]}")
    assert not wrong, "French uses placeholders its English lacks: " + repr(wrong[:5])


def test_po_parser_reads_plurals_continuations_escapes_and_skips_fuzzy() -> None:
    text = (
        'msgid ""\nmsgstr "Language: fr\\n"\n\n'
        '#: here\nmsgid "one"\nmsgstr "un"\n\n'
        'msgid ""\n"long "\n"text\\n"\nmsgstr "texte \\"long\\"\\n"\n\n'
        'msgid "{n} file"\nmsgid_plural "{n} files"\nmsgstr[0] "{n} fichier"\n'
        'msgstr[1] "{n} fichiers"\n\n'
        '#, fuzzy\nmsgid "draft"\nmsgstr "brouillon"\n'
    )
    entries = {e.msgid: e for e in parse_po(text)}
    assert entries["one"].msgstr == ("un",)
    assert entries["long text\n"].msgstr == ('texte "long"\n',)
    assert entries["{n} file"].msgstr == ("{n} fichier", "{n} fichiers")
    assert entries["draft"].fuzzy


@pytest.mark.parametrize(
    "bad",
    ['msgid "x"\nmsgstr "y', 'msgid "x"\nmsgstr "\\q"', 'msgid "x"\nbogus "y"', '"orphan"'],
)
def test_po_parser_names_the_line_of_a_broken_file(bad: str) -> None:
    with pytest.raises(ValueError, match=r"<po>:\d+"):
        list(parse_po(bad))


def test_french_plural_rule_treats_zero_and_one_as_singular() -> None:
    assert ngettext("{n} problem", "{n} problems", 1, lang="en") == "1 problem"
    assert ngettext("{n} problem", "{n} problems", 0, lang="en") == "0 problems"
    assert gettext("Usage:", lang="fr") == "Usage :"


def test_error_templates_render_in_either_language() -> None:
    error = NotFound("no bank named {name!r} (see `rempart bank list`)", name="x")
    assert str(error) == "no bank named 'x' (see `rempart bank list`)"
    assert error.localized("en") == str(error)
    nested = InputError("{path}: {reason}", path="a.csv", reason=error)
    assert nested.localized("en") == "a.csv: " + str(error)


def test_messages_object_translates_in_its_own_language() -> None:
    assert Messages("fr").gettext("Usage:") == "Usage :"
    assert Messages("en").gettext("Usage:") == "Usage:"


def test_help_and_click_errors_follow_rempart_lang() -> None:
    runner = CliRunner()
    fr = runner.invoke(app, ["bank", "create"], env={"REMPART_LANG": "fr"})
    assert "Argument manquant" in fr.output
    en = runner.invoke(app, ["bank", "create"], env={"REMPART_LANG": "en"})
    assert "Missing argument" in en.output
    assert "Affiche ce message" in runner.invoke(app, ["--help"], env={"REMPART_LANG": "fr"}).output
