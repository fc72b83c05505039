"""The `resonance` console script: one entry point, one subcommand per capability."""

from __future__ import annotations

import importlib
import sys

USAGE = """usage: resonance <command> [args]

commands:
  db up|down|status|url|reset   the local Postgres 15 cluster under .resonance/
  db supabase up|reset|url|down the Supabase-like cluster (Supabase's init scripts replayed)
  migrate [status] [--database-url URL] [--dry-run]
                                apply db/local (plain Postgres only), db/migrations, then
                                db/functions, db/policies and db/jobs
  export supabase DIR           a Supabase CLI project (config.toml, timestamped migrations, pgTAP
                                tests) in DIR/supabase/; re-export writes only what changed
  simulate [--members N] [--days N] [--seed N] [--database-url URL]
                                a seeded community driven end to end, then a report and a chart
  bench [--seconds N]           pgbench: our hot paths vs the ceiling and a naive peer
  analytics sync|simulate|query  a real guild over Discord REST (DISCORD_BOT_TOKEN) or a seeded mock
                                guild into the warehouse; the sealed SQL console
  bot [--list-commands]         the Discord bot (DISCORD_TOKEN, DATABASE_URL from the environment)
  web [--host H] [--port P]     the community dashboard and the SaaS API (docs/web.md)
"""

# command -> module exposing main(argv) -> int; later capabilities add a line here.
COMMANDS: dict[str, str] = {
    "db": "resonance.localdb",
    "migrate": "resonance.migrate",
    "export": "resonance.export_supabase",
    "simulate": "resonance.simulate",
    "bench": "resonance.bench",
    "analytics": "resonance.analytics.cli",
    "bot": "resonance.bot.app",
    "web": "resonance.web.app",
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if args else 2
    module_name = COMMANDS.get(args[0])
    if module_name is None:
        print(f"resonance: unknown command {args[0]!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    module = importlib.import_module(module_name)
    return int(module.main(args[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
