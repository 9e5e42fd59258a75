#!/usr/bin/env python3
"""Summarises scripts/kerasrs-vs-pytorch.sh's output as Markdown tables:
per seed, Tandem's and PyTorch's top-10 accuracy (5-star test pairs) and RMSE
on the same split; means, standard deviations and a paired t-test over the
seeds; and the per-epoch training losses side by side for a few seeds.
  scripts/kerasrs-vs-pytorch.py OUT [--model joint] [--epochs-for 1,2]
Standard library only."""
import argparse
import json
import math
import os


def betacf(a, b, x):
    # Continued fraction of the regularised incomplete beta (Numerical Recipes).
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > 1e-300 else 1e-300)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        c = 1.0 + aa / c
        d = 1.0 / (d if abs(d) > 1e-300 else 1e-300)
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        c = 1.0 + aa / c
        d = 1.0 / (d if abs(d) > 1e-300 else 1e-300)
        de = d * c
        h *= de
        if abs(de - 1.0) < 1e-12:
            break
    return h


def betai(a, b, x):
    if x <= 0.0 or x >= 1.0:
        return 0.0 if x <= 0.0 else 1.0
    bt = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                  + a * math.log(x) + b * math.log(1.0 - x))
    if x < (a + 1.0) / (a + b + 2.0):
        return bt * betacf(a, b, x) / a
    return 1.0 - bt * betacf(b, a, 1.0 - x) / b


def t_test_p(t, df):
    """Two-sided p-value of Student's t."""
    return betai(df / 2.0, 0.5, df / (df + t * t))


def mean_sd(xs):
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, sd


def read(path, model):
    rows = {}
    with open(path) as f:
        for line in f:
            j = json.loads(line)
            if j.get("model") == model:
                rows[int(j["seed"])] = j
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--model", default="joint")
    p.add_argument("--epochs-for", default="1,2")
    a = p.parse_args()
    t = read(os.path.join(a.out, "tandem.jsonl"), a.model)
    q = read(os.path.join(a.out, "pytorch.jsonl"), a.model)
    seeds = sorted(set(t) & set(q))
    print(f"Model: {a.model}; seeds {seeds[0]}-{seeds[-1]} ({len(seeds)}), the same split per seed\n")
    print("| seed | Tandem top-10 | PyTorch top-10 | PyTorch top-10, row 0 in | Tandem RMSE | PyTorch RMSE |")
    print("|---:|---:|---:|---:|---:|---:|")
    for s in seeds:
        print(f"| {s} | {t[s]['topk_accuracy']:.4f} | {q[s]['topk_accuracy']:.4f} | "
              f"{q[s]['topk_accuracy_table']:.4f} | {t[s]['rmse']:.4f} | {q[s]['rmse']:.4f} |")
    print()
    print("| metric | Tandem mean ± sd | PyTorch mean ± sd | paired diff (T - P) mean ± sd | t | p | T > P |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, key, digits in [("top-10", "topk_accuracy", 4), ("RMSE", "rmse", 4)]:
        xt = [t[s][key] for s in seeds]
        xq = [q[s][key] for s in seeds]
        d = [x - y for x, y in zip(xt, xq)]
        mt, st = mean_sd(xt)
        mq, sq = mean_sd(xq)
        md, sd = mean_sd(d)
        tt = md / (sd / math.sqrt(len(d))) if sd > 0 else float("inf")
        pv = t_test_p(tt, len(d) - 1) if sd > 0 else 0.0
        wins = sum(1 for x in d if x > 0)
        f = f"{{:.{digits}f}}"
        print(f"| {name} | {f.format(mt)} ± {f.format(st)} | {f.format(mq)} ± {f.format(sq)} | "
              f"{md:+.{digits}f} ± {f.format(sd)} | {tt:.2f} | {pv:.2f} | {wins}/{len(d)} |")
    print()
    for s in [int(x) for x in a.epochs_for.split(",") if x]:
        if s not in t:
            continue
        print(f"Seed {s}, per-epoch training losses (means over the epoch's 80 batches):\n")
        print("| epoch | Tandem ranking (MSE) | PyTorch ranking (MSE) | Tandem retrieval (CE, sum/batch) | PyTorch retrieval |")
        print("|---:|---:|---:|---:|---:|")
        for et, eq in zip(t[s]["epochs"], q[s]["epochs"]):
            def g(e, k, fmt):
                v = e.get(k)
                return "-" if v in (None, 0.0) and not (a.model == "joint") else format(v or 0.0, fmt)
            print(f"| {et['epoch']} | {g(et, 'ranking_loss', '.5f')} | {g(eq, 'ranking_loss', '.5f')} | "
                  f"{g(et, 'retrieval_loss', '.1f')} | {g(eq, 'retrieval_loss', '.1f')} |")
        print()
    # Final-epoch losses over all seeds, paired.
    for key in ["ranking_loss", "retrieval_loss"]:
        xt = [t[s]["epochs"][-1].get(key) or 0.0 for s in seeds]
        xq = [q[s]["epochs"][-1].get(key) or 0.0 for s in seeds]
        if not any(xq):
            continue
        d = [x - y for x, y in zip(xt, xq)]
        mt, st = mean_sd(xt)
        mq, sq = mean_sd(xq)
        md, sd = mean_sd(d)
        print(f"Epoch-5 {key}: Tandem {mt:.5g} ± {st:.3g}, PyTorch {mq:.5g} ± {sq:.3g}, "
              f"paired diff {md:+.3g} ± {sd:.3g} (t = {md / (sd / math.sqrt(len(d))):.2f})")


if __name__ == "__main__":
    main()
