"""The analytics warehouse's Python side: protocols, the discord.py adapter, the mock client and
generator, the extractor (batched COPY + one upsert per batch), live ingest and the questions.

    from resonance.analytics import run_extraction, create_mock_client
    client = create_mock_client(user_count=50, channel_count=5, messages_per_channel=200, days=7, seed=42)
    stats = await run_extraction(client, pool, client.guilds[0].id, tenant_id="brand-1", sync_days=7)
"""

from resonance.analytics.extractor import ExtractionError, SyncStats, run_extraction
from resonance.analytics.mock import MockClient, create_mock_client

__all__ = ["ExtractionError", "MockClient", "SyncStats", "create_mock_client", "run_extraction"]
