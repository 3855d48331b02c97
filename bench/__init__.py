"""Benchmarks and measurement runs (`make bench`, `make reliability`); never deployed."""
