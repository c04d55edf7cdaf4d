"""The mail records the store hands out, as the mail code names them.

They are defined in the domain layer, paperboy/records.py, because the store builds them and
the store imports nothing above it; this module keeps the mail package's own name for them.
"""

from paperboy.records import FINAL_SEND_STATES, FREQUENCIES, STATUSES, SendClaim, Subscriber

__all__ = ["FINAL_SEND_STATES", "FREQUENCIES", "STATUSES", "SendClaim", "Subscriber"]
