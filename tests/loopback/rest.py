"""The /api/v3 REST endpoints: parameters validated and answered as Binance does (sections 2, 5 and 8)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tests.loopback.errors import BinanceError, illegal, invalid_value
from tests.loopback.intervals import parse_interval, parse_time_zone
from tests.loopback.params import Params
from tests.loopback.symbols import SYMBOL_STATUSES, SymbolSpec

if TYPE_CHECKING:
    from tests.loopback.server import LoopbackExchange

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
KLINES_DEFAULT_LIMIT, KLINES_MAX_LIMIT = 500, 1000
DEPTH_DEFAULT_LIMIT, DEPTH_MAX_LIMIT = 100, 5000


@dataclass(slots=True)
class Call:
    """What an endpoint handler gets: the parsed request and the exchange it runs on."""

    exchange: LoopbackExchange
    params: Params
    now: int
    time_mult: int
    api_key: str | None


Handler = Callable[[Call], bytes]


def _json(value: object) -> bytes:
    return _dumps(value).encode()


def _spec(call: Call, name: str) -> SymbolSpec:
    spec = call.exchange.catalogue.by_name.get(name)
    if spec is None:
        raise BinanceError(-1121)
    return spec


def _status_filter(params: Params) -> str | None:
    status = params.optional("symbolStatus")
    if status is not None and status not in SYMBOL_STATUSES:
        raise BinanceError(-1122)
    return status


def _selection(call: Call) -> tuple[SymbolSpec | None, list[SymbolSpec]]:
    """(the one `symbol`, or the `symbols` list / every symbol), honouring `symbolStatus`."""
    params = call.params
    if "symbol" in params and "symbols" in params:
        raise BinanceError(-1128)
    name = params.symbol(required=False)
    names = params.symbols()
    status = _status_filter(params)
    if name is not None:
        spec = _spec(call, name)
        if status is not None and spec.status != status:
            raise BinanceError(-1220)
        return spec, [spec]
    specs = [_spec(call, n) for n in names] if names is not None else list(call.exchange.catalogue.specs)
    if status is not None:
        specs = [spec for spec in specs if spec.status == status]
    return None, specs


def ping(call: Call) -> bytes:
    call.params.check_all_read()
    return b"{}"


def time(call: Call) -> bytes:
    call.params.check_all_read()
    return b'{"serverTime":%d}' % (call.now * call.time_mult)


def exchange_info(call: Call) -> bytes:
    params = call.params
    chosen = [name for name in ("symbol", "symbols", "permissions", "symbolStatus") if name in params]
    if len(chosen) > 1:
        raise BinanceError(-1128)
    name = params.symbol(required=False)
    names = params.symbols()
    status = _status_filter(params)
    permissions = _permissions(params.optional("permissions"))
    show = params.optional_bool("showPermissionSets")
    params.check_all_read()
    catalogue = call.exchange.catalogue
    selected: list[str] | None = None
    if name is not None:
        selected = [_spec(call, name).symbol]
    elif names is not None:
        selected = [_spec(call, n).symbol for n in names]
    elif status is not None:
        selected = [spec.symbol for spec in catalogue.specs if spec.status == status]
    elif permissions is not None:
        selected = [
            spec.symbol
            for spec in catalogue.specs
            if any(p in group for group in spec.permission_sets() for p in permissions)
        ]
    symbols = catalogue.symbols_json(selected, show_permission_sets=show is not False)
    return b'{"timezone":"UTC","serverTime":%d,"rateLimits":%s,"exchangeFilters":[],"symbols":[%s]}' % (
        call.now * call.time_mult,
        call.exchange.rate_limits_json,
        symbols.encode(),
    )


def _permissions(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    if raw.startswith("["):
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise BinanceError(-1135, "JSON sent for parameter 'permissions' is not valid") from None
        if not isinstance(parsed, list) or not all(isinstance(p, str) for p in parsed):
            raise illegal("permissions", "SPOT, MARGIN, LEVERAGED, TRD_GRP_002..TRD_GRP_025")
        return parsed
    return [raw]


def ticker_price(call: Call) -> bytes:
    one, specs = _selection(call)
    call.params.check_all_read()
    market, now = call.exchange.market, call.now
    if one is not None:
        return _json({"symbol": one.symbol, "price": market.price_text(one, now)})
    return _json([{"symbol": spec.symbol, "price": market.price_text(spec, now)} for spec in specs])


def book_ticker(call: Call) -> bytes:
    one, specs = _selection(call)
    call.params.check_all_read()
    market, now = call.exchange.market, call.now
    if one is not None:
        return _json(market.book_ticker(one, now))
    return _json([market.book_ticker(spec, now) for spec in specs])


def ticker_24hr(call: Call) -> bytes:
    one, specs = _selection(call)
    kind = call.params.optional("type") or "FULL"
    if kind not in ("FULL", "MINI"):
        raise BinanceError(-1139)
    call.params.check_all_read()
    market, now, full, mult = call.exchange.market, call.now, kind == "FULL", call.time_mult
    if one is not None:
        return _json(market.ticker_24h(one, now, full=full, time_mult=mult))
    return _json([market.ticker_24h(spec, now, full=full, time_mult=mult) for spec in specs])


def avg_price(call: Call) -> bytes:
    name = call.params.symbol()
    assert name is not None
    spec = _spec(call, name)
    call.params.check_all_read()
    return _json(call.exchange.market.avg_price(spec, call.now, time_mult=call.time_mult))


def klines(call: Call) -> bytes:
    params = call.params
    name = params.symbol()
    assert name is not None
    interval = parse_interval(params.optional("interval"))
    start = params.optional_time_ms("startTime")
    end = params.optional_time_ms("endTime")
    offset = parse_time_zone(params.optional("timeZone"))
    limit = params.optional_int("limit")
    params.check_all_read()
    spec = _spec(call, name)
    if limit is None:
        limit = KLINES_DEFAULT_LIMIT
    elif limit < 1:
        raise invalid_value("limit")
    limit = min(limit, KLINES_MAX_LIMIT)
    if start is not None and end is not None and start > end:
        raise BinanceError(-1128)
    market = call.exchange.market
    opens = market.kline_open_times(
        spec, interval, start=start, end=end, limit=limit, now=call.now, offset_ms=offset
    )
    return market.klines_body(spec, interval, opens, now=call.now, offset_ms=offset, time_mult=call.time_mult)


def depth(call: Call) -> bytes:
    params = call.params
    name = params.symbol()
    assert name is not None
    limit = params.optional_int("limit")
    status = _status_filter(params)
    params.check_all_read()
    spec = _spec(call, name)
    if status is not None and spec.status != status:
        raise BinanceError(-1220)
    if limit is None:
        limit = DEPTH_DEFAULT_LIMIT
    elif limit < 1:
        raise invalid_value("limit")
    book = call.exchange.market.depth(spec, call.now, min(limit, DEPTH_MAX_LIMIT))
    return _json(book)


def account(call: Call) -> bytes:
    exchange = call.exchange
    api_key = exchange.keys.authenticate(call.api_key, call.params, call.now)
    omit_zero = call.params.optional_bool("omitZeroBalances")
    call.params.check_all_read()
    body = exchange.account_snapshot(api_key, omit_zero_balances=bool(omit_zero), time_mult=call.time_mult)
    return _json(body)


def account_commission(call: Call) -> bytes:
    exchange = call.exchange
    exchange.keys.authenticate(call.api_key, call.params, call.now)
    name = call.params.symbol()
    assert name is not None
    call.params.check_all_read()
    spec = _spec(call, name)
    rates = {"maker": "0.00100000", "taker": "0.00100000", "buyer": "0.00000000", "seller": "0.00000000"}
    zero = dict.fromkeys(rates, "0.00000000")
    return _json(
        {
            "symbol": spec.symbol,
            "standardCommission": rates,
            "specialCommission": zero,
            "taxCommission": zero,
            "discount": {
                "enabledForAccount": True,
                "enabledForSymbol": True,
                "discountAsset": "BNB",
                "discount": "0.75000000",
            },
        }
    )


ROUTES: dict[str, Handler] = {
    "/api/v3/ping": ping,
    "/api/v3/time": time,
    "/api/v3/exchangeInfo": exchange_info,
    "/api/v3/ticker/price": ticker_price,
    "/api/v3/ticker/bookTicker": book_ticker,
    "/api/v3/ticker/24hr": ticker_24hr,
    "/api/v3/avgPrice": avg_price,
    "/api/v3/klines": klines,
    "/api/v3/uiKlines": klines,
    "/api/v3/depth": depth,
    "/api/v3/account": account,
    "/api/v3/account/commission": account_commission,
}
