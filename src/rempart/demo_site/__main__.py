"""`python -m rempart.demo_site --images 200`: serve a demo site until Ctrl-C, printing its
URLs, for a caseworker to browse. Only parses arguments; site.py does the work."""

from __future__ import annotations

import argparse

from rempart.demo_site.site import serve_until_interrupted


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rempart.demo_site", description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--ports", type=int, nargs=3, default=(0, 0, 0), metavar=("FORUM", "HOST", "MIRROR")
    )
    parser.add_argument("--telegram-export", metavar="FOLDER", help="also write an export here")
    parser.add_argument(
        "--tsa",
        metavar="FOLDER",
        help="also run a DEMO time-stamping authority; its authorities file goes here",
    )
    args = parser.parse_args(argv)
    serve_until_interrupted(
        args.seed,
        args.images,
        host=args.host,
        ports=tuple(args.ports),
        telegram_export=args.telegram_export,
        timestamp_authority=args.tsa,
    )


if __name__ == "__main__":
    main()
