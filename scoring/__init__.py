"""Scoring: rubric content, delivery and engagement of each answer (see scoring/question.py)."""
