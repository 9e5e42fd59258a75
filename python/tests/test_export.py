"""Exported models read by numpy, a few lines of safetensors parsing, and
faiss (a real client): its exact inner-product search over the exported
item embeddings finds Tandem's exact retrieval top-k."""

import json
import struct

import numpy as np
import pytest

import tandem
from conftest import cli


@pytest.fixture(scope="module")
def exported(kerasrs, tmp_path_factory):
    model, path = kerasrs
    out = tmp_path_factory.mktemp("export") / "m.npz"
    cli("export", "--model", path, "--format", "npz", "--output", out)
    return model, path, out


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": np.float32, "I64": np.int64, "U8": np.uint8}
    body = raw[8 + n:]
    arrays = {name: np.frombuffer(body[t["data_offsets"][0]:t["data_offsets"][1]], dtype=dtypes[t["dtype"]])
              .reshape(t["shape"]) for name, t in header.items()}
    return arrays, meta


def test_npz_holds_the_models_arrays(exported):
    model, _, out = exported
    z = np.load(out)
    assert np.array_equal(z["user_ids"], model.user_ids)
    assert np.array_equal(z["item_ids"], model.item_ids)
    assert np.array_equal(z["user_embeddings"], model.user_embeddings())
    assert np.array_equal(z["item_embeddings"], model.item_embeddings())
    assert list(z["item_titles"][:1]) == model.item_titles[:1]
    meta = json.loads(z["metadata"].item())
    assert meta["config"] == model.config
    assert any(name.startswith("weights/") for name in z.files)


def test_safetensors_from_the_module_equals_the_npz(exported, tmp_path):
    model, _, out = exported
    st = tmp_path / "m.safetensors"
    model.export(st)
    arrays, meta = read_safetensors(st)
    z = np.load(out)
    for name in ("user_ids", "item_ids", "user_embeddings", "item_embeddings"):
        assert np.array_equal(arrays[name], z[name]), name
    weights = [n for n in z.files if n.startswith("weights/") or n.startswith("tables/")]
    assert weights and all(np.array_equal(arrays[n], z[n]) for n in weights)
    assert json.loads(meta["config"]) == model.config


@pytest.mark.parametrize("user", [1, 5, 943])
def test_faiss_flat_ip_finds_tandems_top10(exported, user):
    faiss = pytest.importorskip("faiss")
    _, path, out = exported
    z = np.load(out)
    index = faiss.IndexFlatIP(z["item_embeddings"].shape[1])
    index.add(np.ascontiguousarray(z["item_embeddings"]))
    row = int(np.nonzero(z["user_ids"] == user)[0][0])
    _, found = index.search(z["user_embeddings"][row:row + 1], 10)
    from_faiss = {int(z["item_ids"][i]) for i in found[0]}
    reply = json.loads(cli("recommend", "--model", path, "--user", user, "--k", 10, "--candidates", 10, "--json")[1])
    assert from_faiss == {r["item_id"] for r in reply["items"]}
