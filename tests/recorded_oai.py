"""Multi-page OAI-PMH ListRecords responses built from the real recorded records.

The recorded responses (tests/fixtures/oai/) hold 19 distinct real arXiv records but no
resumption token, so a harvest of several pages is assembled here: the records' XML, verbatim,
split across pages linked by resumption tokens the way arXiv's server links them.

    pages = harvest_pages(per_page=3)       # 7 pages of real records
    serve_harvest(server, pages, set_spec="physics", from_="2017-01-01")
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.replay import FIXTURES, ReplayServer, Reply

_RECORD = re.compile(r"<record>.*?</record>", re.S)
_IDENT = re.compile(r"<identifier>\s*oai:arXiv\.org:(\S+?)\s*</identifier>")
_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    "<responseDate>2017-12-14T12:56:31Z</responseDate>\n"
    '<request verb="ListRecords">http://export.arxiv.org/oai2</request>\n'
)


@dataclass
class Page:
    token: str | None  # the token that asks for this page (None: the first page)
    body: str
    ids: list[str]


def real_records() -> list[tuple[str, str]]:
    """(arXiv id, record XML) for each distinct recorded record, in file order."""
    seen: dict[str, str] = {}
    for path in sorted((FIXTURES / "oai").glob("*.xml")):
        for record in _RECORD.findall(path.read_text(encoding="utf-8")):
            ident = _IDENT.search(record)[1]
            seen.setdefault(ident, record)
    return list(seen.items())


def oai_response(inner: str) -> str:
    return f"{_HEAD}{inner}\n</OAI-PMH>\n"


def oai_error(code: str, text: str) -> str:
    """An OAI-PMH error response, in the form the protocol specifies."""
    return oai_response(f'<error code="{code}">{text}</error>')


def harvest_pages(per_page: int = 3) -> list[Page]:
    records = real_records()
    chunks = [records[i : i + per_page] for i in range(0, len(records), per_page)]
    pages, asked_by = [], None
    for number, chunk in enumerate(chunks):
        cursor = number * per_page
        # arXiv's tokens look like "6960524|1001"; the last page carries an empty one.
        token = f"6960524|{cursor + per_page + 1}" if number < len(chunks) - 1 else ""
        body = oai_response(
            "<ListRecords>\n"
            + "\n".join(xml for _, xml in chunk)
            + f'\n<resumptionToken cursor="{cursor}" completeListSize="{len(records)}">'
            f"{token}</resumptionToken>\n</ListRecords>"
        )
        pages.append(Page(asked_by, body, [ident for ident, _ in chunk]))
        asked_by = token
    return pages


def serve_harvest(
    server: ReplayServer,
    pages: list[Page],
    set_spec: str = "physics",
    from_: str = "2017-01-01",
    path: str = "/oai",
) -> None:
    for page in pages:
        params = (
            {"verb": "ListRecords", "resumptionToken": page.token}
            if page.token
            else {"verb": "ListRecords", "metadataPrefix": "arXiv", "set": set_spec, "from": from_}
        )
        server.route(path, Reply(200, page.body), params)
