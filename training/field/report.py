"""The field report: every figure computed from the stored out-of-fold predictions.

``build_report(folder)`` reads ``photos.json`` and ``results/<arm>/r<repeat>-f<fold>.json`` (written
by ``training.field.protocol``) and returns the numbers; ``write_report`` writes ``report.json``,
``report.md`` and the figures. A test rebuilds the numbers from the committed predictions and
compares them with the committed report, so the report cannot say what the predictions do not.

The decision rule is *cross-fitted*: for each fold, temperature and thresholds are fitted on the
other folds' field predictions of the same repeat and applied to this fold, so no photo is judged
by a threshold chosen on itself. Each figure is computed per repeat on all its field photos and
given as mean ± standard deviation over repeats.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

from classifier.decision import MAX_CASE_PHOTOS, DecisionRule, calibrate, decide
from classifier.metrics import expected_calibration_error
from classifier.preprocessing import DEFAULT_IMAGE_SIZE, ZOOM
from training.export import QUANTIZATIONS, SHIPPED_QUANTIZATION
from training.field.calibration import MIN_ANSWERED, MIN_PRECISION, FitData, fit_rule
from training.field.data import FIELD, TOMATO
from training.field.paired import paired_arm
from training.field.protocol import ARMS, CHOSEN, SENT_FILENAME, served_arm
from training.field.quantized import quantized_arm
from training.field.served_views import PHONE_COPY, PHONE_JPEG_QUALITY, PHONE_MAX_SIDE, SMALL_COPY

POTATO_CLASSES = ("early_blight", "late_blight", "healthy", "bacterial_wilt")
TARGETS = {
    "recall_early_blight": (">=", 0.85),
    "recall_late_blight": (">=", 0.85),
    "recall_healthy": (">=", 0.85),
    "confidently_wrong": ("<=", 0.05),
    "potato_rejected": ("<=", 0.05),
    "other_crops_rejected": (">=", 0.95),
    "lab_accuracy": (">=", 0.985),
}
MIN_REPEATS = 2  # an arm measured over fewer repeats is reported but never shipped
OLD_RULE = DecisionRule(1.0, None, 0.6)  # argmax, unsure below 0.6: the rule models had before


# -- reading -------------------------------------------------------------------------------------


def load_results(folder: Path) -> tuple[dict[str, dict], dict[str, dict[int, list[dict]]]]:
    """(photos by key, {arm: {repeat: [fold results]}}) from a protocol folder."""
    folder = Path(folder)
    photos = {photo["key"]: photo for photo in json.loads((folder / "photos.json").read_text())}
    results: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted((folder / "results").glob("*/r*-f*.json")):
        result = json.loads(path.read_text())
        results[result["arm"]][result["repeat"]].append(result)
    for arm in results.values():
        for folds in arm.values():
            folds.sort(key=lambda result: result["fold"])
    return photos, results


# -- the figures -----------------------------------------------------------------------------------


def fold_arrays(result: dict, photos: dict[str, dict]) -> dict:
    classes = result["classes"]
    keys = result["keys"]
    entries = [photos[key] for key in keys]
    return {
        "classes": classes,
        "reject_label": result["reject_label"],
        "probabilities": np.array(result["probabilities"], dtype=np.float64),
        # A photo of a class this model does not know (one officers added since) is never answered right.
        "truth": np.array([classes.index(entry["label"]) if entry["label"] in classes else -1 for entry in entries]),
        "field": np.array([entry["domain"] == FIELD for entry in entries]),
        "potato": np.array([entry["label"] != result["reject_label"] for entry in entries]),
        "tomato": np.array([entry["subset"] == TOMATO for entry in entries]),
        "keys": keys,
        # Per photo and test-time view (``training.field.served_views``), where the fold stored them.
        "view_probabilities": _view_array(result, len(classes)),
    }


def _view_array(result: dict, width: int) -> np.ndarray | None:
    rows = result.get("view_probabilities")
    if rows is None:
        return None
    views = len(result["views"])
    return np.array([row if row is not None else np.full((views, width), np.nan) for row in rows], dtype=np.float64)


def _fit_data(folds: list[dict]) -> FitData:
    field = [fold["field"] for fold in folds]
    return FitData(
        np.concatenate([fold["probabilities"][f] for fold, f in zip(folds, field, strict=True)]),
        np.concatenate([fold["truth"][f] for fold, f in zip(folds, field, strict=True)]),
        np.concatenate([fold["potato"][f] for fold, f in zip(folds, field, strict=True)]),
        np.concatenate([~fold["tomato"][f] for fold, f in zip(folds, field, strict=True)]),
    )


def cross_fitted_rules(folds: list[dict]) -> list[DecisionRule]:
    """For each fold, the rule fitted on the other folds' field photos."""
    rules = []
    for position, fold in enumerate(folds):
        others = [other for index, other in enumerate(folds) if index != position]
        rules.append(fit_rule(_fit_data(others), fold["classes"], fold["reject_label"]))
    return rules


