"""The reviewer workspace's routes, by concern: signing in and out, the queue, one claim (its page,
its documents, the reviewer's actions)."""
from __future__ import annotations

from . import actions, claim, documents, queue, signin

ROUTERS = (signin.router, queue.router, claim.router, documents.router, actions.router)
