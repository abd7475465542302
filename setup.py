"""Build the two C kernels; everything else is declared in pyproject.toml."""

import platform

import numpy
from setuptools import Extension, setup

_FLAGS = ["-O3", "-std=c11", "-Wall", "-Wextra", "-fno-strict-aliasing"]

# x86-64 has had POPCNT since 2008; other architectures get the builtin's own choice.
_POPCNT = ["-mpopcnt"] if platform.machine() in ("x86_64", "AMD64") else []

setup(
    ext_modules=[
        Extension(
            "rempart.hashing._pdqcore",
            ["src/rempart/hashing/_pdqcore.c"],
            depends=["src/rempart/hashing/_pdqkernel.h"],
            include_dirs=[numpy.get_include()],
            extra_compile_args=_FLAGS,
        ),
        Extension(
            "rempart.matching._mih",
            ["src/rempart/matching/_mih.c"],
            include_dirs=[numpy.get_include()],
            extra_compile_args=[*_FLAGS, *_POPCNT],
        ),
    ]
)
