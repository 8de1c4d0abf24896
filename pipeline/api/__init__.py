"""The intake API (issue #14): claims uploaded over HTTP under ``/api/v1``, verified by the same
orchestrator as every other path, their decisions pushed back by signed webhooks.

- ``settings``: ``pipeline/data/api.toml`` and a user file, validated.
- ``tokens``: bearer tokens with scopes, stored hashed; a per-token rate limit.
- ``intake``: checking an upload and writing its claim folder atomically.
- ``jobs``: the uploaded claims' queue in the claim store (``api_claims``, ``webhook_attempts``).
- ``worker``: the embedded worker (or a Prefect deployment's runs) taking claims off the queue.
- ``webhooks``: signing, delivering with retries, and verifying a signature.
- ``app``: the FastAPI app (``claimcheck api``).
"""
