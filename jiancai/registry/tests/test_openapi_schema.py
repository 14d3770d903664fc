"""The committed OpenAPI schema (docs/openapi.yaml) is what the code generates."""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml
from django.conf import settings
from django.core.management import call_command

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
REGENERATE = ".venv/bin/python manage.py spectacular --file docs/openapi.yaml --validate"


def test_committed_openapi_schema_has_not_drifted(tmp_path: Path) -> None:
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", file=str(generated), validate=True, fail_on_warn=True)
    assert COMMITTED.exists(), f"docs/openapi.yaml is missing: generate it with `{REGENERATE}`"
    expected, actual = COMMITTED.read_text(encoding="utf-8"), generated.read_text(encoding="utf-8")
    if expected != actual:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                "docs/openapi.yaml",
                "generated",
                n=2,
            )
        )
        raise AssertionError(
            f"docs/openapi.yaml is out of date with the API code. Regenerate it with:\n    {REGENERATE}\n"
            f"and commit the result. Difference (first 80 lines):\n" + "".join(diff.splitlines(True)[:80])
        )


def test_schema_documents_the_token_and_the_registries() -> None:
    schema = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "机构接口令牌：jc_<前缀>_<密钥>",
    }
    paths = schema["paths"]
    for registry, key in [
        ("enterprises", "uscc"),
        ("qualifications", "certificate_no"),
        ("capacities", "public_id"),
        ("persons", "public_id"),
        ("projects", "project_code"),
    ]:
        assert set(paths[f"/api/v1/{registry}/"]) == {"get", "post"}
        assert set(paths[f"/api/v1/{registry}/{{{key}}}/"]) == {"get", "patch"}
    # Person input accepts the ID number; no output schema exposes it.
    components = schema["components"]["schemas"]
    assert "id_number" in components["PersonInputRequest"]["properties"]
    for name, component in components.items():
        if not name.endswith("Request"):
            assert "id_number" not in component.get("properties", {}), name
