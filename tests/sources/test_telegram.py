"""Telegram Desktop exports: every photo and video of a channel's messages with its message,
sender, text and UTC time; files the export left out, missing files and hostile paths
reported; nothing read outside the export; a zipped export read the same."""

from __future__ import annotations

import json
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from files_fixtures import (
    FUZZ,
    RecordingState,
    jpeg,
    mp4,
    mutated,
    png,
    scan,
    webp,
    zip_bytes,
    zip_folder,
)
from hypothesis import given
from hypothesis import strategies as st

from rempart.errors import InputError
from rempart.sources.telegram import TelegramExportSource, TelegramLimits, resolve_reference

CHAT_ID = 1698765432
NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
PHOTO = "photos/photo_1@01-05-2024_10-00-00.jpg"
VIDEO = "video_files/clip_2024.mp4"
VIDEO_THUMB = "video_files/clip_2024.mp4_thumb.jpg"
LEFT_OUT_VIDEO_THUMB = "video_files/big.mp4_thumb.jpg"
STICKER = "stickers/sticker.webp"
DOCUMENT = "files/minutes.pdf"


def channel_messages() -> list[Any]:
    """Messages as Telegram Desktop 4.x/5.x writes them, service message included."""
    return [
        {
            "id": 1,
            "type": "service",
            "date": "2024-05-01T09:59:00",
            "date_unixtime": "1714557540",
            "actor": "Neutral channel",
            "actor_id": f"channel{CHAT_ID}",
            "action": "create_channel",
            "title": "Neutral channel",
            "text": "",
            "text_entities": [],
        },
        {
            "id": 2,
            "type": "message",
            "date": "2024-05-01T12:00:00",
            "date_unixtime": "1714557600",
            "from": "Neutral channel",
            "from_id": f"channel{CHAT_ID}",
            "photo": PHOTO,
            "photo_file_size": len(jpeg(1)),
            "width": 64,
            "height": 48,
            "text": "A view of the harbour",
            "text_entities": [{"type": "plain", "text": "A view of the harbour"}],
        },
        {
            "id": 3,
            "type": "message",
            "date": "2024-05-01T12:05:00",
            "date_unixtime": "1714557900",
            "from": "Editor",
            "from_id": "user42",
            "file": VIDEO,
            "thumbnail": VIDEO_THUMB,
            "media_type": "video_file",
            "mime_type": "video/mp4",
            "duration_seconds": 1,
            "text": ["Clip of the ", {"type": "bold", "text": "market"}, " " + "x" * 300],
        },
        {"id": 4, "type": "message", "date_unixtime": "1714558000", "photo": NOT_INCLUDED},
        {"id": 5, "type": "message", "date_unixtime": "1714558100", "photo": "photos/gone.jpg"},
        {"id": 6, "type": "message", "photo": "../../etc/passwd"},
        {"id": 7, "type": "message", "file": "/etc/passwd", "media_type": "video_file"},
        {"id": 8, "type": "message", "file": DOCUMENT, "mime_type": "application/pdf"},
        {
            "id": 9,
            "type": "message",
            "file": NOT_INCLUDED,
            "thumbnail": LEFT_OUT_VIDEO_THUMB,
            "media_type": "video_file",
        },
        {"id": 10, "type": "message", "file": STICKER, "media_type": "sticker"},
        {"id": 11, "type": "message", "text": "no media here"},
        {"type": "message", "photo": PHOTO},  # no id: hostile or damaged
        "not a message",
        {"id": 12, "type": "unknown_future_type", "photo": 12345},
    ]


def write_media(folder: Path, base: str = "") -> None:
    for relative, data in (
        (PHOTO, jpeg(1)),
        (VIDEO, mp4()),
        (VIDEO_THUMB, jpeg(2)),
        (LEFT_OUT_VIDEO_THUMB, jpeg(3)),
        (STICKER, webp(4)),
        (DOCUMENT, b"%PDF-1.4 minutes"),
    ):
        path = folder / base / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def channel_export(tmp_path: Path, **chat: Any) -> Path:
    """A single-chat export folder, as Telegram Desktop names it."""
    folder = tmp_path / "ChatExport_2024-05-02"
    folder.mkdir()
    document = {
        "name": "Neutral channel",
        "type": "public_channel",
        "id": CHAT_ID,
        "messages": channel_messages(),
        **chat,
    }
    (folder / "result.json").write_text(json.dumps(document, ensure_ascii=False, indent=1))
    write_media(folder)
    return folder


