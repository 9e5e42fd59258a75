"""The Python API over a trained kerasrs model: quality, shapes, dtypes,
views, round trips, predictions."""

import numpy as np
import pytest

import tandem


def test_trained_model_meets_the_bar(kerasrs):
    model, _ = kerasrs
    m = model.evaluate()
    assert m["rmse"] <= 0.30, m
    assert 0.0 < m["topk_accuracy"] <= 1.0
    assert m["preset"] == "kerasrs"
    assert m["model"] == str(kerasrs[1])  # saved: the evaluation names the file


def test_embeddings_shapes_dtypes_and_ids(kerasrs):
    model, _ = kerasrs
    users, items = model.user_embeddings(), model.item_embeddings()
    assert users.dtype == np.float32 and items.dtype == np.float32
    assert users.shape[1] == items.shape[1] == 32 == model.dim
    assert model.user_ids.dtype == np.int64 and model.item_ids.dtype == np.int64
    assert users.shape[0] == len(model.user_ids)
    assert items.shape[0] == len(model.item_ids) == len(model.item_titles) == 1682
    # Keras-RS's identity ids: row r is user r; the catalogue is the items file's order.
    assert model.user_ids[5] == 5
    assert list(model.item_ids[:3]) == [1, 2, 3]
    assert model.item_titles[0] == "Toy Story (1995)"


def test_embeddings_are_read_only_views_of_the_tables(kerasrs):
    model, _ = kerasrs
    a, b = model.user_embeddings(), model.user_embeddings()
    assert np.shares_memory(a, b)  # no copy: both view the table
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a[0, 0] = 1.0
    assert np.shares_memory(model.item_embeddings(), model.item_embeddings())


def test_a_view_outlives_its_model(data_dir):
    model = tandem.train(preset="kerasrs", data=data_dir, epochs=1, seed=3, train_count=2000, test_count=500,
                         threads=1, progress=False)
    view = model.user_embeddings()
    expected = view.copy()
    del model
    import gc

    gc.collect()
    assert np.array_equal(view, expected)


def test_scores_of_the_embeddings_give_the_retrieval_order(kerasrs):
    model, _ = kerasrs
    row = int(np.where(model.user_ids == 5)[0][0])
    scores = model.item_embeddings() @ model.user_embeddings()[row]
    top = [int(model.item_ids[i]) for i in np.argsort(-scores, kind="stable")[:10]]
    got = [r["item_id"] for r in model.recommend(5, k=10, candidates=10)]
    assert set(got) == set(top)


def test_recommend_returns_k_items_with_predictions(kerasrs):
    model, _ = kerasrs
    recs = model.recommend(5, k=10)
    assert len(recs) == 10
    assert all({"item_id", "title", "score", "predicted_rating"} <= set(r) for r in recs)
    assert model.recommend("5", k=10) == recs  # ids as text or numbers
    seen = model.recommend(5, k=50, candidates=200, exclude_seen=True)
    assert len(seen) == 50
    reply = model.recommend_reply(5, k=3)
    assert reply["items"] == model.recommend(5, k=3) and reply["cold_start"] is False


def test_unknown_user_is_a_cold_start(kerasrs):
    model, _ = kerasrs
    reply = model.recommend_reply(99999, k=5)
    assert reply["cold_start"] is True and len(reply["items"]) == 5


def test_predict_matches_the_recommended_ratings(kerasrs):
    model, _ = kerasrs
    recs = model.recommend(5, k=10, candidates=50)
    items = [r["item_id"] for r in recs]
    p = model.predict([5] * len(items), items)
    assert list(p) == ["rating"]
    assert p["rating"].dtype == np.float32 and p["rating"].shape == (10,)
    # The same head; a batch of 10 rather than 50 may round the GEMM's last bit differently.
    assert p["rating"].tolist() == pytest.approx([r["predicted_rating"] for r in recs], rel=1e-6)
    # Mixed users, in the order given.
    q = model.predict(np.array([1, 5, 1]), np.array([items[0], items[0], items[1]]))
    assert q["rating"][1] == pytest.approx(p["rating"][0], rel=1e-6)
    assert q["rating"][0] != q["rating"][1]  # another user, another prediction
    again = model.predict(np.array([1, 5, 1]), np.array([items[0], items[0], items[1]]))
    assert np.array_equal(again["rating"], q["rating"])  # and the same call, the same bits


def test_save_and_load_round_trip(kerasrs, tmp_path):
    model, path = kerasrs
    loaded = tandem.load(path)
    assert loaded.path == str(path)
    assert np.array_equal(loaded.user_embeddings(), model.user_embeddings())
    assert np.array_equal(loaded.item_embeddings(), model.item_embeddings())
    assert np.array_equal(loaded.user_ids, model.user_ids)
    assert loaded.config == model.config
    assert loaded.recommend(5, k=10, candidates=100) == model.recommend(5, k=10, candidates=100)
    # The loaded model re-creates its split from the data: the same metrics.
    untimed = lambda d: {a: b for a, b in d.items() if "seconds" not in a}  # noqa: E731
    assert untimed(loaded.evaluate()) == untimed(model.evaluate())
    again = tmp_path / "again.tandem"
    loaded.save(again)
    assert again.read_bytes() == path.read_bytes()


def test_evaluate_takes_evaluation_settings(kerasrs):
    model, _ = kerasrs
    at100 = model.evaluate(k=100)
    assert at100["k"] == 100 and at100["topk_accuracy"] >= model.evaluate()["topk_accuracy"]
    assert model.evaluate()["k"] == 10  # the setting held for that call only
    with pytest.raises(tandem.Error, match="evaluation settings only"):
        model.evaluate(epochs=3)


def test_compare_gives_the_tutorial_table(data_dir):
    rows = tandem.compare(preset="kerasrs", data=data_dir, epochs=1, seed=7, train_count=5000, test_count=1000,
                          threads=2, progress=False)
    rows = rows.to_dict("records") if hasattr(rows, "to_dict") else rows
    assert [r["model"] for r in rows] == ["popularity", "rating", "retrieval", "joint"]


def test_settings_are_listed():
    names = tandem.setting_keywords()
    assert "epochs" in names and "training.seed" in names
    assert {"path", "key", "flag", "help"} <= set(tandem.settings()[0])
    assert tandem.presets() == ["kerasrs", "tfrs"]
    assert "epochs = 4" in tandem.config_toml("kerasrs", epochs=4)
