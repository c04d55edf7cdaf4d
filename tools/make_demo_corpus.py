"""Cut the bundled demo corpus from the real corpora beside the repo (../shared/data/corpora/).

Keeps the most recent N daily entries of hf_daily_papers.jsonl.gz (real HF items with their
upvotes) and drops what the service never shows (avatars, internal ids) so the package stays
small. Then joins, by arXiv id, what arXiv's own listings (arxiv_cs_listings.jsonl.gz) know and
HF's API does not: the categories (primary first) as `_categories` and the authors' comment as
`_comment` (paperboy/sources/hf.py reads both). About half of the recent HF papers are in the
listings corpus; the rest keep no categories. PDF links need no join: they follow from the id.

    python tools/make_demo_corpus.py --count 3000

Titles and abstracts come from the HF items unchanged, so the shipped vectors
(tools/make_demo_vectors.py, keyed by paper id and text hash) stay valid after a re-join.
"""

import argparse
import gzip
import json
from pathlib import Path

CORPORA = Path(__file__).resolve().parents[1] / "../shared/data/corpora"
SOURCE = CORPORA / "hf_daily_papers.jsonl.gz"
LISTINGS = CORPORA / "arxiv_cs_listings.jsonl.gz"
TARGET = Path(__file__).resolve().parents[1] / "src/paperboy/data/demo_papers.jsonl.gz"
PAPER_KEYS = (
    "id",
    "title",
    "summary",
    "publishedAt",
    "submittedOnDailyAt",
    "upvotes",
    "githubRepo",
    "projectPage",
    "ai_keywords",
)


def slim(item: dict) -> dict:
    paper = item["paper"]
    out = {k: paper[k] for k in PAPER_KEYS if paper.get(k) not in (None, "", [])}
    out["authors"] = [{"name": a["name"]} for a in paper.get("authors", []) if a.get("name")]
    org = item.get("organization") or paper.get("organization")
    if isinstance(org, dict):
        out["organization"] = {"name": org.get("name"), "fullname": org.get("fullname")}
    by = item.get("submittedBy") or paper.get("submittedOnDailyBy")
    if isinstance(by, dict):
        out["submittedOnDailyBy"] = {"user": by.get("user"), "fullname": by.get("fullname")}
    return {
        "paper": out,
        "title": item.get("title"),
        "numComments": item.get("numComments", 0),
        "publishedAt": item.get("publishedAt"),
        "_daily_date": item["_daily_date"],
    }


def bare_id(text: str) -> str:
    """2406.01234v2 -> 2406.01234 (the listings carry versions now and then)."""
    head, _, tail = text.rpartition("v")
    return head if head and tail.isdigit() else text


def listings_for(ids: set[str]) -> dict[str, dict]:
    """The listing row of each wanted id (the first one seen: its categories are the same)."""
    found: dict[str, dict] = {}
    with gzip.open(LISTINGS, "rt") as fh:
        for line in fh:
            row = json.loads(line)
            key = bare_id(row["id"])
            if key in ids and key not in found:
                found[key] = row
    return found


def join(item: dict, row: dict | None) -> dict:
    if row is None:
        return item
    if row.get("categories"):
        item["_categories"] = row["categories"]
    if row.get("comment"):
        item["_comment"] = " ".join(row["comment"].split())
    return item


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=3000)
    args = parser.parse_args()
    with gzip.open(SOURCE, "rt") as fh:
        items = [json.loads(line) for line in fh]
    items.sort(key=lambda i: i["_daily_date"])
    recent = [slim(item) for item in items[-args.count :]]
    rows = listings_for({item["paper"]["id"] for item in recent})
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(TARGET, "wb", mtime=0) as out:
        for item in recent:
            joined = join(item, rows.get(item["paper"]["id"]))
            out.write((json.dumps(joined, ensure_ascii=False) + "\n").encode())
    with_categories = sum(1 for item in recent if item.get("_categories"))
    print(
        f"{TARGET}: {len(recent)} items, {recent[0]['_daily_date']} .. "
        f"{recent[-1]['_daily_date']}, {with_categories} with arXiv categories, "
        f"{TARGET.stat().st_size:,} bytes"
    )


if __name__ == "__main__":
    main()
