"""Inference benchmark: predict path vs raw decode + invoke, worker memory and cold start,
upload-to-diagnosis latency through gunicorn, Redis and a live Celery worker.

Run with `make bench` (or `.venv/bin/python benchmarks/inference.py`). It works in its own
folder (var/bench/): its own SQLite database, media and, when no Redis answers on
127.0.0.1:6379, an embedded one. Every ratio is measured in this one run.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "var" / "bench"
sys.path.insert(0, str(REPO))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(values_ms: list[float]) -> tuple[float, float]:
    return statistics.median(values_ms), percentile(values_ms, 95)


def prepare_environment(service) -> dict[str, str]:
    """Environment for this process and the service's: bench database, media and Redis."""
    from webapp.embedded_redis import redis_answers

    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        redis_url = "redis://127.0.0.1:6379/14"
        if not redis_answers(redis_url):
            redis_url = service.start_redis(BENCH_DIR / "redis.db")
    env = {
        "VAR_DIR": str(BENCH_DIR),
        "SECRET_KEY": secrets.token_urlsafe(50),  # a throwaway folder gets a throwaway key
        "DATABASE_URL": f"sqlite:///{BENCH_DIR / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(BENCH_DIR / "media"),
        "REDIS_URL": redis_url,
        "UPLOAD_RATE_LIMIT": "",  # one client uploads every photo: latency, not the limiter
        "DJANGO_SETTINGS_MODULE": "webapp.settings.production",
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    service.env.update(env)
    return service.env


def make_photos(work: Path) -> dict[str, Path]:
    """A real 256x256 PlantVillage photo and a 12-megapixel JPEG made from it (4000x3000)."""
    from django.conf import settings
    from PIL import Image

    source = sorted((Path(settings.DATA_ROOT) / "plantvillage-potato" / "late_blight").iterdir())[0]
    big = work / "leaf_12mp.jpg"
    with Image.open(source) as image:
        image.convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC).save(big, quality=92)
    small = work / "leaf_256.jpg"
    shutil.copy(source, small)
    return {"256x256": small, "12 MP": big}


def bench_predict_path(photos: dict[str, Path], repeats: int) -> list[dict]:
    import numpy as np
    from django.conf import settings
    from PIL import Image

    from classifier.inference import Predictor

    predictor = Predictor.from_directory(settings.DEFAULT_MODEL_DIR)
    size = predictor.manifest.image_size
    model_input = np.zeros((1, size, size, 3), dtype=np.float32)
    rows = []
    for name, path in photos.items():
        predictor.predict(str(path))  # warm up
        predict_ms, raw_ms, decode_ms, invoke_ms = [], [], [], []
        for _ in range(repeats):
            started = time.perf_counter()
            predictor.predict(str(path))
            predict_ms.append((time.perf_counter() - started) * 1000)

            started = time.perf_counter()
            with Image.open(path) as image:
                image.convert("RGB").load()
            decoded = time.perf_counter()
            predictor.runtime.predict(model_input)
            finished = time.perf_counter()
            raw_ms.append((finished - started) * 1000)
            decode_ms.append((decoded - started) * 1000)
            invoke_ms.append((finished - decoded) * 1000)
        rows.append(
            {
                "photo": name,
                "predict": summary(predict_ms),
                "raw": summary(raw_ms),
                "decode": summary(decode_ms),
                "invoke": summary(invoke_ms),
                "ratio": statistics.median(predict_ms) / statistics.median(raw_ms),
            }
        )
    return rows


def bench_worker(service, photo: Path) -> dict:
    """Start a real Celery inference worker: time to answer a ping, then memory after one task."""
    import psutil

    from classifier.submissions import services as submission_services
    from classifier.validators import validate_photo

    started = time.perf_counter()
    worker = service.start_worker("worker", 1, wait=None)
    service.wait_for_worker("worker", timeout=60, ping_timeout=0.1)  # a finer reading of the start-up time
    ready_s = time.perf_counter() - started

    submission = submission_services.create_submission(validate_photo(_upload(photo)))
    first_started = time.perf_counter()
    wait_done(submission.id)
    first_task_s = time.perf_counter() - first_started
    parent = psutil.Process(worker.pid)
    children = parent.children(recursive=True)
    return {
        "ready_s": ready_s,
        "first_task_s": first_task_s,
        "parent_rss_mib": parent.memory_info().rss / 2**20,
        "child_rss_mib": max((c.memory_info().rss for c in children), default=0) / 2**20,
    }


