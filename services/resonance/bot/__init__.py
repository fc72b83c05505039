"""The Discord bot: adapters (cogs) turn gateway events and interactions into plain models,
handlers turn each model into one call of the typed database layer and format the answer.

- models.py      the plain pydantic models handlers take (no discord.py objects)
- responder.py   the Responder protocol handlers answer through, and the Embed spec
- handlers.py    listeners and slash-command handlers
- outbox.py      the outbox and report workers
- voice.py       voice sessions, persisted so a restart loses no minutes
- cogs.py        the discord.py side: listeners, command tree, the persistent drop button
- app.py         the bot itself (setup, pool, workers), `resonance bot`
"""
