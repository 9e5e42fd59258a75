"""Shared fixtures: the data directory, the tandem binary, and one small
kerasrs model trained once per test file (about 2 s)."""

import json
import os
import pathlib
import subprocess

import pytest

SOURCE = pathlib.Path(os.environ.get("TANDEM_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
DATA = pathlib.Path(os.environ.get("TANDEM_DATA", SOURCE / ".." / "shared" / "data" / "ml-100k")).resolve()
BINARY = os.environ.get("TANDEM_BINARY", str(SOURCE / "build" / "tandem"))


def cli(*args, check=True):
    """Runs the tandem binary; returns (exit code, stdout, stderr)."""
    p = subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"tandem {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}")
    return p.returncode, p.stdout, p.stderr


def cli_json(*args):
    return json.loads(cli(*args, "--json")[1])


@pytest.fixture(scope="module")
def data_dir():
    if not (DATA / "u.data").exists():
        pytest.fail(f"MovieLens-100K not found at {DATA} (set TANDEM_DATA)")
    return DATA


@pytest.fixture(scope="module")
def kerasrs(data_dir, tmp_path_factory):
    """A kerasrs model trained for one epoch, and the file it was saved to."""
    import tandem

    model = tandem.train(preset="kerasrs", data=data_dir, epochs=1, seed=7, threads=2, progress=False)
    path = tmp_path_factory.mktemp("kerasrs") / "m.tandem"
    model.save(path)
    return model, path
