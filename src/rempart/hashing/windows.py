"""Query windows: the parts of a fetched image worth hashing besides the whole of it.

Owns finding them in a luma array (borders, caption bars, the photo in a screenshot, collage
cells, a slight rotation), the fixed grid and crop windows both sides may hash, and the pixels
each window is hashed from (cut out, turned upright, smoothed). Pure: arrays in, boxes and
arrays out; it must not decode, hash or match (thresholds live in matching.calibration).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from rempart.hashing.signals import pickled_by_fields

__all__ = [
    "LATTICE_MIDDLE_LABEL",
    "SMOOTH_CENTRE_LABEL",
    "Window",
    "WindowKind",
    "cut_caption_bars",
    "find_deskewed",
    "find_page_regions",
    "find_screen_photo",
    "find_windows",
    "grid_windows",
    "mosaic_windows",
    "registered_box",
    "registration_crops",
    "smooth_windows",
    "split_collage",
    "trim_flat_borders",
    "window_pixels",
]

if TYPE_CHECKING:
    from PIL.Image import Image as PilImage

    from rempart.hashing.watermark import Overlay

Luma = npt.NDArray[np.generic]
Pixels = npt.NDArray[np.float32]
Box = tuple[int, int, int, int]  # left, top, right, bottom (right and bottom exclusive)

# Detection reads every `step`-th pixel so that the long side is at most this: a 1080p query
# costs the same as a 480 px one, and boxes stay within `step` pixels of the truth.
_WORK_SIDE = 512
# A row or column whose luma varies less than this (standard deviation, 0-255 scale) belongs
# to a bar or border: letterbox bars are flat, and JPEG noise on a flat bar stays below ~3.
_FLAT_STD = 4.0
# Bars on every side of one frame share a colour; a picture's own flat margin rarely has it.
_BAR_COLOUR_TOL = 8.0
# Letterbox bars filled with the picture itself, enlarged and blurred (as apps fit a picture
# to a story's frame): a bar line's pixels change smoothly along it (mean absolute second
# difference at most this; JPEG noise on such a bar stays under ~0.5, a picture's lines
# reach several levels), the bars on opposite sides are as wide (the picture is centred),
# and the picture's edge there changes by this much (mean, at both ends) from the bar.
_SOFT_BAR = 1.0
_SOFT_EDGE = 2.0
# Trimming less than this share of a side is noise, not a border.
_MIN_TRIM = 0.02
# What remains must still be a real part of the picture.
_MIN_KEPT_AREA = 0.2
# Caption bars: a line belongs to the bar when this share of its pixels is near the bar's
# colour (glyphs and their JPEG ringing take the rest); runs of other pixels stay short
# (strokes, not shapes: at most this share of the line).
_CAPTION_TOL = 16.0
_CAPTION_MIN_SHARE = 0.4
_CAPTION_MAX_STROKE = 0.12
# A boundary between bar and picture: the median pixel changes by this much across it.
_EDGE_CHANGE = 8.0
_PICTURE_RUN = 0.25
_MAX_PEELS = 4  # rounds of cutting caption bars and flat bars, one inside the other
# Pages around a photo: a frame colour is a page colour when it covers this share of the
# image's outermost pixels; a line is page when this share of it is near a page colour.
_PAGE_TOL = 6.0
_PAGE_COLOUR_SHARE = 0.15
_PAGE_MAJORITY = 0.6
_PAGE_CLEAR = 0.9  # clearly page: peeled in one go before the line-by-line pass
_MAX_PAGE_COLOURS = 3
_PAGE_FLATNESS = 0.7  # share of a page colour's pixels within 2 levels of it (JPEG noise)
_PAGE_AROUND = 0.85  # page share of all that was peeled: text lines leave most of it page
_PHOTO_MAX_PAGE = 0.4
_MAX_NESTED_PAGES = 3  # a phone's bezel, its screen's bars, the page
# Pictures among a page's text and menus (find_page_regions), found on every `step`-th pixel
# with the long side at most _REGION_SIDE: a page is an image whose most common grey level
# (within +-2: flat) covers _REGION_PAGE_SHARE of it and is light or dark, as a web page or
# an app in a light or dark theme is (a sky or a wall of middle tone is no page). Its content
# is what lies more than _PAGE_TOL from that level; an opening of _REGION_KERNEL pixels
# removes text, rules and icons (no closing: it would join a picture to a sidebar beside it).
_REGION_SIDE = 1024
_REGION_PAGE_SHARE = 0.15
_REGION_DARK, _REGION_LIGHT = 56, 200
_REGION_KERNEL = 7
# A page is flatter than _PAGE_TOL: JPEG leaves its ground within +-2 of its level away from
# text. A picture whose own ground lies a few levels off it (a light app's screenshot, a page
# of text or a chart on its own white, 4-6 levels from a white post) is page at _PAGE_TOL and
# opens away; within _REGION_TIGHT_TOL it stays, a block whose box is off the page or
# enclosed by what is (_enclosed) on _REGION_TIGHT_FILL of it, though the opening took its
# page-like parts.
_REGION_TIGHT_TOL = 2
_REGION_TIGHT_FILL = 0.75
_MAX_REGIONS = 8  # each costs 8 hashes and its local features
_REGION_MIN_SIDE = 40  # work pixels
_REGION_MIN_AREA, _REGION_MAX_AREA = 0.01, 0.9  # shares of the image
_REGION_MAX_ASPECT = 4.0  # a picture is at most a panorama; a menu bar is longer
# A picture has most of its pixels away from its most common level (within +-2): a
# photograph 0.8-0.95, a panel of text 0.2-0.3 (of its work pixels).
_REGION_BUSY = 0.5
_REGION_WHOLLY_BUSY = 0.8  # a block less busy may be a picture beside a panel: looked into
_REGION_FILL = 0.35  # share of its box that a region's content fills (a silhouette, too)
# A picture that is itself mostly page-coloured (a screenshot of a light app, a drawing on
# white) opens away with the text; it is still a block of _REGION_BLOCK work pixels squares
# where the page covers less than _REGION_BLOCK_PAGE.
_REGION_BLOCK = 16
_REGION_BLOCK_PAGE = 0.4
# A side of a region lies on the page when this share of one of the lines 2 to
# _REGION_KERNEL + 1 pixels outside it is page;
# a picture on a page has the page (or the screenshot's edge) all around it, and the page on
# at least _REGION_PAGE_SIDES sides: a photograph's sky passing for a page lies on one side.
_REGION_PAGE_LINE = 0.6
_REGION_PAGE_SIDES = 2
# Collage cells: each side at least this share of the image's side, area at least this share.
_MIN_CELL_SIDE = 0.12
_MIN_CELL_AREA = 0.04
_MAX_CELL_ASPECT = 4.0
# Collages without gutters, or with gutters of a pixel or two that the work pixels lose:
# cells of equal size in 1-3 rows and 1-3 columns meet at straight seams, where a line's
# strongest jump between neighbouring pixels (full resolution) lies at one place along the
# whole seam. A seam is looked for within _SEAM_REACH of the side (plus _SEAM_SLACK pixels)
# of a grid line, on at most _SEAM_LINES lines across it; a line takes part when its
# strongest jump there is at least _SEAM_JUMP grey levels (flat beside flat shows no seam).
_SEAM_FRACTIONS = {2: (0.5,), 3: (1 / 3, 2 / 3)}
_SEAM_REACH = 0.02
_SEAM_SLACK = 4
_SEAM_LINES = 256
_SEAM_JUMP = 16.0
_SEAM_WIDTH = 4  # a seam and a gutter of up to 3 pixels: its jumps lie within this many
_SEAM_SHARE = 0.6  # of the lines taking part, this share has its strongest jump on the seam
_SEAM_ACTIVE = 0.25  # and at least this share of all lines takes part
_SEAM_EDGE = 0.15  # a position of the seam holding this share of the jumps bounds a cell
_SEAM_BAND_SHARE = 0.3  # along one band of cells (texture beside it: ~0.1 by chance)
# A seam midway between a grid's lines along this share of the lines its seams run along:
# a pattern (a picture's own straight edge runs along one band of cells)
_PERIODIC = 0.75
# Rotated copies: corners filled flat with one colour; the angles worth turning back.
_FILL_TOL = 6.0
_MIN_ANGLE = 0.5
_MAX_ANGLE = 20.0
_OUTLINE_TOL = 2.0  # pixels (at work scale) between the outline and the fitted rectangle
_MIN_OUTLINE_FIT = 0.5
# A turned-back window is resampled so its long side is at most this (PDQ keeps 64x64).
_UPRIGHT_SIDE = 384
# Two windows this alike cost one hash.
_SAME_WINDOW_IOU = 0.97
# Registration crops (see registration_crops): 80% crops at offsets of 0-20% of each side,
# 7 per side (spacing 20/7 = 2.86%, the middle one centred), and crops whose four margins are
# each one of these (percent of the side).
_CROP_SPAN = 20.0
_CROP_STEPS = 7
_CROP_OFFSETS = tuple((i + 0.5) * _CROP_SPAN / _CROP_STEPS for i in range(_CROP_STEPS))
_BORDER_MARGINS = (3.5, 6.5)
# A picture this close to square (its short side at least 97% of its long one) registers no
# centred square: the square would be its whole picture, whose own hash tolerates the ~1.5%
# cut off each side.
_SQUARE_SLACK = 0.03
# The query's smoothed centre 80 % (smooth_windows) and the lattice crop it shows when the
# query is the whole picture: the one pair of labels the matcher lets meet (see service).
SMOOTH_CENTRE_LABEL = "80"
LATTICE_MIDDLE_LABEL = (
    f"80-x{_CROP_OFFSETS[_CROP_STEPS // 2]:.1f}-y{_CROP_OFFSETS[_CROP_STEPS // 2]:.1f}"
)
# Smoothed windows (see Window.smooth): the image is first reduced by block means so that its
# long side is at most this, then each window is resampled to PDQ's 64 x 64 with a filter
# that leaves nothing finer than that grid can hold.
_SMOOTH_SIDE = 512
_SMOOTH_SIZE = 64


class WindowKind(StrEnum):
    """What a window is. Query kinds are found in a fetched image; registration kinds are
    extra hashes Rempart's own intake may store for an image (opt-in, never exported)."""

    # query side: candidates for "the whole original picture"
    WHOLE = "whole"
    TRIMMED = "trimmed"  # flat borders and letterbox bars removed
    UNCAPTIONED = "uncaptioned"  # caption or text bars cut off the top or bottom
    SCREEN = "screen"  # the photo found inside a screenshot or page capture
    CELL = "cell"  # one cell of a collage, split on its gutters
    DESKEWED = "deskewed"  # a slightly rotated copy turned back upright (angle != 0)
    UNMARKED = "unmarked"  # the whole picture, a tiled half-transparent watermark taken off
    # both sides, matched only against the same kind at the same `label`
    GRID = "grid"  # a fixed sub-window (label says which), against stickers and overlays
    # query side, matched only against CROP_SMOOTH
    SMOOTH = "smooth"  # the whole image, smoothed (see Window.smooth)
    # registration side
    CROP = "crop"  # a crop of the original (label says which), against cropped copies
    CROP_SMOOTH = "crop_smooth"  # a crop, smoothed (label says which), against SMOOTH
    FACE = "face"  # a face with some context around it (label: its index)
    FACE_BLANKED = "face_blanked"  # the whole image with its faces filled flat
    # both sides, matched only against the same kind at the same `label` (the grid)
    MOSAIC = "mosaic"  # the picture reduced to a coarse grid (see rempart.hashing.mosaic)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Window:
    """A box (left, top, right, bottom; right and bottom exclusive) in the luma's pixels.

    `angle` (degrees, counter-clockwise as Pillow's rotate) is the rotation the box's content
    had in the image: the box then bounds the rotated picture, and crop() returns the upright
    rectangle inside it. `blank` boxes are filled with the window's mean luma before cropping
    (faces, for FACE_BLANKED). `label` tells windows of one kind apart where position matters
    (GRID and CROP cells, faces). An `overlay` (UNMARKED) is taken off the box's pixels, which
    crop() returns reduced to 512 pixels (rempart.hashing.watermark).

    `smooth` windows are resampled to 64 x 64 pixels with an anti-aliasing (bicubic)
    filter before hashing, after the image is reduced by block means to at most 512 pixels
    on its long side. PDQ reduces any image to 64 x 64 with two narrow box filters, which let
    fine detail alias: on a page of text, moving a crop by half a percent of its side (two
    pixels at 480) costs ~78 bits. Smoothed, it costs ~12, as on a photograph, which keeps
    its tolerance (bench/windows.py --shifts). Both sides must smooth alike: a smoothed
    hash is only ever compared with another (SMOOTH against CROP_SMOOTH).
    """

    kind: WindowKind
    left: int
    top: int
    right: int
    bottom: int
    angle: float = 0.0
    blank: tuple[tuple[int, int, int, int], ...] = ()
    label: str = ""
    smooth: bool = False
    grid: int = 0  # MOSAIC: the box reduced to this many cells across (mosaic.coarse_view)
    steady: int = 0  # MOSAIC query: how many steady bits of its hash to compare on
    plain_ground: bool = False  # MOSAIC query: fewer of them may differ (mosaic.plain_ground)
    overlay: Overlay | None = None  # UNMARKED: the overlay taken off (watermark.remove_overlay)

    @property
    def box(self) -> Box:
        return self.left, self.top, self.right, self.bottom

    def crop(self, luma: Luma) -> Luma:
        """The window's pixels, turned upright when `angle` is set (then float32, resampled
        to at most 384 pixels on the long side), smoothed when `smooth` is (then float32,
        64 x 64; window_pixels shares the work between windows)."""
        if self.smooth:
            return _Reduced.of(luma).smoothed(self.box)
        if self.grid:
            from rempart.hashing.mosaic import coarse_view

            return coarse_view(luma[self.top : self.bottom, self.left : self.right], self.grid)
        if self.overlay is not None:
            from rempart.hashing.watermark import remove_overlay

            box = luma[self.top : self.bottom, self.left : self.right]
            return remove_overlay(box, self.overlay)
        if self.blank:
            filled = np.array(luma, copy=True)
            fill = filled.mean()
            for left, top, right, bottom in self.blank:
                filled[top:bottom, left:right] = fill
            luma = filled
        if self.angle:
            return _upright(luma, self.box, self.angle)
        return luma[self.top : self.bottom, self.left : self.right]


