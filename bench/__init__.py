"""Benchmarks of the Share Worker against the straightforward design; `make bench` runs them."""
