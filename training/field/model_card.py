"""The model card written beside a trained model: data and credits, recipe, decision rule, figures.

Field figures come from the field cross-validation (``docs/field/report.json``), never from photos
the model trained on; lab figures from the served file on the lab hold-out.
"""

from __future__ import annotations

import platform
from datetime import UTC, datetime

from classifier.decision import DecisionRule
from training.field.cases import threshold_table
from training.field.report import TARGETS

CREDITS = [
    "PlantVillage (Hughes and Salathé, 2015): lab photos of potato and pepper leaves.",
    'PlantDoc (Singh et al., "PlantDoc: A Dataset for Visual Plant Disease Detection", CoDS-COMAD 2020, '
    "CC BY 4.0): field photos of potato leaves with early and late blight, and of 25 other crops' leaves.",
    'Shabrina et al., "Potato Leaf Disease Dataset in Uncontrolled Environment", Data in Brief 52 (2024) '
    "109955, doi:10.17632/ptz377bwb8.1 (CC BY 4.0): field photos from Magelang, Indonesia: healthy plants, "
    "late blight and bacterial wilt.",
]


REFIT_COMMAND = "python manage.py train_model --rule-only"


def previous_training(card: str) -> tuple[str | None, str | None]:
    """(the "Made ..." line, the training command) of a model card, for a card rewritten around the same
    weights: a refitted rule changes neither."""
    lines = card.splitlines()
    made = next((line for line in lines if line.startswith("Made ")), None)
    start = next((i for i, line in enumerate(lines) if line == "## Command"), None)
    command = None
    if start is not None:
        block = lines[start + 1 :]
        fence = [i for i, line in enumerate(block) if line.startswith("```")]
        if len(fence) >= 2:
            command = "\n".join(block[fence[0] + 1 : fence[1]])
    return made, command


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _mean_std(metrics: dict, name: str) -> str:
    if name not in metrics:
        return "–"
    return f"{100 * metrics[name]['mean']:.1f} ± {100 * metrics[name]['std']:.1f}%"


