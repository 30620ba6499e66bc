"""The report's figures (matplotlib, Agg backend): the paper's eight, drawn from our stored results.

Each function takes numbers already derived by :mod:`training.study.metrics` and writes one PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PAPER_COLORS = ("#b8b8b8", "#7a7a7a")
OURS_COLORS = ("#8fbbe0", "#1f5f99")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _percent(value) -> float:
    return np.nan if value is None else 100.0 * value


def comparison_bars(path: Path, title: str, xlabel: str, rows: list[dict]) -> Path:
    """Grouped bars per value: paper train/test, ours train/validation with fold std error bars.

    ``rows``: ``{"label", "paper": (train, test) or None, "train": mean_std, "val": mean_std}`` (fractions).
    """
    plt = _pyplot()
    labels = [row["label"] for row in rows]
    x = np.arange(len(rows))
    width = 0.2
    fig, ax = plt.subplots(figsize=(max(7.0, 1.5 * len(rows) + 2), 4.6))
    paper_train = [row["paper"][0] if row["paper"] else np.nan for row in rows]
    paper_test = [row["paper"][1] if row["paper"] else np.nan for row in rows]
    ours = {
        kind: ([_percent(row[kind]["mean"]) for row in rows], [_percent(row[kind]["std"]) for row in rows])
        for kind in ("train", "val")
    }
    ax.bar(x - 1.5 * width, paper_train, width, label="paper train", color=PAPER_COLORS[0])
    ax.bar(x - 0.5 * width, paper_test, width, label="paper test", color=PAPER_COLORS[1])
    ax.bar(x + 0.5 * width, ours["train"][0], width, yerr=ours["train"][1], capsize=3, label="ours train (± fold std)",
           color=OURS_COLORS[0])  # fmt: skip
    ax.bar(x + 1.5 * width, ours["val"][0], width, yerr=ours["val"][1], capsize=3, label="ours validation (± fold std)",
           color=OURS_COLORS[1])  # fmt: skip
    for position, row in zip(x, rows, strict=True):
        if not row["paper"]:
            ax.text(position - width, 2, "no paper\nnumber", ha="center", va="bottom", fontsize=7, color="#555")
    ax.set_xticks(x, labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 105)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=8, ncol=4, frameon=False)
    return _save(fig, path)


def curves(path: Path, title: str, histories: list[dict], train_key: str, val_key: str, ylabel: str) -> Path:
    """Per-fold training and validation curves (thin) with their mean over the folds still running."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for index, history in enumerate(histories):
        epochs = np.arange(1, len(history[train_key]) + 1)
        ax.plot(epochs, history[train_key], color=OURS_COLORS[0], alpha=0.5, lw=1,
                label="train (each fold)" if index == 0 else None)  # fmt: skip
        ax.plot(epochs, history[val_key], color=OURS_COLORS[1], alpha=0.5, lw=1, ls="--",
                label="validation (each fold)" if index == 0 else None)  # fmt: skip
        best = int(np.argmin(history["val_loss"]))
        ax.plot(best + 1, history[val_key][best], "o", color=OURS_COLORS[1], ms=4,
                label="kept epoch" if index == 0 else None)  # fmt: skip
    for key, color, name in ((train_key, OURS_COLORS[0], "train"), (val_key, OURS_COLORS[1], "validation")):
        longest = max((len(h[key]) for h in histories), default=0)
        mean = [np.mean([h[key][e] for h in histories if len(h[key]) > e]) for e in range(longest)]
        ax.plot(np.arange(1, longest + 1), mean, color=color, lw=2.2, ls="-" if name == "train" else "--",
                label=f"{name} (mean)")  # fmt: skip
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def confusion(path: Path, title: str, matrix: np.ndarray, class_names: list[str], note: str = "") -> Path:
    plt = _pyplot()
    matrix = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(1.4 * len(class_names) + 2.5, 1.2 * len(class_names) + 2))
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros_like(matrix, dtype=float), where=rows > 0)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(j, i, f"{matrix[i, j]}\n{100 * share[i, j]:.0f}%", ha="center", va="center",
                    color="white" if share[i, j] > 0.6 else "black", fontsize=9)  # fmt: skip
    ax.set_xticks(range(len(class_names)), class_names, rotation=20)
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    if note:
        fig.text(0.01, 0.01, note, fontsize=7, color="#555")
    return _save(fig, path)


def leakage_bars(path: Path, rows: list[tuple[str, dict]]) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    labels = [label for label, _ in rows]
    means = [_percent(summary["mean"]) for _, summary in rows]
    stds = [_percent(summary["std"]) for _, summary in rows]
    ax.bar(labels, means, yerr=stds, capsize=4, color=[OURS_COLORS[1], "#c0504d"][: len(rows)])
    low = np.nanmin(means) if len(means) and not np.all(np.isnan(means)) else 0
    ax.set_ylim(max(0, low - 15), 101)
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title("Split then augment (ours) vs augment then split (paper)")
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