def bench_bare_process() -> dict:
    """A bare Python process that loads the model and predicts once: LiteRT vs TensorFlow import."""
    # Peak memory is read from /proc/self/status (VmHWM): ru_maxrss would count the parent's
    # memory copied at fork time.
    peak = "int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])/1024"
    code = (
        "import time; t=time.perf_counter();"
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','webapp.settings.production');"
        "django.setup();"
        "from django.conf import settings; from classifier.inference import Predictor;"
        "p=Predictor.from_directory(settings.DEFAULT_MODEL_DIR); import numpy as np;"
        "s=p.manifest.image_size; p.runtime.predict(np.zeros((1,s,s,3),'float32'));"
        f"print(time.perf_counter()-t, {peak}, 'tensorflow' in __import__('sys').modules)"
    )
    tf_code = f"import time; t=time.perf_counter(); import tensorflow; print(time.perf_counter()-t, {peak})"
    lite = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    seconds, peak_mib, imported_tf = lite.stdout.split()
    heavy = subprocess.run([sys.executable, "-c", tf_code], cwd=REPO, capture_output=True, text=True, check=True)
    tf_seconds, tf_peak = heavy.stdout.split()
    return {
        "lite_s": float(seconds),
        "lite_peak_mib": float(peak_mib),
        "imported_tf": imported_tf == "True",
        "tf_s": float(tf_seconds),
        "tf_peak_mib": float(tf_peak),
    }


