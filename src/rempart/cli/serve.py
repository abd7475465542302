"""`rempart serve`: the web app and the match API, served by uvicorn; and the web app on the
demo's data for `rempart demo --serve`.

Thin: read the settings, hand the application factory to uvicorn. Registered by rempart.cli.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rempart.cli import _reported, app, err, out
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


DEMO_ACCOUNT = "demo"


def serve_demo(home: Path, *, port: int, host: str = "127.0.0.1") -> None:
    """`rempart demo --serve`, once the demo ran in `home`: an account for its case, with a
    generated password printed once, and the web app on its data until Ctrl-C. Listens on
    loopback only."""
    import socket

    import uvicorn

    from rempart.accounts.policy import Role
    from rempart.accounts.users import add_user
    from rempart.config import Settings
    from rempart.demo import DEMO_CASE
    from rempart.demo_takedown import DEMO_IDENTITY
    from rempart.store.database import Database
    from rempart.web.app import create_app, server_options
    from rempart.web.settings import WebSettings

    core = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'rempart.db'}",
        operator=DEMO_ACCOUNT,
        organisation=DEMO_IDENTITY.name,
        identity=DEMO_IDENTITY,
    )
    settings = WebSettings(core=core, language=WebSettings.from_env().language)
    db = Database.open(core.database_url)
    made = add_user(db, DEMO_ACCOUNT, Role.CASEWORKER, cases=[DEMO_CASE], actor="rempart demo")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    bound = listener.getsockname()[1]
    out.rule(_("The web app, on the demo's data"))
    out.print(_("Open http://{host}:{port}/ and sign in:", host=host, port=bound), markup=False)
    out.print(_("  account:  {name}", name=DEMO_ACCOUNT), markup=False)
    out.print(_("  password: {password}", password=made.password), markup=False)
    out.print(_("(generated for this run only). Ctrl-C stops it."))
    config = uvicorn.Config(
        create_app(settings, db=db),
        log_level="warning",
        **server_options(settings),  # type: ignore[arg-type]
    )
    try:
        uvicorn.Server(config).run(sockets=[listener])
    except KeyboardInterrupt:  # Ctrl-C is how it ends (uvicorn raises it again once stopped)
        pass
    finally:
        listener.close()
        db.dispose()