def render_model_card(
    command: str, summary: dict, lab: dict, report: dict | None, sizes: dict[str, int], made: str | None = None
) -> str:
    """The card; ``made``: its "Made ..." line when the weights were made before (a refitted rule)."""
    rule = summary.get("decision_rule")
    made = made or (
        f"Made {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()} "
        f"({platform.python_implementation()} {platform.python_version()}), in {summary['train_seconds']:.0f} s."
    )
    lines = ["# Model card: potato leaf classifier (MobileNetV2, TFLite)", "", made, ""]
    if refitted := summary.get("rule_refitted"):
        lines += [
            f"Its decision rule was refitted on {refitted['date']} from the stored out-of-fold predictions of "
            f"`{refitted['fitted_on']}` (`docs/field/report.json`; `{REFIT_COMMAND}`); the weights are unchanged. "
            "The lab hold-out figures below were measured with that rule.",
            "",
        ]
    lines += [
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
        "## Data, and credit to its authors",
        "",
        *[f"- {credit}" for credit in CREDITS],
        "",
        f"Trained on {summary['training_photos']} photos: every field photo (potato and other crops) and the lab "
        f"photos outside the lab hold-out ({summary['lab_holdout_photos']} photos, chosen by a hash of the file name). "
        "Each class is balanced across lab and field photos; lab photos also train as field-like views and "
        "as leaves pasted onto field photos of other crops (`training.field.photo_views`). "
        + _backbone_and_heads(summary["recipe"])
        + ".",
        "",
        "## How the farmer's answer is decided",
        "",
    ]
    if rule and rule.get("answer_at"):
        views = rule.get("views")
        read = ""
        if views:
            read = f"each photo is read {len(views)} ways ({', '.join(views)}), combined by `{rule['combine']}`; "
        lines += [
            f"Probabilities are calibrated by temperature scaling (T = {rule['temperature']}); {read}a case's photos "
            f"(1 to 6 of one garden) are combined by `{rule['combine']}`. Per case size, a case is answered \"not a "
            "potato leaf\", one class alone, or \"Leaf blight: early or late\" when its combined probability reaches "
            "the threshold below, and \"not sure, an extension officer will look at it\" otherwise (a case larger "
            "than a size listed uses the largest listed below it; `-` never: that answer did not hold on held-out "
            "folds). Fitted on out-of-fold field predictions (`docs/field/`, section Cases).",
            "",
            *threshold_table(rule),
        ]
    elif rule:
        lines += [
            f"Probabilities are calibrated by temperature scaling (T = {rule['temperature']}). A photo is answered "
            f'"not a potato leaf" when that calibrated probability is at least {rule["reject_at"]}; a potato '
            f'answer below {rule["unsure_below"]} is shown as "not sure, an extension officer will look at it". '
            "All three numbers were fitted on out-of-fold field predictions (`docs/field/`).",
        ]
    else:
        lines += ["No fitted rule: the reject class wins by argmax; unsure below `CLASSIFIER_UNSURE_BELOW`."]
    lines += [
        "",
        "## Lab hold-out (the served TFLite file, through the worker's predict path)",
        "",
        f"{lab['count']} photos: accuracy {_percent(lab['accuracy'])}, answered 'not a potato leaf' "
        f"{_percent(lab['rejection_rate'])}, 'not sure' {_percent(lab['unsure_rate'])}.",
        "",
        "| folder | recall | photos |",
        "|---|---|---|",
    ]
    for folder, entry in lab["per_folder"].items():
        lines.append(f"| {folder} | {_percent(entry['recall'])} | {entry['support']} |")
    measured = report and (report.get("rule_fitted_on") or report.get("chosen"))
    if report and measured in report.get("arms", {}):
        # The figures of the folds the rule was fitted on: held-out photos as the worker sees them, where measured.
        metrics = report["arms"][measured]["metrics"]
        arm = report["arms"][measured]
        lines += [
            "",
            f"## Field photos (cross-validated: {arm['folds']} grouped folds x {arm['repeats']} repeats, "
            "mean ± std over repeats)",
            "",
            "| figure | measured |",
            "|---|---|",
        ]
        for name, title in (
            ("recall_early_blight", "early blight recall (top-1)"),
            ("recall_late_blight", "late blight recall (top-1)"),
            ("recall_healthy", "healthy recall (top-1)"),
            ("recall_bacterial_wilt", "bacterial wilt recall (top-1)"),
            ("answered_correctly", "field potato photos answered correctly"),
            ("unsure", "field potato photos answered 'not sure'"),
            ("confidently_wrong", "field potato photos confidently wrong"),
            ("potato_rejected", "field potato photos answered 'not a potato leaf'"),
            ("other_crops_rejected", "other crops answered 'not a potato leaf' (tomato apart)"),
            ("other_crops_given_a_disease", "other crops given a potato disease"),
            ("tomato_rejected", "tomato answered 'not a potato leaf'"),
            ("expected_calibration_error", "expected calibration error (field)"),
        ):
            lines.append(f"| {title} | {_mean_std(metrics, name)} |")
        if verdict := _bacterial_wilt_verdict(metrics):
            lines += ["", verdict]
        if rule and DecisionRule.from_dict(rule).never_answers(photos=1):
            lines += [
                "",
                "Answers, 'not sure' and 'confidently wrong' above are those of the cross-fitted rules (each fold "
                "judged by a rule fitted on the other folds). Their answers were too few, or too often wrong, for "
                "the shipped rule to keep a 'not sure' threshold for single photos: it answers no potato photo on "
                "its own, so none is answered correctly and none confidently wrong. Cases of several photos: "
                "`docs/field/report.md`, section Cases.",
            ]
        lines += ["", "### Targets", "", "| target | goal | measured | met | by |", "|---|---|---|---|---|"]
        for name, target in report.get("targets", {}).items():
            lines.append(
                f"| {name.replace('_', ' ')} | {target['target']} | {_percent(target['measured'])} | "
                f"{'yes' if target['met'] else '**no**'} | {100 * target['gap']:+.1f} points |"
            )
        if cases := report.get("cases"):
            lines += [
                "",
                f"### Cases of several photos (what ships, cross-fitted; combined by `{cases['chosen']}`)",
                "",
                "| target | photos | goal | measured | met |",
                "|---|---|---|---|---|",
            ]
            for target in cases.get("targets", []):
                lines.append(
                    f"| {target['figure'].replace('_', ' ')} | {target['photos']} | {target['target']} | "
                    f"{_percent(target['measured'])} | {'yes' if target['met'] else '**no**'} |"
                )
        lines += [
            "",
            "What each technique adds, and what was tried: `docs/field/report.md` (the ablation, every way of "
            "combining a case's photos, and the learning curve).",
        ]
    files = ", ".join(f"`{name}` {size / 1e6:.1f} MB" for name, size in sizes.items())
    lines += [
        "",
        f"Files: {files} ({sum(sizes.values()) / 1e6:.1f} MB together). `model.tflite` is served (float16 weights, "
        "float32 compute); `model.keras` (no optimizer state, float16 weights read back in float32) lets the "
        "training worker draw Grad-CAM heatmaps.",
        "",
        "## Limits",
        "",
        "- Field photos are few (213 of potato) and come from two places (PlantDoc's web photos and Magelang, "
        "Indonesia), none from Kigezi: officers' reviewed uploads are the data that will tell how it does there.",
        "- Healthy field photos: 20, all from Magelang; bacterial wilt: 56, all from Magelang, not lab-confirmed.",
        "- Tomato is a close relative (the same late-blight pathogen): 'late blight' on a tomato leaf with late "
        "blight is counted apart, not as an error.",
        "",
    ]
    return "\n".join(lines)


