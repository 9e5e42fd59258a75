#!/usr/bin/env python3
"""The reference for `tandem bench`: the same multi-task model and protocol in
PyTorch (Debian's python3-torch, OpenBLAS/MKL-DNN CPU kernels), timed on the
same machine in the same run.

Model: user/item embeddings (dim 32, uniform(-0.05, 0.05)), rating MLP
64 -> 256 -> 128 -> 1 (ReLU, Glorot-uniform, zero bias), in-batch softmax
cross-entropy summed over the batch, MSE, total = w_rank * MSE + w_ret * CE,
dense Adagrad (lr 0.1, initial accumulator 0.1, eps 1e-7).
Presets: kerasrs (batch 1000, 5 epochs, fixed order), tfrs (batch 8192,
3 epochs, one shuffled order replayed every epoch as the notebook's cached
shuffle does; ids, not titles, key its movies). Prints one JSON object per (preset, variant) with the
training seconds (training loop only) and the evaluation metrics.

Quality mode (--quality, kerasrs protocol): trains on given splits and prints
one JSON line per (seed, model) with top-K accuracy over the 5-star test
pairs, RMSE and the per-epoch training losses (each the mean over the epoch's
batches, as Tandem reports them). With --split-from DIR (a "{seed}" in it is
replaced by each seed) it reads DIR/train.data and DIR/test.data, written by
`tandem data prepare --preset kerasrs --seed S --write-split DIR`, so both
implementations train on exactly the same rows in the same order:

  bench/pytorch_reference.py --quality --data DATA --seeds 1-10 \
      --split-from /tmp/splits/{seed} [--model joint] [--adagrad torch|keras]

topk_accuracy ranks over u.item's ids (Tandem's catalogue); topk_accuracy_table
over every item-table row 0..max id, as Keras-RS's BruteForceRetrieval does
(row 0, never trained, included).
"""
import argparse
import json
import os
import time

import torch


def read_split_file(path):
    """A u.data-format file (user, item, rating, timestamp; tab-separated)."""
    users, items, ratings = [], [], []
    with open(path) as f:
        for line in f:
            u, i, r, _ = line.split("\t")
            users.append(int(u))
            items.append(int(i))
            ratings.append(float(r))
    return torch.tensor(users), torch.tensor(items), torch.tensor(ratings)


def load(data_dir):
    return read_split_file(os.path.join(data_dir, "u.data"))


class MultiTask(torch.nn.Module):
    def __init__(self, n_users, n_items, dim=32, hidden=(256, 128)):
        super().__init__()
        self.user = torch.nn.Embedding(n_users, dim)
        self.item = torch.nn.Embedding(n_items, dim)
        torch.nn.init.uniform_(self.user.weight, -0.05, 0.05)
        torch.nn.init.uniform_(self.item.weight, -0.05, 0.05)
        layers, width = [], 2 * dim
        for h in hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            width = h
        layers.append(torch.nn.Linear(width, 1))
        self.head = torch.nn.Sequential(*layers)
        for m in self.head:
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.xavier_uniform_(m.weight)
                torch.nn.init.zeros_(m.bias)

    def forward(self, u, i):
        ue, ie = self.user(u), self.item(i)
        return ue, ie, self.head(torch.cat([ue, ie], dim=1)).squeeze(1)


