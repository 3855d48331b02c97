"""What tests and benchmarks build their scenarios from: fault proxies, request hooks, workloads, audits."""