def _backbone_and_heads(recipe: dict) -> str:
    """What of the ImageNet backbone trained, and how many heads the served one averages (recipes
    written before ``heads`` or ``fine_tune_layers`` existed trained one head on a frozen backbone)."""
    size = recipe["image_size"]
    tuned = recipe.get("fine_tune_layers", 0)
    if tuned:
        trains = (
            "the whole backbone trains with it at a low learning rate"
            if tuned == "all"
            else f"the backbone's top {tuned} layers train with it at a low learning rate; the rest of the "
            "backbone stays frozen"
        )
        return (
            f"The head is trained on the ImageNet MobileNetV2 backbone's features at {size} px "
            f"(`training.field.recipe`), then {trains}, BatchNormalization in inference mode"
        )
    frozen = (
        "The ImageNet MobileNetV2 backbone is frozen; the head is trained on its features "
        f"(`training.field.recipe`) at {size} px"
    )
    heads = recipe.get("heads", 1)
    if heads == 1:
        return frozen
    return f"{frozen}, {heads} times with different seeds, their logits averaged as one head"


def _bacterial_wilt_verdict(metrics: dict) -> str | None:
    """Whether the bacterial wilt answer earns its place: its recall against the bar the other
    potato answers are held to (``None`` for a model without it)."""
    if "recall_bacterial_wilt" not in metrics:
        return None
    bar = TARGETS["recall_healthy"][1]
    recall = _mean_std(metrics, "recall_bacterial_wilt")
    if metrics["recall_bacterial_wilt"]["mean"] >= bar:
        return (
            f"Bacterial wilt is kept as an answer: its cross-validated recall ({recall}) meets the "
            f"{100 * bar:.0f}% the other potato answers are held to."
        )
    return (
        f"Bacterial wilt is kept as an answer although its cross-validated recall ({recall}) is below the "
        f"{100 * bar:.0f}% the other potato answers are held to: without it, a wilting plant could only be "
        "told some other disease."
    )
