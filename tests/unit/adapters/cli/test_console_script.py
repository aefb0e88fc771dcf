"""The installed ``binance-gateway`` console script, run as a user would, offline on the fake exchange."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "binance-gateway"


@pytest.mark.skipif(not SCRIPT.exists(), reason="the console script is not installed; run `make install`")
def test_json_prices_from_the_console_script_parse_and_name_five_pairs(tmp_path: Path) -> None:
    # A clean environment and an empty working folder: no exported settings, no .env file.
    environ = {"PATH": str(SCRIPT.parent), "HOME": str(tmp_path)}

    done = subprocess.run(
        [str(SCRIPT), "--adapter", "fake", "--json", "prices"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert [row["symbol"] for row in document["prices"]] == [
        "BTCUSDT",
        "ETHUSDT",
        "BNBUSDT",
        "SOLUSDT",
        "XRPUSDT",
    ]


@pytest.mark.skipif(not SCRIPT.exists(), reason="the console script is not installed; run `make install`")
def test_a_usage_error_from_the_console_script_is_one_line_and_status_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(SCRIPT), "--adapter", "fake", "prices", "BTC/USDT"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": str(SCRIPT.parent), "HOME": str(tmp_path)},
        timeout=120,
        check=False,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: symbol 'BTC/USDT' contains '/'")
