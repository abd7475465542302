#!/bin/sh
# Builds kernel.wasm, the offline page's numeric kernel, from kernel.c and the CLI's own PDQ
# core (../../hashing/_pdqkernel.h) with Debian's emscripten (apt-get install emscripten).
# The result is committed; tests/intake/test_page_kernel.py rebuilds it where the same emcc
# is installed and checks that the bytes are the same. Usage: build-kernel.sh [OUTPUT]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/kernel.wasm}
cd "$here"
emcc -O3 -std=c11 -msimd128 kernel.c -o "$out" --no-entry \
  -s STANDALONE_WASM=1 -s FILESYSTEM=0 \
  -s ALLOW_MEMORY_GROWTH=1 -s INITIAL_MEMORY=33554432 -s MAXIMUM_MEMORY=2147483648 \
  -s "EXPORTED_FUNCTIONS=['_k_alloc','_k_free','_k_init','_k_luma','_k_unorient','_k_orient','_k_pdq','_k_block_mean','_k_resize','_k_resize_many','_k_coarse','_k_digest_new','_k_digest_update','_k_digest_end','_k_features','_k_features_max']"