EXPECTED_KEYS = {
    f"{CHAT_ID}/2/{PHOTO}",
    f"{CHAT_ID}/3/{VIDEO}",
    f"{CHAT_ID}/9/{LEFT_OUT_VIDEO_THUMB}",
    f"{CHAT_ID}/10/{STICKER}",
}


def assert_channel_found(result: Any) -> None:
    assert set(result.by_key) == EXPECTED_KEYS
    photo = result.by_key[f"{CHAT_ID}/2/{PHOTO}"]
    assert photo.data == jpeg(1)
    assert photo.post_id == "2"
    assert photo.posted_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert photo.content_type == "image/jpeg"
    assert photo.media_url == f"ChatExport_2024-05-02/{PHOTO}"
    assert dict(photo.context) == {
        "chat": "Neutral channel",
        "from": "Neutral channel",
        "text": "A view of the harbour",
    }
    video = result.by_key[f"{CHAT_ID}/3/{VIDEO}"]
    assert video.content_type == "video/mp4" and video.data == mp4()
    assert video.context["from"] == "Editor"
    assert video.context["text"] == ("Clip of the market " + "x" * 300)[:200]
    assert result.by_key[f"{CHAT_ID}/10/{STICKER}"].content_type == "image/webp"


def assert_channel_problems(result: Any) -> None:
    reasons = {problem.where: problem.reason for problem in result.problems}
    assert "not in the export" in reasons[f"{CHAT_ID}/4/{NOT_INCLUDED}"]
    assert "not in the export" in reasons[f"{CHAT_ID}/9/{NOT_INCLUDED}"]
    assert "missing" in reasons[f"{CHAT_ID}/5/photos/gone.jpg"]
    assert "climbs out" in reasons[f"{CHAT_ID}/6/../../etc/passwd"]
    assert "absolute path" in reasons[f"{CHAT_ID}/7//etc/passwd"]
    assert "without an id" in reasons[f"{CHAT_ID}/?"]
    assert len(result.problems) == 6


def test_channel_export_yields_every_photo_and_video_with_its_message(tmp_path: Path) -> None:
    result = scan(TelegramExportSource(channel_export(tmp_path)))

    assert_channel_found(result)
    assert_channel_problems(result)
    # No public username in the export: no t.me link can be made up.
    assert all(candidate.page_url is None for candidate in result.candidates)


def test_a_video_thumbnail_is_read_only_when_the_video_is_not_in_the_export(
    tmp_path: Path,
) -> None:
    result = scan(TelegramExportSource(channel_export(tmp_path)))
    assert f"{CHAT_ID}/3/{VIDEO_THUMB}" not in result.by_key
    assert result.by_key[f"{CHAT_ID}/9/{LEFT_OUT_VIDEO_THUMB}"].data == jpeg(3)


@pytest.mark.parametrize(
    "given_name", ["neutral_news", "@neutral_news", "https://t.me/neutral_news"]
)
def test_public_username_makes_t_me_links(tmp_path: Path, given_name: str) -> None:
    result = scan(TelegramExportSource(channel_export(tmp_path), username=given_name))
    assert result.by_key[f"{CHAT_ID}/2/{PHOTO}"].page_url == "https://t.me/neutral_news/2"


def test_username_found_in_the_export_makes_t_me_links(tmp_path: Path) -> None:
    result = scan(TelegramExportSource(channel_export(tmp_path, username="neutral_news")))
    assert result.by_key[f"{CHAT_ID}/10/{STICKER}"].page_url == "https://t.me/neutral_news/10"


def test_a_malformed_username_in_the_export_is_ignored(tmp_path: Path) -> None:
    result = scan(TelegramExportSource(channel_export(tmp_path, username="x/../evil?")))
    assert all(candidate.page_url is None for candidate in result.candidates)