def repeat_metrics(folds: list[dict], rules: list[DecisionRule]) -> dict:
    """Every figure of one repeat, each fold's photos judged by that fold's rule."""
    return answer_metrics(fold_answers(folds, rules), folds[0]["classes"])


def fold_answers(folds: list[dict], rules: list[DecisionRule]) -> dict[str, np.ndarray]:
    """Per photo, every fold's photos judged by that fold's rule: what the farmer would be shown
    (``answer``, ``rejected``, ``unsure``), the model's potato top-1, the truth and the photo's kind."""
    parts = defaultdict(list)
    for fold, rule in zip(folds, rules, strict=True):
        decisions = decide(fold["probabilities"], fold["classes"], fold["reject_label"], rule)
        potato_only = fold["probabilities"].copy()
        potato_only[:, fold["classes"].index(fold["reject_label"])] = -1
        parts["answer"].append(decisions.answer)
        parts["confidence"].append(decisions.confidence)
        parts["rejected"].append(decisions.rejected)
        parts["unsure"].append(decisions.unsure)
        parts["top1"].append(potato_only.argmax(axis=1))
        for name in ("truth", "field", "potato", "tomato", "keys"):
            parts[name].append(np.asarray(fold[name]))
    return {name: np.concatenate(values) for name, values in parts.items()}


def answer_metrics(a: dict[str, np.ndarray], classes: list[str]) -> dict:
    """Every figure of a set of judged photos (``fold_answers``), field and lab apart."""
    field_potato = a["field"] & a["potato"]
    others = a["field"] & ~a["potato"] & ~a["tomato"]
    tomato = a["field"] & a["tomato"]
    lab_potato = ~a["field"] & a["potato"]
    answered = ~a["rejected"] & ~a["unsure"]
    wrong_potato_answer = answered & (a["answer"] != a["truth"])
    metrics = {
        "field_potato_photos": int(field_potato.sum()),
        "potato_rejected": _share(a["rejected"], field_potato),
        "other_crops_rejected": _share(a["rejected"], others),
        "other_crops_given_a_disease": _share(answered, others),
        "tomato_rejected": _share(a["rejected"], tomato),
        "tomato_given_late_blight": _share(answered & (a["answer"] == _index(classes, "late_blight")), tomato),
        "confidently_wrong": _share(wrong_potato_answer, field_potato),
        "unsure": _share(a["unsure"], field_potato),
        "answered_correctly": _share(answered & (a["answer"] == a["truth"]), field_potato),
        "precision_of_answers": _share(a["answer"] == a["truth"], field_potato & answered),
        "answers_given": int((field_potato & answered).sum()),
        "answers_right": int((field_potato & answered & (a["answer"] == a["truth"])).sum()),
        "lab_accuracy": _share(a["answer"] == a["truth"], ~a["field"]),
        "lab_potato_unsure": _share(a["unsure"], lab_potato),
        "expected_calibration_error": round(
            expected_calibration_error(a["confidence"][a["field"]], (a["answer"] == a["truth"])[a["field"]]), 4
        ),
    }
    for name in POTATO_CLASSES:
        if name in classes:
            of_class = field_potato & (a["truth"] == classes.index(name))
            metrics[f"recall_{name}"] = _share(a["top1"] == a["truth"], of_class)
            metrics[f"answered_{name}"] = _share(answered & (a["answer"] == a["truth"]), of_class)
    return metrics


def _share(hits: np.ndarray, of: np.ndarray) -> float | None:
    return round(float(hits[of].mean()), 4) if of.any() else None


