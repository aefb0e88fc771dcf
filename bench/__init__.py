"""Benchmarks on the loopback test exchange: ``python -m bench`` runs them all, ``python -m bench rest`` one.

``_support`` holds what they share (the exchange as a subprocess, CPU per call, medians, markdown tables);
each benchmark module has a ``main(argv)``. Figures go to docs/benchmarks.md, never into tests.
"""
