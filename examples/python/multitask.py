#!/usr/bin/env python3
"""The TensorFlow Recommenders "Multi-task recommenders" tutorial, end to end
with pandas and Tandem.

    PYTHONPATH=build/python python3 examples/python/multitask.py [--data DIR] [--epochs N]

Like the tutorial: MovieLens-100K's ratings with movie titles and string user
ids, an 80,000 / 20,000 shuffled split, one model with shared user and movie
embeddings trained for retrieval (in-batch softmax, top-100 accuracy over all
movies) and ranking (an MLP predicting the rating, RMSE), three times: rating
only, retrieval only, and both at once. Then recommendations for a user,
ranked by the joint model's rating head, and the embeddings in numpy.
"""

import argparse
import os
import pathlib

import numpy as np
import pandas as pd

import tandem


def main():
    here = pathlib.Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("TANDEM_DATA", here / ".." / "shared" / "data" / "ml-100k"))
    parser.add_argument("--epochs", type=int, default=None, help="default: the tfrs preset's")
    parser.add_argument("--user", default="42")
    args = parser.parse_args()
    data = pathlib.Path(args.data)

    # 1. The data, as the tutorial's tf.data pipeline has it: user id (a
    #    string), movie title, rating.
    ratings = pd.read_csv(data / "u.data", sep="\t", names=["user_id", "movie_id", "user_rating", "timestamp"])
    movies = pd.read_csv(data / "u.item", sep="|", encoding="latin-1", header=None, usecols=[0, 1],
                         names=["movie_id", "movie_title"])
    ratings = ratings.merge(movies, on="movie_id", how="left")
    ratings["user_id"] = ratings["user_id"].astype(str)
    print(f"{len(ratings):,} ratings, {ratings.user_id.nunique()} users, {ratings.movie_title.nunique()} titles")

    # 2. Three models on one split: the tutorial's rating-specialised,
    #    retrieval-specialised and multi-task models (tfrs preset: embedding
    #    32, MLP 256-128, Adagrad 0.1, batch 8192 / 4096, seed 42).
    settings = {} if args.epochs is None else {"epochs": args.epochs}
    rows = []
    models = {}
    for name, rating_w, retrieval_w in [("rating-specialised", 1.0, 0.0), ("retrieval-specialised", 0.0, 1.0),
                                        ("multi-task", 1.0, 1.0)]:
        model = tandem.train(preset="tfrs", ratings=ratings, ranking_weight=rating_w,
                             retrieval_weight=retrieval_w, **settings)
        m = model.evaluate()
        rows.append({"model": name, "top-100 accuracy": m["topk_accuracy"], "RMSE": m["rmse"]})
        models[name] = model
    print(pd.DataFrame(rows).to_string(index=False, float_format="%.3f"))

    # 3. Recommendations: retrieve 100 candidates, rank them by the joint
    #    model's predicted rating, keep the best 5.
    joint = models["multi-task"]
    print(f"\nTop 5 for user {args.user}:")
    for r in joint.recommend(args.user, k=5, candidates=100, exclude_seen=True):
        print(f"  {r['title']:<50} predicted rating {r['predicted_rating']:.2f}")

    # 4. The embeddings, for faiss or a vector database: the user's vector
    #    dotted with the movies' gives the retrieval scores.
    users, items = joint.user_embeddings(), joint.item_embeddings()
    row = int(np.nonzero(joint.user_ids == args.user)[0][0])
    best = np.argsort(-(items @ users[row]))[:3]
    print(f"\nuser embeddings {users.shape}, item embeddings {items.shape}; by dot product alone: "
          + "; ".join(joint.item_titles[i] for i in best))


if __name__ == "__main__":
    main()
