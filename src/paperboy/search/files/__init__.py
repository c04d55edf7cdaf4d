"""The files backend: search indexes beside the store (tantivy, numpy/usearch vectors).

    from paperboy.search.files import FileIndexes
    indexes = FileIndexes(settings)

indexes.py: the index set and its file lock; keyword.py: BM25 in tantivy; vectors.py: int8
vector files, exact search or an HNSW graph (usearch). Both answer search/backends.py.
"""

from paperboy.search.files.indexes import FileIndexes, index_folder, writing_indexes

__all__ = ["FileIndexes", "index_folder", "writing_indexes"]
