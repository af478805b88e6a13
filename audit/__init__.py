"""The audit trail's pure core: who did what to whom, in a hash chain.

An :class:`Entry` is one thing someone did (user, role, action, target, time,
address, and details that are ids and counts only). :func:`canonical` is its
one serialisation; :func:`chain_hash` seals it to the entry before it
(SHA-256 over the previous hash and the canonical entry), and :func:`verify`
walks a sequence of sealed entries and names the first that does not check
out. Storage lives in ``db/audit.py``; the server records through
``server/audit.py``. Nothing here does I/O.
"""

from .chain import (
    GENESIS,
    Entry,
    Sealed,
    Verification,
    canonical,
    chain_hash,
    check_details,
    ref,
    seal,
    verify,
)

__all__ = ["GENESIS", "Entry", "Sealed", "Verification", "canonical", "chain_hash", "check_details", "ref", "seal", "verify"]