def window_pixels(luma: Luma, windows: Iterable[Window]) -> Iterator[Luma]:
    """crop() of each window, in order, reducing the image once for all smoothed windows."""
    reduced: _Reduced | None = None
    for window in windows:
        if window.smooth:
            reduced = reduced or _Reduced.of(luma)
            yield reduced.smoothed(window.box)
        else:
            yield window.crop(luma)


# ------------------------------------------------------------------------ the entry point


def find_windows(luma: Luma) -> tuple[Window, ...]:
    """Every query window found in the image, the whole image excepted, in a stable order:
    trimmed, screen, the page's picture regions (largest first), deskewed, collage cells row
    by row, then the boxes left by cutting caption bars (innermost first) and the picture
    between blurred letterbox bars.

    Windows that cover nearly the same pixels as the whole image or as an earlier window
    (IoU > 0.97, same angle) are dropped: each window costs 8 hashes and a chance of a false
    match. Screens, regions and cells come before the caption cuts because they are also
    given their own local features: a caption cut on the same box must not displace them.
    Grid windows are not included: the caller hashes them only where the reference has them
    too (see grid_windows).
    """
    view = _View.of(luma)
    if view is None:
        return ()
    found = [
        view.maybe(WindowKind.TRIMMED, _trimmed(view.pixels)),
        _screen_window(view),
        *_page_regions(luma),
        _deskewed(view),
        *_collage_windows(view),
        *(
            view.window(WindowKind.UNCAPTIONED, box, label="" if i == 0 else str(i))
            for i, box in enumerate(_uncaptioned(view.pixels))
        ),
        view.maybe(WindowKind.TRIMMED, _soft_trimmed(view.pixels)),
    ]
    return tuple(_distinct((w for w in found if w is not None), luma.shape))


# -------------------------------------------------------------------------- one detector each


def trim_flat_borders(luma: Luma) -> Window | None:
    """TRIMMED: the picture inside flat borders or letterbox bars, or None when there is none.

    Rows are trimmed from the top and bottom while they are flat and of their edge's bar
    colour, then columns within the kept rows, which must have the rows' bar colour when
    rows were trimmed: a picture's own flat margin of another colour is kept. A flat image,
    or one whose trimmed part would be too small to stand for the picture, gives None.
    """
    view = _View.of(luma)
    return None if view is None else view.maybe(WindowKind.TRIMMED, _trimmed(view.pixels))


def cut_caption_bars(luma: Luma) -> Window | None:
    """UNCAPTIONED: the picture with caption or text bars cut off, or None when there is none.

    A bar starts with a blank line; its lines have many pixels (40%) near its colour and the
    others in short runs, as glyph strokes are; it ends on a straight edge followed by
    picture (long runs of other colours), so a page of text is no caption. A bar must hold
    some text (a flat border is TRIMMED's). Top and bottom first, then the sides.
    """
    view = _View.of(luma)
    boxes = () if view is None else _uncaptioned(view.pixels)
    return view.window(WindowKind.UNCAPTIONED, boxes[0]) if view and boxes else None


def find_screen_photo(luma: Luma) -> Window | None:
    """SCREEN: the photo inside a screenshot or page capture, or None when there is none.

    The page's colours are those that cover much of the image's outermost pixels (page
    background, header bar, phone bezel). Lines made mostly of page colours (text lines
    included) are peeled off all four sides, always the most page-like side first, so a
    narrow photo is not eaten by its own rows; then again inside what is left, with its own
    outermost colours (a bezel, then the screen's page). The photo must have had page on two
    sides, and what was peeled must be mostly page.
    """
    view = _View.of(luma)
    return None if view is None else _screen_window(view)


def find_page_regions(luma: Luma) -> tuple[Window, ...]:
    """SCREEN (labels region-1, region-2...): the pictures shown on a page, or none when the
    image is no page.

    A page (a web page, a social-network post, an app's screen, a gallery; light or dark) has
    one flat grey level over 15 % of it or more. What is not of that level, once text, rules
    and icons are opened away, falls into blocks; a block is a picture when it is a filled
    rectangle of sensible size and shape (1-90 % of the image, at most 4:1) lying on the page
    on two sides or more (the others at the screenshot's edge). A panel of another flat colour
    (a sidebar, a card) is looked into with that colour as page too, and a picture whose own
    ground lies a few levels off the page's with the page taken within +-2. At most eight, pictures
    before panels of text, the largest first, each edge moved to the strongest straight edge
    nearby.
    """
    return _page_regions(luma)


def split_collage(luma: Luma) -> tuple[Window, ...]:
    """CELL: the cells of a collage, split on gutters (full-length flat rows or columns inside
    the image, cut after cut), each cell trimmed of flat borders. Only when at least two
    cells of sensible size (12% of each side, 4% of the area) are found; row by row. Cells
    that line up in a grid are also given whole, as their row and column bound them (a cell
    whose picture has the gutters' colour at its edges is trimmed into it). Without gutters,
    the cells of a grid of equal cells (up to 3 x 3) met at straight seams."""
    view = _View.of(luma)
    if view is None:
        return ()
    return tuple(_collage_windows(view))


def find_deskewed(luma: Luma) -> Window | None:
    """DESKEWED: a copy rotated by a small angle (0.5-20 degrees) with its corners filled with
    one flat colour (a rotation with expand=True), or None.

    The angle comes from the outline of the content against the fill colour: the slopes of
    its top, bottom, left and right edges, fitted robustly. The window bounds the rotated
    picture and crop() turns it back upright; the fitted rectangle must follow the outline.
    """
    view = _View.of(luma)
    return None if view is None else _deskewed(view)


def grid_windows(luma: Luma) -> tuple[Window, ...]:
    """GRID: the nine cells of a 3x3 grid (labels r0c0 ... r2c2), against stickers, emoji and
    other overlays that cover part of a picture.

    Hashed on both sides, in the original orientation only, and matched label to label: a
    few overlays leave at least two cells clean. Not part of find_windows.
    """
    height, width = luma.shape[:2]
    rows, cols = _thirds(height), _thirds(width)
    return tuple(
        Window(WindowKind.GRID, cols[c], rows[r], cols[c + 1], rows[r + 1], label=f"r{r}c{c}")
        for r in range(3)
        for c in range(3)
    )


