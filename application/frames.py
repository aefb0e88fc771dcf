"""Klines as a pandas DataFrame.

Columns are named after the ``Kline`` fields, without the ``_ms`` suffix for times, which are UTC
datetimes (``datetime64[ms, UTC]``): the index ``open_time`` and the column ``close_time``.
``trade_count`` is ``int64``. Prices and volumes are kept exact by default: ``object`` columns holding
``decimal.Decimal`` values, as the exchange sent them (``Decimal("64000.01")``, not ``64000.010000000002``).
Arithmetic on them is slower than on floats; pass ``as_float=True`` for ``float64`` columns when speed
matters more than the last digit. The symbol and interval are in ``frame.attrs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from domain import Interval, Kline, Symbol

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DECIMAL_COLUMNS", "KLINE_COLUMNS", "klines_to_frame"]

DECIMAL_COLUMNS = (
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
)
KLINE_COLUMNS = (
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trade_count",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
)


def _utc(ms: Sequence[int]) -> pd.DatetimeIndex:
    import pandas as pd  # noqa: PLC0415 - as in klines_to_frame

    return pd.DatetimeIndex(pd.to_datetime(list(ms), unit="ms", utc=True)).as_unit("ms")


def klines_to_frame(
    klines: Sequence[Kline], symbol: Symbol, interval: Interval, *, as_float: bool = False
) -> pd.DataFrame:
    """One row per candle, indexed by open time (see the module docstring for the dtypes)."""
    import pandas as pd  # noqa: PLC0415 - pandas (and numpy) load on first use: most commands never need them

    index = _utc([k.open_time_ms for k in klines]).rename("open_time")
    columns: dict[str, object] = {}
    for name in KLINE_COLUMNS:
        if name == "close_time":
            columns[name] = _utc([k.close_time_ms for k in klines])
        elif name == "trade_count":
            columns[name] = pd.array([k.trade_count for k in klines], dtype="int64")
        elif as_float:
            columns[name] = pd.array([float(getattr(k, name)) for k in klines], dtype="float64")
        else:
            columns[name] = pd.Series([getattr(k, name) for k in klines], dtype=object, index=index)
    frame = pd.DataFrame(columns, index=index)
    frame.attrs["symbol"] = str(symbol)
    frame.attrs["interval"] = interval.value
    return frame
