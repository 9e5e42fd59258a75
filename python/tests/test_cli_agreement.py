"""The module and the CLI give the same answers for the same saved model."""

import pytest

from conftest import cli, cli_json


@pytest.mark.parametrize("user,k,candidates,exclude_seen", [(5, 10, None, False), (1, 10, 100, False),
                                                            (943, 20, 200, True), (99999, 5, None, False)])
def test_recommend_equals_the_cli(kerasrs, user, k, candidates, exclude_seen):
    model, path = kerasrs
    args = ["recommend", "--model", path, "--user", user, "--k", k]
    if candidates:
        args += ["--candidates", candidates]
    if exclude_seen:
        args += ["--exclude-seen"]
    expected = cli_json(*args)
    assert model.recommend(user, k=k, candidates=candidates, exclude_seen=exclude_seen) == expected["items"]
    reply = model.recommend_reply(user, k=k, candidates=candidates, exclude_seen=exclude_seen)
    drop = {"timing_ms"}
    assert {a: b for a, b in reply.items() if a not in drop} == {a: b for a, b in expected.items() if a not in drop}


def test_evaluate_equals_the_cli(kerasrs):
    model, path = kerasrs
    expected = cli_json("evaluate", "--model", path)
    got = model.evaluate()
    drop = {"seconds", "eval_seconds", "eval_phase_seconds"}
    clean = lambda d: {a: b for a, b in d.items() if a not in drop and not a.endswith("_seconds")}  # noqa: E731
    assert clean(got) == clean(expected)


def test_the_saved_model_is_the_one_the_cli_trains(data_dir, tmp_path):
    """tandem.train with keywords == tandem train with the same flags."""
    import numpy as np

    import tandem

    out = tmp_path / "cli.tandem"
    cli("train", "--preset", "kerasrs", "--data", data_dir, "--epochs", 1, "--seed", 11, "--threads", 2,
        "--batch-size", 2048, "--quiet", "--output", out)
    model = tandem.train(preset="kerasrs", data=data_dir, epochs=1, seed=11, threads=2, batch_size=2048,
                         progress=False)
    from_cli = tandem.load(out)
    assert np.array_equal(model.user_embeddings(), from_cli.user_embeddings())
    assert np.array_equal(model.item_embeddings(), from_cli.item_embeddings())
    assert model.recommend(5, k=10, candidates=50) == from_cli.recommend(5, k=10, candidates=50)


def test_a_saved_hnsw_graph_answers_as_in_the_cli(kerasrs, tmp_path):
    import tandem

    model, path = kerasrs
    graph = tmp_path / "m.hnsw"
    cli("index", "build", "--model", path, "--output", graph)
    loaded = tandem.load(path, index="hnsw", index_file=graph, ef_search=50)
    expected = cli_json("recommend", "--model", path, "--user", 5, "--k", 10, "--candidates", 30, "--index", "hnsw",
                        "--index-file", graph, "--ef-search", 50)
    assert loaded.recommend(5, k=10, candidates=30) == expected["items"]
    reply = loaded.recommend_reply(5, k=10, candidates=30)
    assert reply["index"] == expected["index"]
    # A graph of another model is refused when loading, with the CLI's message.
    other = tmp_path / "other.tandem"
    tandem.train(preset="kerasrs", epochs=1, seed=99, train_count=2000, test_count=500, threads=1,
                 progress=False).save(other)
    with pytest.raises(tandem.Error, match="another model|belongs to|different model"):
        tandem.load(other, index="hnsw", index_file=graph)
    with pytest.raises(tandem.Error, match="index_file needs"):
        tandem.load(path, index_file=graph)
