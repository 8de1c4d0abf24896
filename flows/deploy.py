"""The ``verify-claim`` flow as a deployment on a process work pool: what ``claimcheck api`` starts a
run of per uploaded claim when a Prefect server is configured (``[prefect].deployment``).

    PREFECT_API_URL=http://127.0.0.1:4200/api .venv/bin/python -m flows.deploy --pool claims --name api
    .venv/bin/prefect worker start --pool claims     # on each machine that shares the load

The deployment's code is this checkout (``from_source`` of the repository folder): workers need
claimcheck installed and the claim folders at the same paths (a shared volume).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

__all__ = ["deploy_verify_claim"]

REPO = Path(__file__).resolve().parents[1]


def deploy_verify_claim(pool: str, name: str = "api") -> str:
    """Create the process work pool ``pool`` (if missing) and the deployment; returns its full name."""
    from prefect import flow

    prefect = Path(sys.executable).parent / "prefect"
    made = subprocess.run([str(prefect), "work-pool", "create", pool, "--type", "process"], capture_output=True,
                          text=True, timeout=120)
    if made.returncode != 0 and "already exists" not in (made.stdout + made.stderr):
        raise RuntimeError(f"work pool {pool}: {made.stdout}{made.stderr}")
    source = flow.from_source(source=str(REPO), entrypoint="flows/backlog.py:verify_claim")
    source.deploy(name=name, work_pool_name=pool, print_next_steps=False, ignore_warnings=True)
    return f"verify-claim/{name}"


if __name__ == "__main__":  # pragma: no cover
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pool", default="claims")
    ap.add_argument("--name", default="api")
    a = ap.parse_args()
    print(deploy_verify_claim(a.pool, a.name))
