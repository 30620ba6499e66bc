"""Holding the farmer API to its OpenAPI document (``webapp/farmer/openapi.yaml``).

``tests/conftest.py`` wraps Django's test client and ``requests`` (the tests that call gunicorn or nginx over
HTTP) so that every response a test gets from ``/api/v1/`` on this machine is checked here, with openapi-core:
its status must be documented for the operation, with the documented content type, headers and body. A
path the document does not have must answer 404 with the API's JSON error; a method it does not have, 405
naming the documented ones. A mismatch raises :class:`SchemaMismatch` where the test made the call.
"""

from __future__ import annotations

import functools
import json
from urllib.parse import urlsplit

from openapi_core import OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest, MockResponse

from webapp.farmer.openapi import openapi_document

API_PREFIX = "/api/v1/"
LOCAL_HOSTS = {"testserver", "localhost", "127.0.0.1", "::1"}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


class SchemaMismatch(AssertionError):
    """A response of the API that its OpenAPI document does not allow."""


@functools.cache
def openapi() -> OpenAPI:
    """The document, checked as OpenAPI 3.1 once (openapi-spec-validator)."""
    return OpenAPI.from_dict(openapi_document())


def is_api_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path.startswith(API_PREFIX) and (not parts.hostname or parts.hostname in LOCAL_HOSTS)


def check_django_response(response) -> None:
    """A response from Django's test client (``response.wsgi_request`` is the request it answered)."""
    request = response.wsgi_request
    if request.path.startswith(API_PREFIX):
        status, headers, body = response.status_code, response.headers, response.content
        _check(request.method, "http://testserver", request.path, status, headers, body)


def check_requests_response(response) -> None:
    """A ``requests`` response (a test calling gunicorn or nginx over HTTP)."""
    if is_api_url(response.request.url):
        url = urlsplit(response.request.url)
        host_url = f"{url.scheme}://{url.netloc}"
        _check(response.request.method, host_url, url.path, response.status_code, response.headers, response.content)


def _check(method: str, host_url: str, path: str, status: int, headers, body: bytes) -> None:
    __tracebackhide__ = True
    where = f"{method} {path} answered {status}"
    content_type = headers.get("Content-Type", "")
    allow = headers.get("Allow", "")
    # Only the response is checked (the tests send bad requests on purpose): the request is its method and path.
    request = MockRequest(host_url, method.lower(), path)
    response = MockResponse(body, status_code=status, content_type=content_type, headers=dict(headers))
    try:
        openapi().validate_response(request, response)
    except PathNotFound:
        # Not an operation of the API: Django's 404, which the API answers in its own JSON form.
        if status != 404 or not _is_json_error(content_type, body):
            raise SchemaMismatch(f"{where}: a path the schema lacks must be a JSON 404: {body[:300]!r}") from None
    except OperationNotFound:
        documented = _documented_methods(path)
        allowed = {name.strip().upper() for name in allow.split(",") if name.strip()}
        if status != 405 or allowed != documented:
            raise SchemaMismatch(
                f"{where} (Allow: {allow!r}): a method the schema lacks must be a 405 allowing {sorted(documented)}"
            ) from None
    except OpenAPIError as error:
        detail = error.__cause__ or error
        errors = getattr(detail, "schema_errors", None)
        reasons = "; ".join(str(e.message) for e in errors) if errors else str(detail)
        raise SchemaMismatch(f"{where}, not as the schema says: {reasons}\nbody: {body[:500]!r}") from None


def _is_json_error(content_type: str, body: bytes) -> bool:
    if not content_type.startswith("application/json"):
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and set(data) == {"error"} and isinstance(data["error"], str)


def _documented_methods(path: str) -> set[str]:
    """The methods the document has for ``path`` (a ``{parameter}`` segment of a path matches any segment)."""
    segments = path.split("/")
    for template, item in openapi_document()["paths"].items():
        expected = template.split("/")
        if len(expected) == len(segments) and all(
            want == got or want.startswith("{") for want, got in zip(expected, segments, strict=True)
        ):
            return {name.upper() for name in item if name in HTTP_METHODS}
    return set()
