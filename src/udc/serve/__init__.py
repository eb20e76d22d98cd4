"""`udc serve`: a read-only web dashboard, JSON API and Prometheus metrics over the store.

Nothing is imported here: the web stack (FastAPI, uvicorn, about a second of imports) loads only for the commands
that serve (`udc.serve.server`), and `udc.serve.settings` holds what the command line needs before that.
"""
