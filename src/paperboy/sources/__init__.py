"""Sources: one module per upstream, each turning what it reads into `Paper` records.

- `files`: bulk files (the arXiv metadata snapshot, HF daily-papers and arXiv listing JSONL);
- `hf`: the Hugging Face daily-papers item shape.
"""


class RecordError(ValueError):
    """One record we cannot use; the message says which field and why. The import goes on."""


class SourceError(RuntimeError):
    """An upstream or file we cannot read at all; the message says what to do."""
