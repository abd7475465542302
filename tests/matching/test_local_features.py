"""The local-feature stage end to end: registration stores each item's keypoints (derived data,
deleted with the item), the matcher finds rotated, cropped, screenshotted and collaged copies
by their features and a geometric check, unrelated pictures of every hard kind never match,
and a PDQ match above 31 bits is refused unless the same item is verified geometrically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hard_copies import DISTRACTORS, distractor, hard_copy, jpeg, original, register
from PIL import Image, ImageDraw
from sqlalchemy import delete, func, select

from rempart.hashing import REGISTRATION_EXTRAS, Windows, hash_image_bytes
from rempart.hashing import features as features_module
from rempart.hashing.decode import decode_luma
from rempart.hashing.features import (
    MIN_FEATURES,
    UNKNOWN_OCTAVE,
    LocalFeatures,
    extract_features,
)
from rempart.hashing.signals import Dihedral, PdqHash, PdqSignal
from rempart.hashing.windows import WindowKind, registered_box
from rempart.intake import banks
from rempart.matching import service
from rempart.matching.features import (
    _MIN_VOTES,
    _MIN_VOTES_BEST,
    CORROBORATION_LIMITS,
    MIN_INLIERS,
    SEARCH_LIMITS,
    FeatureIndex,
    Unlike,
    Verification,
    verify,
)
from rempart.matching.service import LOCAL_FEATURES, Matcher, Query, QuerySignal
from rempart.matching.wording import describe_match
from rempart.store.database import Database
from rempart.store.models import ItemFeatures, ItemSignal

EXTRAS = REGISTRATION_EXTRAS  # what `bank add` stores by default
# Families the local stage must find every time (pixelation and small pictures in web pages
# are measured by bench/local_features.py, not promised here).
FOUND = ("rotated", "crop-two-thirds", "post-screenshot", "collage-2x2")


def _register(
    db: Database, tmp_path: Path, seeds: list[int], extras: Windows = EXTRAS
) -> list[int]:
    return register(db, tmp_path, [original(seed) for seed in seeds], extras)


def _query(matcher: Matcher, data: bytes) -> Query:
    return Query.from_image(hash_image_bytes(data, dihedral=True, windows=matcher.query_windows()))


def _features(data: bytes) -> LocalFeatures:
    return extract_features(decode_luma(data).luma)


def _registered(data: bytes) -> LocalFeatures:
    """Features as registration keeps them: with their check points."""
    return extract_features(decode_luma(data).luma, checks=True)


def test_registration_stores_compact_local_features_and_deleting_the_bank_deletes_them(
    db: Database, tmp_path: Path
) -> None:
    (item,) = _register(db, tmp_path, [3])
    with db.session() as session:
        stored = session.scalars(select(ItemFeatures)).all()
        assert [row.item_id for row in stored] == [item]
        assert stored[0].points >= MIN_FEATURES
        features = LocalFeatures.from_bytes(stored[0].data)
        assert len(features) == stored[0].points
        # header; points, angle and level, descriptor: 38 bytes a keypoint; check points and
        # window keypoints: 36 bytes each
        checks, windows = features.check_descriptors, features.window_descriptors
        assert checks is not None and len(checks) > 0
        assert windows is not None and len(windows) > 0
        assert len(stored[0].data) == (
            8 + 38 * stored[0].points + 2 + 36 * len(checks) + 2 + 36 * len(windows)
        )
    banks.delete_bank(db, "victim")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ItemFeatures)) == 0


def test_features_survive_their_byte_form() -> None:
    features = _features(jpeg(original(4)))
    again = LocalFeatures.from_bytes(features.to_bytes())
    assert np.array_equal(again.descriptors, features.descriptors)
    assert np.abs(again.points - features.points).max() <= 0.125
    assert (again.width, again.height) == (features.width, features.height)


def test_damaged_features_raise_a_clear_error() -> None:
    blob = _features(jpeg(original(4))).to_bytes()
    with pytest.raises(Exception, match="damaged"):
        LocalFeatures.from_bytes(blob[:-5])


def test_registration_without_extras_stores_no_features(db: Database, tmp_path: Path) -> None:
    _register(db, tmp_path, [3], extras=Windows.NONE)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ItemFeatures)) == 0


def test_hard_copies_with_random_parameters_are_found_and_say_how(
    sqlite_db: Database, tmp_path: Path
) -> None:
    seeds = [11, 12, 13, 14]
    ids = _register(sqlite_db, tmp_path, seeds)
    matcher = Matcher(sqlite_db)
    assert Windows.FEATURES in matcher.query_windows()
    rng = np.random.default_rng(2026)
    by_local, collages = 0, 0
    for family in FOUND:
        for seed, item in zip(seeds, ids, strict=True):
            copy = hard_copy(family, original(seed), int(rng.integers(10**6)))
            (result,) = matcher.match([_query(matcher, copy)])
            if family == "collage-2x2" and not result.matches:
                # found through its cell, or through the whole collage when the registered
                # picture is square enough: the check points that land on the other cells
                # differ (they refuse another shot of the scene shown as small)
                continue
            collages += family == "collage-2x2"
            assert [m.item for m in result.matches] == [item], (family, seed, result.matches)
            (m,) = result.matches
            if m.method == LOCAL_FEATURES:
                by_local += 1
                assert m.distance >= MIN_INLIERS == m.threshold
                assert dict(m.detail)["inliers"] == m.distance
                # the content check was made and the copy showed the registered content
                assert dict(m.detail)["unlike_keypoints"] <= SEARCH_LIMITS[0]
                assert "verified geometrically" in describe_match(
                    m.method, m.distance, m.threshold, window=m.window
                )
            else:
                assert m.distance <= 31 or "corroborated_inliers" in dict(m.detail)
    assert by_local >= len(seeds)  # PDQ's windows alone would miss these
    assert collages >= len(seeds) - 1


def test_hard_distractors_never_match(sqlite_db: Database, tmp_path: Path) -> None:
    _register(sqlite_db, tmp_path, [21, 22, 23, 24, 25, 26])
    matcher = Matcher(sqlite_db)
    rng = np.random.default_rng(7)
    for kind in DISTRACTORS:
        queries = [_query(matcher, distractor(kind, int(rng.integers(10**6)))) for _ in range(4)]
        for result in matcher.match(queries):
            assert result.matches == (), (kind, result.matches)


def test_withdrawn_item_is_not_found_by_its_features(sqlite_db: Database, tmp_path: Path) -> None:
    (item,) = _register(sqlite_db, tmp_path, [31])
    matcher = Matcher(sqlite_db)
    copy = hard_copy("crop-two-thirds", original(31), 5)
    assert [m.item for m in matcher.match([_query(matcher, copy)])[0].matches] == [item]
    banks.withdraw_item(sqlite_db, "victim", item)
    assert matcher.match([_query(matcher, copy)])[0].matches == ()
    banks.restore_item(sqlite_db, "victim", item)
    assert [m.item for m in matcher.match([_query(matcher, copy)])[0].matches] == [item]


def test_the_matcher_verifies_a_candidate_with_the_features_the_store_holds(
    sqlite_db: Database, tmp_path: Path
) -> None:
    # the matcher keeps the strongest descriptors for voting; a candidate's keypoints are
    # read from the store when it is verified (the last ones read are kept)
    (item,) = _register(sqlite_db, tmp_path, [33])
    matcher = Matcher(sqlite_db)
    copy = _query(matcher, hard_copy("rotated", original(33), 4))
    read: list[int] = []
    stored = matcher._stored_features

    def counted(item_id: int) -> LocalFeatures | None:
        read.append(item_id)
        return stored(item_id)

    (bank,) = matcher._banks.values()
    bank.features._load = counted
    (result,) = matcher.match([copy])
    assert [(m.item, m.method) for m in result.matches] == [(item, LOCAL_FEATURES)]
    assert read == [item]
    matcher.match([copy])
    assert read == [item]  # kept since
    with sqlite_db.session() as session:  # behind the matcher's back: nothing to verify
        session.execute(delete(ItemFeatures))
    bank.features._cache.clear()
    assert matcher.match([copy])[0].matches == ()
    assert read == [item, item]


def _far_hash(pdq: str, bits: int) -> PdqSignal:
    """A hash `bits` bits away from `pdq`: a PDQ match no partner would make at 31."""
    value = bytearray(bytes.fromhex(pdq))
    for bit in range(bits):
        value[bit // 8] ^= 1 << (bit % 8)
    return PdqSignal(PdqHash.from_hex(value.hex()), 100)


def test_pdq_match_above_31_bits_is_refused_unless_local_features_confirm_it(
    db: Database, tmp_path: Path
) -> None:
    banks.create_bank(db, "wide", threshold=48)  # lets a whole-image hash match at 40 bits
    path = tmp_path / "original.jpg"
    path.write_bytes(jpeg(original(41), 90))
    (outcome,) = banks.add_images(db, "wide", [path], extras=EXTRAS)
    item = outcome.item_id
    (info,) = banks.list_items(db, "wide")
    assert info.pdq is not None
    signal = (QuerySignal(WindowKind.WHOLE, Dihedral.ORIGINAL, _far_hash(info.pdq, 40)),)
    matcher = Matcher(db)

    alone = matcher.match([Query(signal)])[0]
    assert alone.matches == ()
    unrelated = ((WindowKind.WHOLE.value, _features(distractor("other-picture", 3))),)
    assert matcher.match([Query(signal, features=unrelated)])[0].matches == ()

    rotated = hard_copy("rotated", original(41), 9)
    confirmed = ((WindowKind.WHOLE.value, _features(rotated)),)
    (m,) = matcher.match([Query(signal, features=confirmed)])[0].matches
    assert (m.item, m.method, m.distance) == (item, "pdq", 40)
    points = dict(m.detail)["corroborated_inliers"]
    assert isinstance(points, int) and points >= MIN_INLIERS
    text = describe_match(m.method, m.distance, m.threshold, corroborated=points)
    assert "corroborated by local features" in text
    assert "confirmée par les points" in describe_match(
        m.method, m.distance, m.threshold, corroborated=points, lang="fr"
    )


def test_pdq_match_within_31_bits_stands_alone(sqlite_db: Database, tmp_path: Path) -> None:
    (item,) = _register(sqlite_db, tmp_path, [42])
    (info,) = banks.list_items(sqlite_db, "victim")
    assert info.pdq is not None
    signal = (QuerySignal(WindowKind.WHOLE, Dihedral.ORIGINAL, _far_hash(info.pdq, 20)),)
    (m,) = Matcher(sqlite_db).match([Query(signal)])[0].matches
    assert (m.item, m.method, m.distance) == (item, "pdq", 20)


def test_index_proposes_the_registered_item_among_many_and_forgets_removed_ones() -> None:
    stored = {seed: _features(jpeg(original(100 + seed))) for seed in range(30)}
    index = FeatureIndex(stored.get)
    for seed, features in stored.items():
        index.add(seed, features)
    query = _features(hard_copy("crop-two-thirds", original(117), 3))
    assert 17 in index.candidates(query)
    reference = index.features_of(17)
    assert reference is not None
    check = verify(query, reference)
    assert check is not None and check.inliers >= MIN_INLIERS
    index.remove(17)
    assert 17 not in index.candidates(query)
    assert index.features_of(17) is None
    index.add(17, _features(jpeg(original(117))))
    assert 17 in index.candidates(query)


def test_the_index_reads_a_candidates_features_back_and_keeps_only_the_last_read() -> None:
    stored = {seed: _registered(jpeg(original(130 + seed))) for seed in range(4)}
    read: list[int] = []

    def load(item: int) -> LocalFeatures | None:
        read.append(item)
        return stored.get(item)

    index = FeatureIndex(load, cached=2)
    for item, features in stored.items():
        index.add(item, features)
    query = _features(hard_copy("crop-two-thirds", original(132), 5))
    assert 2 in index.candidates(query)
    assert read == []  # voting reads nothing back
    reference = index.features_of(2)
    assert reference is stored[2] and read == [2]
    check = verify(query, reference)
    assert check is not None and check.inliers >= MIN_INLIERS
    assert index.features_of(2) is reference and read == [2]  # kept
    index.features_of(0)
    index.features_of(1)  # two read since: 2 is no longer kept
    assert read == [2, 0, 1]
    assert index.features_of(2) is reference and read == [2, 0, 1, 2]
    assert index.features_of(1) is stored[1] and read == [2, 0, 1, 2]  # still kept
    # a removed item is forgotten, read back no more; added again, it is read afresh
    index.remove(1)
    assert index.features_of(1) is None and read == [2, 0, 1, 2]
    index.add(1, stored[1])
    assert index.features_of(1) is stored[1] and read == [2, 0, 1, 2, 1]
    # a store that no longer has an item's features: nothing to verify, nothing kept
    del stored[3]
    assert index.features_of(3) is None and index.features_of(3) is None
    assert read == [2, 0, 1, 2, 1, 3, 3]


def test_removals_and_additions_leave_the_votes_of_an_index_built_afresh() -> None:
    # the index renumbers items' slots and drops removed ones' postings: what it proposes
    # then is what an index built from the remaining items alone proposes
    stored = {seed: _features(jpeg(original(150 + seed))) for seed in range(12)}
    queries = [_features(hard_copy("crop-two-thirds", original(150 + s), s)) for s in range(12)]
    index = FeatureIndex(stored.get)
    for item, features in stored.items():
        index.add(item, features)
    index.candidates(queries[0])  # merged
    for item in (1, 4, 5, 9):
        index.remove(item)
    index.add(20, stored[4])  # pending, then merged with the rest
    index.add(3, stored[3])  # added again: the removed items' rows are dropped
    fresh = FeatureIndex(stored.get)
    for item in (0, 2, 3, 6, 7, 8, 10, 11):
        fresh.add(item, stored[item])
    fresh.add(20, stored[4])
    assert len(index) == len(fresh) == 9
    assert [index.candidates(q) for q in queries] == [fresh.candidates(q) for q in queries]
    assert 20 in index.candidates(queries[4]) and 4 not in index.candidates(queries[4])


@pytest.mark.parametrize("reserved", [0, 5, 12, 40])
def test_an_index_made_room_for_proposes_what_one_grown_as_it_goes_proposes(reserved: int) -> None:
    # a bank's load reserves room for its items' voting descriptors (one array, given back in
    # place when merged): too little room, or too much, changes nothing of what is proposed
    stored = {seed: _features(jpeg(original(170 + seed))) for seed in range(12)}
    queries = [_features(hard_copy("crop-two-thirds", original(170 + s), s)) for s in range(12)]
    grown, made = FeatureIndex(stored.get), FeatureIndex(stored.get)
    made.reserve(reserved)
    for item, features in stored.items():
        grown.add(item, features)
        made.add(item, features)
    assert [made.candidates(q) for q in queries] == [grown.candidates(q) for q in queries]
    assert made.nbytes == grown.nbytes  # the room left is given back
    made.reserve(3)  # more items on top of merged ones
    grown.add(30, stored[2])
    made.add(30, stored[2])
    assert [made.candidates(q) for q in queries] == [grown.candidates(q) for q in queries]


def _other_shot(picture: Image.Image, seed: int) -> bytes:
    """Another shot of the same scene: the camera moved sideways by 3 % and a dozen things in
    it moved (patches of the scene itself, put elsewhere), as a series or burst has them."""
    rng = np.random.default_rng(seed)
    width, height = picture.size
    shift = int(width * 0.03)
    shot = picture.crop((shift, 0, width, height)).copy()
    side = int(min(width, height) * 0.14)
    for _ in range(12):
        x, y = (int(v) for v in rng.integers(0, (shot.width - side, shot.height - side)))
        u, v = (int(c) for c in rng.integers(0, (shot.width - side, shot.height - side)))
        shot.paste(picture.crop((u, v, u + side, v + side)), (x, y))
    return jpeg(shot, 88)


@pytest.mark.parametrize("seed", [51, 52, 53])
def test_another_shot_of_the_same_scene_is_refused_where_a_copy_is_verified(seed: int) -> None:
    # bench/robustness.py: shots of one scene agree geometrically (hundreds of inliers, the
    # camera moved by a few %); only the content at each registered keypoint tells them apart.
    picture = original(seed)
    reference = _registered(jpeg(picture, 90))
    assert reference.octaves is not None and reference.angles is not None
    other = _features(_other_shot(picture, seed))
    geometric = verify(other, reference, limits=(1.0, 1.0))
    assert geometric is not None and geometric.inliers >= MIN_INLIERS  # geometry alone: a match
    assert geometric.unlike.beyond(*SEARCH_LIMITS)
    assert verify(other, reference) is None
    copy = _features(hard_copy("crop-two-thirds", picture, seed))
    check = verify(copy, reference)
    assert check is not None and check.unlike.keypoints is not None
    assert not check.unlike.beyond(*SEARCH_LIMITS)


def test_features_of_an_old_registration_without_angles_are_still_read_and_verified() -> None:
    features = _features(jpeg(original(4)))
    old = LocalFeatures(features.width, features.height, features.points, features.descriptors)
    again = LocalFeatures.from_bytes(old.to_bytes())
    assert again.octaves is not None and (again.octaves == UNKNOWN_OCTAVE).all()
    check = verify(_features(hard_copy("crop-two-thirds", original(4), 9)), again)
    assert check is not None and check.unlike == Unlike()  # the content check cannot be made


def _scene(seed: int, things: int, shift: float) -> Image.Image:
    """A textured place with flat things standing in it (few keypoints see them), the camera
    moved sideways by `shift` of the width; `seed` draws where the things stand."""
    place = original(60).resize((880, 600))
    shot = place.crop((int(880 * (0.05 + shift)), 0, int(880 * (0.05 + shift)) + 800, 600))
    draw = ImageDraw.Draw(shot)
    rng = np.random.default_rng(seed)
    for _ in range(things):
        x, y = (int(v) for v in rng.integers(40, (720, 520)))
        size = int(rng.integers(40, 90))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.polygon(
            [(x, y - size), (x - size // 2, y + size // 2), (x + size // 2, y + size // 2)],
            fill=colour,
        )
    return shot


def test_flat_things_moved_in_the_same_place_are_seen_by_the_check_points() -> None:
    # bench/corpus.py's series: other trees and houses, flat colours on a meadow; the scene's
    # keypoints (its texture) all agree, the check points on a grid see what moved.
    reference = _registered(jpeg(_scene(1, 6, 0.0), 90))
    other = _registered(jpeg(_scene(2, 6, 0.03), 88))
    geometric = verify(other, reference, limits=(1.0, 1.0))
    assert geometric is not None and geometric.inliers >= MIN_INLIERS
    assert geometric.unlike.checks is not None and geometric.unlike.checks > SEARCH_LIMITS[1]
    assert verify(other, reference) is None
    copy = _registered(hard_copy("crop-two-thirds", _scene(1, 6, 0.0), 3))
    check = verify(copy, reference)
    assert check is not None and check.unlike.checks is not None
    assert not check.unlike.beyond(*SEARCH_LIMITS)


def test_a_copy_found_through_a_collage_cell_needs_its_check_points_seen() -> None:
    # bench/robustness.py: a landscape's sky and hills taken for a collage cell hid from the
    # content check what another shot of it changed.
    reference = _registered(jpeg(original(5), 90))
    assert reference.check_points is not None and len(reference.check_points) > 0
    query = _features(jpeg(original(5), 80))
    seen = Verification(40, 1.0, 0.0, Unlike(0.0, 0.0))
    unseen = Verification(40, 1.0, 0.0, Unlike(0.0, None))
    assert service._told(WindowKind.CELL.value, False, seen, query, reference)
    assert not service._told(WindowKind.CELL.value, False, unseen, query, reference)
    assert service._told(WindowKind.WHOLE.value, False, unseen, query, reference)
    assert service._told(WindowKind.CELL.value, True, unseen, query, reference)  # a PDQ match's


def _page_mask_oracle(grey: np.ndarray) -> np.ndarray | None:
    """features._off_page written plainly (numpy, every pixel), as it first was."""
    counts = np.bincount(grey.ravel(), minlength=256)
    level = int(np.argmax(counts))
    near = np.abs(grey.astype(np.int16) - level) <= features_module._PAGE_TOLERANCE
    if near.mean() < features_module._PAGE_SHARE:
        return None
    block = features_module._BLOCK
    height, width = grey.shape
    rows, cols = -(-height // block), -(-width // block)
    padded = np.zeros((rows * block, cols * block), bool)
    padded[:height, :width] = near
    share = padded.reshape(rows, block, cols, block).mean(axis=(1, 3))
    content = share < features_module._PAGE_BLOCK_SHARE
    if content.mean() < features_module._PAGE_CONTENT_MIN:
        return None
    keep = np.repeat(np.repeat(content, block, 0), block, 1)
    return (keep[:height, :width] * 255).astype(np.uint8)


@pytest.mark.parametrize("seed", range(6))
def test_the_page_mask_is_the_plain_computations_on_pages_photos_and_text(seed: int) -> None:
    """The mask that keeps a page's text from taking the keypoints (computed with OpenCV's
    histogram and integral image) is the plain per-pixel one, on pages showing a picture,
    photographs, text pages and interfaces, at sizes that are no multiple of its blocks."""
    pictures = [
        hard_copy("web-page", original(seed), seed),
        hard_copy("post-screenshot", original(seed), seed),
        jpeg(original(seed)),
        *(distractor(kind, seed) for kind in DISTRACTORS),
    ]
    masked = 0
    for data in pictures:
        luma = np.clip(decode_luma(data).luma, 0, 255).astype(np.uint8)
        for grey in (luma, luma[: 16 * 7 + 5, : 16 * 9 + 3]):
            expected = _page_mask_oracle(grey)
            found = features_module._off_page(np.ascontiguousarray(grey))
            assert (found is None) == (expected is None)
            if expected is not None:
                masked += 1
                assert found is not None and found.dtype == np.uint8
                assert np.array_equal(found, expected)
    assert masked > 0  # some of them are pages


def test_a_voting_rows_item_is_found_whatever_the_items_sizes() -> None:
    # items of 40 to 500 keypoints (40 to 300 voting rows), some removed: each row's slot, as
    # the votes find it, is the one a binary search over the items' bounds finds
    rng = np.random.default_rng(8)
    index = FeatureIndex(lambda item: None)
    for item in range(600):
        n = int(rng.integers(MIN_FEATURES, 501))
        descriptors = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        index.add(item, LocalFeatures(512, 384, np.zeros((n, 2), np.float32), descriptors))
    for item in range(0, 600, 7):
        index.remove(item)
    index.add(600, LocalFeatures(512, 384, np.zeros((40, 2), np.float32), descriptors[:40]))
    index.candidates(LocalFeatures(512, 384, np.zeros((40, 2), np.float32), descriptors[:40]))
    rows = np.arange(index._bounds[-1], dtype=np.int32)
    expected = np.searchsorted(index._bounds, rows, side="right") - 1
    assert np.array_equal(index._slots_of(rows), expected)


def test_pairs_on_too_few_registered_points_are_refused_without_ransac(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Query points whose nearest registered descriptors are only 5 registered points (each
    met by 12 query points, every pair passing the ratio test) cannot give RANSAC 12 distinct
    seeds: verify refuses them before it, as it did after it; with 12 such points RANSAC runs
    and a real copy is still verified."""
    import cv2

    from rempart.matching import features as matching_features

    reference = _registered(jpeg(original(3)))
    calls: list[int] = []
    estimate = cv2.estimateAffinePartial2D

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return estimate(*args, **kwargs)

    monkeypatch.setattr(cv2, "estimateAffinePartial2D", counted)

    def query_on(points: int) -> LocalFeatures:
        picked = np.arange(60) % points
        return LocalFeatures(
            reference.width,
            reference.height,
            reference.points[picked] + np.float32(0.25),
            reference.descriptors[picked].copy(),
        )

    assert matching_features.verify(query_on(5), reference) is None
    assert calls == []
    assert matching_features.verify(query_on(12), reference) is None  # too few, as before
    assert calls  # but only RANSAC's answer told
    calls.clear()
    assert matching_features.verify(_features(jpeg(original(3))), reference) is not None
    assert calls


