"""The ImageHashes assembled from a file: fields, digests, dihedral variants, batches."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from hashing_support import encode_image, reference_pdq_rgb

import rempart
from rempart.errors import ImageDecodeError
from rempart.hashing import (
    Dihedral,
    ImageHashes,
    PdqHash,
    hash_image_bytes,
    hash_image_file,
    hash_many,
)
from rempart.samples import neutral_image


@pytest.fixture(scope="module")
def png() -> bytes:
    return encode_image(neutral_image(21, 400, 300), "PNG")


def test_fields(png: bytes) -> None:
    hashes = hash_image_bytes(png)
    assert (hashes.width, hashes.height, hashes.format) == (400, 300, "PNG")
    assert (hashes.animated, hashes.frames, hashes.variants) == (False, 1, ())
    assert hashes.digest.sha256 == hashlib.sha256(png).hexdigest()
    assert hashes.digest.md5 == hashlib.md5(png).hexdigest()
    assert hashes.pdq.quality >= 80


def test_hashes_are_immutable(png: bytes) -> None:
    hashes = hash_image_bytes(png)
    with pytest.raises(dataclasses.FrozenInstanceError):
        hashes.width = 1  # type: ignore[misc]


def test_same_bytes_same_hashes(png: bytes) -> None:
    assert hash_image_bytes(png) == hash_image_bytes(bytes(png))


def test_dihedral_variants_in_reference_order(png: bytes) -> None:
    hashes = hash_image_bytes(png, dihedral=True)
    assert len(hashes.variants) == len(Dihedral) == 8
    assert hashes.variants[0] == hashes.pdq == hash_image_bytes(png).pdq
    rgb = np.asarray(neutral_image(21, 400, 300))
    rotated = np.ascontiguousarray(np.rot90(rgb))  # Dihedral.ROTATE_90, counter-clockwise
    assert hashes.variants[1].hash.distance(reference_pdq_rgb(rotated)[0]) <= 2
    reference_variants, _ = pdqhash.compute_dihedral(rgb)
    for ours, bits in zip(hashes.variants, reference_variants, strict=True):
        assert ours.hash.distance(PdqHash(np.packbits(bits).tobytes())) <= 24


def test_hash_image_file_reads_the_file(tmp_path: Path, png: bytes) -> None:
    path = tmp_path / "picture.png"
    path.write_bytes(png)
    assert hash_image_file(path) == hash_image_bytes(png)
    assert hash_image_file(str(path)) == hash_image_bytes(png)


def test_unreadable_file_is_an_image_decode_error(tmp_path: Path) -> None:
    with pytest.raises(ImageDecodeError, match=r"cannot read missing\.jpg: No such file"):
        hash_image_file(tmp_path / "missing.jpg")
    with pytest.raises(ImageDecodeError, match="cannot read"):
        hash_image_file(tmp_path)  # a directory


def test_hash_many_reports_bad_files_and_carries_on(tmp_path: Path, png: bytes) -> None:
    good = tmp_path / "good.png"
    good.write_bytes(png)
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    paths = [good, text, tmp_path / "gone.png", empty, str(good)]
    results = list(hash_many(paths))
    assert [path for path, _ in results] == [Path(p) for p in paths]
    kinds = [type(result) for _, result in results]
    assert kinds == [ImageHashes, ImageDecodeError, ImageDecodeError, ImageDecodeError, ImageHashes]
    assert "empty file" in str(results[3][1])


def test_hash_many_is_lazy(tmp_path: Path) -> None:
    def paths() -> object:
        yield tmp_path / "first.png"
        raise AssertionError("hash_many read ahead")

    iterator = hash_many(paths())  # type: ignore[arg-type]
    path, result = next(iterator)
    assert path.name == "first.png" and isinstance(result, ImageDecodeError)


def test_importing_the_value_types_does_not_load_pillow_or_the_kernel() -> None:
    code = (
        "import sys; import rempart.hashing; from rempart.hashing import PdqHash; "
        "assert 'PIL' not in sys.modules and 'rempart.hashing._pdqcore' not in sys.modules"
    )
    source = str(Path(rempart.__file__).parents[1])
    environment = {**os.environ, "PYTHONPATH": source}
    subprocess.run([sys.executable, "-c", code], check=True, env=environment)
