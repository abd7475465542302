"""Per-kind match thresholds: how far a hash of each window kind may be from a registered one.

Owns the calibrated table and the rule that shifts it with a bank's own threshold. Pure
constants and arithmetic: it must not read the store, the bench's files or anything at import.

How the table was obtained (`.venv/bin/python bench/windows.py --calibrate`, the margin
rule being `propose()` there): 300 generated originals (480x360, every style of
rempart.samples) against 6,000 generated distractors of other seeds than the bench's (3,000
plain, 3,000 altered by the bench's 16 families, so that every window kind meets unrelated
pictures), 1,800,000 distractor x original pairs. For each kind, each pair's smallest
distance over that kind's hashes (quality >= 50), matched as the matcher matches it:
picture windows (8 variants each) against the originals' whole hash; any picture hash against
the two centre crops (CROP); the query's smoothed image against all 65 smoothed crops of the
original (CROP_SMOOTH); grid cells against the same cell, one cell being a match (GRID).

    kind          distractor   registered  pairs        min  p0.001%  p0.01%  p1%  proposed  table
                  images       per item
    whole         6,000         1          1,800,000    68   82       92      104  52        31
    trimmed       1,266         1            379,800    84   90       94      104  52        52
    uncaptioned     382         1            114,600    86   86       92      104  52        52
    screen           52         1             15,600    94   94       94      104  52        52
    cell            235         1             70,500    82   83       88      100  52        52
    deskewed        188         1             56,400    84   85       92      104  52        52
    crop          6,000         2          1,800,000    74   80       90      102  52        52
    crop_smooth   6,000        65          1,800,000    62   74       84       98  46        46
      80% lattice              49                       62   74       84      100  46
      uneven borders           16                       66   82       90      102  50
    grid          6,000         8.3        1,797,203    66   78       86      102  50        50

Proposed = min(the kind's own minimum, the whole image's minimum) - 16 bits. The whole
image's minimum enters every kind because each window is a picture too, and a kind met by
few distractors has a minimum that is high by chance alone (fewer pairs). The closest
pairs were two landscapes (whole, 68; a crop, 74; a smoothed crop, 62) and two pages of
text (one grid cell, 66), far below the bulk (p0.001% 74-94): pictures that share a layout
come closest, so a larger bank will find closer pairs than these 1.8 million did.

The number of registered hashes per item counts: each pair's minimum is taken over all of
the original's hashes of the kind, so an original with 65 smoothed crops comes closer to
some distractor than one with 2 (the two centre crops' minimum is 74, the 65 smoothed
crops' 62, the 16 of them at uneven borders alone 66). The table holds for the crops that
registration_crops() makes: registering more per item needs a new calibration.
The centred square (a third CROP, registered since for collages' cells) was checked apart,
not recalibrated: 200 originals against 1,000 unrelated pictures (half altered, every window
in its 8 variants) came no closer to it than 54 bits (58 and 62 to the two centre crops in
the same run; docs/benchmarks.md, collages).

WHOLE keeps PDQ's standard 31: the hash every list and tool shares, whose threshold others
tuned on natural photographs. The distractors here are generated pictures, which lie
further apart than natural ones (median 116 bits, p1% 104): the windows' 52 is a ceiling
measured on such pictures, to be checked on natural distractors before it is trusted there.
SMOOTH only meets CROP_SMOOTH (whose threshold rules the pair) and is given the same value.
FACE is held at 24 and FACE_BLANKED at 31 (docs/faces.md says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from rempart.hashing.windows import WindowKind

__all__ = ["DEFAULT_BANK_THRESHOLD", "THRESHOLDS", "threshold_for"]

# The bank threshold the table is calibrated for: PDQ's usual 31.
DEFAULT_BANK_THRESHOLD = 31

THRESHOLDS: Mapping[WindowKind, int] = MappingProxyType(
    {
        WindowKind.WHOLE: 31,
        WindowKind.TRIMMED: 52,
        WindowKind.UNCAPTIONED: 52,
        WindowKind.SCREEN: 52,
        WindowKind.CELL: 52,
        WindowKind.DESKEWED: 52,
        # the picture with a tiled watermark taken off (watermark.py): a picture window like
        # the others, met only where an overlay was found (its calibration: docs/benchmarks.md)
        WindowKind.UNMARKED: 52,
        WindowKind.CROP: 52,
        WindowKind.CROP_SMOOTH: 46,
        # SMOOTH (the query's smoothed image) only ever meets CROP_SMOOTH, whose threshold
        # rules the pair; its own entry only sizes the search of the "smooth" slot.
        WindowKind.SMOOTH: 46,
        WindowKind.GRID: 50,
        # Not calibrated on a large set (only two real photographs of faces ship offline; see
        # docs/faces.md): 100 LFW faces on common backgrounds came no closer than 52 bits, but
        # look-alike portraits will be closer, so FACE stays well inside PDQ's 31.
        WindowKind.FACE: 24,
        WindowKind.FACE_BLANKED: 31,
        # A pixelated query's coarse grid against the original's (see mosaic.py): met only
        # by queries found to be mosaics, and kept within PDQ's 31 so that a match stands
        # alone (nothing else can corroborate a mosaic). Calibration below.
        WindowKind.MOSAIC: 31,
    }
)


def threshold_for(kind: WindowKind, bank_threshold: int) -> int:
    """The threshold for `kind` in a bank whose (whole-image) threshold is `bank_threshold`:
    the table is for the default of 31, and a bank's own threshold shifts every kind alike."""
    return max(0, THRESHOLDS[kind] + bank_threshold - DEFAULT_BANK_THRESHOLD)