def mosaic_windows(luma: Luma, *, registering: bool) -> tuple[Window, ...]:
    """MOSAIC: the whole picture reduced to coarse grids (labels: cells across), against
    pixelated copies (see rempart.hashing.mosaic). Registering: every grid of
    mosaic.GRIDS. A query: only when the picture is a mosaic, the grids its blocks resolve.
    Hashed on both sides in the original orientation only, and matched label to label."""
    from rempart.hashing import mosaic

    height, width = luma.shape[:2]
    steady, plain = 0, False
    if registering:
        grids: tuple[int, ...] = mosaic.GRIDS
    else:
        found = mosaic.find_mosaic(luma)
        grids = () if found is None else mosaic.grids_for(found)
        if found is not None:
            steady, plain = mosaic.steady_bits_for(found), mosaic.plain_ground(found)
    return tuple(
        Window(
            WindowKind.MOSAIC,
            0,
            0,
            width,
            height,
            label=str(g),
            grid=g,
            steady=steady,
            plain_ground=plain,
        )
        for g in grids
    )


def registration_crops(luma: Luma) -> tuple[Window, ...]:
    """Crops of an original that Rempart's own intake stores beside its hash, against cropped
    copies. 68 crops (67 for a square picture), in this order:

    * CROP, hashed as they are, matched against every picture hash of a query (its 8
      variants too): the centre 90% and 80% (labels centre-90, centre-80), and the centred
      square (label centre-square; none when the picture is within 3% of square, its whole
      hash then serves), against a collage's cell: collage makers cut each picture to a
      centred square, which no other crop comes near (bench/robustness.py: a cell is 0-36
      bits from its original's centred square, median 7);
    * CROP_SMOOTH, smoothed (see Window), matched against the query's SMOOTH hash: 80% x 80%
      crops whose left and top offsets run over a 7 x 7 lattice covering 0-20% of each side
      (labels 80-x{left}-y{top}, in percent), against an 80% crop taken anywhere; then crops
      with each of the four margins 3.5% or 6.5% (labels
      border-{left}-{top}-{right}-{bottom}), against uneven borders of 2-8%.

    PDQ tolerates little shift: moving an 80% crop by 1% of a side costs ~30 bits, by 1.5%
    ~42, by 1% of both sides ~44 (median over generated pictures, bench/windows.py
    --shifts), so a registered crop must lie within ~1.5% of any crop to catch it. The
    lattice spacing of 2.86% leaves at most 1.43% on each axis (2.0% at a cell's corner);
    moving a single border costs about half what a shift does, so borders 3% apart suffice.
    Smoothing keeps pages of fine text within the same tolerance (see Window.smooth and
    docs/matching.md for the measured curves).
    """
    height, width = luma.shape[:2]
    crops = [
        Window(WindowKind.CROP, *_centred(width, height, share), label=f"centre-{share}")
        for share in (90, 80)
    ]
    if min(width, height) < (1 - _SQUARE_SLACK) * max(width, height):
        crops.append(
            Window(WindowKind.CROP, *_centred_square(width, height), label="centre-square")
        )
    for top in _CROP_OFFSETS:
        for left in _CROP_OFFSETS:
            box = _margins_box(width, height, left, top, _CROP_SPAN - left, _CROP_SPAN - top)
            label = f"80-x{left:.1f}-y{top:.1f}"
            crops.append(Window(WindowKind.CROP_SMOOTH, *box, label=label, smooth=True))
    for margins in itertools.product(_BORDER_MARGINS, repeat=4):
        box = _margins_box(width, height, *margins)
        label = "border-" + "-".join(f"{m:.1f}" for m in margins)
        crops.append(Window(WindowKind.CROP_SMOOTH, *box, label=label, smooth=True))
    return tuple(crops)


def registered_box(kind: str, label: str, width: int, height: int) -> Box | None:
    """Where a registered hash of this kind and label lies in a picture of `width` x `height`
    (the whole picture for its own hash; a crop or grid cell where registration_crops and
    grid_windows take it), or None for a kind registration does not cut out."""
    if kind == WindowKind.WHOLE:
        return 0, 0, width, height
    if kind == WindowKind.GRID:
        made = grid_windows(np.empty((height, width), np.uint8))
    elif kind in (WindowKind.CROP, WindowKind.CROP_SMOOTH):
        made = registration_crops(np.empty((height, width), np.uint8))
    else:
        return None
    return next(((w.left, w.top, w.right, w.bottom) for w in made if w.label == label), None)


def smooth_windows(luma: Luma) -> tuple[Window, ...]:
    """SMOOTH: the whole image, then its centre 80 % (label "80"), smoothed, to be matched
    against registered CROP_SMOOTH crops (in the original orientation only, as they are).

    The centre crop is the registered lattice's middle crop (LATTICE_MIDDLE_LABEL) when the
    query shows the whole picture, and is matched against that crop only: a copy shrunk to
    a sixth, recoloured or blurred, whose plain hash drifts (pages of text, user interfaces:
    40-78 bits at 15-30 % of their size), stays within ~25 bits of it smoothed
    (bench/robustness.py, seed 2026)."""
    height, width = luma.shape[:2]
    return (
        Window(WindowKind.SMOOTH, 0, 0, width, height, smooth=True),
        Window(
            WindowKind.SMOOTH, *_centred(width, height, 80), label=SMOOTH_CENTRE_LABEL, smooth=True
        ),
    )


# ------------------------------------------------------------------------------ work view


