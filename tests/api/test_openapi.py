"""schemathesis against the app's own OpenAPI document, in-process over ASGI: no 5xx anywhere."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from api import create_app
from tests.api.conftest import ApiServer


@pytest.fixture(scope="module")
def asgi_schema(api_server: ApiServer) -> Any:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(api_server.settings))
    # The live stream never ends by design; the live tests cover it against a real server.
    return schema.exclude(path="/api/v1/live")


def test_no_server_errors(asgi_schema: Any, api_server: ApiServer) -> None:
    """Every operation, as the operator and as the public, with bounded generated examples."""
    failures: list[str] = []
    operations = [r.ok() for r in asgi_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        for token in (api_server.operator.token, None):
            _run(operation, {"Authorization": f"Bearer {token}"} if token else {}, failures)
    assert failures == []


def _run(operation: Any, headers: dict[str, str], failures: list[str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=8,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}"
            )
            raise AssertionError(failures[-1])
        if response.status_code >= 400:
            content_type = response.headers.get("content-type")
            if isinstance(content_type, list):
                content_type = content_type[0]
            assert content_type == "application/problem+json", (case.path, response.text[:200])

    check()


def test_every_operation_has_a_summary_and_documents_its_errors(api_server: ApiServer) -> None:
    import httpx

    spec = httpx.get(f"{api_server.url}/openapi.json").json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), (method, path)
            if "{site}" in path:
                assert {"403", "404"} <= set(op["responses"]), (method, path)
                problem = op["responses"]["403"]["content"]["application/problem+json"]
                assert problem["example"]["status"] == 403
    assert "Problem" in spec["components"]["schemas"]
