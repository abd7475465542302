"""Folders and archives: every image and video found by its bytes with a stable key; hostile
archives (bombs, traversal names, links, devices, encryption, corruption, too many members,
deep nesting) bounded and reported while the rest is still read."""

from __future__ import annotations

import io
import os
import tarfile
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
    zip_bytes,
)
from hypothesis import given
from hypothesis import strategies as st

from rempart.sources.base import Candidate
from rempart.sources.files import (
    ArchiveLimits,
    FileSource,
    sniff_archive,
    sniff_media,
    unsafe_member_name,
)

KiB = 1024


def tar_bytes(members: list[tuple[str, bytes]], mode: str = "w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return bytes(buffer.getvalue())


def special_tar(mode: str = "w") -> bytes:
    """A tar with a good picture between a symlink, a hard link, a character device, a pipe
    and a traversal name."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for name, kind, target in (
            ("link-out", tarfile.SYMTYPE, "/etc/passwd"),
            ("hard", tarfile.LNKTYPE, "../../etc/shadow"),
            ("dev/tty", tarfile.CHRTYPE, ""),
            ("pipe", tarfile.FIFOTYPE, ""),
        ):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            archive.addfile(info)
        for name, data in (("ok/good.jpg", jpeg(1)), ("../../etc/evil.jpg", jpeg(2))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (jpeg(1), "image/jpeg"),
        (png(1), "image/png"),
        (mp4(), "video/mp4"),
        (b"GIF89a" + bytes(20), "image/gif"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
        (b"RIFF\0\0\0\0AVI LIST", "video/x-msvideo"),
        (b"RIFF\0\0\0\0WAVEfmt ", None),
        (b"\0\0\0\x18ftypheic\0\0\0\0", "image/heic"),
        (b"\0\0\0\x18ftypavif\0\0\0\0", "image/avif"),
        (b"\0\0\0\x18ftypqt  \0\0\0\0", "video/quicktime"),
        (b"\0\0\0\x18ftypM4A \0\0\0\0", None),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm", "video/webm"),
        (b"OggS\0\x02" + bytes(22) + b"\x80theora", "video/ogg"),
        (b"OggS\0\x02" + bytes(22) + b"\x01vorbis", None),
        (b"BM" + bytes(12) + (40).to_bytes(4, "little") + bytes(8), "image/bmp"),
        (b"BMW is not a bitmap, whatever its name says", None),
        (bytes([0x47] + [0] * 187) * 3, "video/mp2t"),
        (b"<html><body>not media</body></html>", None),
        (b"", None),
    ],
)
def test_media_is_recognised_by_its_leading_bytes_only(data: bytes, expected: str | None) -> None:
    assert sniff_media(data[:512]) == expected


def test_archives_are_recognised_by_their_leading_bytes() -> None:
    assert sniff_archive(zip_bytes([("a", b"x")])) == "zip"
    assert sniff_archive(tar_bytes([("a", b"x")])) == "tar"
    assert sniff_archive(tar_bytes([("a", b"x")], "w:gz")) == "gzip"
    assert sniff_archive(tar_bytes([("a", b"x")], "w:bz2")) == "bzip2"
    assert sniff_archive(tar_bytes([("a", b"x")], "w:xz")) == "xz"
    assert sniff_archive(b"7z\xbc\xaf\x27\x1c\0\x04") == "7z"
    assert sniff_archive(jpeg(1)) is None


@pytest.mark.parametrize(
    "name", ["../x.jpg", "a/../../x.jpg", "/etc/x.jpg", "C:/Windows/x.jpg", "a\\..\\..\\x.jpg"]
)
def test_traversal_names_are_called_hostile(name: str) -> None:
    assert unsafe_member_name(name)


@pytest.mark.parametrize("name", ["a.jpg", "dir/b.jpg", "./c.jpg", "d..e.jpg"])
def test_ordinary_names_are_not_called_hostile(name: str) -> None:
    assert unsafe_member_name(name) is None


# ------------------------------------------------------------------------------ folders


def test_folder_yields_every_image_and_video_by_content_with_stable_keys(tmp_path: Path) -> None:
    root = tmp_path / "Screenshots"
    write(root / "a.jpg", jpeg(1))
    write(root / "2024" / "May" / "b.png", png(2))
    write(root / "2024" / "clip.mp4", mp4())
    write(root / "2024" / "renamed.txt", jpeg(3))  # a picture behind a misleading name
    write(root / "2024" / "fake.jpg", b"not a picture at all")
    write(root / "notes.md", b"# notes")

    result = scan(FileSource(root))

    assert result.problems == []
    assert set(result.by_key) == {
        "Screenshots/a.jpg",
        "Screenshots/2024/May/b.png",
        "Screenshots/2024/clip.mp4",
        "Screenshots/2024/renamed.txt",
    }
    picture = result.by_key["Screenshots/2024/May/b.png"]
    assert picture.data == png(2)
    assert picture.content_type == "image/png"
    assert picture.media_url == "Screenshots/2024/May/b.png"
    assert dict(picture.context) == {"archive": "Screenshots", "path": "2024/May/b.png"}
    assert picture.posted_at is None  # a file's mtime is not when it was posted
    assert result.by_key["Screenshots/2024/clip.mp4"].content_type == "video/mp4"
    assert result.by_key["Screenshots/2024/renamed.txt"].content_type == "image/jpeg"


def test_folder_scan_order_is_stable(tmp_path: Path) -> None:
    for name in ("c.jpg", "a.jpg", "b/z.jpg", "b/y.jpg"):
        write(tmp_path / "root" / name, jpeg(len(name)))
    first = [c.key for c in scan(FileSource(tmp_path / "root")).candidates]
    assert first == [c.key for c in scan(FileSource(tmp_path / "root")).candidates]
    assert first == ["root/a.jpg", "root/c.jpg", "root/b/y.jpg", "root/b/z.jpg"]


def test_links_and_pipes_in_a_folder_are_reported_not_followed(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside" / "secret.jpg", jpeg(9))
    root = tmp_path / "root"
    write(root / "ok.jpg", jpeg(1))
    (root / "to-secret.jpg").symlink_to(outside)
    (root / "loop").symlink_to(root, target_is_directory=True)
    os.mkfifo(root / "pipe.jpg")

    result = scan(FileSource(root))

    assert set(result.by_key) == {"root/ok.jpg"}
    assert "symbolic link" in result.problem_at("root/to-secret.jpg").reason
    assert "symbolic link" in result.problem_at("root/loop").reason
    assert "not a regular file" in result.problem_at("root/pipe.jpg").reason


def test_seen_files_are_skipped_without_being_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    write(root / "old.jpg", jpeg(1))
    write(root / "new.jpg", jpeg(2))
    opened: list[str] = []
    real_open = os.open

    def spy(path: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(Path(path).name)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    state = RecordingState(handled={"root/old.jpg"})

    result = scan(FileSource(root), state)

    assert set(result.by_key) == {"root/new.jpg"}
    assert opened == ["new.jpg"]
    assert "root/old.jpg" in state.asked


def test_a_missing_path_is_a_problem_not_an_error(tmp_path: Path) -> None:
    result = scan(FileSource(tmp_path / "nowhere"))
    assert result.candidates == []
    assert "not found" in result.problems[0].reason


def test_a_single_media_file_can_be_scanned(tmp_path: Path) -> None:
    result = scan(FileSource(write(tmp_path / "one.jpg", jpeg(1))))
    assert [c.key for c in result.candidates] == ["one.jpg"]


# ------------------------------------------------------------------------------ archives


def test_zip_members_are_yielded_with_archive_and_path(tmp_path: Path) -> None:
    archive = write(
        tmp_path / "collection.zip",
        zip_bytes([("dir/x.jpg", jpeg(1)), ("dir/y.mp4", mp4()), ("readme.txt", b"hello")]),
    )
    result = scan(FileSource(archive))

    assert result.problems == []
    assert set(result.by_key) == {"collection.zip!dir/x.jpg", "collection.zip!dir/y.mp4"}
    member = result.by_key["collection.zip!dir/x.jpg"]
    assert member.data == jpeg(1)
    assert member.media_url == "collection.zip!dir/x.jpg"
    assert dict(member.context) == {"archive": "collection.zip", "path": "dir/x.jpg"}


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_tar_members_are_yielded_whatever_the_compression(tmp_path: Path, mode: str) -> None:
    archive = write(
        tmp_path / "seized.tar", tar_bytes([("a/x.jpg", jpeg(1)), ("b/y.png", png(2))], mode)
    )
    result = scan(FileSource(archive))

    assert result.problems == []
    assert {key: c.data for key, c in result.by_key.items()} == {
        "seized.tar!a/x.jpg": jpeg(1),
        "seized.tar!b/y.png": png(2),
    }


def test_archives_in_a_folder_and_one_nested_level_are_opened(tmp_path: Path) -> None:
    inner_tar = tar_bytes([("t.jpg", jpeg(3))], "w:gz")
    inner_zip = zip_bytes([("z.png", png(4))])
    root = tmp_path / "case"
    write(root / "outer.zip", zip_bytes([("a.jpg", jpeg(1)), ("inner.tgz", inner_tar)]))
    write(root / "sub" / "outer.tar", tar_bytes([("inner.zip", inner_zip)]))

    result = scan(FileSource(root))

    assert result.problems == []
    assert set(result.by_key) == {
        "case/outer.zip!a.jpg",
        "case/outer.zip!inner.tgz!t.jpg",
        "case/sub/outer.tar!inner.zip!z.png",
    }
    nested = result.by_key["case/outer.zip!inner.tgz!t.jpg"]
    assert dict(nested.context) == {"archive": "case/outer.zip!inner.tgz", "path": "t.jpg"}


def test_archives_nested_deeper_than_the_limit_are_reported_not_opened(tmp_path: Path) -> None:
    deepest = zip_bytes([("deep.jpg", jpeg(5))])
    middle = zip_bytes([("level2.zip", deepest), ("mid.jpg", jpeg(6))])
    archive = write(tmp_path / "top.zip", zip_bytes([("level1.zip", middle), ("top.jpg", jpeg(7))]))

    result = scan(FileSource(archive))

    assert set(result.by_key) == {"top.zip!top.jpg", "top.zip!level1.zip!mid.jpg"}
    assert "nested" in result.problem_at("top.zip!level1.zip!level2.zip").reason


def test_seen_members_are_skipped_without_being_read(tmp_path: Path) -> None:
    # A corrupt member would be reported if read; seen, it is passed over in silence.
    data = bytearray(zip_bytes([("seen.jpg", jpeg(1) * 4), ("new.jpg", jpeg(2))]))
    data[60:90] = bytes(30)
    archive = write(tmp_path / "c.zip", bytes(data))
    assert scan(FileSource(archive)).problems  # it is corrupt indeed

    state = RecordingState(handled={"c.zip!seen.jpg"})
    result = scan(FileSource(archive), state)

    assert set(result.by_key) == {"c.zip!new.jpg"}
    assert result.problems == []


def test_seen_tar_members_are_skipped_without_being_extracted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = write(tmp_path / "t.tar", tar_bytes([("seen.jpg", jpeg(1)), ("new.jpg", jpeg(2))]))
    extracted: list[str] = []
    real = tarfile.TarFile.extractfile

    def spy(self: tarfile.TarFile, member: Any) -> Any:
        extracted.append(member.name)
        return real(self, member)

    monkeypatch.setattr(tarfile.TarFile, "extractfile", spy)
    result = scan(FileSource(archive), RecordingState(handled={"t.tar!seen.jpg"}))

    assert set(result.by_key) == {"t.tar!new.jpg"}
    assert extracted == ["new.jpg"]


# ---------------------------------------------------------------------- hostile archives

SMALL = ArchiveLimits(max_file_bytes=256 * KiB, ratio_floor=64 * KiB, max_ratio=50)


def bomb_member() -> bytes:
    """Starts like a JPEG, then a megabyte of zeros: compresses about 1000:1."""
    return jpeg(1)[:4] + bytes(1024 * KiB)


def test_zip_bomb_member_is_refused_by_ratio_and_the_rest_still_read(tmp_path: Path) -> None:
    archive = write(
        tmp_path / "b.zip", zip_bytes([("bomb.jpg", bomb_member()), ("ok.jpg", jpeg(2))])
    )
    result = scan(FileSource(archive, limits=ArchiveLimits(ratio_floor=64 * KiB)))

    assert set(result.by_key) == {"b.zip!ok.jpg"}
    assert "ratio" in result.problem_at("b.zip!bomb.jpg").reason


def test_member_larger_than_the_limit_is_refused(tmp_path: Path) -> None:
    big = jpeg(1) + os.urandom(300 * KiB)  # incompressible, so not a bomb: just large
    archive = write(tmp_path / "l.zip", zip_bytes([("big.jpg", big), ("ok.jpg", jpeg(2))]))
    result = scan(FileSource(archive, limits=SMALL))

    assert set(result.by_key) == {"l.zip!ok.jpg"}
    assert "more than the limit" in result.problem_at("l.zip!big.jpg").reason


def test_total_uncompressed_bytes_per_archive_are_capped(tmp_path: Path) -> None:
    members = [(f"{n}.jpg", jpeg(n)) for n in range(10)]
    archive = write(tmp_path / "t.zip", zip_bytes(members))
    total = sum(len(data) for _, data in members)
    limits = ArchiveLimits(max_archive_bytes=total // 2)

    result = scan(FileSource(archive, limits=limits))

    assert 0 < len(result.candidates) < 10
    assert "stopped" in result.problem_at("t.zip").reason


def test_tar_gz_bomb_is_stopped_while_streaming(tmp_path: Path) -> None:
    archive = write(
        tmp_path / "b.tar.gz", tar_bytes([("ok.jpg", jpeg(2)), ("bomb.jpg", bomb_member())], "w:gz")
    )
    result = scan(FileSource(archive, limits=SMALL))

    assert set(result.by_key) == {"b.tar.gz!ok.jpg"}
    assert "ratio" in result.problem_at("b.tar.gz").reason


def test_traversal_names_are_reported_and_skipped(tmp_path: Path) -> None:
    archive = write(
        tmp_path / "t.zip",
        zip_bytes(
            [
                ("../../escape.jpg", jpeg(1)),
                ("/etc/absolute.jpg", jpeg(2)),
                ("C:/Users/x.jpg", jpeg(3)),
                ("fine/ok.jpg", jpeg(4)),
            ]
        ),
    )
    result = scan(FileSource(archive))

    assert set(result.by_key) == {"t.zip!fine/ok.jpg"}
    for name in ("../../escape.jpg", "/etc/absolute.jpg", "C:/Users/x.jpg"):
        assert "traversal" in result.problem_at(f"t.zip!{name}").reason


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_tar_links_devices_and_traversal_are_reported_and_skipped(
    tmp_path: Path, mode: str
) -> None:
    archive = write(tmp_path / "s.tar", special_tar(mode))
    result = scan(FileSource(archive))

    assert set(result.by_key) == {"s.tar!ok/good.jpg"}
    assert "symbolic link" in result.problem_at("s.tar!link-out").reason
    assert "hard link" in result.problem_at("s.tar!hard").reason
    assert "device" in result.problem_at("s.tar!dev/tty").reason
    assert "pipe" in result.problem_at("s.tar!pipe").reason
    assert "traversal" in result.problem_at("s.tar!../../etc/evil.jpg").reason


def test_encrypted_zip_members_are_reported(tmp_path: Path) -> None:
    # zipfile cannot encrypt: set the flag an encrypting tool sets on the first member, in
    # its local header and its central directory entry.
    data = bytearray(zip_bytes([("locked.jpg", jpeg(1)), ("open.jpg", jpeg(2))]))
    data[6] |= 0x1
    data[data.find(b"PK\x01\x02") + 8] |= 0x1
    archive = write(tmp_path / "e.zip", bytes(data))

    result = scan(FileSource(archive))

    assert set(result.by_key) == {"e.zip!open.jpg"}
    assert "encrypted" in result.problem_at("e.zip!locked.jpg").reason


def test_duplicate_member_names_are_reported(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):  # zipfile writes it anyway
        archive = write(tmp_path / "d.zip", zip_bytes([("x.jpg", jpeg(1)), ("x.jpg", jpeg(2))]))

    result = scan(FileSource(archive))

    assert result.by_key["d.zip!x.jpg"].data == jpeg(1)
    assert "duplicate" in result.problem_at("d.zip!x.jpg").reason


def test_duplicate_tar_member_names_are_reported(tmp_path: Path) -> None:
    archive = write(tmp_path / "d.tar", tar_bytes([("x.jpg", jpeg(1)), ("x.jpg", jpeg(2))]))
    result = scan(FileSource(archive))

    assert result.by_key["d.tar!x.jpg"].data == jpeg(1)
    assert "duplicate" in result.problem_at("d.tar!x.jpg").reason


def test_zip_with_too_many_members_is_refused_before_parsing(tmp_path: Path) -> None:
    archive = write(tmp_path / "many.zip", zip_bytes([(f"{n}.txt", b"") for n in range(3000)]))
    result = scan(FileSource(archive, limits=ArchiveLimits(max_members=1000)))

    assert result.candidates == []
    assert "3000 members" in result.problem_at("many.zip").reason


def test_tar_with_too_many_members_stops_at_the_limit(tmp_path: Path) -> None:
    members = [("first.jpg", jpeg(1))] + [(f"{n}.txt", b"") for n in range(3000)]
    archive = write(tmp_path / "many.tar", tar_bytes(members, "w:gz"))
    result = scan(FileSource(archive, limits=ArchiveLimits(max_members=1000)))

    assert set(result.by_key) == {"many.tar!first.jpg"}
    assert "1000 members" in result.problem_at("many.tar").reason


def test_truncated_tar_gz_yields_what_precedes_the_cut(tmp_path: Path) -> None:
    members = [(f"{n}.png", png(n)) for n in range(6)]
    data = tar_bytes(members, "w:gz")
    archive = write(tmp_path / "cut.tar.gz", data[: len(data) * 2 // 3])

    result = scan(FileSource(archive))

    assert 1 <= len(result.candidates) < 6
    for candidate in result.candidates:
        assert candidate.data == dict(members)[candidate.key.split("!")[1]]
    assert "truncated" in result.problem_at("cut.tar.gz").reason


def test_truncated_zip_is_reported(tmp_path: Path) -> None:
    data = zip_bytes([("a.jpg", jpeg(1)), ("b.jpg", jpeg(2))])
    archive = write(tmp_path / "cut.zip", data[: len(data) // 2])
    result = scan(FileSource(archive))

    assert result.candidates == []
    assert "not a readable zip" in result.problem_at("cut.zip").reason


def test_corrupt_zip_member_is_reported_and_the_others_read(tmp_path: Path) -> None:
    data = bytearray(zip_bytes([("bad.png", png(1)), ("good.jpg", jpeg(2))]))
    data[80:120] = bytes(40)  # inside bad.png's compressed bytes
    archive = write(tmp_path / "c.zip", bytes(data))

    result = scan(FileSource(archive))

    assert set(result.by_key) == {"c.zip!good.jpg"}
    assert "corrupt" in result.problem_at("c.zip!bad.png").reason


def test_unsupported_archive_kinds_are_reported(tmp_path: Path) -> None:
    root = tmp_path / "r"
    write(root / "x.7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(100))
    write(root / "y.gz", b"\x1f\x8b\x08\x00" + bytes(30))  # a gzip that is not a tar
    result = scan(FileSource(root))

    assert "not supported" in result.problem_at("r/x.7z").reason
    assert "not a readable tar" in result.problem_at("r/y.gz").reason


# -------------------------------------------------------------------------------- fuzzing

_SAMPLE_ZIP = zip_bytes([("a.jpg", jpeg(1)), ("n/inner.zip", zip_bytes([("b.png", png(2))]))])
_SAMPLE_TAR = tar_bytes([("a.jpg", jpeg(1)), ("b.png", png(2))], "w:gz")


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=1024),
        mutated(_SAMPLE_ZIP),
        mutated(_SAMPLE_TAR),
        mutated(tar_bytes([("a.jpg", jpeg(1))])),
        mutated(special_tar()),
    )
)
def test_any_bytes_as_an_archive_yield_candidates_or_problems_never_raise(
    tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "fuzzed.bin"
    path.write_bytes(data)
    result = scan(FileSource(path, limits=SMALL))
    assert all(isinstance(c, Candidate) and c.data for c in result.candidates)
