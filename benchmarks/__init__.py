"""Benchmarks run by `make bench`: every figure is reported with a same-run baseline ratio."""
