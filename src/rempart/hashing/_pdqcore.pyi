"""Type stub for the C kernel in _pdqcore.c (see there for the arithmetic)."""

import numpy as np
import numpy.typing as npt

def downsample64(
    luma: npt.NDArray[np.uint8] | npt.NDArray[np.float32], /
) -> npt.NDArray[np.float32]:
    """The reference's 64x64 Jarosz-filtered, decimated buffer of a 2-D C-contiguous array."""

def dct16(
    luma: npt.NDArray[np.uint8] | npt.NDArray[np.float32], /
) -> tuple[npt.NDArray[np.float32], int]:
    """PDQ's 16x16 DCT coefficients (row = vertical frequency) and the 0-100 quality."""

def dct16_dihedral(
    luma: npt.NDArray[np.uint8] | npt.NDArray[np.float32], /
) -> tuple[npt.NDArray[np.float32], tuple[int, int, int, int, int, int, int, int]]:
    """dct16 of the image and its 7 rotations/flips in Dihedral order: (8, 16, 16), 8 qualities."""
