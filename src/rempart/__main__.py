"""`python -m rempart` runs the command line."""

from rempart.cli import app

app()