@pytest.mark.parametrize("key_bits", [16, 20, 24])
def test_bucket_keys_are_the_descriptors_bits_at_each_tables_positions(key_bits: int) -> None:
    """The index's keys (in C) against their plain definition: numpy's unpacked bits at each
    table's positions, bit b of a key being the b-th position's."""
    from rempart.matching import features as matching_features
    from rempart.matching._mih import bucket_keys

    rng = np.random.default_rng(key_bits)
    for n in (0, 1, 500, 3_000):
        codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        bits = np.unpackbits(codes, axis=1).astype(np.int64)
        positions = matching_features._POSITIONS[:, :key_bits]
        plain = np.stack([bits[:, pos] @ (1 << np.arange(key_bits)) for pos in positions])
        keys = matching_features._keys(codes, key_bits)
        assert keys.dtype == np.int64 and keys.shape == (len(positions), n)
        assert (keys == plain.reshape(len(positions), n)).all()
    with pytest.raises(ValueError, match="positions"):
        bucket_keys(np.zeros((2, 32), np.uint8), np.array([[256]]))


def test_the_best_ranked_candidate_is_verified_on_fewer_votes_than_the_others() -> None:
    # a picture shown small keeps few of its registered corners: the candidate the votes rank
    # first is verified from _MIN_VOTES_BEST votes, every other one from _MIN_VOTES
    rng = np.random.default_rng(12)
    stored = {item: rng.integers(0, 256, (300, 32), dtype=np.uint8) for item in range(40)}
    index = FeatureIndex(lambda item: None)
    for item, descriptors in stored.items():
        index.add(item, LocalFeatures(512, 384, np.zeros((300, 2), np.float32), descriptors))
    noise = rng.integers(0, 256, (100, 32), dtype=np.uint8)  # ~128 bits from every descriptor

    def query(*shared: tuple[int, int]) -> LocalFeatures:
        rows = np.concatenate([noise, *(stored[item][:n] for item, n in shared)])
        return LocalFeatures(512, 384, np.zeros((len(rows), 2), np.float32), rows)

    assert _MIN_VOTES_BEST < 6 < _MIN_VOTES
    assert index.candidates(query((5, 6), (9, 5))) == [5]
    assert index.candidates(query((5, _MIN_VOTES_BEST - 1))) == []
    assert index.candidates(query((5, _MIN_VOTES + 1), (9, _MIN_VOTES), (11, 6))) == [5, 9]


