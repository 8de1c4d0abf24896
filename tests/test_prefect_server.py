"""Which path `claimcheck batch` takes: the flow only when a Prefect server is configured."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipeline.prefect_server import configured_api_url

from .conftest import REPO


def test_the_environment_then_the_active_profile_name_the_server(tmp_path):
    assert configured_api_url({"PREFECT_API_URL": " http://h:4200/api "}) == "http://h:4200/api"
    home = tmp_path / "prefect"
    home.mkdir()
    assert configured_api_url({"PREFECT_HOME": str(home)}) is None
    (home / "profiles.toml").write_text('active = "ephemeral"\n[profiles.ephemeral]\n'
                                        'PREFECT_SERVER_ALLOW_EPHEMERAL_MODE = "true"\n'
                                        '[profiles.shared]\nPREFECT_API_URL = "http://prefect:4200/api"\n')
    assert configured_api_url({"PREFECT_HOME": str(home)}) is None
    assert configured_api_url({"PREFECT_HOME": str(home), "PREFECT_PROFILE": "shared"}) == "http://prefect:4200/api"
    (home / "profiles.toml").write_text("not toml [")
    assert configured_api_url({"PREFECT_HOME": str(home)}) is None


def test_batch_without_a_server_runs_without_prefect_and_says_so(tmp_path):
    root = tmp_path / "claims"
    shutil.copytree(REPO / "sample_invoices" / "0007-it-genuine-duo", root / "one")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(tmp_path / "prefect-home"), "CLAIMCHECK_STORE": str(tmp_path / "s.sqlite3")})
    cli = Path(sys.executable).parent / "claimcheck"
    out = tmp_path / "out.jsonl"
    proc = subprocess.run([str(cli), "batch", str(root), "--out", str(out), "--workers", "1"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "no Prefect server configured" in proc.stderr
    assert json.loads(out.read_text())["claim_id"] == "C-1-0007"
    assert not (tmp_path / "prefect-home").exists()  # Prefect never ran: it makes its home on first use
