"""Outside links: the one allow-list check a URL from an upstream passes before it is a link.

Papers arrive with URLs nobody here controls: a code repository, a project page, a DOI. A link
is only ever made of a URL that `allowed_url` passes: http or https, a public host (a host name
with a real top-level domain, or a global IP address), no credentials, nothing a browser would
quietly rewrite. Sources check at ingest and warn, the store drops a failing link when it
merges, and every template checks again where it renders, so a value stored before the check
existed never becomes a link either (docs/security.md).

    >>> allowed_url(" https://github.com/huggingface/transformers ")
    'https://github.com/huggingface/transformers'
    >>> allowed_url("java\\tscript:alert(1)") is None
    True
    >>> link_problem("JAVASCRIPT:alert(1)")
    "scheme 'javascript' is not http or https"
    >>> doi_url("10.1103/PhysRevD.76.013009")
    'https://doi.org/10.1103/PhysRevD.76.013009'

Why pydantic-core's URL type: it is the WHATWG URL parser browsers implement (the Rust `url`
crate), so the check sees the scheme and host a browser would follow (`https:\\\\evil.com`,
`https://0x7f.1`, `%41` in a host) rather than what a looser parser guesses.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import quote

from pydantic_core import Url, ValidationError

# The length limits are the ingest bounds the import schemas check too (one number each).
from paperboy.bounds import DOI_CHARS, URL_CHARS

SCHEMES = ("http", "https")
# Characters that mean something else to a browser than to the eye (\ is read as /) or that
# end an attribute or a tag in the places a link is pasted: refused rather than escaped.
_TRICKY = set('\\"<>`')
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TLD = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
# Special-use names (RFC 6761, RFC 6762, ICANN's .internal): never a public web site.
_PRIVATE_TLDS = {"localhost", "local", "internal", "invalid", "test", "example", "arpa", "lan"}
# ASCII whitespace at the ends is sloppiness (browsers strip it too); inside, it is refused.
_ENDS = " \t\n\r\f"


def link_problem(url: object) -> str | None:
    """Why `url` may not become a link, or None when it may."""
    if not isinstance(url, str):
        return f"expected text, got {type(url).__name__}"
    text = url.strip(_ENDS)
    if not text:
        return "empty"
    if len(text) > URL_CHARS:
        return f"longer than {URL_CHARS:,} characters"
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if scheme not in SCHEMES:
        return f"scheme {scheme!r} is not http or https" if scheme else "no http(s):// scheme"
    for char in text:
        if unicodedata.category(char)[0] in "CZ":
            return f"holds U+{ord(char):04X} ({_char_kind(char)}), which is not allowed in a link"
        if char in _TRICKY:
            return f"holds {char!r}, which is not allowed in a link"
    if not re.match(r"https?://", text, re.I):
        return f"expected {scheme}:// followed by a host"
    try:
        parsed = Url(text)
    except ValidationError as exc:
        return f"not a valid URL ({exc.errors()[0]['msg'].lower()})"
    if parsed.username or parsed.password:
        return "credentials (user:password@) are refused in a link"
    return host_problem(parsed.host or "")


def _char_kind(char: str) -> str:
    kind = unicodedata.category(char)
    return "whitespace" if kind[0] == "Z" or char in _ENDS else "a control or invisible character"


def host_problem(host: str) -> str | None:
    """Why `host` (as a WHATWG parser gives it: lower case, punycode, IPv4 in dotted form) is
    neither a public host name nor a public IP address, or None when it is one."""
    if not host:
        return "no host"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        # A few real project pages live on a bare public address; a private, loopback or
        # link-local one would point readers at their own network (a router, localhost).
        return None if address.is_global else f"host {host!r} is not a public address"
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return f"host {host!r} is not a public host name"
    if not _TLD.fullmatch(labels[-1]) or labels[-1] in _PRIVATE_TLDS:
        return f"host {host!r} is not a public host name"
    return None


def allowed_url(url: object) -> str | None:
    """`url` without surrounding whitespace when it may be a link, else None."""
    return url.strip(_ENDS) if link_problem(url) is None else None  # type: ignore[union-attr]


# -- DOIs ------------------------------------------------------------------------------------
# A DOI is "10.", a registrant code of digits (with optional .subcodes), "/", and a suffix of
# any printable characters. arXiv keeps several, space-separated, when a paper has several.
_DOI = re.compile(r"10\.\d{4,9}(?:\.\d+)*/\S+")
DOI_RESOLVER = "https://doi.org/"


def doi_problem(text: object) -> str | None:
    """Why `text` is not one or more space-separated DOIs, or None when it is."""
    if not isinstance(text, str):
        return f"expected text, got {type(text).__name__}"
    parts = text.split()
    if not parts:
        return "empty"
    if len(text) > DOI_CHARS:
        return f"longer than {DOI_CHARS:,} characters"
    for part in parts:
        if not _DOI.fullmatch(part):
            shown = part if len(part) <= 40 else part[:37] + "..."
            return f"{shown!r} is not a DOI (expected 10.NNNN/suffix)"
        bad = next((c for c in part if unicodedata.category(c)[0] in "CZ"), None)
        if bad is not None:
            return f"holds U+{ord(bad):04X}, which is not allowed in a DOI"
    return None


def doi_url(doi: str) -> str | None:
    """The doi.org link of one DOI, or None when it is none; `?`, `#` and `%` are encoded."""
    if doi_problem(doi) is not None or len(doi.split()) != 1:
        return None
    return DOI_RESOLVER + quote(doi.strip(), safe="/:;()._-+=!*~@$,")


def doi_links(text: object) -> list[tuple[str, str]]:
    """(DOI, its doi.org link) for each DOI in a stored `doi` field; [] when it holds none."""
    if doi_problem(text) is not None:
        return []
    return [(doi, url) for doi in text.split() if (url := doi_url(doi))]  # type: ignore[union-attr]


# The Jinja filters every template that renders an outside URL uses (web pages and mail):
# `{% set code = paper.code_url | allowed_url %}{% if code %}<a href="{{ code }}">...`
TEMPLATE_FILTERS = {"allowed_url": allowed_url, "doi_links": doi_links}