def _index(classes: list[str], name: str) -> int:
    return classes.index(name) if name in classes else -1


def summarise(per_repeat: list[dict]) -> dict:
    """{metric: {"mean", "std", "values"}} over repeats."""
    summary = {}
    for name in per_repeat[0]:
        values = [metrics[name] for metrics in per_repeat if metrics[name] is not None]
        if values:
            summary[name] = {
                "mean": round(float(np.mean(values)), 4),
                "std": round(float(np.std(values)), 4),
                "values": values,
            }
    return summary


def arm_report(repeats: dict[int, list[dict]], photos: dict[str, dict], old_rule: bool = False) -> dict:
    per_repeat, rules = [], []
    for repeat in sorted(repeats):
        folds = [fold_arrays(result, photos) for result in repeats[repeat]]
        fold_rules = [OLD_RULE] * len(folds) if old_rule else cross_fitted_rules(folds)
        rules += [rule.as_dict() for rule in fold_rules]
        per_repeat.append(repeat_metrics(folds, fold_rules))
    first = next(iter(repeats.values()))[0]
    return {
        "recipe": first["recipe"],
        "classes": first["classes"],
        "folds": len(next(iter(repeats.values()))),
        "repeats": len(repeats),
        "metrics": summarise(per_repeat),
        "rules": rules,
        "train_seconds_per_fold": round(
            float(np.mean([result["fit"]["seconds"] for folds in repeats.values() for result in folds])), 1
        ),
    }


def shipped_rule(repeats: dict[int, list[dict]], photos: dict[str, dict], arm: dict | None = None) -> DecisionRule:
    """The rule that ships: fitted on every repeat's out-of-fold field predictions together.

    Its "not sure" threshold is kept only where it held on photos it was not fitted on: unless the
    cross-fitted rules (``arm_report``; ``arm`` if already computed) gave at least ``MIN_ANSWERED``
    potato answers over all repeats, right at least ``MIN_PRECISION`` of the time, every potato
    answer is "not sure". Fitted on few answers, a threshold can look right in-sample and fail on
    the next fold.
    """
    folds = [fold_arrays(result, photos) for repeat in sorted(repeats) for result in repeats[repeat]]
    rule = fit_rule(_fit_data(folds), folds[0]["classes"], folds[0]["reject_label"])
    given, right = held_out_answers((arm or arm_report(repeats, photos))["metrics"])
    if given < MIN_ANSWERED or right / given < MIN_PRECISION:
        return replace(rule, unsure_below=1.0)
    return rule


def held_out_answers(metrics: dict) -> tuple[int, int]:
    """(potato answers given, right) by an arm's cross-fitted rules, every repeat together."""
    return tuple(sum(metrics.get(name, {}).get("values", [])) for name in ("answers_given", "answers_right"))


def curves(repeats: dict[int, list[dict]], photos: dict[str, dict], rule: DecisionRule) -> dict:
    """Reliability (before and after temperature) and accuracy against coverage, on field photos."""
    folds = [fold_arrays(result, photos) for repeat in sorted(repeats) for result in repeats[repeat]]
    data = _fit_data(folds)
    classes, reject_label = folds[0]["classes"], folds[0]["reject_label"]
    reliability = {}
    for name, temperature in (("raw", 1.0), ("calibrated", rule.temperature)):
        calibrated = calibrate(data.probabilities, temperature)
        confidence = calibrated.max(axis=1)
        correct = calibrated.argmax(axis=1) == data.truth
        reliability[name] = _reliability_bins(confidence, correct)
        reliability[name]["ece"] = round(expected_calibration_error(confidence, correct), 4)
    decisions = decide(data.probabilities, classes, reject_label, DecisionRule(rule.temperature, rule.reject_at, 0.0))
    potato_answers = data.potato & ~decisions.rejected
    confidence = decisions.confidence[potato_answers]
    correct = decisions.answer[potato_answers] == data.truth[potato_answers]
    coverage = []
    for threshold in np.round(np.linspace(0.3, 0.99, 24), 3):
        answered = confidence >= threshold
        coverage.append(
            {
                "threshold": float(threshold),
                "coverage": round(float(answered.sum() / max(int(data.potato.sum()), 1)), 4),
                "accuracy": round(float(correct[answered].mean()), 4) if answered.any() else None,
            }
        )
    return {"reliability": reliability, "coverage": coverage}


