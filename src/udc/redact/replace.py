"""Replacement modes: `token` (typed, stable, keyed HMAC), `mask` and `drop`. Nothing here can be reversed."""

from __future__ import annotations

import hashlib
import hmac

TOKEN_HEX = 8  # "<EMAIL:3f9a1c2b>"


class Replacer:
    def __init__(self, key: bytes | None) -> None:
        self._key = key

    def token(self, entity: str, normalised: str) -> str:
        """The same (entity, value) always gives the same token under one key, so redacted values still join."""
        if self._key is None:  # only reachable when no policy uses token mode (checked at construction)
            raise RuntimeError("token mode needs a redaction key")
        digest = hmac.new(self._key, f"{entity}\x1f{normalised}".encode(), hashlib.sha256).hexdigest()
        return f"<{entity}:{digest[:TOKEN_HEX]}>"

    def replace(self, mode: str, entity: str, original: str, normalised: str) -> str:
        if mode == "token":
            return self.token(entity, normalised)
        if mode == "mask":
            return "".join(ch if ch.isspace() else "*" for ch in original)
        return ""  # drop
