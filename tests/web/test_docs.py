"""Every route the app serves is documented in docs/web.md or docs/api.md."""

from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_route_is_documented(app):
    text = (DOCS / "web.md").read_text() + (DOCS / "api.md").read_text()
    paths = {getattr(r, "path", "") for r in app.routes}
    missing = []
    for path in sorted(paths):
        shown = path.replace("{paper_id:path}", "{arxiv_id}").replace("{paper_id}", "{arxiv_id}")
        shown = shown.replace("{day}", "date/YYYY-MM-DD").replace("/date/date/", "/date/")
        shown = shown.replace("{week}", "YYYY-Www").replace("{month}", "YYYY-MM")
        if shown.startswith("/account/tokens"):
            shown = "/account"
        if f"`{shown}" not in text:
            missing.append(path)
    assert not missing, f"undocumented routes: {missing}"