def test_zipped_export_is_read_like_the_folder(tmp_path: Path) -> None:
    folder = channel_export(tmp_path)
    archive = zip_folder(folder, tmp_path / "ChatExport_2024-05-02.zip")

    result = scan(TelegramExportSource(archive))

    assert set(result.by_key) == EXPECTED_KEYS
    assert_channel_problems(result)
    photo = result.by_key[f"{CHAT_ID}/2/{PHOTO}"]
    assert photo.data == jpeg(1)
    assert photo.media_url == f"ChatExport_2024-05-02.zip/ChatExport_2024-05-02/{PHOTO}"


def test_parent_folder_of_an_export_is_accepted(tmp_path: Path) -> None:
    channel_export(tmp_path)
    assert set(scan(TelegramExportSource(tmp_path)).by_key) == EXPECTED_KEYS


def test_two_exports_of_one_channel_yield_each_message_once(tmp_path: Path) -> None:
    first = channel_export(tmp_path)
    second = tmp_path / "ChatExport_2024-06-01"
    second.mkdir()
    (second / "result.json").write_bytes((first / "result.json").read_bytes())
    write_media(second)

    result = scan(TelegramExportSource(tmp_path))

    assert set(result.by_key) == EXPECTED_KEYS
    assert (
        result.by_key[f"{CHAT_ID}/2/{PHOTO}"].media_url == f"{tmp_path.name}/{first.name}/{PHOTO}"
    )


def test_full_export_reads_every_chat_and_its_chat_folder(tmp_path: Path) -> None:
    root = tmp_path / "DataExport_2024-05-02"
    chats = [
        {
            "name": "Neutral group",
            "type": "private_supergroup",
            "id": 1111,
            "messages": [
                {
                    "id": 7,
                    "type": "message",
                    "date_unixtime": "1714557600",
                    "from": "Someone",
                    "photo": "chats/chat_001/photos/photo_7@01-05-2024.jpg",
                }
            ],
        },
        {"name": "No messages exported", "type": "personal_chat", "id": 2222},
    ]
    left = [
        {
            "name": "Old channel",
            "type": "private_channel",
            "id": 3333,
            "messages": [{"id": 1, "photo": "chats/chat_002/photos/p.png", "text": "old"}],
        }
    ]
    document = {
        "about": "Here is the data you requested.",
        "personal_information": {"first_name": "Account", "last_name": "Owner"},
        "chats": {"about": "This page lists all chats.", "list": chats},
        "left_chats": {"about": "Chats you left.", "list": left},
    }
    root.mkdir()
    (root / "result.json").write_text(json.dumps(document))
    for relative, data in (
        ("chats/chat_001/photos/photo_7@01-05-2024.jpg", jpeg(7)),
        ("chats/chat_002/photos/p.png", png(8)),
    ):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)

    result = scan(TelegramExportSource(root))

    assert result.problems == []
    assert set(result.by_key) == {
        "1111/7/chats/chat_001/photos/photo_7@01-05-2024.jpg",
        "3333/1/chats/chat_002/photos/p.png",
    }
    assert result.by_key["3333/1/chats/chat_002/photos/p.png"].context["chat"] == "Old channel"


def test_a_link_inside_the_export_pointing_outside_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "private.jpg"
    secret.parent.mkdir()
    secret.write_bytes(jpeg(9))
    folder = channel_export(tmp_path)
    (folder / PHOTO).unlink()
    (folder / PHOTO).symlink_to(secret)
    (folder / "photos" / "inside.jpg").symlink_to(folder / VIDEO_THUMB)

    result = scan(TelegramExportSource(folder))

    assert f"{CHAT_ID}/2/{PHOTO}" not in result.by_key
    assert "out of the export" in result.problem_at(f"{CHAT_ID}/2/{PHOTO}").reason


def test_a_pipe_named_as_a_photo_is_refused_not_waited_on(tmp_path: Path) -> None:
    folder = channel_export(tmp_path)
    (folder / PHOTO).unlink()
    os.mkfifo(folder / PHOTO)
    # Opening a pipe for reading would block until a writer comes: it must not be opened.
    result = scan(TelegramExportSource(folder))
    assert "regular file" in result.problem_at(f"{CHAT_ID}/2/{PHOTO}").reason


