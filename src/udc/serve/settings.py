"""What the command line needs before the web stack loads: where to listen by default and the token's variable."""

from __future__ import annotations

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765
TOKEN_ENV = "UDC_SERVE_TOKEN"

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "TOKEN_ENV"]
