"""Benchmarks, run by hand; never timed in the tests."""