@dataclass(frozen=True, slots=True)
class _View:
    """Every `step`-th pixel of the luma as float32 (the detectors' input), and the luma
    itself for refining the edges of what they find."""

    luma: Luma
    pixels: Pixels
    step: int

    @classmethod
    def of(cls, luma: Luma) -> _View | None:
        if luma.ndim != 2 or min(luma.shape) < 16:
            return None
        step = max(1, math.ceil(max(luma.shape) / _WORK_SIDE))
        return cls(luma, np.asarray(luma[::step, ::step], dtype=np.float32), step)

    @property
    def coarse(self) -> tuple[Pixels, int]:
        """Every other work pixel when the work image is over 256 pixels long, and that
        factor: enough to find a photo in a page, at a quarter of the cost."""
        factor = 2 if max(self.pixels.shape) > _WORK_SIDE // 2 else 1
        return self.pixels[::factor, ::factor], factor

    def maybe(self, kind: WindowKind, box: Box | None, *, scale: int = 1) -> Window | None:
        return None if box is None else self.window(kind, box, scale=scale)

    def window(
        self,
        kind: WindowKind,
        box: Box,
        *,
        label: str = "",
        refine: bool = True,
        scale: int = 1,
    ) -> Window:
        """The box (work pixels) in the luma's pixels, each inner edge moved to the strongest
        straight edge within a few pixels when `refine`: PDQ can move by 30 bits when a
        window is off by one pixel on a 480 px picture of text."""
        height, width = self.luma.shape
        rows, cols = -(-self.pixels.shape[0] // scale), -(-self.pixels.shape[1] // scale)
        step = self.step * scale
        left, top, right, bottom = (
            0 if box[0] <= 0 else box[0] * step,
            0 if box[1] <= 0 else box[1] * step,
            width if box[2] >= cols else min(width, box[2] * step),
            height if box[3] >= rows else min(height, box[3] * step),
        )
        if not refine:
            return Window(kind, left, top, right, bottom, label=label)
        left, top, right, bottom = _snapped(self.luma, (left, top, right, bottom), max(2, step))
        return Window(kind, left, top, right, bottom, label=label)


def _snapped(luma: Luma, box: Box, radius: int) -> Box:
    """A box found on a coarse grid, each inner edge moved to the strongest edge within
    `radius` pixels (an edge at the picture's border stays)."""
    left, top, right, bottom = box
    height, width = luma.shape[:2]
    if left > 0:
        left = _strongest_edge(luma[top:bottom].T, left, radius)
    if right < width:
        right = _strongest_edge(luma[top:bottom].T, right, radius)
    if top > 0:
        top = _strongest_edge(luma[:, left:right], top, radius)
    if bottom < height:
        bottom = _strongest_edge(luma[:, left:right], bottom, radius)
    return left, top, right, bottom


def _strongest_edge(lines: Luma, near: int, radius: int) -> int:
    """The boundary (between line i - 1 and line i) with the largest mean luma change,
    among those within `radius` of `near`."""
    first, last = max(1, near - radius), min(len(lines) - 1, near + radius)
    if last < first:
        return near
    block = np.asarray(lines[first - 1 : last + 1], dtype=np.float32)
    change = np.abs(np.diff(block, axis=0)).mean(axis=1)
    return first + int(change.argmax())


# ----------------------------------------------------------------------------- flat borders


def _trimmed(pixels: Pixels, colour: float | None = None) -> Box | None:
    """Flat bars of one colour (`colour` when given) off the top and bottom, then the sides."""
    height, width = pixels.shape
    box, _ = _bars_off(pixels, (0, 0, width, height), colour)
    return _kept(box, width, height)


def _soft_trimmed(pixels: Pixels) -> Box | None:
    """The picture between blurred letterbox bars (above and below, or left and right: the
    pair that is wider), or None."""
    height, width = pixels.shape
    top, left = _soft_bar(pixels), _soft_bar(pixels.T)
    if top / height >= left / width:  # a frame fits one side of the picture: one pair of bars
        box = (0, top, width, height - top)
    else:
        box = (left, 0, width - left, height)
    return None if box == (0, 0, width, height) else _kept(box, width, height)


def _soft_bar(lines: Pixels) -> int:
    """How wide the smooth bars at both ends of these lines are, 0 when there are none.

    Each end's run of smooth lines may reach into the picture's own smooth part (a sky, a
    page's margin), so the bar is at most the shorter run; within it, the picture's edge
    is where the lines change most, at both ends at once (the picture is centred)."""
    count = len(lines)
    if count < 16 or lines.shape[1] < 3:
        return 0

    def smooth(block: Pixels) -> npt.NDArray[np.bool_]:
        flags: npt.NDArray[np.bool_] = np.abs(np.diff(block, 2, axis=1)).mean(axis=1) <= _SOFT_BAR
        return flags

    limit = count // 2 - 1
    run = min(_leading_run(lines, smooth, limit), _leading_run(lines[::-1], smooth, limit))
    if run < max(2, _MIN_TRIM * count):
        return 0
    # the bar's last lines may be less smooth (the blur of the picture's own edge), and the
    # two ends' edges may lie a line apart (centring, sampling): the edge is looked for a
    # little past the smooth run, each end's change at a line the largest within one line
    reach = min(run + max(4, round(_MIN_TRIM * count)), limit)
    ends = [
        np.abs(np.diff(part[: reach + 1], axis=0)).mean(axis=1) for part in (lines, lines[::-1])
    ]
    near = [np.maximum(np.maximum(e, np.roll(e, 1)), np.roll(e, -1)) for e in ends]
    both = np.minimum(*near)[1:-1]  # both[i]: the edge between lines i + 1 and i + 2
    edges = np.flatnonzero(both >= _SOFT_EDGE)
    cut = int(edges[0]) + 2 if len(edges) else 0
    return cut if cut >= _MIN_TRIM * count else 0


def _bars_off(pixels: Pixels, box: Box, colour: float | None) -> tuple[Box, float | None]:
    """The box without the flat bars of one colour around it, and their colour."""
    left, top, right, bottom = box
    region = pixels[top:bottom, left:right]
    top_run, colour = _bar_run(region, colour)
    bottom_run, colour = _bar_run(region[::-1], colour)
    if top_run + bottom_run >= len(region):
        return box, colour
    inner = region[top_run : len(region) - bottom_run].T
    left_run, colour = _bar_run(inner, colour)
    right_run, colour = _bar_run(inner[::-1], colour)
    if left_run + right_run >= len(inner):
        return box, colour
    return (left + left_run, top + top_run, right - right_run, bottom - bottom_run), colour


def _bar_run(lines: Pixels, colour: float | None) -> tuple[int, float | None]:
    """How many lines from the first are flat and of one bar colour (the first line's, or
    `colour` when an earlier side set it), and that colour (None while no bar was seen)."""
    first = lines[0]
    if float(first.std()) > _FLAT_STD:
        return 0, colour
    bar = float(first.mean()) if colour is None else colour

    def is_bar(block: Pixels) -> npt.NDArray[np.bool_]:
        flat = block.std(axis=1) <= _FLAT_STD
        same: npt.NDArray[np.bool_] = flat & (np.abs(block.mean(axis=1) - bar) <= _BAR_COLOUR_TOL)
        return same

    run = _leading_run(lines, is_bar, len(lines))
    return run, (bar if run else colour)


def _leading_run(lines: Pixels, test: Callable[[Pixels], npt.NDArray[np.bool_]], limit: int) -> int:
    """How many of the first `limit` lines pass `test`, read in blocks of growing size from
    the first: a picture without bars costs a few lines, not a pass over every pixel."""
    start, size = 0, 8
    while start < limit:
        stop = min(limit, start + size)
        passed = _leading_true(test(lines[start:stop]))
        if passed < stop - start:
            return start + passed
        start, size = stop, size * 2
    return limit


def _kept(box: Box, width: int, height: int) -> Box | None:
    """The box, when enough was trimmed to matter and enough is left to stand for a picture."""
    left, top, right, bottom = box
    if right <= left or bottom <= top:
        return None
    trimmed = (top / height, (height - bottom) / height, left / width, (width - right) / width)
    if max(trimmed) < _MIN_TRIM:
        return None
    if (bottom - top) * (right - left) < _MIN_KEPT_AREA * height * width:
        return None
    return box


def _median(values: Pixels) -> float:
    """The (upper) median of a 1-D array; np.median costs ten times more on a line."""
    middle = values.size // 2
    return float(np.partition(values, middle)[middle])


def _leading_true(flags: npt.NDArray[np.bool_]) -> int:
    """How many leading entries are True."""
    if not flags.size:
        return 0
    first = int(np.argmin(flags))  # the first False, or 0 when there is none
    return first if not flags[first] else int(flags.size)


# ----------------------------------------------------------------------------- caption bars


def _uncaptioned(pixels: Pixels) -> tuple[Box, ...]:
    """Bars off every side, round after round until none is left (a forum's header bar,
    then the page's margin; a caption, then a letterbox bar), once one of them held text:
    the box after the last round first, then after each round before it, then the first
    round's text bars above and below alone (each, then both). Peeling may go too far: a
    caption over a screenshot whose app bar and sidebar are bars too, or a caption below it
    whose app bar above is cut in the same round; the other boxes keep the picture whole."""
    height, width = pixels.shape
    box: Box = (0, 0, width, height)
    texted = False
    found: list[Box] = []
    rows: list[Box] = []
    for peel in range(_MAX_PEELS):
        inner, text, runs = _captions_off(pixels, box)
        if inner == box:
            break
        if peel == 0:
            rows = _row_cuts(runs, width, height)
        box, texted = inner, texted or text
        if texted:
            found.append(box)
    boxes = (_kept(b, width, height) for b in (*reversed(found), *rows))
    return tuple(dict.fromkeys(b for b in boxes if b is not None))


def _row_cuts(runs: tuple[tuple[int, bool], ...], width: int, height: int) -> list[Box]:
    """The first round's bars above and below that held text, cut alone and together,
    the sides left whole (a meme's caption spans the picture's width)."""
    (top, top_text), (bottom, bottom_text) = runs[:2]
    cuts = [(top if top_text else 0, 0), (0, bottom if bottom_text else 0)]
    if top_text and bottom_text:
        cuts.append((top, bottom))
    return [(0, t, width, height - b) for t, b in cuts if t or b]


def _captions_off(pixels: Pixels, box: Box) -> tuple[Box, bool, tuple[tuple[int, bool], ...]]:
    """The box without the caption bars around it (top and bottom, then the sides), whether
    one of them held text, and each bar's lines and text (top, bottom, left, right)."""
    left, top, right, bottom = box
    region = pixels[top:bottom, left:right]
    top_run = _caption_run(region)
    bottom_run = _caption_run(region[::-1])
    inner = region[top_run[0] : len(region) - bottom_run[0]].T
    if len(inner) < 8:
        return box, False, ()
    left_run = _caption_run(inner)
    right_run = _caption_run(inner[::-1])
    runs = (top_run, bottom_run, left_run, right_run)
    inner_box = (
        left + left_run[0],
        top + top_run[0],
        right - right_run[0],
        bottom - bottom_run[0],
    )
    return inner_box, any(text for _, text in runs), runs


def _caption_run(lines: Pixels) -> tuple[int, bool]:
    """How many lines from the first belong to a caption bar, and whether the bar holds text.

    The bar's colour is the first line's median, and that line must be nearly blank (90% of
    it within a few levels of it). A bar line has at least 40% of its pixels
    near it and its other pixels in short runs (glyph strokes, not picture). The bar must end
    before half the image, on a straight edge (most pixels change from one line to the next)
    followed by picture (long runs far from the bar's colour), else it is the picture's own
    flat or text-like part.
    """
    count, length = lines.shape
    if count < 8:
        return 0, False
    background = _median(lines[0])
    if np.mean(np.abs(lines[0] - background) <= _PAGE_TOL) < _PAGE_CLEAR:
        return 0, False  # a bar starts with a blank line, a picture seldom does
    stroke, picture = _CAPTION_MAX_STROKE * length, _PICTURE_RUN * length

    def is_bar(block: Pixels) -> npt.NDArray[np.bool_]:
        near = np.abs(block - background) <= _CAPTION_TOL
        bar: npt.NDArray[np.bool_] = (near.mean(axis=1) >= _CAPTION_MIN_SHARE) & (
            _longest_false_runs(near) <= stroke
        )
        return bar

    run = _leading_run(lines, is_bar, count // 2)
    if run == 0 or run >= count // 2 or not _straight_edge(lines, run):
        return 0, False
    after = np.abs(lines[run : run + 3] - background) <= _CAPTION_TOL
    if _longest_false_runs(after).max() < picture:
        return 0, False  # more text, not a picture: a page of text has no caption bar
    shares = (np.abs(lines[:run] - background) <= _CAPTION_TOL).mean(axis=1)
    return run, bool((shares < 0.98).any())


def _straight_edge(lines: Pixels, index: int) -> bool:
    """Whether most pixels change between line index - 1 and one of the next lines (JPEG
    blurs an edge over a line or two)."""
    before = lines[index - 1]
    return any(
        _median(np.abs(lines[i] - before)) >= _EDGE_CHANGE
        for i in range(index, min(len(lines), index + 3))
    )


def _longest_false_runs(near: npt.NDArray[np.bool_]) -> npt.NDArray[np.intp]:
    """The longest run of False in each row of a 2-D boolean array."""
    index = np.arange(near.shape[1])
    last_true = np.maximum.accumulate(np.where(near, index, -1), axis=1)
    longest: npt.NDArray[np.intp] = (index - last_true).max(axis=1)
    return longest


# ----------------------------------------------------------------------- photo in a page


def _page_regions(luma: Luma) -> tuple[Window, ...]:
    if luma.ndim != 2 or min(luma.shape) < 16:
        return ()
    height, width = luma.shape
    # whether it is a page at all, on a sample of 256 pixels on the long side: what every
    # ordinary photograph costs (a few hundredths of a millisecond)
    sample = max(1, math.ceil(max(height, width) / (_REGION_SIDE // 4)))
    level = _page_level(luma[::sample, ::sample], _REGION_PAGE_SHARE * 0.8)
    if level is None:
        return ()
    step = max(1, math.ceil(max(height, width) / _REGION_SIDE))
    work: npt.NDArray[np.uint8] = np.clip(luma[::step, ::step], 0, 255).astype(np.uint8)
    level = _page_level(work, _REGION_PAGE_SHARE)
    if level is None:
        return ()
    import cv2  # loads only on a page

    off = np.abs(work.astype(np.int16) - level)
    page = off <= _PAGE_TOL
    found: list[tuple[int, Box]] = []
    for area, box in _opened_blocks(cv2, page):
        left, top, right, bottom = box
        picture = _picture_block(box, area, page)
        if picture:
            found.append((area, box))
        wide = right - left >= 2 * _REGION_MIN_SIDE and bottom - top >= _REGION_MIN_SIDE
        # a block that is no picture, or only partly busy (a picture touching a panel)
        if wide and (not picture or _busy(work[top:bottom, left:right]) < _REGION_WHOLLY_BUSY):
            found += _panel_blocks(cv2, work, page, box)
    # blocks mostly not page: a picture whose own ground is page-coloured
    rows, cols = -(-page.shape[0] // _REGION_BLOCK), -(-page.shape[1] // _REGION_BLOCK)
    padded = np.ones((rows * _REGION_BLOCK, cols * _REGION_BLOCK), bool)
    padded[: page.shape[0], : page.shape[1]] = page
    share = padded.reshape(rows, _REGION_BLOCK, cols, _REGION_BLOCK).mean(axis=(1, 3))
    coarse = (share < _REGION_BLOCK_PAGE).astype(np.uint8)
    for area, box in _blocks(cv2, coarse, _REGION_BLOCK):
        clipped = (box[0], box[1], min(box[2], page.shape[1]), min(box[3], page.shape[0]))
        # only where no picture was found: the coarse squares join pictures a gutter apart
        if all(_within(b, clipped) < 0.5 for _, b in found) and _picture_block(clipped, area, page):
            found.append((area, clipped))

    found += _tight_blocks(cv2, off, found)

    # pictures first (most of their pixels away from their commonest level), then panels of
    # text or of flat colour, each the largest first
    def rank(entry: tuple[int, Box]) -> tuple[bool, float]:
        area, (left, top, right, bottom) = entry
        busy = _busy(work[top:bottom, left:right])
        return busy < _REGION_BUSY, -area * busy

    found.sort(key=rank)
    return tuple(
        _refined(luma, box, step, f"region-{i}")
        for i, (_area, box) in enumerate(found[:_MAX_REGIONS], start=1)
    )


def _tight_blocks(
    cv2: Any, off: npt.NDArray[np.int16], found: list[tuple[int, Box]]
) -> list[tuple[int, Box]]:
    """Pictures whose own ground lies a few levels off the page's (within _PAGE_TOL, beyond
    _REGION_TIGHT_TOL), not held by a picture found already; none looked for when too few
    pixels lie at such levels to make one (a page of text: its glyphs' JPEG ringing). `off`:
    each work pixel's distance to the page's level."""
    near = np.count_nonzero((off > _REGION_TIGHT_TOL) & (off <= _PAGE_TOL))
    if near < _REGION_MIN_AREA * off.size:
        return []
    tight = off <= _REGION_TIGHT_TOL
    # looked for on every other pixel of a large page (a quarter of the cost); each block is
    # then judged on every pixel
    factor = 2 if max(off.shape) > _REGION_SIDE // 2 else 1
    coarse = np.ascontiguousarray(tight[::factor, ::factor])
    rows, cols = tight.shape
    blocks = []
    for area, (x0, y0, x1, y1) in _opened_blocks(cv2, coarse):
        box = (x0 * factor, y0 * factor, min(cols, x1 * factor), min(rows, y1 * factor))
        if any(_within(box, b) >= 0.5 for _, b in found):
            continue  # found already (a part of a picture found before may lie inside it)
        size = (box[2] - box[0]) * (box[3] - box[1])
        if not _picture_block(box, size, tight):
            continue  # no picture's shape or place, however filled
        area *= factor * factor
        filled = _enclosed(cv2, coarse[y0:y1, x0:x1]) * factor * factor
        if filled >= _REGION_TIGHT_FILL * size:
            area = max(area, filled)
        if _picture_block(box, area, tight):
            blocks.append((area, box))
    return blocks


def _enclosed(cv2: Any, page: npt.NDArray[np.bool_]) -> int:
    """Pixels of a block's box that are not page or that only page encloses: a picture's
    page-coloured parts (white cards on a light app's ground, a chart's white plot) are
    enclosed by its own ground; the page between a panel's lines of text reaches its edge."""
    count, labels = cv2.connectedComponents(page.astype(np.uint8), connectivity=4)
    edge = np.unique(np.concatenate((labels[0], labels[-1], labels[:, 0], labels[:, -1])))
    reaching = np.isin(labels, edge[edge > 0]) if count > 1 else np.zeros(page.shape, bool)
    return int(page.size - np.count_nonzero(reaching))


def _busy(pixels: npt.NDArray[np.uint8]) -> float:
    """Share of the pixels away from their most common level (within +-2)."""
    flat = np.convolve(np.bincount(pixels.ravel(), minlength=256), np.ones(5, np.int64), "same")
    return 1.0 - float(flat.max()) / max(1, pixels.size)


def _page_level(pixels: Luma, share: float) -> int | None:
    """The page's grey level: the most common one (within +-2), when it covers `share` of the
    pixels and is light or dark."""
    values = np.clip(pixels, 0, 255).astype(np.uint8).ravel()
    flat = np.convolve(np.bincount(values, minlength=256), np.ones(5, dtype=np.int64), "same")
    level = int(flat.argmax())
    if flat[level] < share * values.size or _REGION_DARK < level < _REGION_LIGHT:
        return None
    return level


def _within(inner: Box, outer: Box) -> float:
    """Share of `inner`'s area inside `outer`."""
    width = min(inner[2], outer[2]) - max(inner[0], outer[0])
    height = min(inner[3], outer[3]) - max(inner[1], outer[1])
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return max(0, width) * max(0, height) / max(1, area)


def _opened_blocks(cv2: Any, page: npt.NDArray[np.bool_]) -> Iterator[tuple[int, Box]]:
    """The blocks of what is not page once text, rules and icons are opened away."""
    kernel = np.ones((_REGION_KERNEL, _REGION_KERNEL), np.uint8)
    yield from _blocks(cv2, cv2.morphologyEx((~page).astype(np.uint8), cv2.MORPH_OPEN, kernel), 1)


def _panel_blocks(
    cv2: Any, work: npt.NDArray[np.uint8], page: npt.NDArray[np.bool_], box: Box
) -> list[tuple[int, Box]]:
    """The pictures inside a block that is no picture but a panel of its own flat colour (a
    sidebar, a card, a post in another theme, a picture beside it): that colour is page
    there too."""
    left, top, right, bottom = box
    inside = work[top:bottom, left:right]
    counts = np.bincount(inside[~page[top:bottom, left:right]], minlength=256)
    flat = np.convolve(counts, np.ones(5, dtype=np.int64), mode="same")
    level = int(flat.argmax())
    wide = counts[max(0, level - 8) : level + 9].sum()
    if flat[level] < _REGION_PAGE_SHARE * inside.size or flat[level] < _PAGE_FLATNESS * wide:
        return []
    page = page.copy()
    page[top:bottom, left:right] |= np.abs(inside.astype(np.int16) - level) <= _PAGE_TOL
    found = []
    for area, (x0, y0, x1, y1) in _opened_blocks(cv2, page[top:bottom, left:right]):
        inner = (left + x0, top + y0, left + x1, top + y1)
        if _picture_block(inner, area, page):
            found.append((area, inner))
    return found


def _blocks(cv2: Any, mask: npt.NDArray[np.uint8], scale: int) -> Iterator[tuple[int, Box]]:
    """Each 4-connected block of a mask: its area and box, in pixels `scale` times the mask's;
    but those narrower or lower than _REGION_MIN_SIDE, which can be no picture nor panel (a
    page's text gives thousands of them)."""
    count, _labels, stats, _centres = cv2.connectedComponentsWithStats(mask, connectivity=4)
    stats = np.asarray(stats)[1:count]
    for row in stats[np.minimum(stats[:, 2], stats[:, 3]) * scale >= _REGION_MIN_SIDE]:
        left, top, w, h, area = (int(v) * scale for v in row)
        yield area * scale, (left, top, left + w, top + h)


def _picture_block(box: Box, area: int, page: npt.NDArray[np.bool_]) -> bool:
    """Whether a block of a page's content (work pixels) may be a picture shown on it."""
    rows, cols = page.shape
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    if min(w, h) < _REGION_MIN_SIDE or max(w / h, h / w) > _REGION_MAX_ASPECT:
        return False
    if not _REGION_MIN_AREA * page.size <= w * h <= _REGION_MAX_AREA * page.size:
        return False
    if area < _REGION_FILL * w * h:
        return False
    far = _REGION_KERNEL + 1
    # the lines 2 to `far` pixels outside each side (none where the screenshot ends), as rows
    bands = (
        page[max(0, top - far) : top - 1, left:right] if top >= 2 else None,
        page[bottom + 1 : bottom + far, left:right] if bottom + 1 < rows else None,
        page[top:bottom, max(0, left - far) : left - 1].T if left >= 2 else None,
        page[top:bottom, right + 1 : right + far].T if right + 1 < cols else None,
    )
    sides = [band for band in bands if band is not None and band.size]
    # a side is on the page when one of its lines is: text may run up to a picture, and its
    # lines leave the page between them
    on_page = sum(float(band.mean(axis=1).max()) >= _REGION_PAGE_LINE for band in sides)
    return on_page >= _REGION_PAGE_SIDES and on_page == len(sides)


def _refined(luma: Luma, box: Box, step: int, label: str) -> Window:
    """The work box in the luma's pixels, each inner edge on the strongest edge nearby."""
    height, width = luma.shape
    left, top = box[0] * step, box[1] * step
    right, bottom = min(width, box[2] * step), min(height, box[3] * step)
    left, top, right, bottom = _snapped(luma, (left, top, right, bottom), max(2, step))
    return Window(WindowKind.SCREEN, left, top, right, bottom, label=label)


def _screen_window(view: _View) -> Window | None:
    pixels, factor = view.coarse
    return view.maybe(WindowKind.SCREEN, _screen(pixels), scale=factor)


def _screen(pixels: Pixels) -> Box | None:
    height, width = pixels.shape
    box: Box = (0, 0, width, height)
    colours: list[float] = []
    for _ in range(_MAX_NESTED_PAGES):
        inner = _peel_page(pixels, box)
        if inner is None:
            break
        box, found = inner
        colours += found
    if not colours:
        return None
    left, top, right, bottom = box
    margins = (top / height, (height - bottom) / height, left / width, (width - right) / width)
    if sum(m >= 0.03 for m in margins) < 2:
        return None
    page = _page_mask(pixels, colours)
    inside = page[top:bottom, left:right]
    if inside.mean() > _PHOTO_MAX_PAGE:
        return None  # what is left is page too: a page with no photo, or a flat picture
    outside = (page.sum() - inside.sum()) / max(1, page.size - inside.size)
    if outside < _PAGE_AROUND:
        return None  # what was peeled is not a page: a picture with flat parts
    return _kept(box, width, height)


def _peel_page(pixels: Pixels, box: Box) -> tuple[Box, list[float]] | None:
    """The box with one page peeled off (a phone's bezel, then the app's page), and that
    page's colours; None when there is no page around it."""
    left, top, right, bottom = box
    region = pixels[top:bottom, left:right]
    colours = _page_colours(_frame(region))
    if not colours:
        return None
    outermost = (region[0], region[-1], region[:, 0], region[:, -1])
    if sum(_page_share(line, colours) >= _PAGE_MAJORITY for line in outermost) < 2:
        return None  # page on fewer than two sides: not worth a pass over every pixel
    peeled = _peel(_page_mask(region, colours))
    if peeled is None or peeled == (0, 0, right - left, bottom - top):
        return None
    return (left + peeled[0], top + peeled[1], left + peeled[2], top + peeled[3]), colours


def _page_mask(pixels: Pixels, colours: list[float]) -> npt.NDArray[np.bool_]:
    page = np.zeros(pixels.shape, dtype=bool)
    for colour in colours:
        page |= np.abs(pixels - colour) <= _PAGE_TOL
    return page


def _page_share(line: Pixels, colours: list[float]) -> float:
    return float(_page_mask(line, colours).mean())


def _frame(pixels: Pixels) -> Pixels:
    """The image's outermost pixels."""
    return np.concatenate((pixels[0], pixels[-1], pixels[1:-1, 0], pixels[1:-1, -1]))


def _page_colours(frame: Pixels) -> list[float]:
    """Up to three luma levels each covering 15% of the frame (within the page tolerance),
    the most common first, each flat (most of its pixels within 2 levels of it)."""
    counts = np.bincount(np.clip(np.rint(frame), 0, 255).astype(np.intp), minlength=256)
    tol = int(_PAGE_TOL)
    colours: list[float] = []
    for _ in range(_MAX_PAGE_COLOURS):
        near = np.convolve(counts, np.ones(2 * tol + 1, dtype=np.intp), mode="same")
        centre = int(near.argmax())
        if near[centre] < _PAGE_COLOUR_SHARE * frame.size:
            break
        low = max(0, centre - tol)
        level = low + int(counts[low : centre + tol + 1].argmax())
        if counts[max(0, level - 2) : level + 3].sum() < _PAGE_FLATNESS * near[centre]:
            break  # a spread of levels (a sky, a gradient), not a page's one colour
        colours.append(float(level))
        counts[max(0, level - tol) : level + tol + 1] = 0
    return colours


def _peel(page: npt.NDArray[np.bool_]) -> Box | None:
    """Peel page lines off the four sides: first clearly-page lines, side by side, then
    mostly-page lines from the most page-like side, as long as it stays the most page-like
    (one line at a time in effect, a run at a time in cost)."""
    lines = _PageLines(page)
    box: Box = (0, 0, page.shape[1], page.shape[0])
    for majority, greedy in ((_PAGE_CLEAR, False), (_PAGE_MAJORITY, True)):
        while True:
            peeled = lines.peel(box, majority, greedy)
            if peeled is None:
                return None
            if peeled == box:
                break
            box = peeled
    return box


class _PageLines:
    """Share of page pixels in any run of row or column segments (prefix sums)."""

    def __init__(self, page: npt.NDArray[np.bool_]) -> None:
        rows, cols = page.shape  # at most _WORK_SIDE each: int16 sums cannot overflow
        self._along_rows = np.zeros((rows, cols + 1), dtype=np.int16)
        np.cumsum(page, axis=1, dtype=np.int16, out=self._along_rows[:, 1:])
        self._along_cols = np.zeros((rows + 1, cols), dtype=np.int16)
        np.cumsum(page, axis=0, dtype=np.int16, out=self._along_cols[1:])

    def shares(self, box: Box, side: int) -> npt.NDArray[np.float64]:
        """Page share of each line of the box, from its `side` (0 top, 1 bottom, 2 left,
        3 right) inwards."""
        left, top, right, bottom = box
        if side < 2:
            counts = self._along_rows[top:bottom, right] - self._along_rows[top:bottom, left]
            shares = counts / (right - left)
        else:
            counts = self._along_cols[bottom, left:right] - self._along_cols[top, left:right]
            shares = counts / (bottom - top)
        return shares[::-1] if side in (1, 3) else shares

    def peel(self, box: Box, majority: float, greedy: bool) -> Box | None:
        """The box after one peeling step (the same box when no side is page enough; None
        when too little would be left)."""
        if box[2] - box[0] < 4 or box[3] - box[1] < 4:
            return None
        shares = [self.shares(box, side) for side in range(4)]
        runs = [0, 0, 0, 0]
        if greedy:
            outer = [float(s[0]) for s in shares]
            side = int(np.argmax(outer))
            if outer[side] < majority:
                return box
            others = max(o for i, o in enumerate(outer) if i != side)
            runs[side] = max(1, _leading_true(shares[side] >= max(majority, others)))
        else:
            runs = [_leading_true(s >= majority) for s in shares]
        left, top, right, bottom = box
        return left + runs[2], top + runs[0], right - runs[3], bottom - runs[1]


# ----------------------------------------------------------------------------- collage cells


def _cells(pixels: Pixels) -> list[Box]:
    height, width = pixels.shape
    pieces = list(_guillotine(pixels, (0, 0, width, height), None, depth=0))
    if len(pieces) < 2:
        return []
    cells = [
        trimmed
        for box, gutter in pieces
        if (trimmed := _trim_cell(pixels, box, gutter)) is not None
        and _sensible_cell(trimmed, pixels)
    ]
    return sorted(cells, key=lambda b: (b[1], b[0])) if len(cells) >= 2 else []


def _collage_windows(view: _View) -> list[Window]:
    """The CELL windows of a collage: split on its gutters, each cell also given whole where
    the grid's rows and columns bound it more widely than its trimmed box; then the cells of
    a grid met at seams (full resolution: a gutter of a pixel or two, or none)."""
    cells = _cells(view.pixels)
    boxes = list(cells)
    for cell, whole in zip(cells, _grid_bounds(cells), strict=True):
        if _iou(cell, whole) <= _SAME_WINDOW_IOU:
            boxes.append(whole)
    found = [view.window(WindowKind.CELL, box, label=f"{i}") for i, box in enumerate(boxes)]
    if len(cells) >= 4:
        return found  # a grid on gutters: its seams would be the gutters' edges
    return found + [
        Window(WindowKind.CELL, *box, label=f"{len(found) + i}")
        for i, box in enumerate(_seam_cells(view.luma))
    ]


def _grid_bounds(cells: list[Box]) -> list[Box]:
    """Each cell as its row and column of the grid bound it (the smallest left and top, the
    largest right and bottom of the cells it lines up with), when the cells fill a grid of
    rows and columns; else the cells as they are."""
    rows = _lined_up([(b[1], b[3]) for b in cells])
    columns = _lined_up([(b[0], b[2]) for b in cells])
    if (
        not cells
        or rows is None
        or columns is None
        or len(set(zip(rows, columns, strict=True))) < len(cells)
    ):
        return cells
    if len(cells) != (max(rows) + 1) * (max(columns) + 1):
        return cells
    bounds = []
    for row, column in zip(rows, columns, strict=True):
        across = [b for b, c in zip(cells, columns, strict=True) if c == column]
        along = [b for b, r in zip(cells, rows, strict=True) if r == row]
        bounds.append(
            (
                min(b[0] for b in across),
                min(b[1] for b in along),
                max(b[2] for b in across),
                max(b[3] for b in along),
            )
        )
    return bounds


def _lined_up(spans: list[tuple[int, int]]) -> list[int] | None:
    """Which band each span falls in, spans overlapping by half the shorter sharing one; None
    when a span overlaps two bands."""
    bands: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if bands and min(end, bands[-1][1]) - start >= 0.5 * min(
            end - start, bands[-1][1] - bands[-1][0]
        ):
            bands[-1] = (bands[-1][0], max(end, bands[-1][1]))
        else:
            bands.append((start, end))
    found = []
    for start, end in spans:
        inside = [i for i, (a, b) in enumerate(bands) if a <= start and end <= b]
        if len(inside) != 1:
            return None
        found.append(inside[0])
    for i in range(1, len(bands)):
        if bands[i][0] < bands[i - 1][1]:
            return None
    return found


def _seam_cells(luma: Luma) -> list[Box]:
    """The cells of a grid of 2-3 rows and 2-3 columns of equal cells met at straight seams
    (see _SEAM_SHARE), boxes in the luma's pixels, row by row. Each seam runs across the
    whole image and shows along each band of cells that it divides: one straight
    edge across a picture (a horizon, a header bar), or one that runs along a single band,
    is no grid. Two pictures side by side are found only on a gutter, as are grids where
    two neighbouring cells are flat, or busier than their seam, along it."""
    if luma.ndim != 2 or min(luma.shape) < 64:
        return []
    left, top, right, bottom = _thin_border_off(luma)
    cells = _grid_at_seams(luma[top:bottom, left:right])
    return [(x0 + left, y0 + top, x1 + left, y1 + top) for x0, y0, x1, y1 in cells]


def _thin_border_off(luma: Luma) -> Box:
    """The image without a thin flat border (up to _SEAM_WIDTH - 1 lines a side: a collage's
    outer gutter of a pixel or two, which would shift its cells' hashes)."""
    height, width = luma.shape
    edges = []
    for lines in (luma, luma[::-1], luma.T, luma.T[::-1]):
        flat = np.asarray(lines[: _SEAM_WIDTH - 1], dtype=np.float32).std(axis=1) <= _FLAT_STD
        edges.append(_leading_true(flat))
    top, bottom, left, right = edges
    return left, top, width - right, height - bottom


def _grid_at_seams(luma: Luma) -> list[Box]:
    height, width = luma.shape
    columns = _seams(_lines(luma, (0, 0, width, height), axis=1))
    rows = _seams(_lines(luma, (0, 0, width, height), axis=0)) if columns else []
    if not columns or not rows:
        return []
    row_bands, column_bands = _bands(rows, height), _bands(columns, width)
    along = [_lines(luma, (0, top, width, bottom), axis=1) for top, bottom in row_bands]
    across = [_lines(luma, (left, 0, right, height), axis=0) for left, right in column_bands]
    if not all(_confirmed(band, columns) for band in along) or not all(
        _confirmed(band, rows) for band in across
    ):
        return []
    cells = [
        (left, top, right, bottom) for top, bottom in row_bands for left, right in column_bands
    ]
    if not all(float(luma[t:b, x0:x1].std()) > _FLAT_STD for x0, t, x1, b in cells):
        return []
    return cells


def _lines(luma: Luma, box: Box, axis: int) -> Luma:
    """The box's lines across a seam (rows when axis is 1: the seam runs down), every few
    lines so that at most _SEAM_LINES are read."""
    left, top, right, bottom = box
    region = luma[top:bottom, left:right]
    if axis == 0:
        region = region.T
    return region[:: max(1, -(-region.shape[0] // _SEAM_LINES))]


def _bands(seams: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """The bands between seams ((last pixel before, first pixel after) each), 0 to `size`."""
    starts = [0] + [after for _, after in seams]
    ends = [before + 1 for before, _ in seams] + [size]
    return list(zip(starts, ends, strict=True))


def _seams(lines: Luma) -> list[tuple[int, int]]:
    """The seams across the lines at the grid lines of 3, else 2, equal cells: for each, the
    last pixel before it and the first after it (a gutter of up to 3 pixels lies between).
    Empty when the grid's lines are not all seams, or when a seam also runs midway between
    them: stripes and checkerboards have a straight edge at every period, a collage does not
    (one cell's picture may have an edge of its own there, but not across the image)."""
    size = lines.shape[1]
    for cells in (3, 2):
        found = []
        for fraction in _SEAM_FRACTIONS[cells]:
            active, seam = _seam_near(lines, round(fraction * size))
            if seam is None:
                break
            found.append((active, seam))
        if len(found) < len(_SEAM_FRACTIONS[cells]):
            continue
        seams = [seam for _, seam in found]
        across = min(active for active, _ in found)
        for k in range(cells):
            active, seam = _seam_near(lines, round((k + 0.5) / cells * size))
            if seam is not None and active >= _PERIODIC * across:
                return []
        return seams
    return []


def _confirmed(lines: Luma, seams: list[tuple[int, int]]) -> bool:
    """Whether, along one band of cells, each seam found across the whole image shows: of
    the lines taking part, _SEAM_BAND_SHARE have their strongest jump on it (within a
    pixel); a picture's texture beside the seam may take the rest."""
    for before, after in seams:
        jumps, first = _jumps(lines, (before + after + 1) // 2)
        active = jumps.max(axis=1) >= _SEAM_JUMP
        if jumps.size == 0 or active.mean() < _SEAM_ACTIVE:
            return False
        strongest = first - 1 + jumps.argmax(axis=1)[active]  # the pixel before each jump
        on = (strongest >= before - 1) & (strongest <= after)
        if on.mean() < _SEAM_BAND_SHARE:
            return False
    return True


def _jumps(lines: Luma, centre: int) -> tuple[npt.NDArray[np.float32], int]:
    """Jumps between neighbouring pixels of each line near `centre` (jump k lies between
    pixels first-1+k and first+k), and `first`."""
    size = lines.shape[1]
    reach = round(_SEAM_REACH * size) + _SEAM_SLACK
    first, last = max(1, centre - reach), min(size - 2, centre + reach)
    if last - first < _SEAM_WIDTH:
        return np.zeros((0, 0), np.float32), first
    block = np.asarray(lines[:, first - 1 : last + 2], dtype=np.float32)
    return np.abs(np.diff(block, axis=1)), first


def _seam_near(lines: Luma, centre: int) -> tuple[float, tuple[int, int] | None]:
    """The share of the lines taking part near position `centre` (a jump of _SEAM_JUMP or
    more), and the seam there (last pixel before, first pixel after) or None."""
    jumps, first = _jumps(lines, centre)
    if jumps.size == 0:
        return 0.0, None
    active = jumps.max(axis=1) >= _SEAM_JUMP
    share = float(active.mean())
    if share < _SEAM_ACTIVE:
        return share, None
    at = np.bincount(jumps.argmax(axis=1)[active], minlength=jumps.shape[1]) / int(active.sum())
    held = np.convolve(at, np.ones(_SEAM_WIDTH), mode="valid")
    start = int(held.argmax())
    where = start + np.flatnonzero(at[start : start + _SEAM_WIDTH] >= _SEAM_EDGE)
    if held[start] < _SEAM_SHARE or not len(where):
        return share, None
    return share, (first - 1 + int(where[0]), first + int(where[-1]))


def _guillotine(
    pixels: Pixels, box: Box, gutter: float | None, depth: int
) -> Iterator[tuple[Box, float | None]]:
    """Split the box on interior gutters, rows first then columns, cut after cut; each piece
    comes with the colour of the gutters that cut it out."""
    if depth <= 4:
        for axis in (0, 1):
            pieces, colour = _split_on_gutters(pixels, box, axis, gutter)
            if len(pieces) > 1:
                for piece in pieces:
                    yield from _guillotine(pixels, piece, colour, depth + 1)
                return
    yield box, gutter


def _split_on_gutters(
    pixels: Pixels, box: Box, axis: int, gutter: float | None
) -> tuple[list[Box], float | None]:
    """The pieces of the box between full-length flat lines (rows when axis is 0) inside it,
    of the colour of earlier gutters if any, and the gutters' colour. Pieces too small to
    hold a cell are dropped; a split that leaves fewer than two is no split (the blank lines
    between lines of text are not gutters)."""
    left, top, right, bottom = box
    # every other pixel along a line tells a flat line from a busy one as well
    region = pixels[top:bottom, left:right:2] if axis == 0 else pixels[top:bottom:2, left:right]
    means, spreads = region.mean(axis=1 - axis), region.std(axis=1 - axis)
    flat = spreads <= _FLAT_STD
    if gutter is not None:
        flat &= np.abs(means - gutter) <= _BAR_COLOUR_TOL
    begin = _leading_true(flat)
    end = flat.size - _leading_true(flat[::-1])
    spans: list[tuple[int, int]] = []
    position = begin
    while position < end:
        busy_to = position + _leading_true(~flat[position:end])
        spans.append((position, busy_to))
        position = busy_to + _leading_true(flat[busy_to:end])
    smallest = _MIN_CELL_SIDE * pixels.shape[axis]
    spans = [(a, b) for a, b in spans if b - a >= smallest]
    if len(spans) < 2:
        return [], gutter
    colour = float(means[spans[0][1] : spans[1][0]].mean())
    offset = top if axis == 0 else left
    if axis == 0:
        return [(left, offset + a, right, offset + b) for a, b in spans], colour
    return [(offset + a, top, offset + b, bottom) for a, b in spans], colour


def _trim_cell(pixels: Pixels, box: Box, gutter: float | None) -> Box | None:
    """The cell without the margins of its gutters' colour."""
    left, top, right, bottom = box
    inner = _trimmed(pixels[top:bottom, left:right], gutter)
    if inner is None:
        return box
    return left + inner[0], top + inner[1], left + inner[2], top + inner[3]


def _sensible_cell(box: Box, pixels: Pixels) -> bool:
    height, width = pixels.shape
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    if w < _MIN_CELL_SIDE * width or h < _MIN_CELL_SIDE * height:
        return False
    if w * h < _MIN_CELL_AREA * width * height:
        return False
    if max(w / h, h / w) > _MAX_CELL_ASPECT:
        return False
    return bool(pixels[top:bottom, left:right].std() > _FLAT_STD)


# ---------------------------------------------------------------------------- slight rotation


def _deskewed(view: _View) -> Window | None:
    pixels = view.pixels
    fill = _corner_fill(pixels)
    if fill is None or not _touches_every_side(pixels, fill):
        return None
    content = np.abs(pixels - fill) > _FILL_TOL
    rows, cols = np.flatnonzero(content.any(axis=1)), np.flatnonzero(content.any(axis=0))
    if rows.size < 16 or cols.size < 16:
        return None
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    inside = content[top:bottom, left:right]
    outline = _Outline.of(inside)
    angle = outline.angle()
    if angle is None or not _MIN_ANGLE <= abs(angle) <= _MAX_ANGLE:
        return None
    if outline.fit(angle) < _MIN_OUTLINE_FIT:
        return None
    window = view.window(WindowKind.DESKEWED, (left, top, right, bottom), refine=False)
    return None if window is None else replace(window, angle=round(angle, 2))


def _touches_every_side(pixels: Pixels, fill: float) -> bool:
    """Whether the content reaches each side (within two lines), as a picture turned with
    its canvas grown to fit does at its four corners; letterbox bars or a frame do not."""
    sides = (pixels[:2], pixels[-2:], pixels[:, :2], pixels[:, -2:])
    return all(bool((np.abs(side - fill) > _FILL_TOL).any()) for side in sides)


def _corner_fill(pixels: Pixels) -> float | None:
    """The colour the four corners are filled with, when they are flat and alike."""
    patches = [pixels[:3, :3], pixels[:3, -3:], pixels[-3:, :3], pixels[-3:, -3:]]
    means = [float(p.mean()) for p in patches]
    if max(float(p.std()) for p in patches) > _FLAT_STD or max(means) - min(means) > _FILL_TOL:
        return None
    return float(np.mean(means))


@dataclass(frozen=True, slots=True)
class _Outline:
    """Where the content starts, seen from each side of its bounding box: the first content
    row of every column from the top and from the bottom, and the first content column of
    every row from the left and from the right."""

    top: npt.NDArray[np.float64]
    bottom: npt.NDArray[np.float64]
    left: npt.NDArray[np.float64]
    right: npt.NDArray[np.float64]

    @classmethod
    def of(cls, content: npt.NDArray[np.bool_]) -> _Outline:
        def first(mask: npt.NDArray[np.bool_], axis: int) -> npt.NDArray[np.float64]:
            found = mask.any(axis=axis)
            depth: npt.NDArray[np.float64] = mask.argmax(axis=axis).astype(np.float64)
            depth[~found] = np.nan
            return depth

        return cls(
            top=first(content, 0),
            bottom=first(content[::-1], 0),
            left=first(content, 1),
            right=first(content[:, ::-1], 1),
        )

    def angle(self) -> float | None:
        """The rotation (degrees, counter-clockwise) that best explains the four edges.

        Seen from the top, a picture turned counter-clockwise by a starts deeper to the left
        (depth slope -tan a along x); seen from the bottom the depth slope is +tan a; from
        the left it is +tan a along y, from the right -tan a.
        """
        slopes = [
            (-1, _edge_slope(self.top)),
            (1, _edge_slope(self.bottom)),
            (1, _edge_slope(self.left)),
            (-1, _edge_slope(self.right)),
        ]
        known = [sign * s for sign, s in slopes if s is not None]
        if len(known) < 3:
            return None
        return math.degrees(math.atan(float(np.median(known))))

    def fit(self, angle: float) -> float:
        """Share of the outline within 2 pixels of the rotated rectangle's outline."""
        predicted = _Outline.of_rectangle(self.top.size, self.left.size, angle)
        hits = total = 0
        for seen, expected in (
            (self.top, predicted.top),
            (self.bottom, predicted.bottom),
            (self.left, predicted.left),
            (self.right, predicted.right),
        ):
            valid = ~np.isnan(seen) & ~np.isnan(expected)
            hits += int((np.abs(seen[valid] - expected[valid]) <= _OUTLINE_TOL).sum())
            total += seen.size
        return hits / max(1, total)

    @classmethod
    def of_rectangle(cls, width: int, height: int, angle: float) -> _Outline:
        """The outline of the upright rectangle that, rotated by `angle`, has a bounding box
        of width x height: for each column, the span of rows whose pixel centres it covers
        (and the same for rows), from the rectangle's two pairs of half-planes."""
        inner_w, inner_h = _inner_size(width, height, angle)
        radians = math.radians(angle)
        cos, sin = math.cos(radians), math.sin(radians)
        centre_x, centre_y = (width - 1) / 2, (height - 1) / 2
        # a point (dx, dy) from the centre is inside when |u| <= inner_w / 2 and
        # |v| <= inner_h / 2, with u = dx cos - dy sin and v = dx sin + dy cos
        dx = np.arange(width, dtype=np.float64) - centre_x
        low, high = _covered(dx * sin, cos, inner_h, dx * cos, -sin, inner_w)
        top = np.ceil(low + centre_y)
        bottom = (height - 1) - np.floor(high + centre_y)
        dy = np.arange(height, dtype=np.float64) - centre_y
        low, high = _covered(-dy * sin, cos, inner_w, dy * cos, sin, inner_h)
        left = np.ceil(low + centre_x)
        right = (width - 1) - np.floor(high + centre_x)
        empty_cols, empty_rows = top > (height - 1) - bottom, left > (width - 1) - right
        for values, empty in ((top, empty_cols), (bottom, empty_cols)):
            values[empty] = np.nan
        for values, empty in ((left, empty_rows), (right, empty_rows)):
            values[empty] = np.nan
        return cls(top=top, bottom=bottom, left=left, right=right)


def _covered(
    offset_a: npt.NDArray[np.float64],
    slope_a: float,
    size_a: float,
    offset_b: npt.NDArray[np.float64],
    slope_b: float,
    size_b: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The range of t where |offset_a + slope_a t| <= size_a / 2 and
    |offset_b + slope_b t| <= size_b / 2, for each pair of offsets."""
    low = np.full(offset_a.shape, -np.inf)
    high = np.full(offset_a.shape, np.inf)
    for offset, slope, size in ((offset_a, slope_a, size_a), (offset_b, slope_b, size_b)):
        if abs(slope) < 1e-12:
            outside = np.abs(offset) > size / 2
            low[outside], high[outside] = np.inf, -np.inf
            continue
        first = (-size / 2 - offset) / slope
        second = (size / 2 - offset) / slope
        low = np.maximum(low, np.minimum(first, second))
        high = np.minimum(high, np.maximum(first, second))
    return low, high


def _edge_slope(depth: npt.NDArray[np.float64]) -> float | None:
    """The slope of the longest straight part of an outline: the median of local slopes,
    then least-squares fits over the points near the line (starting from the most common
    offset: picture pixels of the fill's colour only ever push the outline inwards)."""
    positions = np.flatnonzero(~np.isnan(depth))
    if positions.size < 16:
        return None
    values = depth[positions]
    lag = max(4, positions.size // 16)
    local = (values[lag:] - values[:-lag]) / (positions[lag:] - positions[:-lag])
    slope = float(np.median(local))
    offsets = np.rint(values - slope * positions).astype(np.int64)
    intercept = float(np.bincount(offsets - offsets.min()).argmax() + offsets.min())
    for _ in range(3):
        inliers = np.abs(values - slope * positions - intercept) <= _OUTLINE_TOL
        if inliers.sum() < 8:
            return None
        slope, intercept = (float(v) for v in np.polyfit(positions[inliers], values[inliers], 1))
    return slope


def _inner_size(width: float, height: float, angle: float) -> tuple[float, float]:
    """The upright rectangle's size from its rotated bounding box (width x height)."""
    radians = math.radians(abs(angle))
    cos, sin = math.cos(radians), math.sin(radians)
    denominator = cos * cos - sin * sin
    inner_w = (width * cos - height * sin) / denominator
    inner_h = (height * cos - width * sin) / denominator
    return max(1.0, inner_w), max(1.0, inner_h)


def _upright(luma: Luma, box: Box, angle: float) -> Pixels:
    """The upright rectangle inside a rotated picture's bounding box, resampled (bilinear) so
    its long side is at most _UPRIGHT_SIDE, after a box filter when shrinking by 2 or more."""
    left, top, right, bottom = box
    inner_w, inner_h = _inner_size(right - left, bottom - top, angle)
    scale = min(1.0, _UPRIGHT_SIDE / max(inner_w, inner_h))
    shrink = int(1 / scale) if scale <= 0.5 else 1
    region = _block_mean(luma[top:bottom, left:right], shrink)
    out_w, out_h = max(1, round(inner_w * scale)), max(1, round(inner_h * scale))
    radians = math.radians(angle)
    cos, sin = math.cos(radians), math.sin(radians)
    # output pixel centres, upright, relative to the centre, in the luma's pixels
    u = (np.arange(out_w, dtype=np.float32) + 0.5) / scale - inner_w / 2
    v = (np.arange(out_h, dtype=np.float32) + 0.5) / scale - inner_h / 2
    uu, vv = u[np.newaxis, :], v[:, np.newaxis]
    x = (uu * cos + vv * sin + (right - left - 1) / 2 + 0.5) / shrink - 0.5
    y = (-uu * sin + vv * cos + (bottom - top - 1) / 2 + 0.5) / shrink - 0.5
    return _bilinear(region, x.astype(np.float32), y.astype(np.float32))


def _block_mean(region: Luma, factor: int) -> Pixels:
    """The mean of each factor x factor block, as float32 (summed in the input's own type
    first along contiguous rows: a pass over the pixels, not a float copy of them)."""
    if factor == 1:
        return np.asarray(region, dtype=np.float32)
    rows, cols = region.shape[0] // factor, region.shape[1] // factor
    blocks = region[: rows * factor, : cols * factor]
    wide = np.uint32 if blocks.dtype == np.uint8 else np.float32
    summed = blocks.reshape(rows, factor, cols * factor).sum(axis=1, dtype=wide)
    summed = summed.reshape(rows, cols, factor).sum(axis=2, dtype=wide)
    mean: Pixels = (summed / np.float32(factor * factor)).astype(np.float32)
    return mean


def _bilinear(image: Pixels, x: Pixels, y: Pixels) -> Pixels:
    """Sample the image at (x, y) (pixel-centre coordinates), clamped at its edges."""
    rows, cols = image.shape
    x = np.clip(x, 0, cols - 1)
    y = np.clip(y, 0, rows - 1)
    x0 = np.minimum(x.astype(np.intp), cols - 2) if cols > 1 else np.zeros_like(x, np.intp)
    y0 = np.minimum(y.astype(np.intp), rows - 2) if rows > 1 else np.zeros_like(y, np.intp)
    fx, fy = x - x0, y - y0
    x1, y1 = np.minimum(x0 + 1, cols - 1), np.minimum(y0 + 1, rows - 1)
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    out: Pixels = (top * (1 - fy) + bottom * fy).astype(np.float32)
    return out


# ------------------------------------------------------------------------------ fixed windows


def _thirds(size: int) -> tuple[int, int, int, int]:
    return 0, round(size / 3), round(2 * size / 3), size


def _centred(width: int, height: int, percent: int) -> Box:
    w, h = round(width * percent / 100), round(height * percent / 100)
    left, top = (width - w) // 2, (height - h) // 2
    return left, top, left + w, top + h


def _centred_square(width: int, height: int) -> Box:
    """The largest square at the centre, as collage makers cut it (the odd pixel left of it
    and above it, as Pillow's and the page's integer halves put it)."""
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


def _margins_box(
    width: int, height: int, left: float, top: float, right: float, bottom: float
) -> Box:
    """The box left when these margins (percent of each side) are cut off; at least one
    pixel wide and high."""
    x0, y0 = round(width * left / 100), round(height * top / 100)
    x1, y1 = width - round(width * right / 100), height - round(height * bottom / 100)
    return x0, y0, max(x0 + 1, x1), max(y0 + 1, y1)


# -------------------------------------------------------------------------------- smoothing


@dataclass(frozen=True, slots=True)
class _Reduced:
    """The luma as float32 block means, its long side at most _SMOOTH_SIDE (as a Pillow
    image), and the factor."""

    image: PilImage
    factor: int

    @classmethod
    def of(cls, luma: Luma) -> _Reduced:
        from PIL import Image  # Pillow loads on first use, as in the rest of hashing

        factor = max(1, math.ceil(max(luma.shape[:2]) / _SMOOTH_SIDE))
        return cls(Image.fromarray(_block_mean(luma, factor)), factor)

    def smoothed(self, box: Box) -> Pixels:
        """The box (luma pixels, kept fractional in the reduced image) resampled to
        _SMOOTH_SIZE pixels square with a bicubic filter widened to the scale (float32)."""
        from PIL import Image

        width, height = self.image.size
        left, top, right, bottom = (v / self.factor for v in box)
        left, top = min(max(0.0, left), width - 1.0), min(max(0.0, top), height - 1.0)
        right, bottom = max(left + 1, min(width, right)), max(top + 1, min(height, bottom))
        resized = self.image.resize(
            (_SMOOTH_SIZE, _SMOOTH_SIZE), Image.Resampling.BICUBIC, box=(left, top, right, bottom)
        )
        out: Pixels = np.asarray(resized, dtype=np.float32)
        return out


# ----------------------------------------------------------------------------------- dedupe


def _distinct(windows: Iterable[Window], shape: tuple[int, ...]) -> Iterator[Window]:
    """Drop windows that cover nearly the same pixels (at the same angle) as the whole image
    or an earlier window."""
    height, width = shape[0], shape[1]
    kept = [Window(WindowKind.WHOLE, 0, 0, width, height)]
    for window in windows:
        if any(
            k.angle == window.angle and _iou(k.box, window.box) > _SAME_WINDOW_IOU for k in kept
        ):
            continue
        kept.append(window)
        yield window


def _iou(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area_a + area_b - inter)
