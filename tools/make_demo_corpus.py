"""Cut the bundled demo corpus from ../shared/data/corpora/hf_daily_papers.jsonl.gz.

Keeps the most recent N daily entries (real HF items with their upvotes) and drops what the
service never shows (avatars, internal ids) so the package stays small:

    python tools/make_demo_corpus.py --count 3000
"""

import argparse
import gzip
import json
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "../shared/data/corpora/hf_daily_papers.jsonl.gz"
TARGET = Path(__file__).resolve().parents[1] / "src/paperboy/data/demo_papers.jsonl.gz"
PAPER_KEYS = ("id", "title", "summary", "publishedAt", "submittedOnDailyAt", "upvotes",
              "githubRepo", "projectPage", "ai_keywords")


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
    return {"paper": out, "title": item.get("title"), "numComments": item.get("numComments", 0),
            "publishedAt": item.get("publishedAt"), "_daily_date": item["_daily_date"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=3000)
    args = parser.parse_args()
    with gzip.open(SOURCE, "rt") as fh:
        items = [json.loads(line) for line in fh]
    items.sort(key=lambda i: i["_daily_date"])
    recent = items[-args.count:]
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(TARGET, "wb", mtime=0) as out:
        for item in recent:
            out.write((json.dumps(slim(item), ensure_ascii=False) + "\n").encode())
    print(f"{TARGET}: {len(recent)} items, {recent[0]['_daily_date']} .. "
          f"{recent[-1]['_daily_date']}, {TARGET.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