def _upload(path: Path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")


def wait_done(submission_id, timeout: float = 60) -> float:
    from classifier.models import Submission

    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if Submission.objects.filter(pk=submission_id).exclude(status="pending").exists():
            return time.perf_counter()
        time.sleep(0.002)
    raise TimeoutError(f"submission {submission_id} still pending")


def post_photo(url: str, path: Path) -> str:
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="leaf.jpg"\r\n'.encode())
    body.write(b"Content-Type: image/jpeg\r\n\r\n" + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode())
    request = urllib.request.Request(  # noqa: S310 - loopback
        url + "/api/v1/submissions",
        data=body.getvalue(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        import json

        return json.loads(response.read())["id"]


def bench_upload_to_diagnosis(url: str, photos: dict[str, Path], repeats: int) -> list[dict]:
    rows = []
    for name, path in photos.items():
        post_photo(url, path)  # warm up
        total_ms, accept_ms = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            submission_id = post_photo(url, path)
            accepted = time.perf_counter()
            done = wait_done(submission_id)
            total_ms.append((done - started) * 1000)
            accept_ms.append((accepted - started) * 1000)
        rows.append({"photo": name, "total": summary(total_ms), "accept": summary(accept_ms)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument(
        "--against", type=Path, default=None, help="another model folder: its invoke time beside the shipped model's"
    )
    args = parser.parse_args()

    from webapp.processes import ServiceProcesses

    shutil.rmtree(BENCH_DIR, ignore_errors=True)
    BENCH_DIR.mkdir(parents=True)
    service = ServiceProcesses(log_dir=BENCH_DIR)
    try:
        env = prepare_environment(service)
        run(args, env, service)
    finally:
        service.stop()


def run(args, env: dict[str, str], service) -> None:
    service.prepare_site()
    import django

    django.setup()
    work = Path(tempfile.mkdtemp(prefix="bench-photos-"))
    photos = make_photos(work)
    print(f"photos: {', '.join(f'{k} {v.stat().st_size / 1e6:.2f} MB' for k, v in photos.items())}")

    predict_rows = bench_predict_path(photos, args.repeats)
    if args.against:
        print_against(bench_against(args.against, args.repeats))
    bare = bench_bare_process()
    worker = bench_worker(service, photos["256x256"])
    service.start_web(workers=1, threads=2)
    try:
        upload_rows = bench_upload_to_diagnosis(service.url, photos, args.uploads)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print_report(args, predict_rows, bare, worker, upload_rows)


def bench_against(other: Path, repeats: int) -> dict[str, tuple[int, float]]:
    """Median invoke time of the shipped model and of ``other``, in alternating rounds of one process."""
    import numpy as np
    from django.conf import settings

    from classifier.inference import Predictor

    predictors = {
        "shipped": Predictor.from_directory(settings.DEFAULT_MODEL_DIR),
        str(other): Predictor.from_directory(other),
    }
    inputs = {}
    for name, predictor in predictors.items():
        size = predictor.manifest.image_size
        inputs[name] = np.random.default_rng(0).uniform(0, 255, (1, size, size, 3)).astype(np.float32)
        predictor.runtime.predict(inputs[name])  # warm up
    times: dict[str, list[float]] = {name: [] for name in predictors}
    for _ in range(repeats):
        for name, predictor in predictors.items():
            started = time.perf_counter()
            predictor.runtime.predict(inputs[name])
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: (predictors[name].manifest.image_size, statistics.median(times[name])) for name in predictors}


def print_against(rows: dict[str, tuple[int, float]]) -> None:
    (shipped_size, shipped_ms), (other_name, (other_size, other_ms)) = rows["shipped"], list(rows.items())[1]
    print(f"\nInvoke p50: shipped model ({shipped_size} px) {shipped_ms:.2f} ms, {other_name} ({other_size} px) "
          f"{other_ms:.2f} ms; shipped / other {shipped_ms / other_ms:.2f}x")  # fmt: skip


def print_report(args, predict_rows: list[dict], bare: dict, worker: dict, upload_rows: list[dict]) -> None:
    print("\nPredict path (the worker's Predictor.predict) vs raw (plain Pillow decode + runtime invoke)")
    print(f"{args.repeats} runs each, ms")
    header = ("photo", "predict p50", "p95", "raw p50", "p95", "decode p50", "invoke p50", "predict/raw")
    print("".join(f"{h:>12}" for h in header))
    for row in predict_rows:
        cells = [row["photo"], *row["predict"], *row["raw"], row["decode"][0], row["invoke"][0], row["ratio"]]
        print("".join(f"{c:>12.2f}" if isinstance(c, float) else f"{c:>12}" for c in cells))

    lite = heavy = bare
    print("\nProcesses")
    print(
        f"  LiteRT process, start to first prediction: {lite['lite_s']:.2f} s, peak RSS {lite['lite_peak_mib']:.0f} MiB"
    )
    print(f"    (TensorFlow imported: {lite['imported_tf']})")
    print(f"  `import tensorflow` alone: {heavy['tf_s']:.2f} s, peak RSS {heavy['tf_peak_mib']:.0f} MiB")
    print(f"    ratio TensorFlow / LiteRT: {heavy['tf_s'] / lite['lite_s']:.1f}x time, "
          f"{heavy['tf_peak_mib'] / lite['lite_peak_mib']:.1f}x memory")  # fmt: skip
    print(f"  Celery inference worker: ready {worker['ready_s']:.2f} s after start;")
    print(f"    first task {worker['first_task_s'] * 1000:.0f} ms, model load included")
    print(f"    RSS after its first task: main {worker['parent_rss_mib']:.0f} MiB, "
          f"pool child {worker['child_rss_mib']:.0f} MiB")  # fmt: skip

    print(f"\nUpload to diagnosis through gunicorn + Redis + worker, {args.uploads} uploads each, ms")
    header = ("photo", "accepted p50", "diagnosed p50", "p95", "- predict p50")
    print("".join(f"{h:>14}" for h in header))
    predict_p50 = {row["photo"]: row["predict"][0] for row in predict_rows}
    for row in upload_rows:
        cells = [row["photo"], row["accept"][0], *row["total"], row["total"][0] - predict_p50[row["photo"]]]
        print("".join(f"{c:>14.1f}" if isinstance(c, float) else f"{c:>14}" for c in cells))


if __name__ == "__main__":
    main()
