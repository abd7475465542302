import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.errors import HashListError
from rempart.hashing.signals import PdqHash
from rempart.intake.hashlists import (
    ITEM_LISTS,
    HashRecord,
    ListFormat,
    detect_format,
    format_records,
    parse_hash_list,
)

GOOD = "f8f8f0cee0f4a84f06370a32038f67f0b36e2ed596623e1d33e3b80d2a1d7c6f"
GOOD2 = "a" * 30 + "5" * 34
MD5 = "9e107d9d372bb6826bd81d3542a419d6"


def test_threatexchange_lines_with_and_without_prefix_are_read() -> None:
    parsed = parse_hash_list(f"pdq {GOOD}\n# a comment\n\n{GOOD2}\nmd5 {MD5}\n")
    assert [r.pdq.hex if r.pdq else None for r in parsed.records] == [GOOD, GOOD2, None]
    assert parsed.records[2].md5 == MD5
    assert parsed.problems == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("pdq " + GOOD[:-1], "64 hexadecimal characters"),
        ("pdq " + GOOD[:-1] + "g", "only the characters"),
        ("pdq " + "0" * 64, "degenerate"),
        ("pdq " + "f" * 64, "degenerate"),
        (f"pdq {GOOD},101", "quality"),
        (f"pdq {GOOD},-3", "quality"),
        ("md5 1234", "MD5"),
        ("md5 " + "0" * 32, "degenerate"),
    ],
)
def test_each_bad_line_is_reported_with_its_number_and_reason(line: str, reason: str) -> None:
    parsed = parse_hash_list(f"pdq {GOOD}\n{line}\n")
    assert len(parsed.records) == 1
    assert len(parsed.problems) == 1
    assert parsed.problems[0].line == 2
    assert reason in parsed.problems[0].reason


def test_duplicates_in_a_list_are_reported_against_their_first_entry() -> None:
    parsed = parse_hash_list(f"pdq {GOOD}\npdq {GOOD2}\npdq {GOOD.upper()}\n")
    assert len(parsed.records) == 2
    assert parsed.problems[0].line == 3
    assert "duplicate of entry 1" in parsed.problems[0].reason


def test_csv_needs_a_signal_column() -> None:
    with pytest.raises(HashListError, match="header"):
        parse_hash_list("name,label\nx,y\n", ListFormat.CSV)


def test_csv_rows_are_validated_one_by_one() -> None:
    text = f"pdq,quality,md5,label\n{GOOD},90,{MD5},first\nnothex,80,,bad\n{GOOD2},,,\n"
    parsed = parse_hash_list(text, ListFormat.CSV)
    assert [r.label for r in parsed.records] == ["first", ""]
    assert parsed.records[0].quality == 90
    assert [p.line for p in parsed.problems] == [3]


def test_json_list_and_items_object_are_both_accepted() -> None:
    entries = [{"pdq": GOOD, "quality": 88, "label": "a"}, {"pdq": 12}, "x"]
    for text in (json.dumps(entries), json.dumps({"items": entries})):
        parsed = parse_hash_list(text)
        assert len(parsed.records) == 1
        assert [p.line for p in parsed.problems] == [2, 3]


def test_unreadable_json_is_one_clear_error() -> None:
    with pytest.raises(HashListError, match="not valid JSON"):
        parse_hash_list("[{", ListFormat.JSON)


def test_format_is_detected_from_extension_then_content() -> None:
    assert detect_format("anything", "list.csv") is ListFormat.CSV
    assert detect_format("[]") is ListFormat.JSON
    assert detect_format("pdq,label\n") is ListFormat.CSV
    assert detect_format(f"pdq {GOOD}\n") is ListFormat.PDQ


@pytest.mark.parametrize("fmt", ITEM_LISTS)
def test_every_format_round_trips(fmt: ListFormat) -> None:
    records = [
        HashRecord(pdq=PdqHash.from_hex(GOOD), quality=91, md5=MD5, label="=cmd|' /C calc'!A0"),
        HashRecord(pdq=PdqHash.from_hex(GOOD2), quality=77, label='deux, "quoted"'),
    ]
    text = format_records(records, fmt, [7, 8]).text
    parsed = parse_hash_list(text, fmt)
    assert parsed.problems == []
    assert [r.pdq for r in parsed.records] == [r.pdq for r in records]
    if fmt in (ListFormat.CSV, ListFormat.JSON):
        assert [r.label for r in parsed.records] == [r.label for r in records]
        assert [r.quality for r in parsed.records] == [91, 77]


def test_csv_export_defuses_spreadsheet_formulas() -> None:
    text = format_records(
        [HashRecord(pdq=PdqHash.from_hex(GOOD), label="=HYPERLINK()")], ListFormat.CSV, [1]
    ).text
    assert ",'=HYPERLINK()" in text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000), st.sampled_from(list(ListFormat)))
def test_no_text_crashes_the_parser(text: str, fmt: ListFormat) -> None:
    try:
        parsed = parse_hash_list(text, fmt)
    except HashListError:
        return
    assert all(isinstance(r, HashRecord) for r in parsed.records)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.just(f"pdq {GOOD}"),
            st.text(alphabet="0123456789abcdefpq ,\t", max_size=80),
            st.binary(max_size=40).map(lambda b: b.hex()),
        ),
        max_size=30,
    )
)
def test_every_line_ends_up_a_record_or_a_problem(lines: list[str]) -> None:
    parsed = parse_hash_list("\n".join(lines), ListFormat.PDQ)
    meaningful = [ln for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    assert len(parsed.records) + len(parsed.problems) == len(meaningful)


def test_json_lines_as_rempart_hash_writes_them_are_read_line_by_line() -> None:
    text = (
        json.dumps({"path": "a.jpg", "pdq": GOOD, "quality": 100, "md5": MD5, "width": 4})
        + "\n\n"
        + json.dumps({"path": "b.png", "error": "corrupt PNG data"})
        + "\n"
        + json.dumps({"path": "c.jpg", "pdq": GOOD2, "quality": 90})
        + "\n{not json\n"
        + "[1]\n"
    )
    parsed = parse_hash_list(text, filename="hashes.jsonl")
    assert [(r.line, r.pdq.hex if r.pdq else None) for r in parsed.records] == [
        (1, GOOD),
        (4, GOOD2),
    ]
    assert parsed.records[0].md5 == MD5 and parsed.records[0].quality == 100
    problems = {p.line: p.reason for p in parsed.problems}
    assert set(problems) == {3, 5, 6}
    assert "could not be hashed: corrupt PNG data" in problems[3]
    assert "not valid JSON" in problems[5] and "not an object" in problems[6]


def test_a_single_json_object_is_a_one_line_list() -> None:
    parsed = parse_hash_list(json.dumps({"pdq": GOOD}) + "\n")
    assert [r.pdq.hex if r.pdq else None for r in parsed.records] == [GOOD]


def test_line_problems_speak_the_callers_language() -> None:
    parsed = parse_hash_list(f"pdq {GOOD}\npdq {GOOD}\npdq {'0' * 64}\n")
    duplicate, degenerate = parsed.problems
    assert duplicate.reason == "duplicate of entry 1"
    assert duplicate.localized("fr") == "doublon de l'entrée 1"
    assert "dégénérée" in degenerate.localized("fr") and "degenerate" in degenerate.reason


def test_a_pretty_printed_single_object_is_one_entry() -> None:
    parsed = parse_hash_list(json.dumps({"pdq": GOOD, "label": "a"}, indent=2))
    assert [r.label for r in parsed.records] == ["a"] and parsed.problems == []
