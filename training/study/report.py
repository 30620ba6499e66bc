"""The study report: ``report.md``, a single-file ``report.html``, ``report.json`` and figures.

Built only from a study folder's stored files (:mod:`training.study.results`), so it can be rebuilt at
any time without training, also from a partial (interrupted) run. Every measured number goes
through :mod:`training.study.metrics`; the paper's numbers come from :mod:`training.study.paper`.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.study import figures
from training.study.experiments import SPLIT_FIRST
from training.study.metrics import (
    binary_counts,
    config_summary,
    confusion_matrix,
    epochs_curve,
    leakage,
    mean_std,
    per_class_recall,
    pooled,
    select_best,
)
from training.study.paper import CITATION, PAPER_CLAIMS, paper_confusion_accuracy, paper_pair
from training.study.results import StudyFolder, write_json

ONE_FACTOR = ("layers", "learning_rate", "batch_size", "optimizer")
FIGURES = {
    "layers": ("fig1_layers.png", "Figure 1. Accuracy by layers trained"),
    "learning_rate": ("fig2_learning_rate.png", "Figure 2. Accuracy by learning rate"),
    "batch_size": ("fig3_batch_size.png", "Figure 3. Accuracy by batch size"),
    "optimizer": ("fig4_optimizer.png", "Figure 4. Accuracy by optimizer"),
    "epochs": ("fig5_epochs.png", "Figure 5. Accuracy by number of epochs"),
    "final_accuracy": ("fig6_final_accuracy.png", "Figure 6. Final configuration: accuracy per epoch"),
    "final_loss": ("fig7_final_loss.png", "Figure 7. Final configuration: loss per epoch"),
    "confusion": ("fig8_confusion.png", "Figure 8. Confusion matrix on the validation folds"),
    "field_confusion": ("fig9_field_confusion.png", "Figure 9. Confusion matrix on field photos"),
    "leakage": ("fig10_leakage.png", "Figure 10. Leakage: split then augment vs augment then split"),
}
LAYER_LABELS = {"head": "head only", "10": "top 10", "20": "top 20", "all": "all layers"}


@dataclass
class ReportFiles:
    markdown: Path
    html: Path
    json: Path
    figures: list[Path]


# ---------------------------------------------------------------------------------------------
# Numbers


def value_label(experiment: str, value) -> str:
    if experiment == "layers":
        return LAYER_LABELS.get(str(value), str(value))
    if experiment == "learning_rate":
        return format(float(value), "g")
    return str(value)


def derive_numbers(folder: StudyFolder) -> dict:
    """Every number the report shows, from the stored study files."""
    study, runs, splits = folder.study(), folder.runs(), folder.splits()
    settings = study["settings"]
    class_names = study["data"]["class_names"]
    records = {key: folder.load_folds(key) for key in study["configs"]}
    summaries = {key: config_summary(folds) for key, folds in records.items()}
    numbers: dict = {
        "settings": settings,
        "data": study["data"],
        "class_names": class_names,
        "configs": {
            key: {"config": study["configs"][key], **_without_per_fold(summary)} for key, summary in summaries.items()
        },
        "experiments": {},
    }
    for experiment in study["plan"]:
        name = experiment["name"]
        if name in ONE_FACTOR:
            numbers["experiments"][name] = _one_factor(experiment, summaries)
        elif name == "epochs":
            key = experiment["configs"][0]
            rows = epochs_curve(records[key], experiment["values"]) if records[key] else []
            for row in rows:
                row["paper"] = paper_pair("epochs", row["epochs"])
            numbers["experiments"][name] = {
                "config_key": key,
                "cap": study["configs"][key]["epochs"],
                "rows": rows,
                "folds": len(records[key]),
                "whole_network": _whole_network_epochs(study, records),
            }
        elif name == "random_search":
            numbers["experiments"][name] = _search_rows(experiment, study, summaries)
        elif name == "leakage":
            ours, theirs = experiment["configs"]
            numbers["experiments"][name] = {
                "config_keys": [ours, theirs],
                **leakage(records[ours], records[theirs]),
            }
    candidates = {
        key: summary
        for key, summary in summaries.items()
        if study["configs"][key]["protocol"] == SPLIT_FIRST and summary["folds"] == settings["folds"]
    } or {key: s for key, s in summaries.items() if study["configs"][key]["protocol"] == SPLIT_FIRST}
    best = select_best(candidates)
    numbers["best_config"] = best
    numbers["complete_configs"] = sum(s["folds"] == settings["folds"] for s in summaries.values())
    numbers["final"] = _final(best, records.get(best, []), summaries.get(best), class_names) if best else None
    numbers["costs"] = _costs(study, runs, summaries)
    numbers["environment"] = runs[-1]["environment"] if runs else {}
    numbers["splits"] = {
        "dev_photos": len(splits["dev"]),
        "test_photos": len(splits["test"]),
        "field_photos": len(splits["field"]),
        "augment_factor": splits["augment_factor"],
        "train_views_per_fold": [len(fold["train"]) for fold in splits["folds"][SPLIT_FIRST]],
        "validation_photos_per_fold": [len(fold["validation"]) for fold in splits["folds"][SPLIT_FIRST]],
    }
    numbers["paper_vs_measured"] = paper_vs_measured(numbers)
    return numbers


def _without_per_fold(summary: dict) -> dict:
    return {key: value for key, value in summary.items() if key != "per_fold"}


def _one_factor(experiment: dict, summaries: dict) -> dict:
    rows = []
    for value, key in zip(experiment["values"], experiment["configs"], strict=True):
        summary = summaries[key]
        rows.append(
            {
                "value": value,
                "label": value_label(experiment["name"], value),
                "config_key": key,
                "folds": summary["folds"],
                "train": summary["train_accuracy"],
                "val": summary["val_accuracy"],
                "val_loss": summary["val_loss"],
                "epochs_run": summary["epochs_run"],
                "paper": paper_pair(experiment["name"], value),
            }
        )
    return {"rows": rows}


def _whole_network_epochs(study: dict, records: dict) -> dict | None:
    """The same reading for experiment 1's whole-network arm, up to its own (lower) epoch cap."""
    layers = next((e for e in study["plan"] if e["name"] == "layers"), None)
    if not layers or "all" not in layers["values"]:
        return None
    key = layers["configs"][layers["values"].index("all")]
    cap = study["configs"][key]["epochs"]
    points = [p for p in study["settings"]["epoch_points"] if p <= cap] or list(range(1, cap + 1))
    if cap not in points:
        points.append(cap)
    return {"config_key": key, "cap": cap, "rows": epochs_curve(records[key], points) if records[key] else []}


