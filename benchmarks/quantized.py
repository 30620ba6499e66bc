"""Quantized forms of the shipped model: LiteRT invoke time per photo (its three test-time views), file size.

Run with `.venv/bin/python benchmarks/quantized.py`. From the shipped model's Keras form
(``classifier/default_model/model.keras``) it writes float32, dynamic-range int8 and full-integer int8
TFLite files (``training.export``) into var/bench-quantized/, beside the shipped ``model.tflite``
(float16 weights, float32 compute). Then, in one process and in alternating rounds, it times each with
the worker's runtime settings (LiteRT, ``INFERENCE_THREADS`` threads) on one photo's three views
(``classifier.preprocessing.TEST_TIME_VIEWS``, read as the worker reads them): three invokes of one
image, and one invoke of a batch of three (``resize_tensor_input``). Its field figures are measured
apart, on the field cross-validation (``cross_validate_field --quantized``; docs/field/report.md).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "var" / "bench-quantized"
sys.path.insert(0, str(REPO))
CALIBRATION_PHOTOS = 200


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def calibration_photos(image_size: int, count: int):
    """Model inputs of ``count`` training photos (lab and field, chosen by a hash of the name) for int8."""
    from django.conf import settings

    from classifier.preprocessing import load_model_input
    from training.datasets import hash_fraction

    root = Path(settings.DATA_ROOT)
    paths = sorted(path for path in root.rglob("*") if path.suffix.lower() in (".jpg", ".jpeg", ".png"))
    paths.sort(key=lambda path: hash_fraction(path.name, "calibration"))
    return [load_model_input(str(path), image_size) for path in paths[:count]]


QUANTIZED_FORMS = ("float32", "dynamic", "int8")


def convert(model_dir: Path, calibration: int, forms: tuple[str, ...] = QUANTIZED_FORMS) -> dict[str, Path]:
    """{form: TFLite file}: the shipped file, and the other forms converted from its Keras file."""
    from classifier.registry.artifacts import KERAS_FILENAME, MODEL_FILENAME, ModelManifest, read_keras_model
    from training.export import export_tflite

    model = read_keras_model(model_dir / KERAS_FILENAME)
    size = ModelManifest.read(model_dir).image_size
    files = {"float16 (shipped)": model_dir / MODEL_FILENAME}
    for form in forms:
        started = time.perf_counter()
        representative = calibration_photos(size, calibration) if form == "int8" else ()
        files[form] = export_tflite(model, OUT_DIR / f"model-{form}.tflite", form, representative)
        print(f"  {form}: converted in {time.perf_counter() - started:.1f} s")
    return files


class Timed:
    """One TFLite file in two interpreters: one image per invoke, and a batch of ``views`` per invoke."""

    def __init__(self, path: Path, views: int, threads: int):
        from ai_edge_litert.interpreter import Interpreter

        self.single = Interpreter(model_path=str(path), num_threads=threads)
        self.single.allocate_tensors()
        self.batch = Interpreter(model_path=str(path), num_threads=threads)
        index = self.batch.get_input_details()[0]["index"]
        size = int(self.single.get_input_details()[0]["shape"][1])
        self.batch.resize_tensor_input(index, [views, size, size, 3])
        self.batch.allocate_tensors()

    @staticmethod
    def _run(interpreter, images):
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], images)
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()

    def one_by_one(self, views):
        import numpy as np

        return np.concatenate([self._run(self.single, view[np.newaxis]) for view in views])

    def batched(self, views):
        return self._run(self.batch, views)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100, help="timed rounds (each form, both ways, per round)")
    parser.add_argument("--calibration", type=int, default=CALIBRATION_PHOTOS, help="photos calibrating int8")
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped one)")
    parser.add_argument("--forms", nargs="+", default=list(QUANTIZED_FORMS), choices=QUANTIZED_FORMS)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings.production")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # nothing is signed: a throwaway key
    import django

    django.setup()
    import numpy as np
    from django.conf import settings

    from classifier.preprocessing import TEST_TIME_VIEWS, load_model_input_views

    model_dir = args.model or Path(settings.DEFAULT_MODEL_DIR)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    print(f"model: {model_dir}; converting (TensorFlow {__import__('tensorflow').__version__})")
    files = convert(model_dir, args.calibration, tuple(args.forms))

    photo = sorted((Path(settings.DATA_ROOT) / "field-potato-magelang" / "late_blight").iterdir())[0]
    size = int(__import__("json").loads((model_dir / "labels.json").read_text())["image_size"])
    views = load_model_input_views(str(photo), size, TEST_TIME_VIEWS).astype(np.float32)
    threads = settings.INFERENCE_THREADS
    timed = {form: Timed(path, len(views), threads) for form, path in files.items()}
    reference = timed["float16 (shipped)"].one_by_one(views)
    for runner in timed.values():  # warm up, and check both ways give the same answer
        assert np.allclose(runner.one_by_one(views), runner.batched(views), atol=1e-4)
    times = {(form, way): [] for form in timed for way in ("3 x 1", "1 x 3")}
    for _ in range(args.repeats):
        for form, runner in timed.items():
            for way, call in (("3 x 1", runner.one_by_one), ("1 x 3", runner.batched)):
                started = time.perf_counter()
                call(views)
                times[(form, way)].append((time.perf_counter() - started) * 1000)

    base = statistics.median(times[("float16 (shipped)", "3 x 1")])
    print(
        f"\nLiteRT invoke per photo ({len(views)} views: {', '.join(TEST_TIME_VIEWS)}; {size} px; "
        f"{threads} thread(s)); {args.repeats} alternating rounds; {photo.name}"
    )
    header = ("form", "file MB", "way", "p50 ms", "p95 ms", "vs shipped", "max |dp|")
    widths = (20, 9, 7, 9, 9, 11, 10)
    print("".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    for form, runner in timed.items():
        difference = float(np.abs(runner.one_by_one(views) - reference).max())
        for way in ("3 x 1", "1 x 3"):
            values = times[(form, way)]
            median = statistics.median(values)
            cells = (form, f"{files[form].stat().st_size / 1e6:.2f}", way, f"{median:.2f}")
            cells += (f"{percentile(values, 95):.2f}", f"{base / median:.2f}x", f"{difference:.4f}")
            print("".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True)))
    print(
        "\nvs shipped: the shipped file's 3 x 1 median over this row's (above 1: faster). max |dp|: largest "
        "difference in any class probability from the shipped file's, this photo's views."
    )


if __name__ == "__main__":
    main()
