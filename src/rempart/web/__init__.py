"""The web entry point: the caseworkers' pages, the JSON API and the partner match API
(FastAPI, served by uvicorn). Thin: parse the request, call a use case, render.

`create_app(settings)` builds the application; nothing is built at import. Nothing imports
this package but `rempart.cli` (the `serve` command).
"""

from rempart.web.app import create_app

__all__ = ["create_app"]
