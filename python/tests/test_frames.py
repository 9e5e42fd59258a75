"""Training on pandas frames and dicts of numpy arrays."""

import numpy as np
import pytest

import tandem

pd = pytest.importorskip("pandas")


def read_movielens(data_dir):
    ratings = pd.read_csv(data_dir / "u.data", sep="\t", names=["user_id", "movie_id", "rating", "timestamp"])
    items = pd.read_csv(data_dir / "u.item", sep="|", encoding="latin-1", header=None, usecols=[0, 1],
                        names=["movie_id", "title"])
    return ratings, items


def test_a_frame_of_the_file_trains_the_same_model_as_the_file(data_dir):
    """u.data read by pandas, in file order, splits and trains bit for bit as
    data=DIR does: the frame path adds nothing of its own."""
    ratings, items = read_movielens(data_dir)
    kw = dict(preset="kerasrs", epochs=1, seed=7, threads=2, progress=False)
    from_frame = tandem.train(ratings=ratings, items=items, **kw)
    from_files = tandem.train(data=data_dir, **kw)
    assert np.array_equal(from_frame.user_embeddings(), from_files.user_embeddings())
    assert np.array_equal(from_frame.item_embeddings(), from_files.item_embeddings())
    a, b = from_frame.evaluate(), from_files.evaluate()
    assert a["rmse"] == b["rmse"] and a["topk_accuracy"] == b["topk_accuracy"]
    assert from_frame.recommend(5, k=10) == from_files.recommend(5, k=10)


def test_string_ids_and_titles_in_one_frame(data_dir):
    """The TFRS tutorial's frame: user ids as strings, movie titles beside
    the ids; tfrs keys items by title."""
    ratings, items = read_movielens(data_dir)
    frame = ratings.merge(items, on="movie_id", how="left")
    frame["user_id"] = frame["user_id"].astype(str)
    model = tandem.train(preset="tfrs", ratings=frame, epochs=1, seed=7, threads=2, progress=False)
    assert model.user_ids.dtype.kind == "U"
    assert "5" in set(model.user_ids.tolist())
    assert model.user_ids[0] == ""  # the out-of-vocabulary row
    m = model.evaluate()
    assert m["evaluated_pairs"] == 20000
    recs = model.recommend("5", k=5)
    assert len(recs) == 5 and all(r["title"] for r in recs)


def test_a_dict_of_arrays_with_column_roles():
    rng = np.random.default_rng(0)
    n = 5000
    frame = {"u": rng.integers(1, 200, n), "i": rng.integers(1, 300, n), "stars": rng.integers(1, 6, n).astype(float)}
    model = tandem.train(preset="kerasrs", ratings=frame, columns={"user": "u", "item": "i", "rating": "stars"},
                         epochs=1, seed=1, batch_size=256, threads=1, progress=False)
    assert model.evaluate()["evaluated_pairs"] == 1000  # 80% / 20% of the rows
    assert model.user_embeddings().shape == (int(frame["u"].max()) + 1, 32)


def test_explicit_split_counts_are_kept():
    rng = np.random.default_rng(1)
    frame = {"user_id": rng.integers(1, 50, 1000), "item_id": rng.integers(1, 80, 1000),
             "rating": rng.integers(1, 6, 1000)}
    model = tandem.train(preset="kerasrs", ratings=frame, train_count=900, test_count=100, epochs=1,
                         batch_size=128, threads=1, progress=False)
    assert model.evaluate()["test"]["pairs"] == 100
