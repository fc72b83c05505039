"""Handler-level tests drive every feature over one Runtime without Discord: `Handlers(pool)` reaches
each feature's handlers by name (h.checkin, h.handle_message, h.create, ...)."""

from __future__ import annotations

from typing import Any

from resonance.bot import api as default_api
from resonance.bot import features
from resonance.bot.runtime import Feature, Runtime


class Handlers:
    def __init__(
        self,
        pool: Any,
        *,
        api: Any = default_api,
        retry_delays: tuple[float, ...] = (0.5, 2.0),
        settings: Any = None,
        **kwargs: Any,
    ) -> None:
        self.rt = Runtime(pool, api=api, retry_delays=retry_delays, settings=settings, **kwargs)
        self.features: list[Feature] = features.load(self.rt)

    def feature(self, name: str) -> Any:
        return next(f for f in self.features if type(f).__name__ == name)

    def __getattr__(self, name: str) -> Any:
        for feature in self.features:
            if name in type(feature).__dict__:
                return getattr(feature, name)
        raise AttributeError(name)


class NoTransaction:
    """A stand-in connection for handlers that act in a transaction (Runtime.once) when the typed layer
    is faked: the transaction does nothing."""

    def transaction(self) -> NoTransaction:
        return self

    async def __aenter__(self) -> NoTransaction:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None
