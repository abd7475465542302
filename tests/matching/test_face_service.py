"""Face hashes registered with an item (opt-in) find an "undress"-style deepfake of it: the
face and backdrop kept, the body regenerated. They are never exported."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rempart.hashing import Windows, hash_image_bytes
from rempart.intake import banks
from rempart.intake.hashlists import ListFormat
from rempart.matching.service import Matcher, Query
from rempart.samples import neutral_image
from rempart.store.database import Database

skimage_data = pytest.importorskip("skimage.data", reason="the test face ships with scikit-image")


def _jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def test_undress_style_edit_matches_through_the_registered_face(
    db: Database, tmp_path: Path
) -> None:
    portrait = skimage_data.astronaut()
    path = tmp_path / "portrait.jpg"
    path.write_bytes(_jpeg(portrait))
    banks.create_bank(db, "victim")
    (outcome,) = banks.add_images(db, "victim", [path], extras=Windows.FACES)
    assert outcome.item_id is not None and outcome.extra_hashes == 2  # one face, one blanked
    edited = portrait.copy()
    edited[190:] = np.asarray(neutral_image(2, 512, 512, style="texture"))[190:]
    matcher = Matcher(db)
    assert Windows.FACES in matcher.query_windows()
    query = Query.from_image(
        hash_image_bytes(_jpeg(edited), dihedral=True, windows=matcher.query_windows())
    )
    (result,) = matcher.match([query])
    (m,) = result.matches
    assert (m.item, m.window, m.reference) == (outcome.item_id, "face", "face")
    assert m.threshold == 24
    without_faces = Query.from_image(hash_image_bytes(_jpeg(edited), dihedral=True))
    assert matcher.match([without_faces])[0].matches == ()  # the whole image alone misses it
    exported = banks.export_bank(db, "victim", ListFormat.CSV).text
    assert len(exported.strip().splitlines()) == 2  # header and the item's own hash only
