"""A local Odoo for the sync tests: a threaded HTTP server on 127.0.0.1 that speaks Odoo's external JSON-RPC
API as Odoo does, keeping ``hr.employee`` and ``hr.attendance`` in memory.

What it does like Odoo (odoo/http.py JSON-RPC dispatcher, odoo/service, addons/hr_attendance):
- ``POST /jsonrpc`` with ``{"jsonrpc": "2.0", "method": "call", "params": {"service", "method", "args"}, "id"}``;
  results as ``{"jsonrpc": "2.0", "id", "result"}``; errors with HTTP 200 as ``{"error": {"code": 200,
  "message": "Odoo Server Error", "data": {"name", "debug", "message", "arguments", "context"}}}``.
- ``common.version``, ``common.authenticate(db, login, key, env)`` (uid or ``false``), ``common.login``;
  ``object.execute_kw(db, uid, key, model, method, args, kwargs)`` with AccessDenied for a wrong key.
- ``search_read``, ``search``, ``search_count``, ``read``, ``create`` (one dict or a list), ``write``;
  domains in Polish notation with ``= != in not in < <= > >=`` and dotted paths (``company_id.name``);
  archived employees hidden; many2one read as ``[id, name]``; datetimes as ``YYYY-MM-DD HH:MM:SS`` (UTC),
  anything else refused with Odoo's ValueError; unknown fields refused as Odoo does.
- ``hr.attendance`` constraints: check-out before check-in, an open attendance blocking a new one, and
  overlaps, with Odoo's ValidationError messages; MissingError when writing a deleted record.

Switches: ``down`` (a proxy answering 503 in front of a stopped Odoo; ``down_after_requests``: after that
many requests), ``die_after_creates`` (the server
commits that many creates, then drops the connection without answering, and every later one), ``revive()``,
``stop()`` (connection refused).
"""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
EMPLOYEE_FIELDS = ("id", "name", "barcode", "identification_id", "pin", "work_email", "company_id", "active")
ATTENDANCE_FIELDS = ("id", "employee_id", "check_in", "check_out", "worked_hours")


class OdooException(Exception):
    """An exception as Odoo serializes it: ``name`` is the dotted class path."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def validation_error(message: str) -> OdooException:
    return OdooException("odoo.exceptions.ValidationError", message)


@dataclass(frozen=True)
class Call:
    service: str
    method: str
    model: str = ""
    model_method: str = ""
    args: tuple = ()
    kwargs: dict | None = None


def _parse_datetime(value: Any) -> datetime:
    """Odoo's ``fields.Datetime.to_datetime`` on a string: a date or ``YYYY-MM-DD HH:MM:SS``, nothing else."""
    if not isinstance(value, str):
        raise OdooException("builtins.ValueError", f"Invalid datetime value {value!r}")
    text = value[:19]
    if len(text) == 10:
        text += " 00:00:00"
    try:
        return datetime.strptime(text, DATETIME_FORMAT)
    except ValueError as exc:
        raise OdooException("builtins.ValueError", str(exc)) from None


def _format_for_message(moment: datetime) -> str:
    """``format_datetime(env, dt, dt_format=False)`` in en_US (babel's medium format), UTC user."""
    return f"{moment:%b} {moment.day}, {moment.year}, {moment.strftime('%I:%M:%S %p').lstrip('0')}"


