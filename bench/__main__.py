"""``python -m bench [NAME [OPTIONS...]]``: run every benchmark present, or the one named.

Each benchmark is a module ``bench/<name>.py`` with ``main(argv) -> int | None``; ``python -m bench rest
--help`` shows its options. ``python -m bench --list`` names the benchmarks present.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

#: The benchmarks, in the order ``python -m bench`` runs them; a module not (yet) present is skipped.
BENCHMARKS = ("rest", "backfill", "streams")


def available() -> list[str]:
    """The names of the benchmark modules present in this checkout."""
    return [name for name in BENCHMARKS if importlib.util.find_spec(f"bench.{name}") is not None]


def run(name: str, argv: Sequence[str]) -> int:
    module = importlib.import_module(f"bench.{name}")
    status = module.main(list(argv))
    return int(status or 0)


def per_benchmark(argv: Sequence[str], name: str) -> list[str]:
    """``argv`` for benchmark ``name`` when several run: a ``--json PATH`` becomes ``PATH`` with ``.name``."""
    args = list(argv)
    for index, arg in enumerate(args):
        if arg == "--json" and index + 1 < len(args):
            path = Path(args[index + 1])
            args[index + 1] = str(path.with_name(f"{path.stem}.{name}{path.suffix}"))
        elif arg.startswith("--json="):
            path = Path(arg.partition("=")[2])
            args[index] = f"--json={path.with_name(f'{path.stem}.{name}{path.suffix}')}"
    return args


def _run_one(name: str, argv: Sequence[str], present: Sequence[str]) -> int:
    if name not in BENCHMARKS:
        print(f"error: no benchmark named {name!r}; choose from {', '.join(present)}", file=sys.stderr)
        return 2
    if name not in present:
        print(f"error: the {name} benchmark is not in this checkout (bench/{name}.py)", file=sys.stderr)
        return 2
    return run(name, argv)


def _run_all(argv: Sequence[str], present: Sequence[str]) -> int:
    if not present:
        print("error: there is no benchmark module in bench/", file=sys.stderr)
        return 1
    # Options given without a name go to every benchmark (e.g. `python -m bench --quick`); only the shared
    # ones (bench_parser's) are safe there. Each writes its own JSON file: out.json -> out.rest.json.
    failed = [name for name in present if run(name, per_benchmark(argv, name)) != 0]
    if failed:
        print(f"error: these benchmarks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    present = available()
    if args and args[0] in {"-h", "--help", "--list"}:
        if args[0] != "--list":
            print(__doc__)
        print("\n".join(present) if args[0] == "--list" else "benchmarks present: " + ", ".join(present))
        return 0
    if args and not args[0].startswith("-"):
        return _run_one(args[0], args[1:], present)
    return _run_all(args, present)


if __name__ == "__main__":
    sys.exit(main())
