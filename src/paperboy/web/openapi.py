"""What the OpenAPI schema (/openapi.json, /docs) says about the JSON API: the shapes of its
answers, the one error body every failure has, and every status code each route can answer.

    @router.get("/papers/{paper_id:path}", responses=answers(200, PaperOut, errors=(404,)))

The routes send plain dicts as they are (no response_model: FastAPI would validate and encode
every item again), so these models only describe the answers; tests/web/test_openapi.py runs
schemathesis against a real server to check that what the routes send matches what is written
here, status codes included. Pydantic is FastAPI's own model layer, so no new dependency.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """Every error of the JSON API, whatever its status."""

    error: str = Field(description="What went wrong and what to do about it, for a person")
    id: str | None = Field(None, description="The arXiv id the error is about, when there is one")


class Author(BaseModel):
    name: str


class Named(BaseModel):
    name: str
    fullname: str


class Submitter(BaseModel):
    user: str
    fullname: str


class PaperOut(BaseModel):
    """Hugging Face's `paper` object, plus the arXiv fields paperboy keeps (docs/api.md)."""

    id: str
    authors: list[Author] = Field(description="In lists, the first 100 (docs/security.md)")
    numAuthors: int
    publishedAt: str | None = Field(description="Day of the first arXiv version, 00:00 UTC")
    title: str
    summary: str
    upvotes: int
    githubRepo: str | None
    projectPage: str | None
    ai_keywords: list[str]
    categories: list[str]
    version: int | None
    updatedAt: str | None
    comment: str | None
    doi: str | None
    # Only for papers in the daily feed:
    submittedOnDailyAt: str | None = None
    submittedOnDailyBy: Submitter | None = None
    organization: Named | None = None


class ItemOut(BaseModel):
    """One item of the daily feed: the paper and its feed entry."""

    paper: PaperOut
    publishedAt: str | None = Field(description="Day the paper entered the feed, 00:00 UTC")
    title: str
    summary: str
    numComments: int
    submittedBy: Named | None
    organization: Named | None
    isAuthorParticipating: bool


class Segment(BaseModel):
    text: str
    highlighted: bool


class SearchItemOut(ItemOut):
    highlightedTitle: list[Segment]
    highlightedSummary: list[Segment]
    score: float


class VoteOut(BaseModel):
    id: str
    upvotes: int = Field(description="Upstream upvotes plus the votes cast here")
    upvoted: bool


class SubmissionOut(BaseModel):
    submission: int = Field(description="The queue entry's number")
    id: str = Field(description="The arXiv id that was submitted")
    status: str = Field(description="queued, fetching, done or failed")
    message: str
    attempts: int
    submittedAt: str | None = None
    finishedAt: str | None = None
    statusUrl: str = Field(description="Where to follow it: GET it until status is done")
    paperUrl: str | None = Field(None, description="Once done: the paper")
    error: str | None = Field(None, description="Once failed: why")


class SubmitIn(BaseModel):
    id: str = Field(description="An arXiv id or URL", examples=["2405.15738"])


# Why each status is answered; the message in the body says which case it was.
WHY = {
    400: "A parameter or the body is invalid (the message names it and says why)",
    401: "No credentials, or an API token that is wrong or revoked",
    403: "The CSRF token is missing or stale, or the request came from another site",
    404: "No such paper or submission here (or the id is not an arXiv id)",
    409: "The paper is already in the feed",
    429: "A rate limit is reached, or the user has too many submissions waiting; Retry-After "
    "says when to try again",
    503: "The submission queue is full; Retry-After says when to try again",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until the limit's window ends",
        "schema": {"type": "integer"},
    }
}
NEXT_PAGE = {
    "Link": {
        "description": 'The next page, as `<URL>; rel="next"`, while more follow',
        "schema": {"type": "string"},
    }
}
SHOWN_DATE = {
    "X-Paperboy-Date": {
        "description": "With `date=`: the day listed (YYYY-MM-DD). A day "
        "without papers lists the previous day with papers; a later day than "
        "the newest lists the newest",
        "schema": {"type": "string"},
    },
    "X-Paperboy-Date-Note": {
        "description": "When the day listed is not the day asked for: why, in words",
        "schema": {"type": "string"},
    },
}


def answers(
    status: int, model: Any, errors: tuple[int, ...] = (), headers: dict | None = None
) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: its success answer, then each error it can give."""
    out: dict[int | str, dict[str, Any]] = {status: {"model": model}}
    if headers:
        out[status]["headers"] = headers
    for code in errors:
        out[code] = {"model": ErrorBody, "description": WHY[code]}
        if code in (429, 503):
            out[code]["headers"] = RETRY_AFTER
    return out


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra=` describing a JSON body that the route reads itself (to word its own
    errors) instead of through a parameter."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


def without_422(app: FastAPI) -> None:
    """Drop the 422 answers FastAPI documents for every route with parameters: the app's own
    handler turns validation errors into 400 (app.py), so 422 is never sent."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        models = schema.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            models.pop(name, None)
        return schema

    app.openapi = openapi