def _reliability_bins(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> dict:
    edges = np.linspace(0, 1, bins + 1)
    rows = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            rows.append(
                {
                    "low": round(float(low), 2),
                    "high": round(float(high), 2),
                    "count": int(inside.sum()),
                    "confidence": round(float(confidence[inside].mean()), 4),
                    "accuracy": round(float(correct[inside].mean()), 4),
                }
            )
    return {"bins": rows}


def build_report(folder: Path) -> dict:
    """Every number of the report, from the stored predictions alone."""
    photos, results = load_results(folder)
    arms = {arm: arm_report(results[arm], photos) for arm in ARMS if arm in results}
    for name, arm in arms.items():
        arm["recipe"]["note"] = ARMS[name].note  # what the arm is called now; its figures are the stored ones
        arm["shortfall"] = shortfall(arm["metrics"])
    report = {"arms": arms, "photos": _photo_counts(photos), "closest_to_targets": closest_to_targets(arms)}
    if CHOSEN in results:
        arms[f"{CHOSEN}_old_rule"] = arm_report(results[CHOSEN], photos, old_rule=True)
        arms[f"{CHOSEN}_old_rule"]["recipe"] = dict(arms[CHOSEN]["recipe"], note="the shipped recipe, old rule")
        arms[f"{CHOSEN}_old_rule"]["shortfall"] = shortfall(arms[f"{CHOSEN}_old_rule"]["metrics"])
        # The rule is fitted on the held-out photos as the worker sees them, where they were measured so
        # (``cross_validate_field --served-views``): sent as the small copy the phone sends first for the
        # diagnosis where measured, else as the 800 px copy; the ablation compares every arm on plain views.
        copies = served_copies(results)
        small = served_arm(CHOSEN, SMALL_COPY)
        fitted_on = small if small in copies else served_arm(CHOSEN) if served_arm(CHOSEN) in copies else CHOSEN
        notes = {name: copy["note"] for name, copy in copies.items()} | quantized_forms(results, fitted_on)
        for name, note in notes.items():
            arms[name] = arm_report(results[name], photos)
            arms[name]["recipe"] = dict(arms[CHOSEN]["recipe"], note=note)
            arms[name]["shortfall"] = shortfall(arms[name]["metrics"])
        rule = shipped_rule(results[fitted_on], photos, arms[fitted_on])
        report["chosen"] = CHOSEN
        report["rule_fitted_on"] = fitted_on
        if fitted_on in copies:
            report["rule_fitted_on_copy"] = {key: copies[fitted_on][key] for key in ("side", "quality")}
        report["curves"] = curves(results[fitted_on], photos, rule)
        report["cases"] = case_report(results[fitted_on], photos, rule)
        report["shipped_rule"] = report["cases"]["rule"]
        if copies:
            # Against the 800 px copy; on the same fold models where they were judged on it (``training.field.paired``).
            paired = paired_arm(fitted_on, PHONE_COPY)
            reference = paired if paired in copies else served_arm(CHOSEN)
            report["phone_copies"] = compared(
                folder, photos, results, arms, list(copies), reference, {fitted_on: report["cases"]}
            )
        forms = list(quantized_forms(results, fitted_on))
        if forms:
            # Against the float form (float16 weights, float32 compute: what shipped before any quantization).
            float_form = quantized_arm(fitted_on, "float16")
            report["quantized"] = compared(
                folder,
                photos,
                results,
                arms,
                [fitted_on, *forms],
                float_form if float_form in forms else forms[0],
                {fitted_on: report["cases"]},
            )
            report["quantized"]["shipped"] = SHIPPED_QUANTIZATION
        learning = learning_curve(folder, photos, results)
        if learning:
            report["learning_curve"] = learning
        report["targets"] = _targets(arms[fitted_on]["metrics"])
        report["held_out_answers"] = dict(
            zip(("given", "right"), held_out_answers(arms[fitted_on]["metrics"]), strict=True)
        )
    return report


def served_copies(results: dict) -> dict[str, dict]:
    """{arm: {"side", "quality", "note"}} for the shipped recipe's folds judged as the worker sees them, one
    per phone copy measured (``fine_tuned_224-served``: 800 px; ``fine_tuned_224-served384``: 384 px), largest
    first; then those folds' models judged on another copy (``fine_tuned_224-served384-sent800``,
    ``training.field.paired``)."""
    number = r"(\d*)(?:q(\d+))?"
    pattern = re.compile(rf"^{re.escape(served_arm(CHOSEN))}{number}(?:-sent{number})?$")
    found = {}
    for name in results:
        if match := pattern.match(name):
            side, quality, sent_side, sent_quality = match.groups()
            run = (int(side or PHONE_MAX_SIDE), int(quality or PHONE_JPEG_QUALITY))
            sent = (int(sent_side), int(sent_quality or PHONE_JPEG_QUALITY)) if sent_side else None
            found[name] = (run, sent)
    small = (SMALL_COPY.side, SMALL_COPY.quality)

    def note(run: tuple[int, int], sent: tuple[int, int] | None) -> str:
        if sent:
            return f"the {run[0]} px run's fold models, held-out photos sent at {sent[0]} px, JPEG {sent[1] / 100:g}"
        return (
            f"the shipped recipe, held-out photos as the worker sees them: sent at {run[0]} px, JPEG {run[1] / 100:g}"
            + (" (the small copy the phone sends first)" if run == small else "")
        )

    def order(item):
        run, sent = item[1]
        return (-run[0], -run[1], sent is not None, -(sent or run)[0], -(sent or run)[1])

    return {
        name: {"side": (sent or run)[0], "quality": (sent or run)[1], "note": note(run, sent)}
        for name, (run, sent) in sorted(found.items(), key=order)
    }


def quantized_forms(results: dict, served: str) -> dict[str, str]:
    """{arm: note} for ``served``'s fold models measured as TFLite files (``training.field.quantized``), in
    ``training.export.QUANTIZATIONS`` order."""
    return {
        quantized_arm(served, form): f"`{served}`'s fold models as TFLite, {form}"
        + (" (the form that ships)" if form == SHIPPED_QUANTIZATION else "")
        for form in QUANTIZATIONS
        if quantized_arm(served, form) in results
    }


#: The field figures two forms of the same folds are compared on (each judged by its own refitted rule).
COMPARED = (
    "recall_early_blight",
    "recall_late_blight",
    "recall_healthy",
    "recall_bacterial_wilt",
    "confidently_wrong",
    "potato_rejected",
    "other_crops_rejected",
    "other_crops_given_a_disease",
    "tomato_rejected",
    "unsure",
    "answered_correctly",
    "lab_accuracy",
)
CASE_COMPARED = ("answered", "precision", "wrong", "potato_rejected", "other_crops_given_a_disease")


def compared(
    folder: Path,
    photos: dict,
    results: dict,
    arms: dict,
    names: list[str],
    reference: str,
    cases_done: dict[str, dict],
) -> dict:
    """Forms of the shipped recipe's folds side by side (phone copies, or TFLite forms): each one's single
    photo figures and what its own rule (refitted on its folds, as the shipped one is) gives for cases,
    and how far each figure moved from ``reference``'s, in points (``largest_move``)."""
    rows = {}
    for name in names:
        cases = cases_done.get(name) or case_report(
            results[name], photos, shipped_rule(results[name], photos, arms[name])
        )
        sent = Path(folder) / "results" / name / SENT_FILENAME
        fold = next(iter(results[name].values()))[0]
        rows[name] = {
            "note": arms[name]["recipe"]["note"],
            "sent": json.loads(sent.read_text()) if sent.exists() else None,
            "tflite_bytes": fold.get("tflite_bytes"),
            "metrics": {metric: metrics[metric] for metric in COMPARED if metric in (metrics := arms[name]["metrics"])},
            "cases": {
                size: {figure: figures[figure] for figure in CASE_COMPARED if figure in figures}
                for size, figures in cases["shipped"].items()
            },
            "combine": cases["chosen"],
        }
    reference = reference if reference in rows else names[0]
    for row in rows.values():
        row["moves"] = _moves(row, rows[reference])
        row["largest_move"] = max(row["moves"].items(), key=lambda item: abs(item[1]), default=(None, 0.0))
    sources = sorted({source for row in rows.values() for source in ((row["sent"] or {}).get("by_source") or {})})
    return {"reference": reference, "rows": rows, "sources": sources}


def _moves(row: dict, reference: dict) -> dict[str, float]:
    """Figure by figure, ``row``'s mean minus ``reference``'s, in percentage points."""
    pairs = [(name, row["metrics"].get(name), reference["metrics"].get(name)) for name in COMPARED]
    pairs += [
        (f"{figure}_{size}", row["cases"].get(size, {}).get(figure), reference["cases"].get(size, {}).get(figure))
        for size in reference["cases"]
        for figure in CASE_COMPARED
    ]
    return {
        name: round(100 * (mine["mean"] - theirs["mean"]), 1)
        for name, mine, theirs in pairs
        if mine and theirs and mine.get("mean") is not None and theirs.get("mean") is not None
    }


def case_report(repeats, photos, rule: DecisionRule) -> dict:
    """Cases of several photos (``training.field.cases``), the rule's case thresholds among them."""
    from training.field.cases import case_report as cases

    return cases(repeats, photos, rule)


def learning_curve(folder: Path, photos, results) -> dict | None:
    """How many labelled field photos per class the recipe still needs (``training.field.learning``)."""
    from training.field.learning import learning_curve as curve

    return curve(folder, photos, results, CHOSEN)


def _photo_counts(photos: dict[str, dict]) -> dict:
    counts = defaultdict(int)
    for photo in photos.values():
        subset = f"/{photo['subset']}" if photo["subset"] else ""
        counts[f"{photo['domain']}/{photo['source']}/{photo['label']}{subset}"] += 1
    return dict(sorted(counts.items()))


def _targets(metrics: dict) -> dict:
    result = {}
    for name, (sense, target) in TARGETS.items():
        if name not in metrics:
            continue
        value = metrics[name]["mean"]
        met = value >= target if sense == ">=" else value <= target
        result[name] = {"target": f"{sense} {target}", "measured": value, "met": met, "gap": round(value - target, 4)}
    return result


def shortfall(metrics: dict) -> float:
    """Points (of 100) by which an arm misses the targets, summed over the targets it misses."""
    gaps = _targets(metrics).values()
    return round(sum(abs(gap["gap"]) for gap in gaps if not gap["met"]) * 100, 1)


def closest_to_targets(arms: dict[str, dict]) -> str | None:
    """How the shipped recipe is chosen: among arms measured on every target, over at least two
    repeats (one repeat's figures swing by a few points), whose confidently wrong share meets its
    target (the worst failure is never traded for recall), the one that misses the other targets by
    the fewest points."""
    limit = TARGETS["confidently_wrong"][1]
    safe = {
        name: arm["shortfall"]
        for name, arm in arms.items()
        if set(TARGETS) <= set(arm["metrics"])
        and arm.get("repeats", MIN_REPEATS) >= MIN_REPEATS
        and arm["metrics"]["confidently_wrong"]["mean"] <= limit
    }
    return min(safe, key=safe.get) if safe else None


# -- writing -------------------------------------------------------------------------------------

TABLE_COLUMNS = [
    ("recall_early_blight", "EB recall"),
    ("recall_late_blight", "LB recall"),
    ("recall_healthy", "healthy recall"),
    ("recall_bacterial_wilt", "wilt recall"),
    ("potato_rejected", "potato rejected"),
    ("other_crops_rejected", "other crops rejected"),
    ("tomato_rejected", "tomato rejected"),
    ("lab_accuracy", "lab accuracy"),
    ("unsure", "unsure"),
    ("confidently_wrong", "confidently wrong"),
]


RULE_FIGURES = (
    "answered_correctly",
    "precision_of_answers",
    "unsure",
    "confidently_wrong",
    "other_crops_given_a_disease",
    "tomato_given_late_blight",
    "expected_calibration_error",
    "lab_potato_unsure",
)


def render_markdown(report: dict) -> str:
    """``templates/reports/field.md`` filled with the report's numbers."""
    from django.template.loader import render_to_string

    from training.field import cases

    context = {
        "report": report,
        "columns": TABLE_COLUMNS,
        "rule_figures": RULE_FIGURES,
        "min_answered": MIN_ANSWERED,
        "shipped_rule": DecisionRule.from_dict(report["shipped_rule"]) if "shipped_rule" in report else None,
        "max_case_photos": MAX_CASE_PHOTOS,
        "min_label_answers": cases.MIN_LABEL_ANSWERS,
        "min_pair_answers": cases.MIN_PAIR_ANSWERS,
        "compared": COMPARED,
        "case_sizes": [str(size) for size in cases.CASE_SIZES],
        "small_copy": {"side": SMALL_COPY.side, "short_side": SMALL_COPY.side * 3 // 4},
        "zoom_side": round(DEFAULT_IMAGE_SIZE / ZOOM),
        "case_thresholds": "\n".join(cases.threshold_table(report["shipped_rule"]))
        if report.get("shipped_rule", {}).get("answer_at")
        else "",
    }
    return render_to_string("reports/field.md", context)


def write_figures(report: dict, folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if "curves" not in report:
        return written
    figure, axis = plt.subplots(figsize=(5, 5))
    axis.plot([0, 1], [0, 1], color="#999999", linestyle="--", label="perfect")
    for name, colour in (("raw", "#D55E00"), ("calibrated", "#0072B2")):
        bins = report["curves"]["reliability"][name]
        axis.plot(
            [row["confidence"] for row in bins["bins"]],
            [row["accuracy"] for row in bins["bins"]],
            marker="o",
            color=colour,
            label=f"{name} (ECE {bins['ece']:.3f})",
        )
    axis.set(xlabel="confidence (top class)", ylabel="accuracy", title="Reliability on field photos", xlim=(0, 1))
    axis.legend()
    written.append(_save(figure, folder / "reliability.png"))
    figure, axis = plt.subplots(figsize=(6, 4))
    points = [row for row in report["curves"]["coverage"] if row["accuracy"] is not None]
    axis.plot([row["coverage"] for row in points], [row["accuracy"] for row in points], marker=".", color="#0072B2")
    rule = DecisionRule.from_dict(report["shipped_rule"])
    axis.axhline(0.95, color="#999999", linestyle="--", label="95% right")
    if rule.never_answers(photos=1):  # the shipped rule is at no coverage, not on the curve
        axis.axvline(0.0, color="#D55E00", label="shipped rule: answers no single photo")
    else:
        chosen = min(points, key=lambda row: abs(row["threshold"] - rule.unsure_below), default=None)
        if chosen:
            axis.scatter(
                [chosen["coverage"]], [chosen["accuracy"]], color="#D55E00", zorder=3, label="shipped threshold"
            )
    axis.set(
        xlabel="share of field potato photos given an answer",
        ylabel="answers right",
        title="Accuracy against coverage as the unsure threshold moves\n"
        "(one rule fitted on all out-of-fold predictions)",
    )
    axis.legend()
    written.append(_save(figure, folder / "coverage.png"))
    if "learning_curve" in report:
        written.append(_learning_curve_figure(report["learning_curve"], folder))
    return written


def _learning_curve_figure(curve: dict, folder: Path) -> Path:
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    colours = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
    for colour, (label, entry) in zip(colours, curve["classes"].items(), strict=False):
        mine = [point for point in curve["points"] if point["label"] == label]
        axis.scatter([p["photos"] for p in mine], [p["recall"] for p in mine], color=colour, s=12, alpha=0.6)
        if entry["b"] is not None:
            top = max(entry["needed"] or 0, max(p["photos"] for p in mine)) * 1.1
            xs = np.geomspace(min(p["photos"] for p in mine), min(top, 5000), 50)
            axis.plot(xs, entry["a"] + entry["b"] * np.log(xs), color=colour, label=label.replace("_", " "))
    axis.axhline(curve["target_recall"], color="#999999", linestyle="--", label="85% recall")
    axis.set(
        xscale="log",
        xlabel="field photos of the class trained on (log scale)",
        ylabel="top-1 recall, held-out field photos",
        title="Learning curve: 25, 50, 75 and 100% of the field photos",
        ylim=(0, 1.02),
    )
    axis.legend(fontsize=8)
    return _save(figure, folder / "learning_curve.png")


def _save(figure, path: Path) -> Path:
    import matplotlib.pyplot as plt

    figure.tight_layout()
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
    return path


def write_report(folder: Path) -> dict:
    folder = Path(folder)
    report = build_report(folder)
    (folder / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    (folder / "report.md").write_text(render_markdown(report))
    write_figures(report, folder)
    return report
