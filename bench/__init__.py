"""Benchmarks run by hand, each beside a baseline; never timed in the tests."""
