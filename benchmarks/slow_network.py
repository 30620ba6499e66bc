"""The farmer's view on a slow mobile link: Chromium throttled to "Slow 3G" through the DevTools
protocol (Network.emulateNetworkConditions), against the production stack.

Prints:
- bytes transferred on the first load of the upload page (everything: page, CSS, scripts, icon,
  service worker and what it caches for offline use), counted on the wire by a proxy, and on a
  second visit;
- the time from tapping "Check my leaf" with a phone-sized photo (4032x3024, a few MB) to the
  answer on screen, and the bytes sent before it (the small copy) and after it (the larger copy,
  in the background);
- a case of three leaves: the first as above, then "Add another leaf" on the answer, twice; the time
  from each leaf's tap to its case's updated answer on screen (until the case is answered: the
  button is offered only while the answer is "not sure").

It starts what it needs in a temporary folder: the database (migrated, shipped model registered),
static files collected (hashed and gzip-compressed, as in production), gunicorn, one Celery
inference worker, and Redis (REDIS_URL when set, else an embedded one). It needs Debian's chromium
(`make browser`) and the shared data (DATA_ROOT) for a real leaf photo.

    .venv/bin/python benchmarks/slow_network.py [--runs 3] [--json]

Figures before issue 26 (one request for the 800 px photo, then a second for the result page),
measured with the same script on its commit: 5.97 s tap to answer, 83 KB sent.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.netmeter import ByteCounter  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from webapp.processes import ServiceProcesses  # noqa: E402

# Chrome DevTools' "Slow 3G" preset (as Puppeteer's PredefinedNetworkConditions defines it):
# 400 ms x 5 round-trip latency, 500 kbit/s x 0.8 each way.
SLOW_3G = {
    "offline": False,
    "latency": 2000,
    "downloadThroughput": 500 * 1000 / 8 * 0.8,
    "uploadThroughput": 500 * 1000 / 8 * 0.8,
}
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True}
BUDGET_BYTES = 50 * 1024


def start_stack(workdir: Path) -> ServiceProcesses:
    """Migrated database, collected static files, gunicorn and an inference worker, in ``workdir``."""
    service = ServiceProcesses(log_dir=workdir)
    service.env.update(
        DJANGO_SETTINGS_MODULE="webapp.settings.production",
        DEBUG="0",
        VAR_DIR=str(workdir),
        SECRET_KEY=secrets.token_urlsafe(50),  # a throwaway folder gets a throwaway key
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        MEDIA_ROOT=str(workdir / "media"),
        STATIC_ROOT=str(workdir / "static"),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    try:
        if not service.env.get("REDIS_URL"):
            service.start_redis()
        service.prepare_site(collectstatic=True)
        service.start_web(workers=2, threads=4, loglevel="warning")
        service.start_worker("worker", 1, loglevel="warning")
    except BaseException:
        service.stop()
        raise
    return service


def phone_photo(workdir: Path, source: Path | None = None, name: str = "IMG_20260301_101500.jpg") -> Path:
    """A leaf photo the size a phone camera takes (4032x3024), from the held-out PlantVillage set."""
    from PIL import Image

    from tests.images import heldout_photos

    source = source or heldout_photos("late_blight", 1)[0]
    leaf = Image.open(source).convert("RGB").resize((4032, 3024), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((4032, 3024), 40).convert("RGB")  # sensor noise: camera-sized files
    path = workdir / name
    Image.blend(leaf, grain, 0.12).save(path, format="JPEG", quality=92)
    return path


def throttled_page(context):
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    return page


def first_load(browser, meter: ByteCounter) -> dict:
    context = browser.new_context(**PHONE)
    page = throttled_page(context)
    meter.reset()
    started = time.perf_counter()
    page.goto(meter.url + "/", wait_until="load")
    loaded = time.perf_counter() - started
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("!!navigator.serviceWorker.controller", timeout=60_000)
    page.wait_for_timeout(1000)
    first = meter.down
    meter.reset()
    page.goto(meter.url + "/", wait_until="load")
    page.wait_for_timeout(1000)
    second = meter.down
    context.close()
    return {"first_load_bytes": first, "first_load_seconds": round(loaded, 2), "second_load_bytes": second}


def submit_to_diagnosis(browser, meter: ByteCounter, photo: Path, throttle: bool, after: bool = True) -> dict:
    """One farmer, first visit, service worker blocked so that every request is throttled (the
    worker only makes later visits cheaper)."""
    context = browser.new_context(service_workers="block", **PHONE)
    page = throttled_page(context) if throttle else context.new_page()
    page.goto(meter.url + "/", wait_until="load")
    page.set_input_files("#id_image", str(photo))
    page.select_option("#id_district", "kabale")
    meter.reset()
    started = time.perf_counter()
    page.click("#submit-button")
    page.locator("#diagnosis").wait_for(timeout=180_000)
    elapsed = time.perf_counter() - started
    up_before_answer = meter.up
    result = {
        "seconds": round(elapsed, 2),
        "bytes_up": up_before_answer,
        "bytes_down": meter.down,
        "diagnosis": page.locator("#diagnosis").inner_text(),
        "pages_loaded": page.evaluate("() => performance.getEntriesByType('navigation').length"),
    }
    result["bytes_up_after_answer"] = (larger_copies_sent(page, meter) if after else meter.up) - up_before_answer
    context.close()
    return result


def larger_copies_sent(page, meter: ByteCounter, quiet_seconds: float = 3.0, limit_seconds: float = 120) -> int:
    """Bytes sent once the page's background sends stop (nothing more for ``quiet_seconds``)."""
    last, quiet_since, deadline = meter.up, time.monotonic(), time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        if meter.up != last:
            last, quiet_since = meter.up, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_seconds:
            break
    return last


