"""A fake Discord of our own, for end-to-end tests of the real `resonance bot` process.

One aiohttp app on 127.0.0.1 (an ephemeral port) serves:

- the gateway websocket at /gateway (gateway.py): HELLO, IDENTIFY (a wrong token closes with 4004,
  privileged intents the "portal" did not enable close with 4014), READY, GUILD_CREATE, heartbeats and
  their ACKs, RESUME with replay of missed dispatches, and any DISPATCH a test sends
  (MESSAGE_CREATE, MESSAGE_REACTION_ADD, VOICE_STATE_UPDATE, GUILD_MEMBER_UPDATE, INTERACTION_CREATE);
- the REST API under /api/v10 (rest_core.py): login, /gateway/bot, application commands, interaction
  callbacks (Discord's 3-second window enforced) and follow-ups, channel messages (Discord's body
  limits enforced), reactions, member roles, DMs.

The state (state.py) is plain dataclasses the test arranges; server.FakeDiscord has the verbs a test
uses to act as Discord users (send_message, react, voice, set_roles, slash, click) and `wait_for`.

Extending the REST API: add a module `tests/fakediscord/rest_<area>.py` defining
`routes = RouteTable()` (see rest.py); every rest_* module is registered on the app at start.

Pointing the bot at it: `resonance bot` reads RESONANCE_DISCORD_API_BASE (testing only) and then sets
discord.py's `discord.http.Route.BASE` to it and its gateway URL to the one GET /gateway/bot returns.
The fixtures (fixtures.py, loaded by tests/conftest.py) start the fake and run the real process.
"""

from fakediscord.server import FakeDiscord, World
from fakediscord.state import State

__all__ = ["FakeDiscord", "State", "World"]
