"""paperboy: a self-hosted research-paper discovery service (daily feeds, hybrid search,
digests)."""

__version__ = "0.1.0"