def _search_rows(experiment: dict, study: dict, summaries: dict) -> dict:
    rows = []
    for label, key in zip(experiment["values"], experiment["configs"], strict=True):
        config = study["configs"][key]
        summary = summaries[key]
        rows.append(
            {
                "label": label,
                "config_key": key,
                "optimizer": config["optimizer"],
                "head_activation": config["head_activation"],
                "learning_rate": config["learning_rate"],
                "epochs": config["epochs"],
                "folds": summary["folds"],
                "train": summary["train_accuracy"],
                "val": summary["val_accuracy"],
                "epochs_run": summary["epochs_run"],
            }
        )
    done = [row for row in rows if row["val"]["mean"] is not None]
    best = max(done, key=lambda row: row["val"]["mean"])["label"] if done else None
    return {"rows": rows, "best_trial": best}


def _final(best: str, records: list[dict], summary: dict, class_names: list[str]) -> dict:
    n = len(class_names)
    val_labels, val_predicted = pooled(records, "validation")
    val_matrix = confusion_matrix(val_labels, val_predicted, n)
    test_labels, test_predicted = pooled(records, "test")
    test_matrix = confusion_matrix(test_labels, test_predicted, n)
    field_labels, field_predicted = pooled(records, "field")
    field_matrix = confusion_matrix(field_labels, field_predicted, n)
    field_recall_per_fold = []
    for record in records:
        labels, predicted = pooled([record], "field")
        field_recall_per_fold.append(per_class_recall(confusion_matrix(labels, predicted, n), class_names))
    field_classes = [name for i, name in enumerate(class_names) if field_matrix[i].sum()]
    return {
        "config_key": best,
        "summary": _without_per_fold(summary),
        "per_fold": summary["per_fold"],
        "histories": [record["history"] for record in records],
        "validation_confusion": val_matrix.tolist(),
        "validation_images": int(val_matrix.sum()),
        "validation_pooled_accuracy": float(np.trace(val_matrix) / val_matrix.sum()) if val_matrix.sum() else None,
        "validation_binary": binary_counts(val_matrix, class_names),
        "test_confusion": test_matrix.tolist(),
        "test_recall": per_class_recall(test_matrix, class_names),
        "field_confusion": field_matrix.tolist(),
        "field_recall": {
            name: mean_std([fold[name] for fold in field_recall_per_fold if fold[name] is not None])
            for name in field_classes
        },
        "field_predicted_share": {
            name: float(field_matrix[:, i].sum() / field_matrix.sum()) if field_matrix.sum() else None
            for i, name in enumerate(class_names)
        },
    }


def _costs(study: dict, runs: list[dict], summaries: dict) -> dict:
    seen: set[str] = set()
    per_experiment = []
    for experiment in study["plan"]:
        seconds, new, shared = 0.0, 0, []
        for key in experiment["configs"]:
            if key in seen:
                shared.append(key)
                continue
            seen.add(key)
            new += 1
            seconds += summaries[key]["seconds"]
        per_experiment.append(
            {
                "experiment": experiment["name"],
                "seconds": seconds,
                "new_configs": new,
                "shared_configs": len(shared),
                "whole_network": any(study["configs"][key]["layers"] == "all" for key in experiment["configs"]),
            }
        )
    phases: dict[str, float] = {}
    for run in runs:
        for phase, value in run.get("phases", {}).items():
            if phase != "cache_images":
                phases[phase] = phases.get(phase, 0.0) + float(value)
    throughput: dict[str, dict] = {}
    for key, summary in summaries.items():
        layers = study["configs"][key]["layers"]
        for fold in summary["per_fold"]:
            throughput.setdefault(layers, []).append(fold["images_per_second"])
    whole = [s["seconds"] for k, s in summaries.items() if study["configs"][k]["layers"] == "all"]
    cached = [s["seconds"] for k, s in summaries.items() if study["configs"][k]["layers"] != "all"]
    layer_keys = set(next(e["configs"] for e in study["plan"] if e["name"] == "layers"))
    sweep_keys = [key for key in study["configs"] if key not in layer_keys]
    complete_whole = [
        s["seconds"] for k, s in summaries.items() if study["configs"][k]["layers"] == "all" and s["folds"]
    ]
    whole_config_seconds = (
        float(np.mean(complete_whole)) * study["settings"]["folds"] / max(1, _mean_folds(summaries, study, "all"))
        if complete_whole
        else None
    )
    return {
        "sweep_configs": len(sweep_keys),
        "sweep_seconds": float(sum(summaries[key]["seconds"] for key in sweep_keys)),
        "whole_network_config_seconds": whole_config_seconds,
        "sweeps_on_whole_network_seconds": whole_config_seconds * len(sweep_keys)
        if whole_config_seconds is not None
        else None,
        "per_experiment": per_experiment,
        "phases": phases,
        "whole_network_seconds": float(sum(whole)),
        "cached_seconds": float(sum(cached)),
        "total_seconds": float(sum(run.get("seconds", 0.0) for run in runs)),
        "runs": [
            {
                key: run.get(key)
                for key in ("id", "started_at", "finished_at", "seconds", "status", "folds_trained", "folds_skipped")
            }  # fmt: skip
            for run in runs
        ],
        "train_images_per_second": {layers: mean_std(values) for layers, values in sorted(throughput.items())},
        "estimate": study.get("estimate"),
    }


