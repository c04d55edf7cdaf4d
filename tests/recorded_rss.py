"""The recorded arXiv announcement feed (cs.AI, 2025-08-20), and a next day derived from it.

The recorded feed holds `new` and `cross` entries only; `replacement_feed()` turns two of its
real entries into `replace` and `replace-cross` ones (version bumped, dated a day later, as
arXiv writes them), so that replacements can be tested offline.
"""

from __future__ import annotations

from tests.replay import FIXTURES

RECORDED = FIXTURES / "rss" / "cs.AI_2025-08-20.atom.xml"


def recorded_feed() -> str:
    return RECORDED.read_text(encoding="utf-8")


def replacement_feed() -> str:
    """The next day's feed: 2508.13426 replaced (v2) and 2508.13428 replaced as a cross-list."""
    text = recorded_feed().replace("2025-08-20T00:00:00-04:00", "2025-08-21T00:00:00-04:00")
    head, _, rest = text.rsplit("</feed>", 1)[0].partition("<entry>")
    kept = []
    for entry in ("<entry>" + e for e in rest.split("<entry>")):
        if "2508.13426v1" in entry:
            kept.append(
                entry.replace("2508.13426v1", "2508.13426v2")
                .replace("Announce Type: cross", "Announce Type: replace")
                .replace(">cross<", ">replace<")
                .replace("<title>ALIGN:", "<title>ALIGN (revised):")
            )
        elif "2508.13428v1" in entry:
            kept.append(
                entry.replace("2508.13428v1", "2508.13428v3")
                .replace("Announce Type: cross", "Announce Type: replace-cross")
                .replace(">cross<", ">replace-cross<")
            )
    return head + "".join(kept) + "</feed>\n"
