"""Applications: a candidate's application to a job and its way through the process (pipeline.py)."""