def _mean_folds(summaries: dict, study: dict, layers: str) -> float:
    folds = [s["folds"] for k, s in summaries.items() if study["configs"][k]["layers"] == layers and s["folds"]]
    return float(np.mean(folds)) if folds else 0.0


# ---------------------------------------------------------------------------------------------
# Paper vs measured


def pct(summary: dict | None, digits: int = 1) -> str:
    """'97.3 ± 1.2' from a mean_std of fractions."""
    return num(summary, digits, scale=100)


def num(summary: dict | None, digits: int = 3, scale: float = 1) -> str:
    """'0.123 ± 0.004' from a mean_std (the spread only when there is more than one fold)."""
    if not summary or summary.get("mean") is None:
        return "–"
    text = f"{scale * summary['mean']:.{digits}f}"
    if summary.get("n", 0) > 1:
        text += f" ± {scale * summary['std']:.{digits}f}"
    return text


def _pair(pair) -> str:
    return f"{pair[0]} / {pair[1]}" if pair else "–"


def paper_vs_measured(numbers: dict) -> list[list[str]]:
    """Rows: [what, paper, measured, how we measured it]. Every number in study.md has a row."""
    paper, settings, splits = PAPER_CLAIMS, numbers["settings"], numbers["splits"]
    rows: list[list[str]] = []
    dev, test = splits["dev_photos"], splits["test_photos"]
    rows.append(["Original photos", f"{paper['data']['original_images']:,} (Kigezi, not public)",
                 f"{dev + test:,} (PlantVillage potato{_capped(settings)})", "their data is not public"])  # fmt: skip
    rows.append(
        [
            "After offline augmentation",
            f"{paper['data']['augmented_images']:,} ({paper['data']['augmentation_factor']}x)",
            f"{dev * splits['augment_factor']:,} views of the {dev:,} development photos "
            f"({splits['augment_factor']}x); a fold trains on the views of its training photos only",
            "split first, then augment",
        ]
    )
    rows.append(
        [
            "Train : test split",
            f"{paper['data']['train_percent']} : {paper['data']['test_percent']}",
            f"{settings['folds']}-fold CV by photo on {dev:,} photos (each fold ~{100 - 100 // settings['folds']} : "
            f"{100 // settings['folds']}), plus {test:,} held-out test photos",
            "test photos never used for any choice",
        ]
    )
    base = paper["model"]
    rows.append(["Input size", f"{base['image_size']}x{base['image_size']}",
                 f"{settings['image_size']}x{settings['image_size']}", ""])  # fmt: skip
    rows.append(["Dropout before the classifier", str(base["dropout"]), "0.5", ""])
    rows.append(["Batch size / optimizer / learning rate", f"{base['batch_size']} / Adam / {base['learning_rate']:g}",
                 "32 / Adam / 0.0001 (base)", ""])  # fmt: skip
    best = numbers.get("final") or {}
    epochs_run = (best.get("summary") or {}).get("epochs_run")
    rows.append(
        [
            "Epochs, early stopping",
            f"{base['epochs'][0]}-{base['epochs'][1]}, patience {base['patience']}",
            f"cap {settings['base_epochs']} (whole network: {settings['whole_network_max_epochs']}"
            f"{', all capped at ' + str(settings['epochs_cap']) if settings.get('epochs_cap') else ''}), patience 5; "
            f"final configuration ran {num(epochs_run, 1)} epochs",
            "val_loss monitored, best weights restored",
        ]
    )
    for name, title in (("layers", "Layers"), ("learning_rate", "Learning rate"), ("batch_size", "Batch size"),
                        ("optimizer", "Optimizer")):  # fmt: skip
        for row in numbers["experiments"].get(name, {}).get("rows", []):
            rows.append(
                [
                    f"{title}: {row['label']} (train / test %)",
                    _pair(row["paper"]),
                    f"{pct(row['train'])} / {pct(row['val'])}",
                    f"{row['folds']} folds; {_what_trains(row['config_key'], numbers)}",
                ]
            )
    epochs = numbers["experiments"].get("epochs", {})
    low, high = paper["epochs"]["plateau"]
    for row in epochs.get("rows", []):
        if low <= row["epochs"] <= high:
            rows.append([f"Epochs: {row['epochs']} (train / test %)", _pair(paper["epochs"]["accuracy"]),
                         f"{pct(row['train_accuracy'])} / {pct(row['val_accuracy'])}",
                         "read off one long run per fold"])  # fmt: skip
    n_configs = len(numbers["configs"])
    rows.append(
        [
            "Experiments, cross-validation",
            f"{paper['search']['experiments']} experiments, {paper['search']['folds']}-fold",
            f"{n_configs} configurations x {settings['folds']} folds = {n_configs * settings['folds']} trainings "
            f"({numbers['complete_configs']} configurations complete)",
            f"randomized search: {len(numbers['experiments'].get('random_search', {}).get('rows', []))} trials",
        ]
    )
    if best:
        summary = best["summary"]
        final = paper["final"]
        rows.append(["Final: train accuracy %", str(final["train_accuracy"]), pct(summary["train_accuracy"]),
                     "history at the kept epoch"])  # fmt: skip
        rows.append(["Final: test accuracy %", str(final["test_accuracy"]),
                     f"{pct(summary['val_accuracy'])} (validation folds); {pct(summary['test_accuracy'])} "
                     "(held-out test)", "held-out test: each fold's model on the same test photos"])  # fmt: skip
        rows.append(["Final: train loss", f"{final['train_loss']}", num(summary["train_loss"]), ""])
        rows.append(["Final: test loss", f"{final['test_loss'][0]}-{final['test_loss'][1]}",
                     f"{num(summary['val_loss'])} (validation); {num(summary['test_loss'])} (test)",
                     "cross-entropy from stored probabilities"])  # fmt: skip
        confusion = paper["confusion"]
        binary = best.get("validation_binary") or {}
        rows.append(["Confusion matrix: images", str(confusion["images"]), f"{best['validation_images']:,}",
                     "every development photo once (out-of-fold)"])  # fmt: skip
        rows.append(
            [
                "Confusion matrix: TP / TN / FP / FN",
                f"{confusion['tp']} / {confusion['tn']} / {confusion['fp']} / {confusion['fn']}",
                " / ".join(str(binary.get(k, "–")) for k in ("tp", "tn", "fp", "fn")) if binary else "–",
                "ours collapsed to diseased (positive) vs healthy",
            ]
        )
        pooled_accuracy = best["validation_pooled_accuracy"]
        rows.append(
            [
                "Accuracy implied by the confusion matrix",
                f"{100 * paper_confusion_accuracy():.0f}% (vs 98% claimed)",
                f"{100 * pooled_accuracy:.1f}% (the same predictions as the validation accuracy)"
                if pooled_accuracy is not None
                else "–",
                "one set of stored predictions feeds both",
            ]
        )
    return rows


