"""The backup file format: what goes in comes out, in bounded chunks; a wrong passphrase is
named as such; a chunk altered, moved, dropped or cut off, bytes added at the end, or a
header asking for a ruinous key derivation, fail with a clear error."""

from __future__ import annotations

import io
import struct

import pytest

from rempart.jobs.backup_file import (
    CHUNK,
    BackupFileError,
    ChunkWriter,
    KdfParams,
    WrongPassphrase,
    open_reader,
)

FAST = KdfParams(log_n=10, r=8, p=1)  # tests only: the real default costs ~128 MiB
SECRET = b"a long enough passphrase"


def _sealed(plain: bytes) -> bytes:
    out = io.BytesIO()
    writer = ChunkWriter(out, SECRET, kdf=FAST, created="2026-12-06T10:00:00+00:00")
    for start in range(0, len(plain), 70_000):  # written in uneven pieces
        writer.write(plain[start : start + 70_000])
    writer.close()
    return out.getvalue()


def _opened(data: bytes, passphrase: bytes = SECRET) -> bytes:
    reader = open_reader(io.BytesIO(data), passphrase)
    parts = []
    while piece := reader.read(100_000):
        parts.append(piece)
    return b"".join(parts)


def _chunks(data: bytes) -> tuple[bytes, list[bytes]]:
    """The header part and each chunk (length prefix included)."""
    (length,) = struct.unpack(">I", data[8:12])
    position = 12 + length
    head, chunks = data[:position], []
    while position < len(data):
        (size,) = struct.unpack(">I", data[position : position + 4])
        chunks.append(data[position : position + 4 + size])
        position += 4 + size
    return head, chunks


PLAIN = bytes(range(256)) * (3 * CHUNK // 256) + b"tail"


def test_what_goes_in_comes_out_across_several_chunks() -> None:
    data = _sealed(PLAIN)
    assert len(_chunks(data)[1]) == 4
    assert _opened(data) == PLAIN
    assert _opened(_sealed(b"")) == b""


def test_a_wrong_passphrase_is_named() -> None:
    with pytest.raises(WrongPassphrase):
        _opened(_sealed(b"data"), b"another passphrase")


@pytest.mark.parametrize("attack", ["swap", "drop-last", "drop-middle", "trailing", "flip"])
def test_a_moved_dropped_added_or_altered_chunk_fails(attack: str) -> None:
    head, chunks = _chunks(_sealed(PLAIN))
    if attack == "swap":
        chunks[0], chunks[1] = chunks[1], chunks[0]
    elif attack == "drop-last":
        chunks.pop()
    elif attack == "drop-middle":
        chunks.pop(1)
    elif attack == "trailing":
        chunks.append(b"\x00")
    else:
        chunks[2] = chunks[2][:100] + bytes([chunks[2][100] ^ 0x40]) + chunks[2][101:]
    with pytest.raises(BackupFileError):
        _opened(head + b"".join(chunks))


def test_a_header_asking_for_a_ruinous_key_derivation_is_refused() -> None:
    data = _sealed(b"data")
    head, chunks = _chunks(data)
    hostile = head[12:].replace(b'"log_n": 10', b'"log_n": 30')
    forged = head[:8] + struct.pack(">I", len(hostile)) + hostile + b"".join(chunks)
    with pytest.raises(BackupFileError, match="header"):
        _opened(forged)
    with pytest.raises(BackupFileError, match="not a Rempart backup"):
        _opened(b"PK\x03\x04" + data)
