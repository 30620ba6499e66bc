"""The model card written beside a trained model: data, classes, held-out metrics, the command."""

from __future__ import annotations

import platform
from datetime import UTC, datetime


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def render_model_card(
    command: str, summary: dict, evaluations: dict[str, dict], size_bytes: int, field_in_training: bool = False
) -> str:
    lines = [
        "# Model card: potato leaf classifier (MobileNetV2, TFLite)",
        "",
        f"Made {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()} "
        f"({platform.python_implementation()} {platform.python_version()}), in {summary['train_seconds']:.0f} s.",
        "",
        "## Command",
        "",
        "```",
        command,
        "```",
        "",
        "## Classes (model output order)",
        "",
        ", ".join(f"`{name}`" for name in summary["classes"]),
        "",
        f"Training photos: {summary['training_photos']}. Held-out photos are chosen by a hash of the file"
        " name (`training.datasets.split_by_photo`), so the same photos stay out on every run.",
        "",
        "## Held-out results (the served TFLite file, through the worker's predict path)",
        "",
        "| held-out set | photos | accuracy | answered 'not a potato leaf' | answered 'unsure' |",
        "|---|---|---|---|---|",
    ]
    for name, evaluation in evaluations.items():
        lines.append(
            f"| {name} | {evaluation['count']} | {_percent(evaluation['accuracy'])} | "
            f"{_percent(evaluation['rejection_rate'])} | {_percent(evaluation['unsure_rate'])} |"
        )
    lines += ["", "### Recall per class, per held-out set", ""]
    for name, evaluation in evaluations.items():
        recalls = ", ".join(
            f"{folder} {_percent(entry['recall'])} ({entry['correct']}/{entry['support']})"
            for folder, entry in evaluation["per_folder"].items()
        )
        lines.append(f"- **{name}**: {recalls}")
    lines += [
        "",
        f"File: `model.tflite`, {size_bytes / 1e6:.1f} MB (float16 weights, float32 compute).",
        "",
        "## Limits",
        "",
        "- Potato training photos are PlantVillage lab shots"
        + (
            " plus some PlantDoc field photos."
            if field_in_training
            else "; no field photo of a potato leaf was"
            " trained on, so the 'field' row measures how the model does on photos unlike its training data."
        ),
        "- No healthy field photos exist in the data: healthy leaves in the field are the least tested case.",
        "- 'Not a potato leaf' was learned from bell pepper (lab) and 25 PlantDoc field classes.",
        "",
    ]
    return "\n".join(lines)