def case_of_three_leaves(browser, meter: ByteCounter, photos: list[Path]) -> dict:
    """The first leaf from the upload page, then "Add another leaf" on the answer for each other one;
    the seconds from each tap to the case's updated answer on screen."""
    context = browser.new_context(service_workers="block", **PHONE)
    page = throttled_page(context)
    page.goto(meter.url + "/", wait_until="load")
    page.set_input_files("#id_image", str(photos[0]))
    meter.reset()
    started = time.perf_counter()
    page.click("#submit-button")
    page.locator("#diagnosis").wait_for(timeout=180_000)
    leaves = [{"seconds": round(time.perf_counter() - started, 2), "answer": page.locator("#diagnosis").inner_text()}]
    for number, photo in enumerate(photos[1:], start=2):
        if not page.locator("#add-leaf-form").count():
            break  # answered: "Add another leaf" is offered only while the answer is "not sure"
        page.set_input_files("#add-leaf-input", str(photo))
        started = time.perf_counter()
        page.click("#add-leaf-button")
        page.wait_for_function(
            "n => { const c = document.getElementById('photo-count'); return c && c.textContent.includes(n); }",
            arg=str(number),
            timeout=180_000,
        )
        leaves.append(
            {"seconds": round(time.perf_counter() - started, 2), "answer": page.locator("#diagnosis").inner_text()}
        )
    context.close()
    return {"leaves": leaves}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="submit-to-diagnosis runs (median reported)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--quick", action="store_true", help="a case of two leaves, and no wait for the larger copies (the tests)"
    )
    args = parser.parse_args()

    chromium = CHROMIUM
    if not chromium:
        print("chromium is not installed: `make browser`", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings.production")
    import django

    django.setup()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="slow-network-") as tmp:
        workdir = Path(tmp)
        photo = phone_photo(workdir)
        from tests.images import heldout_photos

        leaves = [
            phone_photo(workdir, source, f"IMG_2026030{number}_1015.jpg")
            for number, source in enumerate(heldout_photos("late_blight", 2 if args.quick else 3), start=1)
        ]
        photo_bytes = photo.stat().st_size
        stack = start_stack(workdir)
        try:
            with ByteCounter("127.0.0.1", stack.web_port) as meter, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
                load = first_load(browser, meter)
                submit_to_diagnosis(browser, meter, photo, throttle=False, after=False)  # warm the worker's model
                fast = [
                    submit_to_diagnosis(browser, meter, photo, throttle=False, after=False) for _ in range(args.runs)
                ]
                slow = [
                    submit_to_diagnosis(browser, meter, photo, throttle=True, after=not args.quick)
                    for _ in range(args.runs)
                ]
                cases = [case_of_three_leaves(browser, meter, leaves) for _ in range(args.runs)]
                browser.close()
        finally:
            stack.stop()

    figures = {
        "network": "Slow 3G (2000 ms RTT, 400 kbit/s down and up), Chromium via CDP",
        **load,
        "budget_bytes": BUDGET_BYTES,
        "photo_original_bytes": photo_bytes,
        "photo_sent_bytes_median": int(statistics.median(run["bytes_up"] for run in slow)),
        "submit_to_diagnosis_seconds_slow3g": [run["seconds"] for run in slow],
        "submit_to_diagnosis_seconds_slow3g_median": round(statistics.median(run["seconds"] for run in slow), 2),
        "submit_to_diagnosis_seconds_unthrottled_median": round(statistics.median(run["seconds"] for run in fast), 2),
        "photo_larger_copy_bytes_median": int(statistics.median(run["bytes_up_after_answer"] for run in slow)),
        "pages_loaded": sorted({run["pages_loaded"] for run in slow}),
        "diagnoses": sorted({run["diagnosis"] for run in slow + fast}),
        "case_of_three_leaves_slow3g": cases,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"network: {figures['network']}")
        print(
            f"upload page, first load: {load['first_load_bytes'] / 1024:.1f} KB transferred "
            f"(budget {BUDGET_BYTES // 1024} KB), load event after {load['first_load_seconds']} s"
        )
        print(f"upload page, second visit: {load['second_load_bytes'] / 1024:.1f} KB transferred")
        print(
            f"photo: {figures['photo_original_bytes'] / 1e6:.1f} MB taken, "
            f"{figures['photo_sent_bytes_median'] / 1024:.0f} KB sent (request bytes, median)"
        )
        slow_median = figures["submit_to_diagnosis_seconds_slow3g_median"]
        fast_median = figures["submit_to_diagnosis_seconds_unthrottled_median"]
        print(
            f"tap submit -> diagnosis on screen, slow 3G: median {slow_median} s (runs: {[r['seconds'] for r in slow]})"
        )
        print(f"tap submit -> diagnosis on screen, unthrottled: median {fast_median} s")
        print(
            f"after the answer, in the background: {figures['photo_larger_copy_bytes_median'] / 1024:.0f} KB "
            f"(the larger copy, median); page loads per answer: {figures['pages_loaded']}"
        )
        print(f"diagnoses: {', '.join(figures['diagnoses'])}")
        print("a case of three leaves, slow 3G (tap -> the case's answer on screen, per leaf):")
        for run, case in enumerate(cases, start=1):
            leaves = enumerate(case["leaves"], start=1)
            steps = "; ".join(f"leaf {i}: {leaf['seconds']} s ({leaf['answer']})" for i, leaf in leaves)
            print(f"  run {run}: {steps}")
    return 0 if load["first_load_bytes"] <= BUDGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
