"""Replacement modes: `token` (typed, stable, keyed HMAC), `mask` and `drop`. Nothing here can be reversed."""

from __future__ import annotations

import hmac

TOKEN_HEX = 8  # "<EMAIL:3f9a1c2b>"
_CACHED_TOKENS = 50_000  # (entity, value) pairs remembered before the cache starts over


class Replacer:
    def __init__(self, key: bytes | None) -> None:
        # the key's HMAC state, copied for each new token (cheaper than keying a new HMAC every time)
        self._keyed = hmac.new(key, digestmod="sha256") if key is not None else None
        self._tokens: dict[tuple[str, str], str] = {}  # memory only: the same people and numbers recur

    def token(self, entity: str, normalised: str) -> str:
        """The same (entity, value) always gives the same token under one key, so redacted values still join."""
        token = self._tokens.get((entity, normalised))
        if token is None:
            if self._keyed is None:  # only reachable when no policy uses token mode (checked at construction)
                raise RuntimeError("token mode needs a redaction key")
            keyed = self._keyed.copy()
            keyed.update(f"{entity}\x1f{normalised}".encode())
            token = f"<{entity}:{keyed.hexdigest()[:TOKEN_HEX]}>"
            if len(self._tokens) >= _CACHED_TOKENS:
                self._tokens.clear()
            self._tokens[(entity, normalised)] = token
        return token

    def replace(self, mode: str, entity: str, original: str, normalised: str) -> str:
        if mode == "token":
            return self.token(entity, normalised)
        if mode == "mask":
            return "".join(ch if ch.isspace() else "*" for ch in original)
        return ""  # drop
