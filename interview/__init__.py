"""The structured interview: which question is on, and when an answer ends."""