def run(preset, weights, data, seed):
    users, items, ratings = data
    torch.manual_seed(seed)
    perm = torch.randperm(len(users))
    train_idx, test_idx = perm[:80000], perm[80000:100000]
    if preset == "kerasrs":
        labels = (ratings - 1.0) / 4.0
        batch, epochs, shuffled, k = 1000, 5, False, 10
    else:
        labels = ratings
        batch, epochs, shuffled, k = 8192, 3, True, 100
    model = MultiTask(int(users.max()) + 1, int(items.max()) + 1)
    opt = torch.optim.Adagrad(model.parameters(), lr=0.1, initial_accumulator_value=0.1, eps=1e-7)
    w_rank, w_ret = weights
    tu, ti, tl = users[train_idx], items[train_idx], labels[train_idx]
    start = time.perf_counter()
    # tfrs: train.shuffle(100_000).batch(8192).cache() replays epoch 1's order.
    order = torch.randperm(len(tu)) if shuffled else torch.arange(len(tu))
    for _ in range(epochs):
        for s in range(0, len(tu), batch):
            idx = order[s:s + batch]
            ue, ie, pred = model(tu[idx], ti[idx])
            loss = 0.0
            if w_ret:
                scores = ue @ ie.T
                target = torch.arange(len(idx))
                loss = loss + w_ret * torch.nn.functional.cross_entropy(scores, target, reduction="sum")
            if w_rank:
                loss = loss + w_rank * torch.nn.functional.mse_loss(pred, tl[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    train_seconds = time.perf_counter() - start
    with torch.no_grad():
        eu, ei, el = users[test_idx], items[test_idx], labels[test_idx]
        ue, ie, pred = model(eu, ei)
        rmse = float(torch.sqrt(torch.mean((pred - el) ** 2)))
        catalogue = model.item.weight[1:]
        scores = ue @ catalogue.T
        pos = (ue * ie).sum(1, keepdim=True)
        rank = (scores > pos).sum(1)
        hit = (rank < k).float()
        if preset == "kerasrs":
            w = (ratings[test_idx] >= 5).float()
            acc = float((hit * w).sum() / w.sum())
        else:
            acc = float(hit.mean())
    return {"train_seconds": train_seconds, "topk_accuracy": acc, "rmse": rmse, "k": k}


def catalogue_ids(data_dir, n_items):
    """Item ids retrieval ranks over: u.item's ids (Tandem's catalogue,
    MovieLens ids 1..1682), and every row of the item table 0..max id
    (Keras-RS's BruteForceRetrieval over the whole embedding variable, row 0
    included)."""
    ids = []
    with open(os.path.join(data_dir, "u.item"), encoding="latin-1") as f:
        for line in f:
            if line.strip():
                ids.append(int(line.split("|", 1)[0]))
    return torch.tensor(ids), torch.arange(n_items)


class KerasAdagrad(torch.optim.Optimizer):
    """keras.optimizers.Adagrad (Keras 3): acc += g^2; w -= lr g / sqrt(acc + eps)
    (epsilon inside the root; torch's and Tandem's add it outside)."""

    def __init__(self, params, lr=0.1, initial_accumulator_value=0.1, eps=1e-7):
        super().__init__(params, dict(lr=lr, init=initial_accumulator_value, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for w in group["params"]:
                if w.grad is None:
                    continue
                st = self.state[w]
                if not st:
                    st["acc"] = torch.full_like(w, group["init"])
                st["acc"].add_(w.grad * w.grad)
                w.sub_(group["lr"] * w.grad / torch.sqrt(st["acc"] + group["eps"]))


def quality_run(weights, split, sizes, catalogue, init_seed, adagrad):
    """kerasrs protocol on a given split: batch 1000 in the split's order,
    5 epochs, no reshuffle, labels (r - 1) / 4; top-10 over the catalogue for
    the test pairs rated 5 (Keras-RS: label > 0.9), RMSE over all test pairs."""
    (tu, ti, tr), (eu, ei, er) = split
    n_users, n_items = sizes
    batch, epochs, k = 1000, 5, 10
    torch.manual_seed(init_seed)
    model = MultiTask(n_users, n_items)
    if adagrad == "keras":
        opt = KerasAdagrad(model.parameters(), lr=0.1, initial_accumulator_value=0.1, eps=1e-7)
    else:
        opt = torch.optim.Adagrad(model.parameters(), lr=0.1, initial_accumulator_value=0.1, eps=1e-7)
    w_rank, w_ret = weights
    tl = (tr - 1.0) / 4.0
    epoch_losses = []
    for epoch in range(epochs):
        rank_sum, ret_sum, steps = 0.0, 0.0, 0
        for s in range(0, len(tu), batch):
            ue, ie, pred = model(tu[s:s + batch], ti[s:s + batch])
            loss = 0.0
            if w_ret:
                ret = torch.nn.functional.cross_entropy(ue @ ie.T, torch.arange(len(ue)), reduction="sum")
                loss = loss + w_ret * ret
                ret_sum += float(ret)
            if w_rank:
                rank = torch.nn.functional.mse_loss(pred, tl[s:s + batch])
                loss = loss + w_rank * rank
                rank_sum += float(rank)
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
        epoch_losses.append({"epoch": epoch + 1,
                             "ranking_loss": rank_sum / steps if w_rank else None,
                             "retrieval_loss": ret_sum / steps if w_ret else None})
    with torch.no_grad():
        el = (er - 1.0) / 4.0
        ue, ie, pred = model(eu, ei)
        rmse = float(torch.sqrt(torch.mean((pred - el) ** 2)))
        w = (er >= 5).float()

        def accuracy(cat):
            col = torch.full((n_items,), -1, dtype=torch.long)
            col[cat] = torch.arange(len(cat))
            scores = ue @ model.item.weight[cat].T
            # The positive's score is read from the same matrix (as Tandem
            # does): a dot product computed apart may round differently and
            # rank the positive below itself.
            pos = scores.gather(1, col[ei].unsqueeze(1))
            hit = ((scores > pos).sum(1) < k).float()
            return float((hit * w).sum() / w.sum())

        items_cat, table_cat = catalogue
    return {"topk_accuracy": accuracy(items_cat), "topk_accuracy_table": accuracy(table_cat),
            "rmse": rmse, "k": k, "topk_pairs": float(w.sum()), "epochs": epoch_losses}


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        seeds += list(range(int(a), int(b or a) + 1))
    return seeds


def quality_main(a):
    users, items, _ = load(a.data)
    sizes = (int(users.max()) + 1, int(items.max()) + 1)
    catalogue = catalogue_ids(a.data, sizes[1])
    variants = {"rating": (1.0, 0.0), "retrieval": (0.0, 1.0), "joint": (1.0, 1.0)}
    for seed in parse_seeds(a.seeds):
        if a.split_from:
            d = a.split_from.replace("{seed}", str(seed))
            split = (read_split_file(os.path.join(d, "train.data")),
                     read_split_file(os.path.join(d, "test.data")))
        else:
            u, i, r = load(a.data)
            torch.manual_seed(seed)
            perm = torch.randperm(len(u))
            tr, te = perm[:80000], perm[80000:100000]
            split = ((u[tr], i[tr], r[tr]), (u[te], i[te], r[te]))
        for name in a.model:
            start = time.perf_counter()
            init_seed = seed if a.init_seed is None else a.init_seed
            r = quality_run(variants[name], split, sizes, catalogue, init_seed, a.adagrad)
            r.update({"kind": "pytorch", "preset": "kerasrs", "model": name, "seed": seed,
                      "init_seed": init_seed, "split_from": a.split_from, "adagrad": a.adagrad, "seconds": time.perf_counter() - start,
                      "torch": torch.__version__})
            print(json.dumps(r), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--preset", nargs="*", default=["kerasrs", "tfrs"])
    p.add_argument("--model", nargs="*", default=["rating", "retrieval", "joint"])
    p.add_argument("--quality", action="store_true",
                   help="kerasrs quality runs over --seeds (see the module docstring)")
    p.add_argument("--seeds", default="1-10", help="quality: e.g. 1-10 or 1,3,5")
    p.add_argument("--split-from", default=None,
                   help="quality: directory with train.data/test.data; {seed} is replaced")
    p.add_argument("--init-seed", type=int, default=None,
                   help="quality: one initialisation seed for every split (default: the seed)")
    p.add_argument("--adagrad", choices=["torch", "keras"], default="torch",
                   help="quality: epsilon outside the root (torch, Tandem) or inside (Keras 3)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.quality:
        return quality_main(a)
    data = load(a.data)
    variants = {"rating": (1.0, 0.0), "retrieval": (0.0, 1.0), "joint": (1.0, 1.0)}
    for preset in a.preset:
        for name in a.model:
            r = run(preset, variants[name], data, a.seed)
            r.update({"kind": "pytorch", "preset": preset, "model": name, "threads": a.threads,
                      "torch": torch.__version__})
            print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