def test_a_mirrored_copy_whose_whole_hash_lies_beyond_31_bits_is_corroborated_mirrored_back(
    sqlite_db: Database, tmp_path: Path
) -> None:
    # ORB's descriptors do not mirror: a mirrored copy's whole hash met above 31 bits (through
    # the query's mirrored variant) is verified on the query's features mirrored back
    (item,) = _register(sqlite_db, tmp_path, [43])
    (info,) = banks.list_items(sqlite_db, "victim")
    assert info.pdq is not None
    matcher = Matcher(sqlite_db)
    mirror = original(43).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    features = _query(matcher, jpeg(mirror)).features
    own = next(f for kind, f in features if kind == WindowKind.WHOLE.value)
    (bank,) = matcher._banks.values()
    reference = bank.features.features_of(item)
    assert reference is not None
    assert verify(own, reference, CORROBORATION_LIMITS) is None  # the mirror's own features

    def whole(variant: Dihedral, bits: int) -> tuple[QuerySignal, ...]:
        return (QuerySignal(WindowKind.WHOLE, variant, _far_hash(info.pdq or "", bits)),)

    (m,) = matcher.match([Query(whole(Dihedral.FLIP_Y, 44), features=features)])[0].matches
    assert (m.item, m.method, m.distance, m.variant) == (item, "pdq", 44, Dihedral.FLIP_Y)
    points = dict(m.detail)["corroborated_inliers"]
    assert isinstance(points, int) and points >= MIN_INLIERS
    # not through a mirrored variant: the features as they are, which do not agree
    assert matcher.match([Query(whole(Dihedral.ROTATE_90, 44), features=features)])[0].matches == ()
    # beyond the picture windows' threshold, or with nothing to corroborate it: no match
    assert matcher.match([Query(whole(Dihedral.FLIP_Y, 53), features=features)])[0].matches == ()
    assert matcher.match([Query(whole(Dihedral.FLIP_Y, 44))])[0].matches == ()
    unrelated = ((WindowKind.WHOLE.value, _features(distractor("other-picture", 3))),)
    assert matcher.match([Query(whole(Dihedral.FLIP_Y, 44), features=unrelated)])[0].matches == ()


