"""Benchmark scripts: one per table of the papers, plus throughput.

Run them from the repository root as modules, e.g. ``python -m benchmarks.dqnimb_table``.
Shared statistics and table writers live in :mod:`benchmarks._stats`; outputs go to
``benchmarks/results/``.
"""
