"""The bot's features, one module each. A feature module holds its slash commands, gateway listeners
and their handlers together, in one `Feature` subclass (resonance.bot.runtime.Feature) exposed as
`FEATURE`; it receives the Runtime and nothing else, so features and the app never import each other.

Adding a feature (e.g. /setup):

1. write `resonance/bot/features/setup.py`:

       from discord import app_commands
       from resonance.bot.runtime import Feature

       class Setup(Feature):
           async def setup(self, ctx, r, ...):            # the handler: plain models in, one rt.call
               async def body(): ...
               await self.rt.answer(r, "setup", body)

           @app_commands.command(name="setup", description="...")
           async def setup_command(self, interaction, ...):  # the edge: convert, delegate
               await self.setup(*self.edge(interaction), ...)

       FEATURE = Setup

2. add "setup" to FEATURES below. That is all: the app loads it, /help lists it, the command sync
   picks it up (only because the definitions changed).
"""

from __future__ import annotations

import importlib

from resonance.bot.runtime import Feature, Runtime

FEATURES: tuple[str, ...] = (
    "activity",
    "voice",
    "roles",
    "progress",
    "economy",
    "drops",
    "support",
    "admin",
    "analytics",
    "help",
)


def load(rt: Runtime) -> list[Feature]:
    """One instance of every feature, in FEATURES order (startup hooks run in that order)."""
    out = []
    for name in FEATURES:
        module = importlib.import_module(f"resonance.bot.features.{name}")
        out.append(module.FEATURE(rt))
    return out