def _capped(settings: dict) -> str:
    return f", at most {settings['max_per_class']} per class" if settings.get("max_per_class") else ""


def _what_trains(key: str, numbers: dict) -> str:
    layers = numbers["configs"][key]["config"]["layers"]
    if layers == "all":
        return "whole network trained on images"
    return f"{LAYER_LABELS.get(layers, layers)} trained on cached activations"


# ---------------------------------------------------------------------------------------------
# Figures


def draw_figures(numbers: dict, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in ONE_FACTOR:
        experiment = numbers["experiments"].get(name)
        if not experiment:
            continue
        file_name, title = FIGURES[name]
        paths[name] = figures.comparison_bars(
            directory / file_name, title.split(". ", 1)[1], name.replace("_", " "), experiment["rows"]
        )
    epochs = numbers["experiments"].get("epochs")
    if epochs and epochs["rows"]:
        rows = [
            {
                "label": str(row["epochs"]),
                "paper": row["paper"],
                "train": row["train_accuracy"],
                "val": row["val_accuracy"],
            }  # fmt: skip
            for row in epochs["rows"]
        ]
        file_name, title = FIGURES["epochs"]
        paths["epochs"] = figures.comparison_bars(
            directory / file_name, title.split(". ", 1)[1], "maximum epochs", rows
        )
    final = numbers.get("final")
    if final and final["histories"]:
        file_name, title = FIGURES["final_accuracy"]
        paths["final_accuracy"] = figures.curves(
            directory / file_name, title.split(". ", 1)[1], final["histories"], "accuracy", "val_accuracy", "accuracy"
        )
        file_name, title = FIGURES["final_loss"]
        paths["final_loss"] = figures.curves(
            directory / file_name, title.split(". ", 1)[1], final["histories"], "loss", "val_loss", "loss"
        )
        file_name, title = FIGURES["confusion"]
        paths["confusion"] = figures.confusion(
            directory / file_name,
            "Validation folds (out-of-fold, every development photo once)",
            np.array(final["validation_confusion"]),
            numbers["class_names"],
        )
        if np.array(final["field_confusion"]).sum():
            file_name, title = FIGURES["field_confusion"]
            paths["field_confusion"] = figures.confusion(
                directory / file_name,
                "Field photos (PlantDoc), summed over the fold models",
                np.array(final["field_confusion"]),
                numbers["class_names"],
                note="each field photo is counted once per fold model",
            )
    leak = numbers["experiments"].get("leakage")
    if leak and leak["split_first"]["mean"] is not None:
        file_name, _ = FIGURES["leakage"]
        paths["leakage"] = figures.leakage_bars(
            directory / file_name,
            [
                ("split, then augment (ours)", leak["split_first"]),
                ("augment, then split (paper)", leak["augment_first"]),
            ],
        )
    return paths


# ---------------------------------------------------------------------------------------------
# Document


class Document:
    """A few block kinds, rendered both as Markdown and as HTML."""

    def __init__(self) -> None:
        self.blocks: list[tuple] = []

    def heading(self, level: int, text: str) -> None:
        self.blocks.append(("heading", level, text))

    def paragraph(self, text: str) -> None:
        self.blocks.append(("paragraph", text))

    def bullets(self, items: list[str]) -> None:
        self.blocks.append(("bullets", items))

    def table(self, header: list[str], rows: list[list]) -> None:
        self.blocks.append(("table", header, [[str(cell) for cell in row] for row in rows]))

    def figure(self, path: Path | None, caption: str) -> None:
        if path is not None:
            self.blocks.append(("figure", Path(path), caption))

    def markdown(self, root: Path) -> str:
        out = []
        for block in self.blocks:
            kind = block[0]
            if kind == "heading":
                out.append(f"{'#' * block[1]} {block[2]}")
            elif kind == "paragraph":
                out.append(block[1])
            elif kind == "bullets":
                out.append("\n".join(f"- {item}" for item in block[1]))
            elif kind == "table":
                header, rows = block[1], block[2]
                lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
                out.append("\n".join(lines))
            elif kind == "figure":
                out.append(f"![{block[2]}]({block[1].relative_to(root).as_posix()})\n\n*{block[2]}*")
        return "\n\n".join(out) + "\n"

    def html(self, title: str) -> str:
        body = []
        for block in self.blocks:
            kind = block[0]
            if kind == "heading":
                body.append(f"<h{block[1]}>{_inline(block[2])}</h{block[1]}>")
            elif kind == "paragraph":
                body.append(f"<p>{_inline(block[1])}</p>")
            elif kind == "bullets":
                body.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in block[1]) + "</ul>")
            elif kind == "table":
                head = "".join(f"<th>{_inline(cell)}</th>" for cell in block[1])
                rows = "".join(
                    "<tr>" + "".join(f"<td>{_inline(cell)}</td>" for cell in row) + "</tr>" for row in block[2]
                )
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
            elif kind == "figure":
                data = base64.b64encode(block[1].read_bytes()).decode("ascii")
                body.append(
                    f'<figure><img alt="{html.escape(block[2])}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{_inline(block[2])}</figcaption></figure>"
                )
        return HTML_PAGE.format(title=html.escape(title), body="\n".join(body))


