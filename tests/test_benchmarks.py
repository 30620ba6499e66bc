"""The benchmark scripts still run end to end (tiny counts; their timings are not asserted)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

from tests.browser import CHROMIUM
from tests.conftest import REPO

# Each benchmark starts its own stack (gunicorn, Redis, a worker) on its own SQLite database.
pytestmark = pytest.mark.processes


def benchmark_environment() -> dict[str, str]:
    """The environment `make bench` gives: none of the test run's settings, key or services."""
    leaked = {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "SECRET_KEY_FILE", "DATABASE_URL", "REDIS_URL"}
    leaked |= {"DJANGO_ALLOW_ASYNC_UNSAFE", "VAR_DIR", "MEDIA_ROOT"}
    return {name: value for name, value in os.environ.items() if name not in leaked}


def run_benchmark(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=benchmark_environment(), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_inference_benchmark_prints_its_ratios():
    output = run_benchmark(
        "benchmarks/inference.py", "--repeats", "2", "--uploads", "4", "--against", str(settings.DEFAULT_MODEL_DIR)
    )
    assert "predict/raw" in output
    assert re.search(r"shipped model \((\d+) px\).*\(\1 px\).*shipped / other \d+\.\d+x", output)
    assert "ratio TensorFlow / LiteRT" in output
    assert "(TensorFlow imported: False)" in output
    assert "Upload to diagnosis through gunicorn + Redis + worker" in output


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM, reason="chromium is not installed (`make browser`)")
def test_slow_network_benchmark_reaches_a_diagnosis():
    figures = json.loads(run_benchmark("benchmarks/slow_network.py", "--runs", "1", "--quick", "--json"))
    assert figures["first_load_bytes"] > 0
    assert len(figures["submit_to_diagnosis_seconds_slow3g"]) == 1
    assert figures["diagnoses"] and all(diagnosis.strip() for diagnosis in figures["diagnoses"])
    assert figures["pages_loaded"] == [1]  # the answer came in place, from the upload's own response
    assert figures["photo_sent_bytes_median"] < 60_000  # the small copy first
    leaves = figures["case_of_three_leaves_slow3g"][0]["leaves"]
    assert 1 <= len(leaves) <= 2 and all(leaf["seconds"] > 0 and leaf["answer"] for leaf in leaves)


@pytest.mark.tensorflow
def test_quantized_benchmark_times_every_form_both_ways():
    # Two forms here (each conversion costs seconds); `benchmarks/quantized.py` alone times all four.
    output = run_benchmark("benchmarks/quantized.py", "--repeats", "2", "--calibration", "4", "--forms", "int8")
    for form in ("float16 (shipped)", "int8"):
        assert len(re.findall(rf"^\s*{re.escape(form)}\s+\d+\.\d+\s+(3 x 1|1 x 3)\s", output, re.MULTILINE)) == 2, form
