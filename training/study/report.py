"""The study report: ``report.md``, a single-file ``report.html``, ``report.json`` and figures.

The numbers come from :mod:`training.study.numbers` (computed from the stored results only);
the words and layout from the Django templates in ``templates/reports/study/``; the figures from
:mod:`training.study.figures`. The HTML page is the same Markdown, rendered by markdown-it with the
figures inlined, so it stands alone.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.template.loader import render_to_string

from training.study import figures
from training.study.numbers import ONE_FACTOR, as_json, derive_numbers
from training.study.paper import CITATION, PAPER_CLAIMS, paper_confusion_accuracy
from training.study.results import StudyFolder, write_json

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
EXPERIMENT_TITLES = {
    "layers": ("Experiment 1: layers trained", "Layers"),
    "learning_rate": ("Experiment 2: learning rate", "Learning rate"),
    "batch_size": ("Experiment 3: batch size", "Batch size"),
    "optimizer": ("Experiment 4: optimizer", "Optimizer"),
}
HTML_TITLE = "MobileNetV2 study: paper vs measured"


@dataclass
class ReportFiles:
    markdown: Path
    html: Path
    json: Path
    figures: list[Path]


def build_report(out_dir: Path | str) -> ReportFiles:
    """Rebuild every report file in ``out_dir`` from its stored results."""
    folder = StudyFolder(out_dir)
    numbers = derive_numbers(folder)
    figure_paths = draw_figures(numbers, folder.root / "figures")
    markdown_path = folder.root / "report.md"
    markdown_path.write_text(render_markdown(numbers, {name: path.relative_to(folder.root).as_posix()
                                                       for name, path in figure_paths.items()}))  # fmt: skip
    html_path = folder.root / "report.html"
    html_path.write_text(render_html(numbers, figure_paths))
    json_path = write_json(folder.root / "report.json", as_json(numbers))
    return ReportFiles(markdown_path, html_path, json_path, list(figure_paths.values()))


def render_markdown(numbers: dict, figure_sources: dict[str, str]) -> str:
    """``templates/reports/study/report.md`` filled with the numbers; figures linked at ``figure_sources``."""
    context = {
        "numbers": numbers,
        "paper": PAPER_CLAIMS,
        "citation": CITATION,
        "paper_confusion_accuracy": paper_confusion_accuracy(),
        "fold_percent": {
            "train": 100 - 100 // numbers["settings"]["folds"],
            "validation": 100 // numbers["settings"]["folds"],
        },
        "one_factor": [
            {
                "name": name,
                "title": EXPERIMENT_TITLES[name][0],
                "short_title": EXPERIMENT_TITLES[name][1],
                **numbers["experiments"][name],
            }
            for name in ONE_FACTOR
            if numbers["experiments"].get(name)
        ],  # fmt: skip
        "figures": {name: {"src": source, "caption": FIGURES[name][1]} for name, source in figure_sources.items()},
    }
    markdown = render_to_string("reports/study/report.md", context)
    # Template tags on lines of their own leave blank lines behind; Markdown needs at most one.
    return re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"


def render_html(numbers: dict, figure_paths: dict[str, Path]) -> str:
    """One self-contained page: the same Markdown rendered to HTML, figures inlined as data URIs."""
    from markdown_it import MarkdownIt

    inlined = {
        name: "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
        for name, path in figure_paths.items()
    }
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(render_markdown(numbers, inlined))
    return render_to_string("reports/study/report.html", {"title": HTML_TITLE, "body": body})


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
