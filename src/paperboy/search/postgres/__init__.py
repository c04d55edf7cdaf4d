"""The PostgreSQL backend: search indexes as tables of the store's database.

    from paperboy.search.postgres import PgSearchIndexes
    indexes = PgSearchIndexes(store, settings)

indexes.py: the index set and its advisory lock; tables.py: the keyword index (tsvector) and
the vectors (pgvector), with their SQL; carry.py: vector files of an embedded deployment into
the tables. Both index kinds answer search/backends.py.
"""

from paperboy.search.postgres.carry import carry_vectors
from paperboy.search.postgres.indexes import PgSearchIndexes

__all__ = ["PgSearchIndexes", "carry_vectors"]
