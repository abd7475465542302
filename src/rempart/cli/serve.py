"""`rempart serve`: the web app and the match API, served by uvicorn.

Thin: read the settings, hand the application factory to uvicorn. Registered by rempart.cli.
"""

from __future__ import annotations

from typing import Annotated

import typer

from rempart.cli import _reported, app, err
from rempart.i18n import _


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (each loads the banks once).", min=1, max=64)
    ] = 1,
) -> None:
    """Serve the caseworkers' web app and the match API (docs/web.md).

    Listens on 127.0.0.1 by default: put it behind a TLS reverse proxy to open it to others
    (set REMPART_WEB_TRUSTED_PROXIES to the proxy's address).
    """
    import uvicorn

    from rempart.store.database import Database
    from rempart.web.app import server_options
    from rempart.web.settings import WebSettings

    with _reported():
        settings = WebSettings.from_env()
        Database.open(settings.core.database_url).dispose()  # migrate once, before the workers
    err.print(_("Rempart listens on http://{host}:{port}/", host=host, port=port))
    uvicorn.run(
        "rempart.web.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        **server_options(settings),  # type: ignore[arg-type]
    )
