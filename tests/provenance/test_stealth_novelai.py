"""Generator metadata hidden in the alpha channel (stealth pnginfo: NovelAI, an AUTOMATIC1111
extension) and NovelAI's Ed25519 signature, checked offline; hostile payloads stay bounded."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from provenance_support import novelai_comment, picture, stealth_png
from typer.testing import CliRunner

from rempart.cli import app
from rempart.provenance import Verdict, novelai, read_provenance
from rempart.provenance.generators import MAX_TEXT
from rempart.provenance.stealth import (
    HiddenTextUnreadable,
    hidden_text,
    png_may_hide_text,
)

A1111 = "a lighthouse\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 31337, Model: dreamshaper_8"
SIZE = (96, 200)


def _resaved(data: bytes, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    with Image.open(io.BytesIO(data)) as image:
        (image if fmt == "PNG" else image.convert("RGB")).save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize("gzip_it", [True, False])
def test_a1111_parameters_hidden_in_the_alpha_channel_declare_ai(gzip_it: bool) -> None:
    result = read_provenance(stealth_png(A1111.encode(), gzip_it=gzip_it, size=SIZE))
    assert result.verdict is Verdict.AI_DECLARED
    (signal,) = [s for s in result.signals if s.kind == "generator"]
    assert signal.details["where"] == "alpha channel"
    assert (signal.details["model"], signal.details["seed"]) == ("dreamshaper_8", "31337")
    assert "hidden in the alpha channel" in str(signal.description)


def test_hidden_metadata_survives_a_lossless_resave_that_strips_text_but_not_a_jpeg() -> None:
    data = stealth_png(A1111.encode(), size=SIZE, chunks={"parameters": A1111})
    stripped = _resaved(data, "PNG")  # Pillow copies no text chunk
    assert read_provenance(stripped).verdict is Verdict.AI_DECLARED
    assert read_provenance(_resaved(data, "JPEG", quality=95)).verdict is Verdict.NO_SIGNAL


def test_a_short_picture_is_decoded_whole_and_still_read() -> None:
    # under 152 rows the magic spans several columns: the cheap look cannot tell
    data = stealth_png(A1111.encode(), size=(200, 100))
    assert png_may_hide_text(data) is None
    assert read_provenance(data).verdict is Verdict.AI_DECLARED


@pytest.mark.parametrize("seed", range(6))
def test_the_cheap_look_at_the_first_column_agrees_with_a_full_decode(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rgba = np.array(picture(seed, SIZE).convert("RGBA"))
    rgba[:, :, 3] = rng.integers(0, 256, size=rgba.shape[:2], dtype=np.uint8)
    plain = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(plain, "PNG", optimize=bool(seed % 2))
    hidden = stealth_png(b"x" * (seed + 1), gzip_it=bool(seed % 2), seed=seed, size=SIZE)
    for data, expected in ((plain.getvalue(), False), (hidden, True)):
        alpha = np.asarray(Image.open(io.BytesIO(data)).getchannel("A"))
        assert (hidden_text(alpha) is not None) is expected
        assert png_may_hide_text(data) is expected


def test_a_hidden_text_naming_no_generator_is_only_suspected() -> None:
    result = read_provenance(stealth_png(b"hello", size=SIZE))
    assert result.verdict is Verdict.AI_SUSPECTED


def test_a_gzip_bomb_in_the_alpha_channel_is_reported_unreadable_not_inflated() -> None:
    bomb = gzip.compress(b"\0" * (MAX_TEXT * 4))  # ~4 KiB that would inflate to 4 MiB
    # stealth_png would gzip the bomb again: the header is written here by hand
    data = stealth_png(b"", gzip_it=False, size=(200, 200))
    rgba = np.array(Image.open(io.BytesIO(data)))
    message = b"stealth_pngcomp" + (len(bomb) * 8).to_bytes(4, "big") + bomb
    bits = np.unpackbits(np.frombuffer(message, dtype=np.uint8))
    column_major = rgba[:, :, 3].T.copy().reshape(-1)
    column_major[: bits.size] = (column_major[: bits.size] & 0xFE) | bits
    rgba[:, :, 3] = column_major.reshape(200, 200).T
    with pytest.raises(HiddenTextUnreadable, match="larger than the limit"):
        hidden_text(rgba[:, :, 3])
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    result = read_provenance(out.getvalue())
    assert [s.kind for s in result.signals] == ["unreadable"]
    assert result.verdict is Verdict.NO_SIGNAL


def test_a_length_past_the_picture_or_over_the_cap_is_refused() -> None:
    data = stealth_png(b"abc", size=SIZE, length_bits=SIZE[0] * SIZE[1])
    alpha = np.asarray(Image.open(io.BytesIO(data)).getchannel("A"))
    with pytest.raises(HiddenTextUnreadable, match="past the end"):
        hidden_text(alpha)
    big = np.full((3000, 3000), 0xFE, dtype=np.uint8)  # room for 9 Mbit, more than the cap
    header = b"stealth_pnginfo" + ((MAX_TEXT + 1) * 8).to_bytes(4, "big")
    bits = np.unpackbits(np.frombuffer(header, dtype=np.uint8))
    column_major = big.T.copy().reshape(-1)
    column_major[: bits.size] |= bits
    with pytest.raises(HiddenTextUnreadable, match="larger than the limit"):
        hidden_text(column_major.reshape(3000, 3000).T)


def _signed_novelai(key: Ed25519PrivateKey) -> bytes:
    rgb = picture(3, SIZE).convert("RGB").tobytes()
    comment = novelai_comment(rgb, key, prompt="a lighthouse", seed=4242, steps=28)
    fields = {"Software": "NovelAI", "Source": "NovelAI Diffusion V4 4F6D5E3A", "Comment": comment}
    return stealth_png(json.dumps(fields).encode(), seed=3, size=SIZE, chunks=fields)


@pytest.fixture
def test_key(monkeypatch: pytest.MonkeyPatch) -> Ed25519PrivateKey:
    """A key made here stands in for NovelAI's, whose private half nobody else holds."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    monkeypatch.setattr(novelai, "NOVELAI_KEY", public)
    return key


