"""`python -m udc` is the `udc` command."""

from udc.cli import app

app(prog_name="udc")
