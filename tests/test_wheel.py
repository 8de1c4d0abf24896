"""claimcheck installed as a wheel, outside the checkout: the shipped promotions, catalogue and knowledge
files are package data and are found there (no ``Path(__file__).parents[2]`` into a checkout).

The wheel is built offline (``--no-build-isolation``: setuptools and wheel are dev requirements) and
installed with ``--no-deps`` into a fresh venv whose only extra path is this venv's site-packages (one
``.pth`` line, so the editable install's finder is not active there): the installed ``pipeline`` is the
wheel's, and its dependencies are this venv's.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .conftest import REPO

SAMPLE = REPO / "sample_invoices" / "0028-id-voucher-genuine"  # a digital PDF, a promotion with a reward


def _run(*args: str | Path, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    out = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, f"{args}: {out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv outside the checkout with the freshly built claimcheck wheel installed; its bin folder."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"  # a copy, so that building leaves no build/ or egg-info in the checkout
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for name in ("pipeline", "flows"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    dist, env = root / "dist", _env(root)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, src, cwd=root,
         env=env)
    (wheel,) = dist.glob("claimcheck-*.whl")

    venv = root / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=root, env=env)
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root,
                     env=env).stdout.strip())
    (site / "claimcheck-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel, cwd=root, env=env)
    return venv / "bin"


def _env(tmp: Path) -> dict:
    # Nothing that points the installed venv back at a checkout or at this run's settings.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CLAIMCHECK_") and k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(CLAIMCHECK_STORE=str(tmp / "store.sqlite3"), CLAIMCHECK_CACHE_DIR=str(tmp / "cache"),
               OMP_THREAD_LIMIT="1")
    return env


def test_the_installed_package_is_the_wheels_and_ships_its_data(installed, tmp_path):
    code = ("import pipeline, pipeline.promotions.terms as t, pipeline.matching.catalogue as c; "
            "print(pipeline.__file__); print(t.default_promotions_dir()); print(sorted(t.load_promotions()))")
    out = _run(installed / "python", "-c", code, cwd=tmp_path, env=_env(tmp_path)).stdout.splitlines()
    assert Path(out[0]).is_relative_to(installed.parent) and not Path(out[0]).is_relative_to(REPO)
    assert Path(out[1]).is_relative_to(installed.parent)
    shipped = sorted(p.stem for p in (REPO / "pipeline" / "data" / "promotions").glob("*.toml"))
    assert out[2] == repr(shipped)


def test_the_installed_claimcheck_verifies_a_bundled_claim_with_the_shipped_promotions(installed, tmp_path):
    claim = shutil.copytree(SAMPLE, tmp_path / SAMPLE.name)
    out = _run(installed / "claimcheck", "verify", claim, cwd=tmp_path, env=_env(tmp_path))
    decision = json.loads(out.stdout)
    expected = json.loads((SAMPLE / "expected.json").read_text())
    assert decision["decision"] == expected["decision"] == "approve"
    assert decision["reward"] == {"amount": 500000, "currency": "IDR", "bundle": None}
    assert all(c["status"] != "skipped" for c in decision["checks"] if c["name"] in ("territory", "promotion_period"))
