"""Runs one harness under atheris (libFuzzer): `python bench/fuzz/target.py NAME [libFuzzer
arguments: corpus folders, -runs=, -timeout=, -rss_limit_mb=, -artifact_prefix=, ...]`.

bench/fuzz/run.py starts one of these per harness; run it by hand to replay a crash file:
`python bench/fuzz/target.py archive crashes/archive-crash-...`.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "src"))  # run from a checkout without installing
sys.path.insert(0, str(HERE))

import atheris  # noqa: E402

# Coverage is what guides the fuzzer: Rempart's parsers and the pure-Python libraries they
# lean on are instrumented (C decoders such as libjpeg or FFmpeg run as they are).
with atheris.instrument_imports(
    include=[
        "rempart",
        "PIL",
        "warcio",
        "dns",
        "tomllib",
        "zipfile",
        "tarfile",
        "gzip",
        "smtplib",
        "email",
        "selectolax",
        "httpx",
        "h11",
    ]
):
    import harnesses


def main() -> None:
    name, arguments = sys.argv[1], sys.argv[2:]
    harness = harnesses.HARNESSES[name]
    atheris.Setup([sys.argv[0], *arguments], harness.check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
