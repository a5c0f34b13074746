"""Benchmarks of the behavior engine against a simulated LLM (see bench/README.md)."""
