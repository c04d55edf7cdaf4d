"""Every route the app serves is documented in docs/web.md, docs/api.md or docs/mail.md."""

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def route_paths(routes) -> set[str]:
    """Every path, including those of included routers (FastAPI keeps those apart from
    `app.routes` since 0.16x, which left this test nothing to check)."""
    paths = set()
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            paths |= route_paths(inner.routes)
        elif getattr(route, "path", ""):
            paths.add(route.path)
    return paths


def test_every_route_is_documented(app):
    text = "".join((DOCS / name).read_text() for name in ("web.md", "api.md", "mail.md"))
    paths = route_paths(app.routes)
    assert {"/feeds/daily.atom", "/api/daily_papers", "/papers/{paper_id:path}"} <= paths
    missing = []
    for path in sorted(paths):
        shown = path.replace("{paper_id:path}", "{arxiv_id}").replace("{paper_id}", "{arxiv_id}")
        shown = shown.replace("{day}", "date/YYYY-MM-DD").replace("/date/date/", "/date/")
        shown = shown.replace("{week}", "YYYY-Www").replace("{month}", "YYYY-MM")
        shown = shown.replace("{name:path}", "{name}")  # a name may hold "/": docs say {name}
        if shown.startswith("/account/tokens"):
            shown = "/account"
        # `/path`, or with its methods: `GET /path`, `POST /path`
        if not re.search(r"`(?:(?:GET|POST|DELETE|PUT)[ ,/]+)*" + re.escape(shown), text):
            missing.append(path)
    assert not missing, f"undocumented routes: {missing}"


def test_the_api_reference_lists_only_the_json_api(app):
    """/docs shows the OpenAPI schema: the HTML forms are not an API, and no schema may carry
    a generated name such as `Body_save_preferences_subscriptions_preferences_post`."""
    schema = app.openapi()
    assert schema["paths"] and all(path.startswith("/api/") for path in schema["paths"])
    names = list(schema.get("components", {}).get("schemas", {}))
    assert not [n for n in names if n.startswith("Body_") or "_" in n], names