def _novelai_signatures(data: bytes) -> list[tuple[str | None, object]]:
    return [
        (s.details.get("where"), s.details["signature"])  # type: ignore[misc]
        for s in read_provenance(data).signals
        if s.declared_by == "NovelAI"
    ]


def test_novelais_signature_verifies_offline_in_the_text_and_the_alpha_channel(
    test_key: Ed25519PrivateKey,
) -> None:
    data = _signed_novelai(test_key)
    assert _novelai_signatures(data) == [(None, "valid"), ("alpha channel", "valid")]
    result = read_provenance(data)
    assert result.verdict is Verdict.AI_DECLARED and result.declared_by == ("NovelAI",)
    assert "signature verifies offline" in str(result.reasons[0])


def test_a_changed_pixel_breaks_novelais_signature_but_not_the_declaration(
    test_key: Ed25519PrivateKey,
) -> None:
    data = _signed_novelai(test_key)
    with Image.open(io.BytesIO(data)) as image:
        rgba = np.array(image)
        info = {k: v for k, v in image.info.items() if isinstance(v, str)}
    rgba[0, 0, 0] ^= 0x10
    from PIL import PngImagePlugin

    chunks = PngImagePlugin.PngInfo()
    for key, value in info.items():
        chunks.add_text(key, value)
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG", pnginfo=chunks)
    assert _novelai_signatures(out.getvalue()) == [(None, "invalid"), ("alpha channel", "invalid")]
    result = read_provenance(out.getvalue())
    assert result.verdict is Verdict.AI_DECLARED
    assert "does not verify" in str(result.reasons[0])


def test_a_signature_by_another_key_does_not_verify_against_novelais() -> None:
    data = _signed_novelai(Ed25519PrivateKey.generate())
    assert _novelai_signatures(data) == [(None, "invalid"), ("alpha channel", "invalid")]


def test_novelais_published_key_is_an_ed25519_public_key() -> None:
    assert len(novelai.NOVELAI_KEY) == 32
    garbage = json.dumps({"signed_hash": "A" * 88, "seed": 1})
    assert novelai.check_signature(b"\0" * 12, garbage) is novelai.Signature.INVALID
    assert novelai.check_signature(b"", json.dumps({"seed": 1})) is novelai.Signature.ABSENT
    assert novelai.check_signature(b"", '{"signed_hash": "not base64!"}') is (
        novelai.Signature.INVALID
    )


def test_the_command_shows_hidden_metadata_with_control_characters_stripped(
    tmp_path: Path,
) -> None:
    evil = "x\nSteps: 1, Seed: 1, Model: \x1b]0;pwned\x07evil\x1b[2J"
    path = tmp_path / "hidden.png"
    path.write_bytes(stealth_png(evil.encode(), size=SIZE))
    for args in ([], ["--json"]):
        result = CliRunner().invoke(app, ["provenance", *args, str(path)])
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output
        assert "hidden in the alpha channel" in result.output


def test_pixels_over_the_cap_are_not_decoded_and_say_so(
    monkeypatch: pytest.MonkeyPatch, test_key: Ed25519PrivateKey
) -> None:
    from rempart.provenance import read

    monkeypatch.setattr(read, "MAX_PIXELS", SIZE[0] * SIZE[1] - 1)
    result = read_provenance(_signed_novelai(test_key))
    assert _novelai_signatures(_signed_novelai(test_key)) == [(None, "unverified")]
    (unreadable,) = [s for s in result.signals if s.kind == "unreadable"]
    assert "too large to decode" in str(unreadable.description)
    assert result.verdict is Verdict.AI_DECLARED  # the text chunk still says NovelAI


def _png(width: int, height: int, idat: bytes) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def test_a_huge_declared_width_is_not_inflated_by_the_cheap_look() -> None:
    import zlib

    bomb = zlib.compress(b"\0" * (8 * 1024 * 1024), 9)  # 8 KiB that inflate to 8 MiB
    data = _png(1 << 30, 200, bomb)
    assert png_may_hide_text(data) is None
    result = read_provenance(data)  # Pillow refuses the size: reported, never decoded
    assert result.verdict is Verdict.NO_SIGNAL
    assert png_may_hide_text(_png(96, 200, b"not zlib")) is None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_after_a_png_signature_never_crash_the_cheap_look(tail: bytes) -> None:
    assert png_may_hide_text(b"\x89PNG\r\n\x1a\n" + tail) in (True, False, None)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=4, max_size=400), st.booleans())
def test_any_payload_after_the_magic_is_read_or_refused_never_crashes(
    rest: bytes, gzipped: bool
) -> None:
    magic = b"stealth_pngcomp" if gzipped else b"stealth_pnginfo"
    bits = np.unpackbits(np.frombuffer(magic + rest, dtype=np.uint8))
    alpha = np.full(64 * 64, 0xFE, dtype=np.uint8)
    alpha[: bits.size] |= bits
    try:
        text = hidden_text(alpha.reshape(64, 64).T)
    except HiddenTextUnreadable:
        return
    assert text is not None and len(text) <= MAX_TEXT