class OdooPeer:
    def __init__(
        self,
        *,
        database: str = "argus-hr",
        login: str = "sync-bot@example.com",
        api_key: str = "0d00-key-7a1b2c3d4e5f",
        uid: int = 2,
        version: str = "17.0",
        companies: dict[int, str] | None = None,
    ) -> None:
        self.database = database
        self.login = login
        self.api_key = api_key
        self.uid = uid
        self.server_version = version
        self.companies = companies or {1: "ACME Corp"}
        self.employees: dict[int, dict[str, Any]] = {}
        self.attendances: dict[int, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.http_requests = 0
        self.rpc_creates = 0  # hr.attendance records created over JSON-RPC (committed)
        self.down = False
        self.down_after_requests: int | None = None  # answer that many requests, then act as down
        self.die_after_creates: int | None = None
        self.after_create: Callable[[int], None] | None = None  # runs in the server thread, before the answer
        self.dead = False
        self._next_id = {"hr.employee": 1, "hr.attendance": 1}
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    # --- test helpers ---

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def revive(self) -> None:
        with self._lock:
            self.dead = False
            self.down = False
            self.down_after_requests = None
            self.die_after_creates = None

    def add_employee(self, name: str, *, company_id: int = 1, active: bool = True, **fields: Any) -> int:
        with self._lock:
            employee_id = self._take_id("hr.employee")
            self.employees[employee_id] = {
                "id": employee_id,
                "name": name,
                "barcode": False,
                "identification_id": False,
                "pin": False,
                "work_email": False,
                "company_id": company_id,
                "active": active,
                **fields,
            }
            return employee_id

    def add_attendance(self, employee_id: int, check_in: str, check_out: str | None = None) -> int:
        """A record made in Odoo directly (by HR, or by a run whose answer was lost)."""
        with self._lock:
            return self._create_attendance({"employee_id": employee_id, "check_in": check_in, "check_out": check_out})

    def attendances_of(self, employee_id: int) -> list[dict[str, Any]]:
        with self._lock:
            rows = [dict(row) for row in self.attendances.values() if row["employee_id"] == employee_id]
        for row in rows:
            row["check_in"] = row["check_in"].strftime(DATETIME_FORMAT)
            row["check_out"] = row["check_out"].strftime(DATETIME_FORMAT) if row["check_out"] else False
        return sorted(rows, key=lambda row: row["check_in"])

    def model_calls(self, model: str, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.model == model and call.model_method == method]

    # --- JSON-RPC ---

    def _take_id(self, model: str) -> int:
        value = self._next_id[model]
        self._next_id[model] += 1
        return value

    def dispatch(self, service: str, method: str, args: list[Any]) -> Any:
        if service == "common":
            self.calls.append(Call(service, method, args=tuple(args[:2])))
            if method == "version":
                return {
                    "server_version": self.server_version,
                    "server_version_info": [int(self.server_version.split(".")[0]), 0, 0, "final", 0, ""],
                    "server_serie": self.server_version,
                    "protocol_version": 1,
                }
            if method in ("authenticate", "login"):
                database, login, password = args[0], args[1], args[2]
                self._check_database(database)
                return self.uid if (login == self.login and password == self.api_key) else False
            raise OdooException("builtins.NameError", f"Method not available {method}")
        if service == "object" and method in ("execute_kw", "execute"):
            database, uid, password, model, model_method, *rest = args
            positional = rest[0] if rest else []
            kwargs = rest[1] if len(rest) > 1 else {}
            self.calls.append(Call(service, method, model, model_method, tuple(positional), dict(kwargs or {})))
            self._check_database(database)
            if uid != self.uid or password != self.api_key:
                raise OdooException("odoo.exceptions.AccessDenied", "Access Denied")
            return self._execute(model, model_method, list(positional), dict(kwargs or {}))
        raise OdooException("builtins.KeyError", repr(service))

    def _check_database(self, database: str) -> None:
        if database != self.database:
            raise OdooException(
                "psycopg2.OperationalError",
                f'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
                f'FATAL:  database "{database}" does not exist\n',
            )

    def _table(self, model: str) -> tuple[dict[int, dict[str, Any]], tuple[str, ...]]:
        if model == "hr.employee":
            return self.employees, EMPLOYEE_FIELDS
        if model == "hr.attendance":
            return self.attendances, ATTENDANCE_FIELDS
        raise OdooException("builtins.KeyError", repr(model))

    def _execute(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        table, fields = self._table(model)
        if method in ("search_read", "search", "search_count"):
            domain = args[0] if args else kwargs.get("domain", [])
            rows = [row for row in table.values() if self._matches(model, row, domain)]
            rows.sort(key=lambda row: (row["check_in"], row["id"]) if model == "hr.attendance" else (row["name"],))
            if model == "hr.attendance":
                rows.reverse()  # _order = "check_in desc"
            if method == "search_count":
                return len(rows)
            offset, limit = int(kwargs.get("offset") or 0), kwargs.get("limit")
            rows = rows[offset : offset + limit if limit else None]
            if method == "search":
                return [row["id"] for row in rows]
            wanted = kwargs.get("fields") or (args[1] if len(args) > 1 else None) or list(fields)
            return [self._read(model, row, wanted) for row in rows]
        if method == "read":
            ids, wanted = args[0], (args[1] if len(args) > 1 else kwargs.get("fields")) or list(fields)
            return [self._read(model, table[i], wanted) for i in ids if i in table]
        if method == "create" and model == "hr.attendance":
            values = args[0]
            many = isinstance(values, list)
            created = [self._create_attendance(dict(item)) for item in (values if many else [values])]
            self.rpc_creates += len(created)
            if self.after_create:
                for attendance_id in created:
                    self.after_create(attendance_id)
            return created if many else created[0]
        if method == "write" and model == "hr.attendance":
            ids, values = args[0], args[1]
            self._write_attendance(list(ids), dict(values))
            return True
        raise OdooException("builtins.AttributeError", f"The method '{method}' does not exist on the model '{model}'")

    def _read(self, model: str, row: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
        _, fields = self._table(model)
        out: dict[str, Any] = {}
        for name in ["id", *[f for f in wanted if f != "id"]]:
            if name not in fields:
                raise OdooException("builtins.ValueError", f"Invalid field {name!r} on model {model!r}")
            value = row.get(name, False)
            if name == "employee_id":
                value = [value, self.employees[value]["name"]]
            elif name == "company_id":
                value = [value, self.companies[value]]
            elif name in ("check_in", "check_out"):
                value = value.strftime(DATETIME_FORMAT) if value else False
            elif name == "worked_hours":
                value = (row["check_out"] - row["check_in"]).total_seconds() / 3600 if row["check_out"] else 0.0
            out[name] = value
        return out

    def _value(self, model: str, row: dict[str, Any], path: str) -> Any:
        _, fields = self._table(model)
        name, _, rest = path.partition(".")
        if name not in fields:
            raise OdooException("builtins.ValueError", f"Invalid field {name!r} in leaf {path!r} on model {model!r}")
        value = row.get(name, False)
        if rest:
            if name == "company_id" and rest == "name":
                return self.companies.get(value, False)
            if name == "employee_id":
                return self._value("hr.employee", self.employees[value], rest)
            raise OdooException("builtins.ValueError", f"Invalid field {rest!r} on {name!r}")
        if name in ("check_in", "check_out") and value:
            return value.strftime(DATETIME_FORMAT)
        return value

    def _matches(self, model: str, row: dict[str, Any], domain: list) -> bool:
        if model == "hr.employee" and not row["active"]:
            return False
        stack: list[bool] = []
        for term in reversed(domain or []):
            if term == "&":
                stack.append(stack.pop() and stack.pop())
            elif term == "|":
                left, right = stack.pop(), stack.pop()
                stack.append(left or right)
            elif term == "!":
                stack.append(not stack.pop())
            else:
                stack.append(self._leaf(model, row, term))
        return all(stack)

    def _leaf(self, model: str, row: dict[str, Any], leaf: list) -> bool:
        if not isinstance(leaf, (list, tuple)) or len(leaf) != 3:
            raise OdooException("builtins.ValueError", f"Invalid leaf {leaf!r}")
        path, operator, expected = leaf
        value = self._value(model, row, path)
        if operator == "=":
            return value == expected
        if operator == "!=":
            return value != expected
        if operator == "in":
            return value in expected
        if operator == "not in":
            return value not in expected
        if operator in ("<", "<=", ">", ">="):
            if value is False:
                return False
            return {"<": value < expected, "<=": value <= expected, ">": value > expected, ">=": value >= expected}[
                operator
            ]
        raise OdooException("builtins.ValueError", f"Invalid operator {operator!r} in leaf {leaf!r}")

    # --- hr.attendance, as addons/hr_attendance/models/hr_attendance.py ---

    def _create_attendance(self, values: dict[str, Any]) -> int:
        employee_id = values.get("employee_id")
        if employee_id not in self.employees:
            raise OdooException(
                "odoo.exceptions.ValidationError",
                "The operation cannot be completed: another model requires the record being deleted. "
                "If possible, archive it instead.",
            )
        row = {
            "employee_id": employee_id,
            "check_in": _parse_datetime(values.get("check_in")),
            "check_out": _parse_datetime(values["check_out"]) if values.get("check_out") else None,
        }
        self._check_validity(row, exclude=None)
        attendance_id = self._take_id("hr.attendance")
        self.attendances[attendance_id] = {"id": attendance_id, **row}
        return attendance_id

    def _write_attendance(self, ids: list[int], values: dict[str, Any]) -> None:
        for attendance_id in ids:
            if attendance_id not in self.attendances:
                raise OdooException(
                    "odoo.exceptions.MissingError",
                    f"Record does not exist or has been deleted.\n(Record: hr.attendance({attendance_id},), "
                    f"User: {self.uid})",
                )
        for attendance_id in ids:
            row = dict(self.attendances[attendance_id])
            if "check_in" in values:
                row["check_in"] = _parse_datetime(values["check_in"])
            if "check_out" in values:
                row["check_out"] = _parse_datetime(values["check_out"]) if values["check_out"] else None
            if "employee_id" in values:
                row["employee_id"] = values["employee_id"]
            self._check_validity(row, exclude=attendance_id)
            self.attendances[attendance_id] = row

    def _check_validity(self, attendance: dict[str, Any], exclude: int | None) -> None:
        if attendance["check_out"] and attendance["check_out"] < attendance["check_in"]:
            raise validation_error('"Check Out" time cannot be earlier than "Check In" time.')
        name = self.employees[attendance["employee_id"]]["name"]
        others = [
            row
            for row in self.attendances.values()
            if row["employee_id"] == attendance["employee_id"] and row["id"] != exclude
        ]
        before_in = max(
            (row for row in others if row["check_in"] <= attendance["check_in"]),
            key=lambda row: row["check_in"],
            default=None,
        )
        if before_in and before_in["check_out"] and before_in["check_out"] > attendance["check_in"]:
            raise validation_error(
                f"Cannot create new attendance record for {name}, the employee was already checked in on "
                f"{_format_for_message(attendance['check_in'])}"
            )
        if not attendance["check_out"]:
            open_one = max((row for row in others if not row["check_out"]), key=lambda r: r["check_in"], default=None)
            if open_one:
                raise validation_error(
                    f"Cannot create new attendance record for {name}, the employee hasn't checked out since "
                    f"{_format_for_message(open_one['check_in'])}"
                )
        else:
            before_out = max(
                (row for row in others if row["check_in"] < attendance["check_out"]),
                key=lambda row: row["check_in"],
                default=None,
            )
            if before_out and before_out is not before_in:
                raise validation_error(
                    f"Cannot create new attendance record for {name}, the employee was already checked in on "
                    f"{_format_for_message(before_out['check_in'])}"
                )

    # --- HTTP ---

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _drop(self) -> None:
                """Die: close the connection without an answer (the client sees a disconnect)."""
                self.close_connection = True

            def do_GET(self) -> None:
                self._send(405, b"<p>Method Not Allowed</p>", "text/html")

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with peer._lock:
                    peer.http_requests += 1
                    if peer.dead:
                        return self._drop()
                    if peer.down or (
                        peer.down_after_requests is not None and peer.http_requests > peer.down_after_requests
                    ):
                        return self._send(
                            503, b"<html><body><h1>503 Service Unavailable</h1></body></html>", "text/html"
                        )
                if self.path != "/jsonrpc":
                    return self._send(404, b"<h1>Not Found</h1>", "text/html")
                try:
                    request = json.loads(raw)
                    params = request["params"]
                    request_id = request.get("id")
                except (ValueError, KeyError, TypeError):
                    return self._answer(
                        None, error=OdooException("werkzeug.exceptions.BadRequest", "Invalid JSON data")
                    )
                with peer._lock:
                    try:
                        creates_before = peer.rpc_creates
                        result = peer.dispatch(
                            params.get("service"), params.get("method"), list(params.get("args") or [])
                        )
                    except OdooException as exc:
                        return self._answer(request_id, error=exc)
                    except Exception as exc:  # Odoo serializes whatever its code raised
                        error = OdooException(f"builtins.{type(exc).__name__}", str(exc))
                        return self._answer(request_id, error=error)
                    dying = peer.die_after_creates is not None and peer.rpc_creates > creates_before
                    if dying and peer.rpc_creates >= peer.die_after_creates:
                        peer.dead = True  # committed, then gone before answering
                        return self._drop()
                self._answer(request_id, result=result)

            def _answer(self, request_id: Any, *, result: Any = None, error: OdooException | None = None) -> None:
                body: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id}
                if error is None:
                    body["result"] = result
                else:
                    body["error"] = {
                        "code": 200,
                        "message": "Odoo Server Error",
                        "data": {
                            "name": error.name,
                            "debug": "Traceback (most recent call last):\n" + "".join(traceback.format_stack(limit=3)),
                            "message": error.message,
                            "arguments": [error.message],
                            "context": {},
                        },
                    }
                self._send(200, json.dumps(body).encode(), "application/json")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


# --- Argus side helpers ------------------------------------------------------------------------------


def configure(peer: OdooPeer, **fields: Any):
    """Point Argus's Odoo configuration at ``peer`` (through the service, as the API does)."""
    from integrations.odoo.config import update_config

    values = {
        "base_url": peer.url,
        "database": peer.database,
        "username": peer.login,
        "api_key": peer.api_key,
        **fields,
    }
    return update_config(values)