def _inline(text: str) -> str:
    """Escape, then the two Markdown marks the report uses: `code` and **bold**."""
    import re

    escaped = html.escape(text)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)


HTML_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.45; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }}
th {{ background: #f2f2f2; }}
figure {{ margin: 1.5rem 0; }} img {{ max-width: 100%; }}
figcaption {{ font-style: italic; color: #444; }}
code {{ background: #f4f4f4; padding: 0 0.2rem; }}
</style></head><body>
{body}
</body></html>
"""


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    value = float(value)
    if value >= 3600:
        return f"{value / 3600:.2f} h"
    if value >= 120:
        return f"{value / 60:.1f} min"
    return f"{value:.1f} s"


def compose(numbers: dict, figure_paths: dict[str, Path]) -> Document:
    doc = Document()
    settings, data, splits = numbers["settings"], numbers["data"], numbers["splits"]
    class_names = numbers["class_names"]
    quick = bool(settings.get("epochs_cap"))
    doc.heading(1, "Reproducing the MobileNetV2 transfer-learning study" + (" (quick run)" if quick else ""))
    doc.paragraph(f"Paper: {CITATION}. Their claims are in `../shared/docs/study.md`; ours are measured here.")
    if quick:
        doc.paragraph(
            "**This is a `--quick` run** (a few photos, small images, 1-2 epochs): it checks the machinery, "
            "its accuracies say nothing about the method."
        )
    doc.paragraph(
        f"Data: `{data['data_dir']}`, classes {', '.join(f'`{c}`' for c in class_names)} (read from the folders). "
        f"{splits['dev_photos']:,} development photos for {settings['folds']}-fold cross-validation, "
        f"{splits['test_photos']:,} held-out test photos, {splits['field_photos']:,} field photos "
        f"(`{data['field_dir']}`), reported apart from the lab numbers."
    )
    final = numbers.get("final")
    if final:
        summary = final["summary"]
        doc.paragraph(
            f"Best configuration (highest mean validation accuracy): `{final['config_key']}` — validation "
            f"{pct(summary['val_accuracy'])}%, held-out test {pct(summary['test_accuracy'])}%, field photos "
            f"{pct(summary['field_accuracy'])}% (mean ± standard deviation over {summary['folds']} fold models)."
        )

    doc.heading(2, "Protocol")
    doc.bullets(_protocol_notes(numbers))

    doc.heading(2, "Paper vs measured")
    doc.paragraph(
        "The paper's *test* accuracy is on a split that also chose its settings; ours is the mean over the "
        "validation folds (± standard deviation over folds). Train accuracy is Keras' running accuracy "
        "(dropout on) at the epoch whose weights were kept."
    )
    doc.table(["", "paper", "measured", "note"], numbers["paper_vs_measured"])

    titles = {
        "layers": "Experiment 1: layers trained",
        "learning_rate": "Experiment 2: learning rate",
        "batch_size": "Experiment 3: batch size",
        "optimizer": "Experiment 4: optimizer",
    }
    for name in ONE_FACTOR:
        experiment = numbers["experiments"].get(name)
        if not experiment:
            continue
        doc.heading(2, titles[name])
        doc.figure(figure_paths.get(name), FIGURES[name][1])
        doc.table(
            [
                "value",
                "paper train / test %",
                "ours train %",
                "ours validation %",
                "validation loss",
                "epochs run",
                "folds",
                "configuration",
            ],  # fmt: skip
            [
                [
                    row["label"],
                    _pair(row["paper"]),
                    pct(row["train"]),
                    pct(row["val"]),
                    num(row["val_loss"]),
                    num(row["epochs_run"], 1),
                    row["folds"],
                    f"`{row['config_key']}`",
                ]  # fmt: skip
                for row in experiment["rows"]
            ],
        )

    epochs = numbers["experiments"].get("epochs")
    if epochs:
        doc.heading(2, "Experiment 5: number of epochs")
        doc.paragraph(
            f"`{epochs['config_key']}`: one run per fold with a cap of {epochs['cap']} epochs and early stopping "
            "(patience 5) on the validation loss. A run capped at fewer epochs is a prefix of it (same seeds, same "
            "data order), so each row is read off the stored history: the epoch with the lowest validation loss "
            "within the cap. *Ran past* counts the folds still training at that cap."
        )
        doc.figure(figure_paths.get("epochs"), FIGURES["epochs"][1])
        doc.table(
            ["maximum epochs", "paper train / test %", "ours train %", "ours validation %", "folds ran past"],
            [
                [
                    row["epochs"],
                    _pair(row["paper"]),
                    pct(row["train_accuracy"]),
                    pct(row["val_accuracy"]),
                    row["ran_past"],
                ]  # fmt: skip
                for row in epochs["rows"]
            ],
        )
        whole = epochs.get("whole_network")
        if whole and whole["rows"]:
            doc.paragraph(
                f"The same reading of experiment 1's whole-network arm (`{whole['config_key']}`, cap {whole['cap']} "
                "epochs):"
            )
            doc.table(
                ["maximum epochs", "ours train %", "ours validation %", "folds ran past"],
                [
                    [row["epochs"], pct(row["train_accuracy"]), pct(row["val_accuracy"]), row["ran_past"]]
                    for row in whole["rows"]
                ],
            )

    search = numbers["experiments"].get("random_search")
    if search:
        low, high = settings["search_learning_rate_range"]
        doc.heading(2, "Experiment 6: randomized search")
        doc.paragraph(
            f"scikit-learn `ParameterSampler` (seed {settings['seed']}) over optimizer "
            f"({', '.join(settings['optimizers'])}), head activation ({', '.join(settings['search_activations'])}; "
            "`none` is the paper's single dense layer, otherwise a 128-unit hidden layer), initial learning rate "
            f"(log-uniform {low:g} to {high:g}) "
            f"and epochs ({', '.join(map(str, settings['search_epochs']))}); {settings['folds']} folds per trial."
        )
        if search["best_trial"]:
            doc.paragraph(f"Best trial by mean validation accuracy: {search['best_trial']}.")
        doc.table(
            ["trial", "optimizer", "activation", "learning rate", "epochs", "train %", "validation %", "epochs run"],
            [
                [
                    row["label"],
                    row["optimizer"],
                    row["head_activation"],
                    f"{row['learning_rate']:.3g}",
                    row["epochs"],
                    pct(row["train"]),
                    pct(row["val"]),
                    num(row["epochs_run"], 1),
                ]  # fmt: skip
                for row in search["rows"]
            ],
        )

    if final:
        doc.heading(2, "Experiment 7: the final configuration")
        summary = final["summary"]
        doc.paragraph(
            f"`{final['config_key']}`, chosen by mean validation accuracy among every split-first configuration. "
            "Its fold models are the final models: each trained on its fold's training photos (4x views), "
            "early-stopped on its validation photos, then evaluated once on the held-out test photos and the "
            "field photos, which took part in no choice."
        )
        doc.table(
            ["", "train", "validation folds", "held-out test", "field photos"],
            [
                [
                    "accuracy %",
                    pct(summary["train_accuracy"]),
                    pct(summary["val_accuracy"]),
                    pct(summary["test_accuracy"]),
                    pct(summary["field_accuracy"]),
                ],  # fmt: skip
                ["loss", num(summary["train_loss"]), num(summary["val_loss"]), num(summary["test_loss"]), "–"],
            ],
        )
        doc.table(
            ["fold", "train %", "validation %", "test %", "field %", "kept epoch", "epochs run", "seconds"],
            [
                [
                    f["fold"] + 1,
                    _f(f["train_accuracy"]),
                    _f(f["val_accuracy"]),
                    _f(f["test_accuracy"]),
                    _f(f["field_accuracy"]),
                    f["best_epoch"],
                    f["epochs_run"],
                    f"{f['seconds']:.0f}",
                ]  # fmt: skip
                for f in final["per_fold"]
            ],
        )
        doc.figure(figure_paths.get("final_accuracy"), FIGURES["final_accuracy"][1])
        doc.figure(figure_paths.get("final_loss"), FIGURES["final_loss"][1])
        doc.figure(figure_paths.get("confusion"), FIGURES["confusion"][1])
        doc.paragraph(
            f"The matrix holds {final['validation_images']:,} out-of-fold predictions; its accuracy, "
            f"{100 * (final['validation_pooled_accuracy'] or 0):.1f}%, is the pooled form of the validation "
            "accuracy above (the mean over folds weighs folds equally). The paper's matrix (480 images, "
            f"TP 238, TN 95, FP 107, FN 40) implies {100 * paper_confusion_accuracy():.0f}%, not its 98%."
        )
        recall = final["test_recall"]
        doc.paragraph(
            "Held-out test recall per class (all fold models pooled): "
            + ", ".join(f"{name} {100 * value:.1f}%" for name, value in recall.items() if value is not None)
            + "."
        )

        doc.heading(2, "Field photos (not lab numbers)")
        doc.paragraph(
            f"{splits['field_photos']} PlantDoc photos of potato leaves in the field (soil, hands, other leaves), "
            "classes the lab model knows; no healthy field photos exist in this set. Each fold model of the final "
            "configuration predicts every field photo."
        )
        doc.table(
            ["class", "recall % (mean ± std over fold models)"],
            [[name, pct(value)] for name, value in final["field_recall"].items()],
        )
        doc.paragraph(
            "Share of field photos predicted as each class: "
            + ", ".join(
                f"{name} {100 * share:.1f}%"
                for name, share in final["field_predicted_share"].items()
                if share is not None
            )
            + "."
        )
        doc.figure(figure_paths.get("field_confusion"), FIGURES["field_confusion"][1])

    leak = numbers["experiments"].get("leakage")
    if leak:
        doc.heading(2, "Leakage: the paper's order (augment, then split)")
        difference = leak["difference"]
        doc.paragraph(
            f"Same configuration (`{leak['config_keys'][0]}`), same development photos. Ours: split by photo, "
            "then augment the training side; validation sees original photos only. Paper's order: make the 4x "
            "views first, then split the views, so copies of one photo sit on both sides. "
            + (
                f"**Leakage: {100 * difference:+.1f} percentage points** of validation accuracy."
                if difference is not None
                else "Not run yet."
            )
        )
        doc.table(
            ["protocol", "validation accuracy %", "note"],
            [
                [
                    "split, then augment (ours)",
                    pct(leak["split_first"]),
                    f"{leak['split_first_leaked_views']} validation views with a copy in training",
                ],  # fmt: skip
                ["augment, then split (paper)", pct(leak["augment_first"]), _leak_note(leak)],  # fmt: skip
            ],
        )
        doc.figure(figure_paths.get("leakage"), FIGURES["leakage"][1])

    doc.heading(2, "Cost")
    doc.bullets(_cost_notes(numbers))
    costs = numbers["costs"]
    doc.table(
        ["experiment", "wall time", "new configurations", "reused from earlier experiments", "trains whole network"],
        [
            [
                row["experiment"],
                _seconds(row["seconds"]),
                row["new_configs"],
                row["shared_configs"],
                "yes" if row["whole_network"] else "no",
            ]  # fmt: skip
            for row in costs["per_experiment"]
        ]
        + [[f"(phase) {name}", _seconds(value), "", "", ""] for name, value in costs["phases"].items()]
        + [["**total (all invocations)**", _seconds(costs["total_seconds"]), "", "", ""]],
    )
    doc.table(
        ["run", "started (UTC)", "wall time", "status", "folds trained", "folds already stored"],
        [
            [
                run["id"],
                run["started_at"],
                _seconds(run["seconds"]),
                run["status"],
                run["folds_trained"],
                run["folds_skipped"],
            ]  # fmt: skip
            for run in costs["runs"]
        ],
    )

    doc.heading(2, "Environment")
    env = numbers["environment"]
    doc.table(["", ""], [[key, ", ".join(map(str, value)) if isinstance(value, list) else value]
                         for key, value in env.items()])  # fmt: skip
    doc.paragraph(
        "Rebuild this report without training: `python manage.py build_study_report <this folder>`. "
        "Every number comes from `results/*/fold-*.json` (per-image probabilities, per-epoch history) through "
        "`training/study/metrics.py`; `report.json` holds them all."
    )
    return doc


def _f(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _leak_note(leak: dict) -> str:
    share = leak["augment_first_leaked_share"]
    if share is None:
        return ""
    leaked, clean = leak["augment_first_leaked_views"], leak["augment_first_clean_views"]
    parts = [f"{leaked:,} of {leaked + clean:,} validation views ({100 * share:.1f}%) have a copy of their photo "
             "in training"]  # fmt: skip
    if leak["augment_first_leaked_accuracy"] is not None:
        parts.append(f"accuracy on those {100 * leak['augment_first_leaked_accuracy']:.1f}%")
    if leak["augment_first_clean_accuracy"] is not None:
        parts.append(f"on the {clean:,} without one {100 * leak['augment_first_clean_accuracy']:.1f}%")
    return "; ".join(parts)


def _protocol_notes(numbers: dict) -> list[str]:
    settings = numbers["settings"]
    notes = [
        f"Held-out test: {numbers['splits']['test_photos']} photos chosen by a hash of the file name "
        f"({100 * settings['test_fraction']:.0f}%); the rest are split into {settings['folds']} folds with "
        f"`StratifiedGroupKFold` (stratified by class, grouped by original photo, seed {settings['seed']}).",
        f"Offline augmentation, {settings['augment_factor']}x: each photo plus {settings['augment_factor'] - 1} "
        "randomly flipped, rotated, zoomed, brightened and contrast-changed copies (`training/augmentation.py`). "
        "A copy is made from its own photo only, so making every photo's copies once and giving each fold the "
        "copies of its training photos is the same as augmenting after the split. Validation photos are "
        "originals only.",
        "Base configuration (the paper's): MobileNetV2 with ImageNet weights, Keras functional API, "
        f"{settings['image_size']}x{settings['image_size']} input, dropout 0.5, batch 32, Adam, learning rate "
        "1e-4, early stopping on the validation loss with patience 5, best weights restored. BatchNormalization "
        "stays in inference mode whenever backbone layers train (the weights carry folded statistics).",
        _whole_network_note(numbers),
        "Cached activations: for head-only and top-N configurations the frozen layers (ImageNet weights, "
        "inference mode) give the same output for an image in every fold, epoch and configuration; they run once "
        "per image view and the trainable part trains on their output. One model is built and compiled per "
        "configuration; its initial weights and optimizer state are restored before each fold.",
    ]
    if settings.get("epochs_cap"):
        notes.append(f"Quick run: every configuration capped at {settings['epochs_cap']} epochs.")
    return notes


def _whole_network_note(numbers: dict) -> str:
    settings, costs = numbers["settings"], numbers["costs"]
    sweep = LAYER_LABELS.get(settings["sweep_layers"], settings["sweep_layers"])
    text = (
        "**What trains the whole network, and why.** Experiment 1's *all layers* arm trains the whole network on "
        f"the images ({_whole_network_cap(settings)}). Experiments 2-6 and the leakage comparison vary one "
        f"factor at a time from the base with **{sweep}** trainable instead of all layers, on cached activations."
    )
    if settings["sweep_layers"] == "all":
        return text + " Here every sweep trains the whole network (`--sweep-layers all`)."
    rates = costs["train_images_per_second"]
    whole_rate = (rates.get("all") or {}).get("mean")
    sweep_rate = (rates.get(settings["sweep_layers"]) or {}).get("mean")
    if whole_rate and sweep_rate:
        text += (
            f" The reason is cost: measured here, the whole network trains at {whole_rate:.0f} images/s and "
            f"{sweep} at {sweep_rate:.0f} images/s (each epoch's validation included)."
        )
    if costs.get("sweeps_on_whole_network_seconds") is not None:
        text += (
            f" The {costs['sweep_configs']} sweep configurations x {settings['folds']} folds took "
            f"{_seconds(costs['sweep_seconds'])}; at the whole network's measured cost per configuration "
            f"({_seconds(costs['whole_network_config_seconds'])}) they would take about "
            f"{_seconds(costs['sweeps_on_whole_network_seconds'])}"
            + (", far past the 3-hour budget." if costs["sweeps_on_whole_network_seconds"] > 3 * 3600 else ".")
        )
    if settings["sweep_layers"] == "head":
        caveat = (
            " With the head only, the sweeps measure how each factor trains the classifier on fixed ImageNet "
            "features, not how it disturbs pretrained weights (a learning rate of 0.1 harms a fine-tuned "
            "backbone more than a classifier); experiment 1 measures how far the head only is from all layers."
        )
    else:
        caveat = (
            f" {sweep.capitalize()} still fine-tunes pretrained backbone weights (the last inverted-residual "
            "blocks' convolutions and the final 1280-channel convolution), so a learning rate or an optimizer "
            f"that damages pretrained weights shows up; experiment 1 measures how far {sweep} is from all layers."
        )
    return text + caveat + " With an accelerator, `--sweep-layers all` runs every sweep on the whole network."


def _whole_network_cap(settings: dict) -> str:
    cap, patience = settings["whole_network_max_epochs"], PAPER_CLAIMS["model"]["patience"]
    if cap > patience:
        return f"at most {cap} epochs; early stopping usually ends it sooner"
    return (
        f"at most {cap} epochs, within early stopping's patience of {patience}, to fit the 3-hour budget on "
        "2 CPU cores; the weights of the epoch with the lowest validation loss are kept"
    )


def _cost_notes(numbers: dict) -> list[str]:
    costs = numbers["costs"]
    notes = [
        f"Total wall time over all invocations: **{_seconds(costs['total_seconds'])}**; whole-network folds "
        f"{_seconds(costs['whole_network_seconds'])}, cached-activation folds {_seconds(costs['cached_seconds'])}."
    ]
    rates = costs["train_images_per_second"]
    if rates:
        notes.append(
            "Measured training throughput (images per second, including each epoch's validation): "
            + ", ".join(f"{LAYER_LABELS.get(layers, layers)} {num(rate, 0)}" for layers, rate in rates.items())
            + "."
        )
    estimate = costs.get("estimate")
    if estimate:
        notes.append(
            f"Planned before running: about {_seconds(estimate['expected_seconds'])} "
            f"(every fold at its epoch cap: {_seconds(estimate['at_epoch_cap_seconds'])})."
        )
    return notes


# ---------------------------------------------------------------------------------------------
# Entry point


def build_report(out_dir: Path | str) -> ReportFiles:
    """Rebuild every report file in ``out_dir`` from its stored results."""
    folder = StudyFolder(out_dir)
    numbers = derive_numbers(folder)
    figure_paths = draw_figures(numbers, folder.root / "figures")
    document = compose(numbers, figure_paths)
    markdown_path = folder.root / "report.md"
    markdown_path.write_text(document.markdown(folder.root))
    html_path = folder.root / "report.html"
    html_path.write_text(document.html("MobileNetV2 study: paper vs measured"))
    json_path = write_json(folder.root / "report.json", _jsonable(numbers))
    return ReportFiles(markdown_path, html_path, json_path, list(figure_paths.values()))


def headline_metrics(numbers: dict) -> dict:
    """The few numbers a training-run row keeps (dashboard)."""
    final = numbers.get("final") or {}
    summary = final.get("summary") or {}
    leak = numbers["experiments"].get("leakage") or {}

    def mean(key):
        return (summary.get(key) or {}).get("mean")

    return {
        "best_config": numbers.get("best_config"),
        "val_accuracy": mean("val_accuracy"),
        "val_accuracy_std": (summary.get("val_accuracy") or {}).get("std"),
        "test_accuracy": mean("test_accuracy"),
        "field_accuracy": mean("field_accuracy"),
        "leakage": leak.get("difference"),
        "configs": len(numbers["configs"]),
        "complete_configs": numbers["complete_configs"],
        "total_seconds": numbers["costs"]["total_seconds"],
    }


def _jsonable(value):
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