def test_seen_messages_are_skipped_without_reading_their_files(tmp_path: Path) -> None:
    folder = channel_export(tmp_path)
    (folder / PHOTO).unlink()  # were it read, it would be reported missing
    state = RecordingState(handled={f"{CHAT_ID}/2/{PHOTO}"})

    result = scan(TelegramExportSource(folder), state)

    assert set(result.by_key) == EXPECTED_KEYS - {f"{CHAT_ID}/2/{PHOTO}"}
    assert all(problem.where != f"{CHAT_ID}/2/{PHOTO}" for problem in result.problems)


def test_files_larger_than_the_limit_are_reported(tmp_path: Path) -> None:
    limits = TelegramLimits()
    small = type(limits.files)(max_file_bytes=len(jpeg(1)) - 1)
    result = scan(
        TelegramExportSource(channel_export(tmp_path), limits=TelegramLimits(files=small))
    )
    assert "more than the limit" in result.problem_at(f"{CHAT_ID}/2/{PHOTO}").reason


def test_html_export_is_reported_as_needing_json(tmp_path: Path) -> None:
    (tmp_path / "ChatExport").mkdir()
    (tmp_path / "ChatExport" / "messages.html").write_text("<html></html>")
    result = scan(TelegramExportSource(tmp_path / "ChatExport"))
    assert "JSON" in result.problems[0].reason


@pytest.mark.parametrize("content", [b"{not json", b'{"messages": [' * 100_000, b"\xff\xfe\x00"])
def test_broken_result_json_is_reported(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "result.json").write_bytes(content)
    result = scan(TelegramExportSource(tmp_path))
    assert result.candidates == []
    assert "not valid JSON" in result.problem_at(f"{tmp_path.name}/result.json").reason


def test_result_json_larger_than_the_limit_is_reported(tmp_path: Path) -> None:
    folder = channel_export(tmp_path)
    result = scan(TelegramExportSource(folder, limits=TelegramLimits(max_json_bytes=100)))
    assert "more than the limit" in result.problems[0].reason


def test_a_zip_that_is_not_an_export_is_reported(tmp_path: Path) -> None:
    archive = tmp_path / "x.zip"
    archive.write_bytes(zip_bytes([("a.jpg", jpeg(1))]))
    assert "JSON" in scan(TelegramExportSource(archive)).problems[0].reason
    archive.write_bytes(b"PK\x03\x04 truncated")
    assert "readable zip" in scan(TelegramExportSource(archive)).problems[0].reason


def test_hostile_paths_are_refused_before_any_file_is_touched() -> None:
    for reference in ("../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini", "a\\..\\..\\b"):
        with pytest.raises(InputError):
            resolve_reference("ChatExport", reference)
    assert resolve_reference("ChatExport", "photos/./a.jpg") == "ChatExport/photos/a.jpg"


# -------------------------------------------------------------------------------- fuzzing

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_references = st.sampled_from(
    [PHOTO, VIDEO, DOCUMENT, NOT_INCLUDED, "../x", "/etc/passwd", "", "photos", "\x00", "ä/ö"]
)
_messages = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.integers(), st.text(max_size=5), _json_values),
        "type": st.sampled_from(["message", "service"]) | _json_values,
        "date_unixtime": st.one_of(st.integers(), st.text(max_size=12), _json_values),
        "from": _json_values,
        "photo": _references | _json_values,
        "file": _references | _json_values,
        "thumbnail": _references | _json_values,
        "text": _json_values,
    },
)
_documents = st.one_of(
    _json_values,
    st.fixed_dictionaries(
        {"messages": st.lists(_messages | _json_values, max_size=6)},
        optional={"id": _json_values, "name": _json_values, "username": _json_values},
    ),
    st.fixed_dictionaries(
        {"chats": st.fixed_dictionaries({"list": st.lists(_json_values, max_size=3)})}
    ),
)


@pytest.fixture(scope="module")
def fuzz_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz") / "export"
    folder.mkdir()
    write_media(folder)
    return folder