def test_a_cell_shown_small_is_corroborated_by_its_features_taken_at_the_registered_size(
    sqlite_db: Database, tmp_path: Path
) -> None:
    # a page of text's centred square shown 160 pixels wide (a collage's cell): its strokes
    # give no corner in common with the registered picture's as shown; the cell's hash, met
    # above 31 bits on the registered square, says which part it may show, and its features
    # taken again at that part's registered size agree
    page = DISTRACTORS["text-page"](np.random.default_rng(0))
    (item,) = register(sqlite_db, tmp_path, [page])
    with sqlite_db.session() as session:
        square = session.execute(
            select(ItemSignal.pdq).where(
                ItemSignal.item_id == item, ItemSignal.label == "centre-square"
            )
        ).scalar_one()
    width, height = page.size
    side = min(width, height)
    box = ((width - side) // 2, (height - side) // 2, (width + side) // 2, (height + side) // 2)
    cell = jpeg(page.crop(box).resize((160, 160), Image.Resampling.LANCZOS))
    features = ((WindowKind.CELL.value, _features(cell)),)
    matcher = Matcher(sqlite_db)
    matcher.refresh()
    (bank,) = matcher._banks.values()
    reference = bank.features.features_of(item)
    assert reference is not None
    assert verify(features[0][1], reference, CORROBORATION_LIMITS) is None  # as shown
    signal = (QuerySignal(WindowKind.CELL, Dihedral.ORIGINAL, _far_hash(square, 40), "1"),)
    (m,) = matcher.match([Query(signal, features=features)])[0].matches
    assert (m.item, m.window, m.reference, m.reference_label) == (
        item,
        "cell",
        "crop",
        "centre-square",
    )
    points = dict(m.detail)["corroborated_inliers"]
    assert isinstance(points, int) and points >= MIN_INLIERS
    assert matcher.match([Query(signal)])[0].matches == ()  # nothing to corroborate it


def test_registered_boxes_are_where_registration_cuts_its_crops_and_cells() -> None:
    assert registered_box("whole", "", 512, 384) == (0, 0, 512, 384)
    square = registered_box("crop", "centre-square", 512, 384)
    assert square is not None and square[2] - square[0] == square[3] - square[1] == 384
    assert registered_box("grid", "r1c1", 300, 300) == (100, 100, 200, 200)
    assert registered_box("crop", "no-such-crop", 512, 384) is None
    assert registered_box("face", "0", 512, 384) is None


def _shared_object() -> Image.Image:
    """A small object of sharp blocks, as a sprite, a logo or a sign two pictures share."""
    rng = np.random.default_rng(5)
    thing = Image.new("L", (56, 44), 90)
    draw = ImageDraw.Draw(thing)
    for _ in range(14):
        x, y = (int(v) for v in rng.integers(0, (50, 38)))
        width, height = (int(v) for v in rng.integers(4, (14, 12)))
        draw.rectangle([x, y, x + width, y + height], fill=int(rng.integers(0, 256)))
    return thing


def _place_with(seed: int, things_above: int, at: tuple[int, int]) -> Image.Image:
    """A neutral picture: a vertical gradient, round things in its upper `things_above` rows,
    and the shared object standing on a patch of plain ground at `at`."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(60, 180, 384)[:, None] * np.ones((1, 512))
    picture = Image.fromarray(rows.astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    for _ in range(40):
        x, y = int(rng.integers(0, 512)), int(rng.integers(0, things_above))
        radius = int(rng.integers(6, 30))
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=int(rng.integers(256)))
    x, y = at
    draw.rectangle([x - 40, y - 40, x + 96, y + 84], fill=130)
    picture.paste(_shared_object(), at)
    return picture.convert("RGB")


def test_two_pictures_sharing_only_a_small_object_are_not_the_same_picture() -> None:
    # A border crop of a landscape was taken for another that shares only a house, the
    # registered one's ground around it plain (few keypoints, no check point): 24 agreeing
    # points, all on the house, spanned what the registered keypoints reach in the part shown.
    registered = _place_with(2, 150, (300, 270))
    reference = _registered(jpeg(registered, 90))
    other = _features(jpeg(_place_with(3, 384, (100, 60)), 90))
    assert verify(other, reference) is None
    copy = verify(_features(jpeg(registered.crop((150, 120, 512, 384)), 85)), reference)
    assert copy is not None
    whole = verify(_features(jpeg(registered, 80)), reference)
    assert whole is not None and whole.inliers >= MIN_INLIERS
