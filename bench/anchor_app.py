"""The anchor of the web benches: a bare FastAPI application under the same uvicorn, its
endpoints doing nothing (`POST /hello` reads no body and answers a small JSON; `GET /hello`
too). What Rempart's figures are divided by, measured in the same run."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.post("/hello")
async def hello_post() -> dict[str, str]:
    return {"hello": "world"}


@app.get("/hello")
async def hello_get() -> dict[str, str]:
    return {"hello": "world"}
