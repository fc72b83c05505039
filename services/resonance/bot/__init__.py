"""The Discord bot: a thin adapter from Discord to the SQL functions, organised by feature.

Features (resonance.bot.features, one module each; commands, listeners and handlers together):
activity (messages, reactions, joins), voice (observed voice time), roles (Discord roles followed),
progress (check-in, leaderboard, stats, achievements, goals), economy (balance, tips, history, buying
roles, wallets), drops, support (tickets), admin (rules, effects, milestones, rewards, KPIs, reports,
audit), help. Adding one is one file and one line: see resonance.bot.features.

Plumbing, shared and feature-agnostic:

- runtime.py     Runtime (pool, settings, the call seam, outage queue, answers, once-per-interaction)
                 and Feature, the base class every feature's cog derives from
- api.py         the seam: every typed-layer call a feature makes, by name (swapped in handler tests)
- discord_io.py  discord.py <-> plain models: context, InteractionResponder, the outbox's ClientTarget
- models.py      the plain pydantic models handlers take (no discord.py objects)
- responder.py   the Responder protocol and the Embed/Button specs
- text.py        answers built to fit Discord's limits, status replies, amounts
- errors.py      what a failure means for the member (outage, timeout, documented SQLSTATE)
- outbox.py      the outbox and report workers (features register outbox message types)
- logs.py        structured logs
- fakes.py       test doubles for handler-level tests
- app.py         the process: startup checks, command sync, workers, graceful shutdown (`resonance bot`)

No import cycle: features import plumbing only, the app imports the feature registry, nothing imports
the app. Testing against a fake Discord: RESONANCE_DISCORD_API_BASE (see tests/fakediscord).
"""
