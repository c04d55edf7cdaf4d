"""Security headers (paperboy.web.headers) on every kind of response the app gives."""

from __future__ import annotations

from fastapi.testclient import TestClient

from paperboy.web.headers import CONTENT_SECURITY_POLICY

PATHS = [
    "/",
    "/papers/trending",
    "/search?q=agents",
    "/papers/2503.11945",
    "/signin",
    "/subscribe",
    "/docs",
    "/openapi.json",
    "/api/daily_papers",
    "/api/papers/2503.11945",
    "/feeds/daily.atom",
    "/feeds/search.atom?q=agents",
    "/static/app.js",
    "/static/style.css",
    "/papers/9999.99999",
    "/api/papers/9999.99999",
    "/papers/date/2026-13-45",
    "/api/papers/search?limit=0",
]


def directives(policy: str) -> dict[str, list[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


def test_every_response_carries_the_security_headers(client):
    """Pages, API, feeds, static files, 404s and 400s."""
    for path in PATHS:
        headers = client.get(path).headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "DENY", path
        # The subscription pages, whose URLs hold tokens, set the stricter no-referrer.
        assert headers["referrer-policy"] in ("same-origin", "no-referrer"), path


def test_posts_and_redirects_carry_them_too(client):
    response = client.post("/signin", data={"name": "x", "password": "y"}, follow_redirects=False)
    assert response.status_code in (303, 400, 401, 403)
    assert "content-security-policy" in response.headers


def test_the_policy_forbids_inline_script_and_framing():
    policy = directives(CONTENT_SECURITY_POLICY)
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY


def test_pages_hold_no_inline_script_or_style(client):
    """What the policy refuses must not be needed: every page works under it (the browser
    test shows it in Chromium; this names the offending page quickly)."""
    for path in [
        "/",
        "/papers/2503.11945",
        "/search?q=agents",
        "/signin",
        "/signup",
        "/subscribe",
        "/docs",
        "/papers/trending",
    ]:
        html = client.get(path).text
        assert "<style" not in html and " style=" not in html, path
        scripts = [chunk.split(">", 1)[0] for chunk in html.split("<script")[1:]]
        assert all(" src=" in attrs for attrs in scripts), path
        assert " onclick=" not in html and " onload=" not in html, path


def test_a_crash_answers_with_the_headers(app):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/boom-for-test")
    assert response.status_code == 500
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY"
