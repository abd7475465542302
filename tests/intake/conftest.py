"""The offline page's kernel (intake/page/kernel.c) built natively once for the tests that
check it against the CLI (test_page_kernel.py, test_page_features.py)."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

PAGE = Path(__file__).parents[2] / "src" / "rempart" / "intake" / "page"
floats = np.ctypeslib.ndpointer(np.float32, flags="C_CONTIGUOUS")


@pytest.fixture(scope="session")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler")
    library = tmp_path_factory.mktemp("kernel") / "kernel.so"
    source = str(PAGE / "kernel.c")
    subprocess.run(
        [compiler, "-O2", "-std=c11", "-shared", "-fPIC", source, "-o", str(library), "-lm"],
        check=True,
    )
    lib = ctypes.CDLL(str(library))
    lib.k_init()
    lib.k_pdq.argtypes = [floats, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_char_p]
    lib.k_block_mean.argtypes = [floats, ctypes.c_int, ctypes.c_int, ctypes.c_int, floats]
    lib.k_resize.argtypes = [floats, ctypes.c_int, ctypes.c_int]
    lib.k_resize.argtypes += [ctypes.c_float] * 4 + [ctypes.c_int, floats]
    lib.k_resize_many.argtypes = [floats, ctypes.c_int, ctypes.c_int, ctypes.c_int, floats]
    lib.k_resize_many.argtypes += [ctypes.c_int, floats]
    lib.k_coarse.argtypes = [floats, ctypes.c_int, ctypes.c_int, ctypes.c_int, floats]
    lib.k_luma.argtypes = [ctypes.c_char_p, floats, ctypes.c_size_t, ctypes.c_int]
    lib.k_orient.argtypes = [floats, ctypes.c_int, ctypes.c_int, ctypes.c_int, floats]
    lib.k_unorient.argtypes = [floats, ctypes.c_int, ctypes.c_int, ctypes.c_int, floats]
    lib.k_digest_new.restype = ctypes.c_void_p
    lib.k_digest_update.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.k_digest_end.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.k_features.argtypes = [floats, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.k_features.argtypes += [ctypes.c_char_p, ctypes.c_int]
    return lib
