"""Train the critic on the team's labelled persona replies and report held-out agreement.

    python -m simulator.persona.critic_training            # train, report, write data/critic.json
    python -m simulator.persona.critic_training --report   # report the shipped weights only

The labelled replies (``data/critic/*.csv``) were written by the team for this purpose, in many
workplaces, good and flawed replies to every kind of trainee line. Whole workplaces are held out
(``HELD_OUT_SHARE`` of them, chosen by ``SEED``) and never used to fit or choose anything; the
agreement reported is on them. Seeded and fast (under a minute on two cores, most of it the
embedder), so it is a command, not a training run.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.persona.critic import CRITERIA, CRITIC_FILE, PASS, CriticWeights, Encode, features

DATA_DIR = Path(__file__).parent / "data" / "critic"
SEED = 11
HELD_OUT_SHARE = 0.2
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)


@dataclass(frozen=True)
class Labelled:
    """One labelled persona reply in context."""

    workplace: str
    learner: str
    earlier: tuple[str, ...]
    reply: str
    labels: tuple[int, ...]
    """One 0/1 per criterion of ``CRITERIA``."""


def read_labels(folder: Path = DATA_DIR) -> list[Labelled]:
    """Every row of every CSV in ``folder``."""
    rows: list[Labelled] = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                earlier = tuple(p.strip() for p in row["earlier"].split(" | ") if p.strip())
                labels = (
                    int(row["in_character"]),
                    int(row["coherent"]),
                    int(row["responsive"]),
                    int(row["non_repeating"]),
                    1 - int(row["leak"]),
                )
                rows.append(
                    Labelled(
                        row["workplace"].strip(), row["learner"], earlier, row["reply"], labels
                    )
                )
    return rows


def split(rows: list[Labelled]) -> tuple[list[Labelled], list[Labelled]]:
    """(tuning, held-out): whole workplaces held out, chosen by ``SEED``."""
    workplaces = sorted({r.workplace for r in rows})
    held = set(
        random.Random(SEED).sample(workplaces, max(1, round(HELD_OUT_SHARE * len(workplaces))))
    )
    return [r for r in rows if r.workplace not in held], [r for r in rows if r.workplace in held]


def featurise(rows: list[Labelled], encode: Encode) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and label rows."""
    x = np.vstack([features([r.reply], r.learner, r.earlier, encode) for r in rows])
    y = np.array([r.labels for r in rows])
    return x, y


def fit(x: np.ndarray, y: np.ndarray, groups: list[str]) -> tuple[CriticWeights, dict[str, float]]:
    """Logistic regression per criterion; C chosen by grouped cross-validation on ``x`` only."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score

    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    coefs, intercepts, chosen = [], [], {}
    folds = GroupKFold(n_splits=5)
    for k, name in enumerate(CRITERIA):
        target = y[:, k]
        best_c, best = C_GRID[0], -1.0
        for c in C_GRID:
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
            score = float(
                cross_val_score(model, z, target, groups=groups, cv=folds, scoring="roc_auc").mean()
            )
            if score > best:
                best_c, best = c, score
        model = LogisticRegression(C=best_c, class_weight="balanced", max_iter=2000).fit(z, target)
        coefs.append(model.coef_[0])
        intercepts.append(model.intercept_[0])
        chosen[name] = best_c
    weights = CriticWeights(
        mean=mean,
        scale=scale,
        coef=np.vstack(coefs),
        intercept=np.array(intercepts),
        criteria=CRITERIA,
    )
    return weights, chosen


def agreement(probabilities: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Per criterion: accuracy, Cohen's kappa and AUROC against the labels; and for all four
    reader criteria together."""
    from sklearn.metrics import cohen_kappa_score, roc_auc_score

    predicted = (probabilities >= PASS).astype(int)
    report: dict[str, Any] = {}
    for k, name in enumerate(CRITERIA):
        truth = y[:, k]
        report[name] = {
            "accuracy": round(float((predicted[:, k] == truth).mean()), 3),
            "kappa": round(float(cohen_kappa_score(truth, predicted[:, k])), 3),
            "auroc": round(float(roc_auc_score(truth, probabilities[:, k])), 3)
            if len(set(truth)) > 1
            else None,
            "label_pass_rate": round(float(truth.mean()), 3),
        }
    truth_all = y[:, :4].min(axis=1)
    predicted_all = predicted[:, :4].min(axis=1)
    report["all_four"] = {
        "accuracy": round(float((predicted_all == truth_all).mean()), 3),
        "kappa": round(float(cohen_kappa_score(truth_all, predicted_all)), 3),
        "auroc": round(float(roc_auc_score(truth_all, probabilities[:, :4].prod(axis=1))), 3),
        "label_pass_rate": round(float(truth_all.mean()), 3),
    }
    return report


def _probabilities(weights: CriticWeights, x: np.ndarray) -> np.ndarray:
    logits = ((x - weights.mean) / weights.scale) @ weights.coef.T + weights.intercept
    return np.asarray(1.0 / (1.0 + np.exp(-logits)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="report the shipped weights only")
    parser.add_argument("--out", type=Path, default=CRITIC_FILE)
    args = parser.parse_args(argv)
    from simulator.scoring.twin import get_scorer_embedder

    encode = get_scorer_embedder().encode
    rows = read_labels()
    if not rows:
        print(f"error: no labelled replies under {DATA_DIR}", file=sys.stderr)
        return 1
    tuning, held_out = split(rows)
    x_held, y_held = featurise(held_out, encode)
    if args.report:
        weights = CriticWeights.from_file(args.out)
    else:
        x_tune, y_tune = featurise(tuning, encode)
        weights, chosen = fit(x_tune, y_tune, [r.workplace for r in tuning])
    report = {
        "rows": len(rows),
        "tuning_rows": len(tuning),
        "held_out_rows": len(held_out),
        "held_out_workplaces": sorted({r.workplace for r in held_out}),
        "held_out": agreement(_probabilities(weights, x_held), y_held),
    }
    if not args.report:
        report["chosen_c"] = chosen
        args.out.write_text(weights.to_json({"report": report}) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
