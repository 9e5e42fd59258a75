#!/usr/bin/env python3
"""The reference for `tandem bench`: the same multi-task model and protocol in
PyTorch (Debian's python3-torch, OpenBLAS/MKL-DNN CPU kernels), timed on the
same machine in the same run.

Model: user/item embeddings (dim 32, uniform(-0.05, 0.05)), rating MLP
64 -> 256 -> 128 -> 1 (ReLU, Glorot-uniform, zero bias), in-batch softmax
cross-entropy summed over the batch, MSE, total = w_rank * MSE + w_ret * CE,
dense Adagrad (lr 0.1, initial accumulator 0.1, eps 1e-7).
Presets: kerasrs (batch 1000, 5 epochs, fixed order), tfrs (batch 8192,
3 epochs, reshuffled). Prints one JSON object per (preset, variant) with the
training seconds (training loop only) and the evaluation metrics.
"""
import argparse
import json
import os
import time

import torch


def load(data_dir):
    users, items, ratings = [], [], []
    with open(os.path.join(data_dir, "u.data")) as f:
        for line in f:
            u, i, r, _ = line.split("\t")
            users.append(int(u))
            items.append(int(i))
            ratings.append(float(r))
    return torch.tensor(users), torch.tensor(items), torch.tensor(ratings)


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
        batch, epochs, reshuffle, k = 1000, 5, False, 10
    else:
        labels = ratings
        batch, epochs, reshuffle, k = 8192, 3, True, 100
    model = MultiTask(int(users.max()) + 1, int(items.max()) + 1)
    opt = torch.optim.Adagrad(model.parameters(), lr=0.1, initial_accumulator_value=0.1, eps=1e-7)
    w_rank, w_ret = weights
    tu, ti, tl = users[train_idx], items[train_idx], labels[train_idx]
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(tu)) if reshuffle else torch.arange(len(tu))
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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--preset", nargs="*", default=["kerasrs", "tfrs"])
    p.add_argument("--model", nargs="*", default=["rating", "retrieval", "joint"])
    a = p.parse_args()
    torch.set_num_threads(a.threads)
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