@FUZZ
@given(document=_documents)
def test_any_result_json_yields_candidates_or_problems_never_raises(
    fuzz_export: Path, document: Any
) -> None:
    (fuzz_export / "result.json").write_text(json.dumps(document))
    scan(TelegramExportSource(fuzz_export))


_SAMPLE_JSON = json.dumps({"id": 1, "messages": channel_messages()[:4]}).encode()
_SAMPLE_ZIP = zip_bytes([("result.json", _SAMPLE_JSON), (PHOTO, jpeg(1))], deflate=False)


@FUZZ
@given(data=st.one_of(st.binary(max_size=512), mutated(_SAMPLE_JSON)))
def test_any_bytes_as_result_json_never_raise(fuzz_export: Path, data: bytes) -> None:
    (fuzz_export / "result.json").write_bytes(data)
    scan(TelegramExportSource(fuzz_export))


@FUZZ
@given(data=st.one_of(st.binary(max_size=512), mutated(_SAMPLE_ZIP)))
def test_any_bytes_as_a_zipped_export_never_raise(tmp_path: Path, data: bytes) -> None:
    archive = tmp_path / "export.zip"
    archive.write_bytes(data)
    scan(TelegramExportSource(archive))


def test_zip_members_named_like_traversal_cannot_be_reached(tmp_path: Path) -> None:
    document = {"id": 5, "messages": [{"id": 1, "photo": "../secret.jpg"}]}
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as writer:
        writer.writestr("export/result.json", json.dumps(document))
        writer.writestr("secret.jpg", jpeg(1))
    result = scan(TelegramExportSource(archive))
    assert result.candidates == []
    assert "climbs out" in result.problem_at("5/1/../secret.jpg").reason


# ------------------------------------------------------------------------- hostile exports


def test_a_5000_digit_message_id_rejects_that_message_only(tmp_path: Path) -> None:
    folder = channel_export(tmp_path)
    path = folder / "result.json"
    document = json.loads(path.read_text())
    document["messages"].insert(1, {"id": 0, "type": "message", "photo": PHOTO})
    text = json.dumps(document, ensure_ascii=False, indent=1)
    path.write_text(text.replace('"id": 0,', '"id": ' + "9" * 5000 + ",", 1))

    result = scan(TelegramExportSource(folder))

    assert set(result.by_key) == EXPECTED_KEYS  # every other message is still read
    (problem,) = [p for p in result.problems if "cannot be read" in p.reason]
    assert problem.where == f"{CHAT_ID}/?" and "skipped" in problem.reason


def _big_export(folder: Path, megabytes: int) -> int:
    """A single-chat export of text messages (neutral words), about `megabytes` MB, with one
    photo message at the very end; returns its size."""
    folder.mkdir()
    write_media(folder)
    with (folder / "result.json").open("w", encoding="utf-8") as handle:
        handle.write(f'{{"name": "Big", "type": "public_channel", "id": {CHAT_ID}, "messages": [')
        text = "harbour market lighthouse " * 8
        number, written = 0, 0
        while written < megabytes * 1_000_000:
            message = {
                "id": number,
                "type": "message",
                "date_unixtime": "1714557600",
                "from": "Editor",
                "text": [text, {"type": "bold", "text": str(number)}],
            }
            line = json.dumps(message, ensure_ascii=False) + ",\n"
            handle.write(line)
            written += len(line)
            number += 1
        last = {"id": number, "type": "message", "photo": PHOTO}
        handle.write(json.dumps(last) + "]}")
    return (folder / "result.json").stat().st_size


def test_a_large_export_is_read_in_bounded_memory(tmp_path: Path) -> None:
    """Memory holds one message at a time, not the document: a 12 MB export holds well under
    its own size (json.loads takes several times it). bench/telegram.py measures 44 MB."""
    import tracemalloc

    size = _big_export(tmp_path / "ChatExport_big", 12)
    tracemalloc.start()
    try:
        result = scan(TelegramExportSource(tmp_path / "ChatExport_big"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert list(result.by_key) == [f"{CHAT_ID}/{result.candidates[0].post_id}/{PHOTO}"]
    assert peak < size // 2, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB export"
