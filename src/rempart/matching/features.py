"""The local-feature stage: an inverted index over registered items' ORB descriptors that
proposes a few candidates per query, and the geometric check (RANSAC) that confirms one.

Owns candidate voting and the verification rule (how many consistent points, which transforms
are sane). Must not read the store (the matcher feeds it, and gives it the function that reads
an item's features back) nor extract features (hashing does).

Memory: the index holds what voting needs, each item's _INDEXED_PER_ITEM strongest descriptors
and _INDEXED_WINDOW_KEYPOINTS of its window keypoints, and the postings over them (~20 KB a
picture); a candidate's full features (every keypoint, its angle and level, the check points,
the window keypoints: ~45 KB) are read back when it is verified, and the last _CACHED read are
kept.

Candidates: each descriptor is cut into `_TABLES` keys taken at fixed bit positions (bit
sampling, a locality-sensitive hash for Hamming distance). A query descriptor votes for an
item when the item holds a descriptor in one of its buckets that is within _VOTE_BITS of it;
an item's votes are the distinct query descriptors that voted for it, ranked weighted by their
rarity (a descriptor that votes for many items says little). Keys grow by a bit each
time the bank doubles (16 bits up to ~1M indexed descriptors, then up to 24), so a bucket
holds ~16 postings whatever the bank's size: a query reads about as many postings at 100,000
pictures as at 1,000, and scans no item list. Keys so common that they say nothing (flat
edges, text strokes) are skipped.

Verification: the query's descriptors are matched to the candidate's (2 nearest, Lowe's ratio
test), and a similarity transform (rotation, uniform scale, shift) is fitted with RANSAC; it
then gathers the near pairs the ratio test dropped that it brings together (_guided). A
candidate is confirmed when at least `MIN_INLIERS` distinct registered points agree, spread
over a real share of the part of the picture the query shows (where no check point could be
compared and nothing else vouches, of that part itself, not only of the keypoints it holds:
an object two pictures share is not either picture), under a transform a copy can
have (scale 1/8 to 4), and when
the query shows the registered content where it shows the picture: brought back to the
registered geometry, the query's descriptors at the registered keypoints (their own angle and
pyramid level) match theirs (`unlike_share`). Another shot of the same scene agrees in
geometry but not, at the keypoints that see what moved, in content. Where the geometry falls
short (fewer than MIN_INLIERS points, down to _MIN_VOUCHED, or points bunched in a band: a
magnified off-centre crop), the content check, made on enough points, vouches instead
(`Unlike.vouches`). Where the registered keypoints do not verify it, a candidate's window
keypoints (rempart.hashing.features, WINDOW_SHARE: a magnified crop's own corners) are
matched the same way, the content still checked on the registered keypoints and check
points, when the votes through them already agree on a place (`_windows_agree`: an
unrelated picture's candidates seldom pay for it).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rempart.hashing.features import (
    CHECK_LEVEL,
    DESCRIPTOR_BYTES,
    MIN_FEATURES,
    ORB_SCALE,
    UNKNOWN_OCTAVE,
    LocalFeatures,
    check_keypoint,
    orb,
)
from rempart.matching._mih import bucket_keys, near_postings, nearest2

__all__ = [
    "CORROBORATION_LIMITS",
    "MIN_INLIERS",
    "SEARCH_LIMITS",
    "Candidate",
    "FeatureIndex",
    "Unlike",
    "Verification",
    "verify",
]

# Distinct registered points that must agree on one transform. Unrelated pictures (graphics,
# stripes, text, UI, flat shapes, other photos) reach at most 14 (bench/local_features.py).
MIN_INLIERS = 24
# Registered descriptors indexed per item (strongest first): the only ones held in memory; all
# are read back (FeatureIndex's `load`) to verify a candidate.
_INDEXED_PER_ITEM = 300
# Window keypoints indexed per item besides (each window's strongest first:
# rempart.hashing.features, WINDOW_SHARE): a magnified crop's strongest corners, which the
# picture's own may not hold (bench/corpus.py's originals of seed 3 and their crops as
# bench/robustness.py makes them: the own item a candidate 95 times of 100 with 300 of them,
# 90 without). 150 found 89 of those crops, 300 found 90, at half the memory and voting time
# (+0.1 ms an unrelated picture instead of +0.3).
_INDEXED_WINDOW_KEYPOINTS = 150
# The window keypoints of a candidate are matched only when _WINDOW_VOTES query keypoints or
# more voted for it through them and at least _WINDOW_AGREEING of those they met agree on one
# transform (RANSAC, _WINDOW_ITERATIONS tries), spanning at least _WINDOW_SPREAD of the
# picture's width and of its height (see _windows_agree): the own item of a crop found through
# its windows had 21-115 such votes, half of an unrelated picture's candidates 19 or more.
# Before RANSAC, each query keypoint keeps the nearest window keypoint it met: a glyph meets
# many alike, and RANSAC then agreed on a transform of scale 0 (a screenshot's crop refused).
_WINDOW_VOTES = 20
_WINDOW_AGREEING = 8
_WINDOW_ITERATIONS = 200
_WINDOW_SPREAD = 0.1
# Items whose full features a FeatureIndex keeps once read (~26 KB each): a query verifies at
# most _CANDIDATES of them per bank, and a PDQ match's corroboration its own item.
_CACHED = 64
_TABLES = 3
# Bits per key grow with the bank so that buckets hold about _BUCKET_FILL postings on
# average: a query then reads about as many postings at 100,000 pictures as at 1,000.
_MIN_KEY_BITS, _MAX_KEY_BITS = 16, 24
_BUCKET_FILL = 16
# A vote: a query descriptor with a registered one this close (of 256 bits) in a shared
# bucket. Unrelated ORB descriptors lie ~100 bits apart; the same corner in a copy, ~10-40.
_VOTE_BITS = 48
# Candidates verified per query and bank, best voted first, and the votes they need (a copy
# under a caption or letterboxed, its strongest corners elsewhere, had 9: bench/robustness.py;
# at most _CANDIDATES are verified whatever the floor), ranked by the votes through the
# registered keypoints and the window keypoints together (see FeatureIndex.voted).
_CANDIDATES = 3
_MIN_VOTES = 8
# The best-ranked candidate (votes weighted by rarity) is verified from this many votes: a
# picture shown small on a page or in a collage keeps few of its registered corners, and a
# page of text shown a third of its size had 5 votes, all for its own item, and verified on
# 19 points with every point it shows alike (bench/robustness.py, seed 2026).
_MIN_VOTES_BEST = 4
# A bucket holding more than _STOP_FACTOR times the mean is a stop word (a flat edge, a stroke).
_STOP_FACTOR = 4
_STOP_FLOOR = 32
# Query descriptors that vote (the strongest), as many as each item has indexed.
_QUERY_VOTERS = 500
_RATIO = 0.8
# The geometric check starts from pairs that pass the ratio test: RANSAC needs this many of
# them, and this many agreeing, before the transform is trusted to gather the rest (see
# _guided); the agreeing points it then holds must reach MIN_INLIERS.
_MIN_SEED = 12
# A pair gathered with the transform's help: its descriptors this close (a copy's: ~10-40 of
# 256 bits; unrelated ones: ~100).
_GUIDED_BITS = 64
_RANSAC_PIXELS = 4.0  # in the query's scaled picture (FEATURE_SIDE)
_MIN_SCALE, _MAX_SCALE = 0.125, 4.0
# Inliers span at least this share of the width and height that the registered keypoints
# span inside the part of the picture the query shows (a crop, a collage cell shows a part):
# a cluster of points (a logo, a corner) is not the picture, but a copy of a part of it is.
_MIN_SPREAD = 0.2
# The content check: the query brought back to the registered picture's geometry, a registered
# keypoint's descriptor taken again there differs by more than _UNLIKE_BITS (of 256) where the
# content is another (unrelated ORB descriptors lie ~100-128 bits apart; a copy's, within ~40
# however degraded). A copy shows the registered content at nearly every such keypoint inside
# the region it shows; another shot of the same scene, with things moved, added or taken away,
# or seen from elsewhere (parallax), does not where its keypoints see the change (the series
# shots of bench/corpus.py that agree geometrically: 0-67 %, a third of them under 5 %, as flat
# things on plain ground hold few keypoints; the stereo pair: 30 %; copies, composites
# included: 0-6 %, a few web pages and posts 10-19 %).
# Corroborating a PDQ match asks less (CORROBORATION_LIMITS): the hash already says the
# picture or a quarter of it is alike, and stickers, a watermark or a composite's neighbours
# may cover a share of it.
_UNLIKE_BITS = 80
# (keypoints, check points) that may differ: a copy found by its local features alone, and a
# PDQ match's corroboration (a watermark's half-transparent text across the picture changes up
# to a third of the check points: bench/robustness.py)
SEARCH_LIMITS = (0.06, 0.03)
CORROBORATION_LIMITS = (0.15, 0.35)
_MIN_CHECKED = 30  # fewer keypoints to check than this: the check says nothing
# The content check vouching for a copy whose geometry alone falls short (fewer than
# MIN_INLIERS agreeing points, or agreeing points bunched in a band of the part shown): its
# keypoints compared (_MIN_CHECKED seen whole or more), _VOUCH_POINTS registered points seen
# whole in all (keypoints and check points), within SEARCH_LIMITS whatever the limits asked,
# and at least _MIN_VOUCHED points agreeing. A magnified off-centre crop of a drawn picture
# holds few of the registered picture's strongest corners: 16-23 agree, or only those along a
# horizon, while the content check finds every registered point it shows unchanged
# (bench/robustness.py's crops, seeds 11 and 2026); an unrelated picture's descriptors lie
# ~100 bits from the registered ones at nearly every such point.
_MIN_VOUCHED = 16
_VOUCH_POINTS = 64
# Check points are taken on a copy shown smaller than their level holds, down to this many
# pyramid levels coarser (a scale of ~0.48): without them, another shot of the scene shown
# small (letterboxed, in a collage, under a caption, at 0.56-0.75) passed on its keypoints
# alone, which see nothing of the flat things that moved; copies' check points stay alike
# through that blur (bench/robustness.py: no copy lost).
_CHECK_SLACK = 2.5

# Fixed, spread bit positions per table (a seeded permutation: the same on every machine); a
# key of b bits takes each table's first b positions.
_POSITIONS = (
    np.random.default_rng(20261206)
    .permutation(DESCRIPTOR_BYTES * 8)[: _TABLES * _MAX_KEY_BITS]
    .reshape(_TABLES, _MAX_KEY_BITS)
)
_CHUNK = 65_536  # descriptors keyed at a time
_BLOCK = 256  # rows a step of FeatureIndex's row-to-slot table


def _keys(descriptors: NDArray[np.uint8], key_bits: int) -> NDArray[np.int64]:
    """(tables × n) bucket keys of n descriptors: key bit b of table t is the descriptor's
    bit _POSITIONS[t, b] (in C: ~19 µs for a query's 500 descriptors, ~60 through numpy's
    unpacked bits)."""
    return bucket_keys(descriptors, _POSITIONS[:, :key_bits])


def _key_bits(postings: int) -> int:
    wanted = int(np.ceil(np.log2(max(1, postings) / _BUCKET_FILL)))
    return min(_MAX_KEY_BITS, max(_MIN_KEY_BITS, wanted))


@dataclass(slots=True)
class _Table:
    """Postings of one table: rows of the voting descriptors, sorted by key, with offsets."""

    offsets: NDArray[np.int64] = field(
        default_factory=lambda: np.zeros((1 << _MIN_KEY_BITS) + 1, np.int64)
    )
    rows: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))


@dataclass(frozen=True, slots=True)
class Candidate:
    """An item worth verifying, and the votes it had through its window keypoints: rows of
    (query keypoint, window keypoint), or None (not voted for, or none of its windows')."""

    item: int
    window_votes: NDArray[np.int64] | None = field(default=None, repr=False)


class FeatureIndex:
    """What candidate voting needs, in flat arrays: each item's strongest descriptors (up to
    _INDEXED_PER_ITEM, 32 bytes each, item after item) and three tables of postings over them
    (4 bytes each), about 14 KB a picture. An item's full features (every keypoint, its check
    points), needed only to verify it, are read through `load` (the matcher reads the store)
    when it is a candidate; the last `cached` read are kept."""

    def __init__(self, load: Callable[[int], LocalFeatures | None], cached: int = _CACHED) -> None:
        self._load = load
        self._cached = cached
        self._cache: OrderedDict[int, LocalFeatures] = OrderedDict()
        self._tables = [_Table() for _ in range(_TABLES)]
        self._key_bits = _MIN_KEY_BITS
        # the voting descriptors, item after item, with room to grow (grown in place: no copy
        # while a bank loads, one when it merges); merged items are in slots, a slot's rows
        # being bounds[slot]:bounds[slot + 1], and the items added since follow them
        self._descriptors = np.zeros((0, DESCRIPTOR_BYTES), np.uint8)
        self._filled = 0  # rows written, merged or not
        self._reserved = False  # the descriptors' array was made for what is being added
        self._bounds = np.zeros(1, np.int64)
        # the slot of every _BLOCK-th row: a row's slot is a few steps on (an item has at least
        # MIN_FEATURES rows), where a binary search over the bounds took 0.13 ms for 2,000 rows
        self._block_slots = np.zeros(0, np.int64)
        self._owner = np.zeros(0, np.int64)  # slot -> item (removed ones too, until compacted)
        self._alive = np.zeros(0, bool)  # slot -> whether its item is still indexed
        self._sizes = np.zeros(0, np.int64)  # slot -> the item's keypoints
        self._plain = np.zeros(0, np.int64)  # slot -> its first rows not window keypoints
        # added since: item, keypoints, rows, rows not window keypoints
        self._new: list[tuple[int, int, int, int]] = []
        self._slots: dict[int, int] = {}  # item -> its slot (merged or in _new)
        self._rows = 0  # keypoints of the items stored, merged or not, removed or not
        self._dead = 0  # keypoints of removed items, dropped at the next compaction
        self._removed: set[int] = set()  # still in the postings, skipped when voting

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, item: object) -> bool:
        return item in self._slots

    @property
    def nbytes(self) -> int:
        """Memory held by the index's arrays (voting descriptors, postings, the items' slots,
        the features read for verification and kept)."""
        slots = (
            self._bounds,
            self._block_slots,
            self._owner,
            self._alive,
            self._sizes,
            self._plain,
        )
        arrays = (self._descriptors, *slots)
        postings = sum(t.rows.nbytes + t.offsets.nbytes for t in self._tables)
        cached = sum(_features_nbytes(f) for f in self._cache.values())
        return sum(a.nbytes for a in arrays) + postings + cached

    def add(self, item: int, features: LocalFeatures) -> None:
        """Index an item's features (replacing any it had): its strongest descriptors only;
        `load` must give the features back when the item is verified."""
        if item in self._slots or item in self._removed:
            self.remove(item)
            self._compact()
        if len(features) < MIN_FEATURES:
            return  # too plain to be verified: never a candidate
        voters = features.descriptors[:_INDEXED_PER_ITEM]
        plain = len(voters)
        if features.window_descriptors is not None and _INDEXED_WINDOW_KEYPOINTS:
            windows = features.window_descriptors[:_INDEXED_WINDOW_KEYPOINTS]
            voters = np.concatenate([voters, windows])
        end = self._filled + len(voters)
        if end > len(self._descriptors):
            room = max(end, len(self._descriptors) * 5 // 4, 4_096)
            # realloc: a large buffer is moved by remapping its pages, never copied
            self._descriptors.resize((room, DESCRIPTOR_BYTES), refcheck=False)
            self._reserved = False
        self._descriptors[self._filled : end] = voters
        self._filled = end
        self._slots[item] = len(self._owner) + len(self._new)
        self._new.append((item, len(features), len(voters), plain))
        self._rows += len(features)

    def reserve(self, items: int) -> None:
        """Make room for the voting descriptors of `items` more items about to be added (a
        bank's load): one new array, which the merge then need not copy (see _merge)."""
        if self._new or len(self._descriptors) > self._filled:
            return  # room already made, or items waiting to be merged: grown as they come
        # window keypoints vote too; the merge gives back what is left unused
        per_item = _INDEXED_PER_ITEM + _INDEXED_WINDOW_KEYPOINTS
        room = np.empty((self._filled + items * per_item, DESCRIPTOR_BYTES), np.uint8)
        room[: self._filled] = self._descriptors[: self._filled]
        self._descriptors, self._reserved = room, True

    def remove(self, item: int) -> None:
        slot = self._slots.pop(item, None)
        self._cache.pop(item, None)
        if slot is not None:
            self._removed.add(item)
            if slot < len(self._owner):
                self._dead += int(self._sizes[slot])
                self._alive[slot] = False
            else:
                self._dead += self._new[slot - len(self._owner)][1]
        if self._dead > 100_000 and self._dead > self._rows // 4:
            self._compact()

    def features_of(self, item: int) -> LocalFeatures | None:
        """An indexed item's full features, read through `load` unless read lately."""
        if item not in self._slots:
            return None
        features = self._cache.get(item)
        if features is not None:
            self._cache.move_to_end(item)
            return features
        features = self._load(item)
        if features is not None:
            self._cache[item] = features
            while len(self._cache) > self._cached:
                self._cache.popitem(last=False)
        return features

    def candidates(self, query: LocalFeatures, extra: frozenset[int] = frozenset()) -> list[int]:
        """Items worth verifying for this query, best voted first (`extra` ones always)."""
        return [c.item for c in self.voted(query, extra)]

    def voted(self, query: LocalFeatures, extra: frozenset[int] = frozenset()) -> list[Candidate]:
        """`candidates`, each with the votes it had through its window keypoints."""
        chosen = [Candidate(i) for i in extra if i in self._slots]
        if not self._slots or len(query) < MIN_FEATURES:
            return chosen
        self._merge()
        voters = query.descriptors[:_QUERY_VOTERS]
        keys = _keys(voters, self._key_bits)
        mean = len(self._tables[0].rows) / (1 << self._key_bits)
        stop = max(_STOP_FLOOR, int(_STOP_FACTOR * mean))
        # every posting of the kept buckets within _VOTE_BITS of its query descriptor (in C)
        found = [
            near_postings(
                row, table.offsets, table.rows, self._descriptors, voters, stop, _VOTE_BITS
            )
            for table, row in zip(self._tables, keys, strict=True)
        ]
        rows = np.concatenate([near for near, _ in found])
        by = np.concatenate([asked for _, asked in found]).astype(np.int64)
        slot_of = self._slots_of(rows)
        owner = self._owner[slot_of]
        # one vote per (query descriptor, item): distinct pairs
        pairs = np.unique(owner * len(voters) + by)
        owners, voter = pairs // len(voters), pairs % len(voters)
        # the items and their votes: `owners` is sorted already (np.unique's, without its sort)
        first = np.empty(len(owners), bool)
        first[:1] = True
        np.not_equal(owners[1:], owners[:-1], out=first[1:])
        ids, where = owners[first], np.cumsum(first) - 1
        votes = np.diff(np.append(np.flatnonzero(first), len(owners)))
        # ranked by votes weighted by how rare each is: a query descriptor that votes for many
        # items (a glyph, a plain edge) says little, and items made of such (pages, user
        # interfaces) gathered more votes than a magnified crop's own item
        weight = 1.0 / np.bincount(voter, minlength=len(voters))[voter]
        score = np.bincount(where.ravel(), weights=weight, minlength=len(ids))
        order = np.argsort(-score, kind="stable")
        taken = {c.item for c in chosen}
        ranked = zip(ids[order].tolist(), votes[order].tolist(), strict=True)
        for rank, (i, v) in enumerate(ranked):
            if len(chosen) >= _CANDIDATES + len(extra):
                break
            floor = _MIN_VOTES_BEST if rank == 0 else _MIN_VOTES
            if v >= floor and i in self._slots and i not in taken:
                chosen.append(Candidate(i))
                taken.add(i)
        return [self._with_window_votes(c.item, rows, slot_of, owner, by) for c in chosen]

    def _with_window_votes(
        self,
        item: int,
        rows: NDArray[np.int32],
        slot_of: NDArray[np.int64],
        owner: NDArray[np.int64],
        by: NDArray[np.int64],
    ) -> Candidate:
        """A candidate with the votes it had through its window keypoints (query row, window
        keypoint row), from the found postings (`rows`, their slots, items and voters)."""
        mine = np.flatnonzero(owner == item)
        if not len(mine):
            return Candidate(item)
        slot = int(slot_of[mine[0]])
        at = rows[mine] - (self._bounds[slot] + self._plain[slot])
        windowed = at >= 0
        if not windowed.any():
            return Candidate(item)
        return Candidate(item, np.stack([by[mine][windowed], at[windowed]], axis=1))

    def _merge(self) -> None:
        """Fold new items into the arrays and rebuild the postings (with more bits a key
        once the bank has grown). Additions come in bursts (`bank add`, a list import): the
        rebuild runs once, at the next search."""
        if not self._new:
            return
        items, sizes, counts, plain = (np.array(v, np.int64) for v in zip(*self._new, strict=True))
        first = len(self._owner)
        # a fresh array, with no room left: numpy asks the kernel for huge pages for a new large
        # array, not for one grown in place, and the votes' random reads then miss the TLB
        # less (bench/local_features.py at 100,000 pictures). One made by `reserve` is fresh:
        # its room left is given back in place, without a second copy of it all at once.
        if self._reserved:
            self._descriptors.resize((self._filled, DESCRIPTOR_BYTES), refcheck=False)
        else:
            self._descriptors = self._descriptors[: self._filled].copy()
        self._reserved = False
        self._bounds = np.concatenate([self._bounds, self._bounds[-1] + np.cumsum(counts)])
        self._owner = np.concatenate([self._owner, items])
        self._sizes = np.concatenate([self._sizes, np.array(sizes, np.int64)])
        self._plain = np.concatenate([self._plain, plain])
        alive = np.array(
            [self._slots.get(i) == first + n for n, i in enumerate(items.tolist())], bool
        )
        self._alive = np.concatenate([self._alive, alive])
        self._new = []
        self._rebuild()

    def _rebuild(self) -> None:
        live = np.repeat(self._alive, np.diff(self._bounds))
        rows = np.flatnonzero(live).astype(np.int32)
        self._key_bits = _key_bits(len(rows))
        keys = np.empty((_TABLES, len(rows)), np.int32)  # a key has at most _MAX_KEY_BITS bits
        for start in range(0, len(rows), _CHUNK):
            chunk = self._descriptors[rows[start : start + _CHUNK]]
            keys[:, start : start + len(chunk)] = _keys(chunk, self._key_bits)
        for table, row in zip(self._tables, keys, strict=True):
            order = np.argsort(row, kind="stable")
            table.rows = rows[order]
            table.offsets = _offsets(row[order], self._key_bits)
        self._block_slots = (
            np.searchsorted(self._bounds, np.arange(0, self._bounds[-1], _BLOCK), side="right") - 1
        )
        self._removed.clear()

    def _slots_of(self, rows: NDArray[np.int32]) -> NDArray[np.int64]:
        """The slots that merged rows belong to."""
        slots = self._block_slots[rows // _BLOCK]
        while True:
            further = self._bounds[slots + 1] <= rows
            if not further.any():
                return slots
            slots += further

    def _compact(self) -> None:
        """Drop removed items' rows and postings, renumbering the slots."""
        self._merge()
        rows = np.repeat(self._alive, np.diff(self._bounds))
        counts = np.diff(self._bounds)[self._alive]
        self._descriptors = self._descriptors[: len(rows)][rows]
        self._filled = len(self._descriptors)
        self._bounds = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self._owner = self._owner[self._alive]
        self._sizes = self._sizes[self._alive]
        self._plain = self._plain[self._alive]
        self._alive = np.ones(len(self._owner), bool)
        self._slots = {item: slot for slot, item in enumerate(self._owner.tolist())}
        self._rows = int(self._sizes.sum())
        self._dead = 0
        self._rebuild()


def _features_nbytes(features: LocalFeatures) -> int:
    arrays = (
        features.points,
        features.descriptors,
        features.angles,
        features.octaves,
        features.check_points,
        features.check_descriptors,
        features.window_points,
        features.window_descriptors,
    )
    return sum(a.nbytes for a in arrays if a is not None)


def _offsets(sorted_keys: NDArray[np.int32], key_bits: int) -> NDArray[np.int64]:
    counts = np.bincount(sorted_keys, minlength=1 << key_bits)
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Unlike:
    """Shares of a registered picture's points, seen whole in a query, whose content differs
    there: its keypoints and its check points (None: too few to tell, or none stored)."""

    keypoints: float | None = None
    checks: float | None = None
    # how many of each were compared (0 when too few to tell)
    keypoints_compared: int = 0
    checks_compared: int = 0

    def beyond(self, keypoints: float, checks: float) -> bool:
        return (self.keypoints or 0.0) > keypoints or (self.checks or 0.0) > checks

    def vouches(self) -> bool:
        """Whether the content check, made on enough of the registered keypoints the query
        shows, says by itself that the query shows the registered content (SEARCH_LIMITS)."""
        return (
            self.keypoints is not None
            and self.keypoints_compared + self.checks_compared >= _VOUCH_POINTS
            and not self.beyond(*SEARCH_LIMITS)
        )


@dataclass(frozen=True, slots=True)
class Verification:
    """A geometrically confirmed correspondence between a query and a registered item."""

    inliers: int  # distinct registered points that agree on the transform
    scale: float  # how much larger the copy is shown than the registered picture (scaled)
    angle: float  # degrees
    unlike: Unlike = Unlike()  # shares of the registered points it shows whose content differs
    needed: int = MIN_INLIERS  # agreeing points the rule that confirmed it asked for


@dataclass(frozen=True, slots=True)
class _Pairs:
    """Each query descriptor's two nearest registered descriptors (`nearest`, n × 2 rows of
    the reference) and their Hamming distances (`distance`, n × 2), nearest first."""

    nearest: NDArray[np.int32]
    distance: NDArray[np.int32]


def verify(
    query: LocalFeatures,
    reference: LocalFeatures,
    limits: tuple[float, float] = SEARCH_LIMITS,
    window_votes: NDArray[np.int64] | None = None,
) -> Verification | None:
    """Whether the query shows the reference picture (or a part of it), by geometry and by
    content: at most `limits` (keypoints, check points) of the registered points it shows
    whole may differ there (see Unlike). The registered picture's keypoints are tried first;
    then, when the votes through its window keypoints (`Candidate.window_votes`) agree on a
    place (`_windows_agree`), its window keypoints (a magnified crop's corners)."""
    if len(query) < MIN_FEATURES or len(reference) < MIN_FEATURES:
        return None
    import cv2  # loaded only when a candidate is verified

    cv2.setNumThreads(1)  # see rempart.hashing.features.extract_features

    found = _verify_on(cv2, query, reference, reference, limits)
    if found is not None or window_votes is None:
        return found
    windows = _window_set(reference)
    if windows is None or not _windows_agree(cv2, query, windows, window_votes):
        return None
    return _verify_on(cv2, query, windows, reference, limits)


def _windows_agree(
    cv2: Any, query: LocalFeatures, windows: LocalFeatures, votes: NDArray[np.int64]
) -> bool:
    """Whether the votes through window keypoints (query row, window row) hold enough pairs
    that one transform brings together, spread over the picture: the window keypoints are
    matched (their own nearest pairs, ~1 ms) only then. An unrelated picture's votes rarely
    agree (text lines and stripes agree along a line: the spread), a magnified crop's do
    (bench/corpus.py's originals of seed 3, cropped as bench/robustness.py crops: 88 of 100
    crops found, 82 without window keypoints, 93 when every candidate's are matched; 5 of 772
    unrelated pictures' candidates pass)."""
    votes = votes[(votes[:, 1] < len(windows)) & (votes[:, 0] < len(query))]
    # each query keypoint with the nearest of the window keypoints it met: a glyph meets many
    # alike, and all of them at one query point would agree on a transform of scale 0
    bits = np.bitwise_count(
        np.bitwise_xor(query.descriptors[votes[:, 0]], windows.descriptors[votes[:, 1]])
    ).sum(axis=1)
    votes = votes[np.lexsort((bits, votes[:, 0]))]
    first = np.ones(len(votes), bool)
    first[1:] = votes[1:, 0] != votes[:-1, 0]
    votes = votes[first]
    if len(votes) < _WINDOW_VOTES:
        return False
    src = windows.points[votes[:, 1]]
    dst = query.points[votes[:, 0]]
    transform, mask = cv2.estimateAffinePartial2D(
        src,
        dst,
        method=cv2.RANSAC,
        ransacReprojThreshold=_RANSAC_PIXELS,
        maxIters=_WINDOW_ITERATIONS,
        confidence=0.995,
        refineIters=0,
    )
    if transform is None or mask is None:
        return False
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    agreeing = np.unique(votes[mask.ravel() > 0, 1])
    if not _MIN_SCALE <= scale <= _MAX_SCALE or len(agreeing) < _WINDOW_AGREEING:
        return False
    points = windows.points[agreeing]
    span = (points.max(axis=0) - points.min(axis=0)) / (windows.width, windows.height)
    return bool(span.min() >= _WINDOW_SPREAD)


def _window_set(reference: LocalFeatures) -> LocalFeatures | None:
    """The registered picture's window keypoints as a set of their own (no angles or levels:
    they are matched, never checked), or None when it has too few."""
    points, descriptors = reference.window_points, reference.window_descriptors
    if points is None or descriptors is None or len(descriptors) < MIN_FEATURES:
        return None
    return LocalFeatures(reference.width, reference.height, points, descriptors)


def _verify_on(
    cv2: Any,
    query: LocalFeatures,
    matched: LocalFeatures,
    reference: LocalFeatures,
    limits: tuple[float, float],
) -> Verification | None:
    """verify's rule, the query's descriptors matched to `matched` (the registered keypoints
    or its window keypoints, in the same pixels) and the content checked on `reference`."""
    # each query descriptor's two nearest registered ones (OpenCV's knnMatch, k=2, in C)
    pairs = _Pairs(*nearest2(query.descriptors, matched.descriptors))
    good = np.flatnonzero(pairs.distance[:, 0] < _RATIO * pairs.distance[:, 1])
    if len(good) < _MIN_SEED:
        return None
    # RANSAC's inliers are among these pairs, and `seeded` counts their registered points:
    # fewer distinct ones than _MIN_SEED here cannot make _MIN_SEED there (1 unrelated
    # picture's verification in 8 on the demo forum ends here, without RANSAC's ~0.13 ms)
    if len(np.unique(pairs.nearest[good, 0])) < _MIN_SEED:
        return None
    src = matched.points[pairs.nearest[good, 0]]
    dst = query.points[good]
    transform, mask = cv2.estimateAffinePartial2D(
        src,
        dst,
        method=cv2.RANSAC,
        ransacReprojThreshold=_RANSAC_PIXELS,
        maxIters=2000,
        confidence=0.995,
        refineIters=10,
    )
    if transform is None or mask is None:
        return None
    seeded = set(pairs.nearest[good[np.flatnonzero(mask.ravel())], 0].tolist())
    if len(seeded) < _MIN_SEED:
        return None
    transform, registered = _guided(cv2, query, matched, pairs, transform.astype(np.float64))
    if len(registered) < _MIN_VOUCHED:
        return None
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    if not _MIN_SCALE <= scale <= _MAX_SCALE:
        return None
    seen = _shown(query, reference, transform)
    unlike = unlike_share(query, reference, transform, seen)
    if unlike.beyond(*limits):
        return None  # the same scene, not the same picture
    agreeing = matched.points[registered]
    eased = limits[0] > SEARCH_LIMITS[0] or limits[1] > SEARCH_LIMITS[1]
    if not eased and unlike.checks is None and not _covers(agreeing, seen):
        # found by its features alone, no check point told what the rest of the part shown
        # holds, and the agreeing points are a cluster of it: an object two pictures share (a
        # logo, a sign, a sprite) on ground that holds few keypoints, where the content check
        # saw only the object. A PDQ match's corroboration (eased limits) may: the hash says
        # the picture, or a part of it, is alike (a cell photograph's cells, clustered on
        # plain ground: bench/robustness.py, seed 2026)
        return None
    # a cluster of points (a logo, a corner) is not the picture, nor are a few points
    geometric = len(registered) >= MIN_INLIERS and _spread(agreeing, matched.points, seen)
    if not geometric and not unlike.vouches():
        return None  # geometry falls short, and the content check cannot make up for it
    if len(seeded) < MIN_INLIERS and unlike.keypoints is None and unlike.checks is None:
        return None  # found with the transform's help: only the content can confirm it
    angle = float(np.degrees(np.arctan2(transform[1, 0], transform[0, 0])))
    needed = MIN_INLIERS if geometric else _MIN_VOUCHED
    return Verification(len(registered), scale, angle, unlike, needed)


def _guided(
    cv2: Any,
    query: LocalFeatures,
    reference: LocalFeatures,
    pairs: _Pairs,
    transform: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The transform refitted, and the registered points that agree with it: every pair of
    a query descriptor and one of its two nearest registered ones (within _GUIDED_BITS) whose
    points the transform brings together, within a tolerance that grows with the query
    keypoint's pyramid level (a coarse level places its corner less precisely). The ratio test
    drops a corner whose nearest neighbours are alike (text, repeated shapes); the place the
    transform predicts tells them apart."""
    near = pairs.distance <= _GUIDED_BITS  # query by query, its nearest then its second
    if not near.any():
        return transform, np.zeros(0, np.int64)
    ref = pairs.nearest[near].astype(np.int64)
    qry = np.nonzero(near)[0].astype(np.int64)
    src, dst = reference.points[ref].astype(np.float64), query.points[qry].astype(np.float64)
    levels = np.zeros(len(qry)) if query.octaves is None else query.octaves[qry].astype(np.float64)
    tolerance = _RANSAC_PIXELS * ORB_SCALE ** np.minimum(levels, 7)

    def agreeing(transform: NDArray[np.float64]) -> NDArray[np.bool_]:
        predicted = src @ transform[:, :2].T + transform[:, 2]
        return np.asarray(np.hypot(*(predicted - dst).T) <= tolerance)

    agree = agreeing(transform)
    for _ in range(2):  # refitted on all that agree, which may gather more
        if int(agree.sum()) < 3:
            break
        refit, _mask = cv2.estimateAffinePartial2D(src[agree], dst[agree], method=cv2.LMEDS)
        if refit is None:
            break
        again = agreeing(refit.astype(np.float64))
        if again.sum() <= agree.sum():
            break
        transform, agree = refit.astype(np.float64), again
    # one registered point for one query point: a pair counts once on either side
    chosen = _one_to_one(ref[agree], qry[agree])
    return transform, chosen


def _one_to_one(ref: NDArray[np.int64], qry: NDArray[np.int64]) -> NDArray[np.int64]:
    """Distinct registered points among agreeing pairs, each query point used once."""
    _, first = np.unique(qry, return_index=True)
    return np.unique(ref[first])


def _shown(
    query: LocalFeatures, reference: LocalFeatures, transform: NDArray[np.float64]
) -> NDArray[np.uint8]:
    """The part of the registered picture that the query's frame shows (255), in the registered
    picture's pixels: the query's frame brought back by the inverse transform."""
    import cv2

    inverse = cv2.invertAffineTransform(transform)
    return np.asarray(
        cv2.warpAffine(
            np.full((query.height, query.width), 255, np.uint8),
            inverse,
            (reference.width, reference.height),
            flags=cv2.INTER_NEAREST,
            borderValue=0,
        ),
        np.uint8,
    )


def _spread(
    inliers: NDArray[np.float32], points: NDArray[np.float32], seen: NDArray[np.uint8]
) -> bool:
    """Whether the agreeing points span a real share of what the registered keypoints span in
    the part of the picture the query shows: of the whole picture for a whole copy, of the
    part kept for a crop or a collage cell (a crop need not show four fifths of the picture)."""
    height, width = seen.shape
    x = np.clip(points[:, 0].astype(np.int64), 0, width - 1)
    y = np.clip(points[:, 1].astype(np.int64), 0, height - 1)
    inside = points[seen[y, x] > 0]
    if len(inside) < 2:
        return False
    return _spans(inliers, inside.max(axis=0) - inside.min(axis=0))


def _spans(inliers: NDArray[np.float32], reach: NDArray[np.floating[Any]]) -> bool:
    """Whether the agreeing points span _MIN_SPREAD of `reach` (width, height) on both axes."""
    span = inliers.max(axis=0) - inliers.min(axis=0)
    return bool(np.all(span >= _MIN_SPREAD * reach))


def _covers(inliers: NDArray[np.float32], seen: NDArray[np.uint8]) -> bool:
    """Whether the agreeing points span _MIN_SPREAD of the width and height of the part of the
    picture the query shows (its bounding box), whatever keypoints the part holds."""
    rows, columns = np.flatnonzero(seen.any(axis=1)), np.flatnonzero(seen.any(axis=0))
    if len(rows) == 0:
        return False
    extent = np.array([columns[-1] - columns[0] + 1, rows[-1] - rows[0] + 1], np.float64)
    return _spans(inliers, extent)


def unlike_share(
    query: LocalFeatures,
    reference: LocalFeatures,
    transform: NDArray[np.float64],
    seen: NDArray[np.uint8] | None = None,
) -> Unlike:
    """Which share of the registered keypoints and check points, seen whole in the query, have
    a descriptor, taken again on the query warped back to the registered picture's geometry
    (at the point's own angle and pyramid level), unlike the registered one. Nothing can be
    told without query pixels or for an old registration's keypoints (no angles)."""
    angles, octaves = reference.angles, reference.octaves
    if query.pixels is None or angles is None or octaves is None:
        return Unlike()
    if np.any(octaves == UNKNOWN_OCTAVE):
        return Unlike()
    import cv2

    size = (reference.width, reference.height)
    inverse = cv2.invertAffineTransform(transform)
    warped = cv2.warpAffine(query.pixels, inverse, size, flags=cv2.INTER_LINEAR, borderValue=0)
    if seen is None:
        seen = _shown(query, reference, transform)
    room = np.asarray(cv2.distanceTransform(seen, cv2.DIST_L2, 3), np.float32)
    # a copy shown smaller than the registered picture has lost its finest detail (a collage
    # cell, a picture in a page): only the pyramid levels it still holds are checked
    scale = float(np.sqrt(abs(np.linalg.det(transform[:, :2]))))
    finest = np.log(1 / scale) / np.log(ORB_SCALE) - 0.5 if scale < 1 else 0.0
    levels = octaves.astype(np.int64)
    keypoints = [
        cv2.KeyPoint(
            float(reference.points[i, 0]),
            float(reference.points[i, 1]),
            float(31 * ORB_SCALE ** levels[i]),
            float(angles[i]),
            0.0,
            int(levels[i]),
            int(i),
        )
        for i in _seen_whole(reference.points, levels, room, finest).tolist()
    ]
    check_points, check_descriptors = reference.check_points, reference.check_descriptors
    if (
        check_points is not None
        and check_descriptors is not None
        and finest <= CHECK_LEVEL + _CHECK_SLACK
    ):
        level = np.full(len(check_points), CHECK_LEVEL, np.int64)
        keypoints += [
            check_keypoint(
                cv2, float(check_points[j, 0]), float(check_points[j, 1]), len(reference) + j
            )
            for j in _seen_whole(check_points, level, room, min(finest, CHECK_LEVEL)).tolist()
        ]
    if not keypoints:
        return Unlike()
    kept, descriptors = orb().compute(warped, keypoints)
    if descriptors is None or not kept:
        return Unlike()
    rows = np.array([k.class_id for k in kept], np.int64)
    own = rows < len(reference)
    shares: list[float | None] = []
    compared: list[int] = []
    theirs = None if check_descriptors is None else check_descriptors[rows[~own] - len(reference)]
    for chosen, registered in ((own, reference.descriptors[rows[own]]), (~own, theirs)):
        if registered is None or int(chosen.sum()) < _MIN_CHECKED:
            shares.append(None)
            compared.append(0)
            continue
        bits = np.bitwise_count(np.bitwise_xor(descriptors[chosen], registered)).sum(axis=1)
        shares.append(float(np.mean(bits > _UNLIKE_BITS)))
        compared.append(int(chosen.sum()))
    return Unlike(shares[0], shares[1], compared[0], compared[1])


def _seen_whole(
    points: NDArray[np.float32],
    levels: NDArray[np.int64],
    room: NDArray[np.float32],
    finest: float,
) -> NDArray[np.int64]:
    """Rows of the points whose patch the query shows whole, at a level it still holds."""
    height, width = room.shape
    x = np.clip(points[:, 0].astype(np.int64), 0, width - 1)
    y = np.clip(points[:, 1].astype(np.int64), 0, height - 1)
    radius = 16 * ORB_SCALE**levels  # ORB's patch: 31 pixels at level 0
    return np.flatnonzero((room[y, x] > radius) & (levels >= finest))
