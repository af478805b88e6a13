"""Latency and load benchmarks for Candor (see benchmarks/README.md)."""
