"""The farmer API and its OpenAPI document (webapp/farmer/openapi.yaml): served, valid, enforced on every
response the suite gets (tests/conftest.py), and fuzzed with schemathesis: requests the document allows and
requests it does not, never a server error, every answer as documented."""

from __future__ import annotations

import re
import uuid

import hypothesis
import pytest
import requests
import responses
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from tests.api_schema import SchemaMismatch, openapi
from tests.images import jpeg_bytes
from webapp.farmer.openapi import openapi_document

pytestmark = pytest.mark.django_db


def photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("leaf.jpg", jpeg_bytes(), content_type="image/jpeg")


# -- the document ----------------------------------------------------------------------------------


def test_the_document_is_served_as_json_and_is_valid_openapi(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json() == openapi_document()
    assert openapi().spec["openapi"] == "3.1.0"  # openapi-core validated it as OpenAPI 3.1 on load


def test_the_document_covers_every_api_route():
    from django.urls import get_resolver

    routes = {
        "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        for pattern in get_resolver().url_patterns[0].url_patterns
        if str(pattern.pattern).startswith("api/")
    }
    assert routes == set(openapi_document()["paths"])


# -- the check on every response (tests/conftest.py) catches a wrong one ----------------------------


def test_a_body_that_breaks_the_schema_fails_the_call(client, monkeypatch):
    case = client.post("/api/v1/submissions", {"image": photo()}).json()
    from webapp.farmer import api

    real = api.submission_dict
    wrong = {
        "an unknown status": lambda s: {**real(s), "status": "queued"},
        "a missing field": lambda s: {key: value for key, value in real(s).items() if key != "review"},
        "an extra field": lambda s: {**real(s), "phone": "+256772123456"},
        "an answer while pending": lambda s: {**real(s), "answer": {"kind": "diagnosis", "labels": [], "title": "x"}},
        "a date that is no date": lambda s: {**real(s), "created_at": "yesterday"},
    }
    for name, body in wrong.items():
        monkeypatch.setattr(api, "submission_dict", body)
        with pytest.raises(SchemaMismatch):
            client.get(f"/api/v1/submissions/{case['id']}")
            pytest.fail(f"{name} was not caught")
    monkeypatch.setattr(api, "submission_dict", real)
    assert client.get(f"/api/v1/submissions/{case['id']}").status_code == 200


def test_an_undocumented_status_or_error_body_fails_the_call(client, monkeypatch):
    from django.http import HttpResponse, JsonResponse

    from webapp.farmer import api

    monkeypatch.setattr(api, "not_found", lambda: JsonResponse({"detail": "not found"}, status=404))
    with pytest.raises(SchemaMismatch, match="404"):
        client.get(f"/api/v1/submissions/{uuid.uuid4()}")
    with pytest.raises(SchemaMismatch, match="JSON 404"):  # a path the schema lacks
        client.get("/api/v1/nowhere")
    monkeypatch.setattr(api, "not_found", lambda: HttpResponse("gone", status=410))
    with pytest.raises(SchemaMismatch, match="410"):
        client.get(f"/api/v1/submissions/{uuid.uuid4()}")


def test_a_rate_limit_answer_without_retry_after_fails_the_call(client, monkeypatch, settings):
    from django.http import JsonResponse

    from webapp.farmer import api

    settings.UPLOAD_RATE_LIMIT = "1/m"
    client.post("/api/v1/submissions", {"image": photo()})
    assert client.post("/api/v1/submissions", {"image": photo()}).status_code == 429  # as documented
    monkeypatch.setattr(api, "_too_many_requests", lambda: JsonResponse({"error": "slow down"}, status=429))
    with pytest.raises(SchemaMismatch, match="Retry-After"):
        client.post("/api/v1/submissions", {"image": photo()})


def test_an_undocumented_method_must_be_a_405_naming_the_documented_ones(client):
    assert client.get("/api/v1/submissions").status_code == 405  # Django's answer passes the check
    assert client.delete(f"/api/v1/submissions/{uuid.uuid4()}").status_code == 405


def test_responses_over_http_are_checked_too():
    """The tests that call gunicorn or nginx use ``requests``: their API responses are checked the same way."""
    url = f"http://127.0.0.1:8999/api/v1/submissions/{uuid.uuid4()}"
    with responses.RequestsMock() as mock:
        mock.get(url, json={"error": "not found"}, status=404)
        assert requests.get(url, timeout=1).status_code == 404
        mock.get(url, json={"id": "not a case"}, status=200)
        with pytest.raises(SchemaMismatch, match="200"):
            requests.get(url, timeout=1)
        elsewhere = "http://127.0.0.1:8999/healthz"  # not the API: not checked
        mock.get(elsewhere, json={"anything": True})
        assert requests.get(elsewhere, timeout=1).json() == {"anything": True}


# -- schemathesis: what the document allows and what it does not ------------------------------------

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=50)

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.unsupported_method,
]


@pytest.fixture
def wsgi_in_test_transaction(db, settings):
    """The WSGI application as the test client runs it: in the test's transaction (Django closes the
    connection around each request otherwise), with no upload limit (every request reaches the checks)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    settings.UPLOAD_RATE_LIMIT = None
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def known_cases(active_model, officer) -> list[str]:
    """Cases in each state, for the generated requests to read and add to: pending, answered by the model
    (one photo, and three), failed, and answered by an officer."""
    from classifier.labels.services import label_submission
    from classifier.models import Submission
    from classifier.submissions import services as submission_services
    from tests.dashboard_helpers import diagnosed

    pending = diagnosed(active_model)
    Submission.objects.filter(pk=pending.pk).update(status=Submission.Status.PENDING)
    done = diagnosed(active_model, label="early_blight", confidence=0.95)
    several = diagnosed(active_model, kind="one_of", photos=3)
    failed = diagnosed(active_model)
    submission_services.mark_submission_failed(failed.pk, "ValueError: no usable photo in this case")
    reviewed = diagnosed(active_model, label="healthy")
    label_submission(reviewed.pk, officer, label="healthy")
    return [str(case.pk) for case in (pending, done, several, failed, reviewed)]


@schema.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers_and_no_server_error(case, wsgi_in_test_transaction):
    """Every operation and method, with data the document allows and data it does not (mostly unknown case
    ids here). Cases are stored and stay pending (no worker); the test's transaction is rolled back after it."""
    call(case)


@schema.include(path_regex="submission_id").parametrize()
@schema.given(data=st.data())
@hypothesis.settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_on_cases_that_exist(case, data, wsgi_in_test_transaction, known_cases):
    """The operations on one case, with the generated id often swapped for a known case's in each state."""
    path = case.path_parameters or {}
    if _is_uuid(path.get("submission_id")) and data.draw(st.booleans()):
        path["submission_id"] = data.draw(st.sampled_from(known_cases))
    call(case)


def call(case) -> None:
    # GZipMiddleware compresses for clients that accept it; the WSGI client would not decompress.
    case.call_and_validate(checks=CHECKS, headers={"Accept-Encoding": "identity"})


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
