"""`python -m rempart.demo_site --images 200`: serve a demo site until Ctrl-C, printing its
URLs, for a caseworker to browse. Parses arguments only (site.py serves); help in the
caseworker's language, from the one catalog."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from rempart.i18n import N_, _

DESCRIPTION = N_(
    "Serve a made-up forum, its image host and a mirror on this machine until Ctrl-C, with "
    "copies of a demo victim's pictures on them, and print their addresses: to rehearse "
    "Rempart offline. Neutral generated images only."
)


class _Formatter(argparse.HelpFormatter):
    """argparse's help, with its own words ("usage:") from the catalog too."""

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, prefix or _("Usage:") + " ")


def parser() -> argparse.ArgumentParser:
    built = argparse.ArgumentParser(
        prog="python -m rempart.demo_site",
        description=_(DESCRIPTION),
        formatter_class=_Formatter,
        add_help=False,
    )
    built._optionals.title = _("Options")
    built.add_argument(
        "-h",
        "--help",
        action="help",
        default=argparse.SUPPRESS,
        help=_("Show this message and exit."),
    )
    built.add_argument(
        "--seed", type=int, default=1, help=_("Another seed gives other pages and pictures.")
    )
    built.add_argument(
        "--images", type=int, default=200, help=_("How many pictures the sites hold (10 or more).")
    )
    built.add_argument("--host", default="127.0.0.1", help=_("The address to serve on."))
    built.add_argument(
        "--ports",
        type=int,
        nargs=3,
        default=(0, 0, 0),
        metavar=("FORUM", "HOST", "MIRROR"),
        help=_("The three ports (0: any free port)."),
    )
    built.add_argument(
        "--telegram-export",
        metavar="FOLDER",
        help=_("Also write a Telegram channel export here."),
    )
    built.add_argument(
        "--recipes",
        metavar="FOLDER",
        help=_(
            "Also write crawler recipes for the running sites here, and a sources file for "
            "`rempart source load`."
        ),
    )
    built.add_argument(
        "--tsa",
        metavar="FOLDER",
        help=_("Also run a DEMO time-stamping authority; its authorities file goes here."),
    )
    return built


def main(argv: list[str] | None = None) -> None:
    from rempart.demo_site.site import serve_until_interrupted

    args = parser().parse_args(argv)
    serve_until_interrupted(
        args.seed,
        args.images,
        host=args.host,
        ports=tuple(args.ports),
        telegram_export=args.telegram_export,
        timestamp_authority=args.tsa,
        recipes=args.recipes,
    )


if __name__ == "__main__":
    main()
