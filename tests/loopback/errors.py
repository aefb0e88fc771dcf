"""Binance `{"code":..,"msg":..}` errors as the loopback exchange raises and renders them."""

from __future__ import annotations

import json

# HTTP status sent with each code. Where the public docs are silent we chose the status Binance is seen to use
# for that family: 400 for request errors, 401 for key errors, 5xx for its own failures.
_STATUS_BY_CODE = {
    -1000: 500,
    -1001: 500,
    -1003: 429,
    -1006: 500,
    -1007: 408,
    -1008: 503,
    -2014: 401,
    -2015: 401,
}

MESSAGES = {
    -1000: "An unknown error occurred while processing the request.",
    -1001: "Internal error; unable to process your request. Please try again.",
    -1002: "You are not authorized to execute this request.",
    -1006: "An unexpected response was received from the message bus. Execution status unknown.",
    -1007: "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
    -1008: "Server is currently overloaded with other requests. Please try again in a few minutes.",
    -1022: "Signature for this request is not valid.",
    -1101: "Duplicate values for a parameter detected.",
    -1120: "Invalid interval.",
    -1121: "Invalid symbol.",
    -1122: "Invalid symbolStatus.",
    -1128: "Combination of optional parameters invalid.",
    -1139: "Invalid ticker type.",
    -1151: "Symbol is present multiple times in the list.",
    -1194: "Invalid value for time unit; expected either MICROSECOND or MILLISECOND.",
    -1220: "The symbol's status does not match the requested symbolStatus.",
    -2014: "API-key format invalid.",
    -2015: "Invalid API-key, IP, or permissions for action.",
}

TIMESTAMP_OUTSIDE_WINDOW = "Timestamp for this request is outside of the recvWindow."
TIMESTAMP_AHEAD = "Timestamp for this request was 1000ms ahead of the server's time."
BANNED = (
    "Way too much request weight used; IP banned until {until}. "
    "Please use the websocket for live updates to avoid bans."
)
TOO_MUCH_WEIGHT = (
    "Too much request weight used; current limit is {limit} request weight per {num} {interval}. "
    "Please use WebSocket Streams for live updates to avoid polling the API."
)


def default_status(code: int) -> int:
    return _STATUS_BY_CODE.get(code, 400)


class BinanceError(Exception):
    """A request the exchange refuses, rendered as Binance renders it."""

    def __init__(self, code: int, msg: str | None = None, status: int | None = None) -> None:
        self.code = code
        self.msg = msg if msg is not None else MESSAGES.get(code, "An unknown error occurred.")
        self.status = status if status is not None else default_status(code)
        super().__init__(f"{self.code}: {self.msg}")

    def body(self) -> bytes:
        return error_body(self.code, self.msg)


def error_body(code: int, msg: str) -> bytes:
    return json.dumps({"code": code, "msg": msg}, separators=(",", ":"), ensure_ascii=False).encode()


def mandatory(name: str) -> BinanceError:
    return BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def empty(name: str) -> BinanceError:
    return BinanceError(-1105, f"Parameter '{name}' was empty.")


def illegal(name: str, legal: str) -> BinanceError:
    return BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def invalid_value(name: str) -> BinanceError:
    return BinanceError(-1130, f"Data sent for parameter '{name}' is not valid.")
