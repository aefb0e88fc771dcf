"""pandas (and its import of about half a second) is loaded only when a DataFrame is made: starting the
command line, or embedding the services, does not pay for it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]


def test_the_command_line_and_the_services_start_without_pandas() -> None:
    code = "\n".join(
        [
            "import sys",
            "import adapters.cli, adapters.container, application",
            "from domain import Interval, Symbol",
            "print('pandas' in sys.modules)",
            "application.klines_to_frame([], Symbol('BTCUSDT'), Interval.MINUTE_1)",
            "print('pandas' in sys.modules)",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=_ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["False", "True"]
