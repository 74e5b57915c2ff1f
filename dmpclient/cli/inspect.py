"""``dmp inspect FILE``: decode any captured DMP message into a readable view, or JSON (``--json``).

The decoding is :func:`dmpclient.inspection.inspect_message`, generic over the transaction catalogue;
this module only prints it. Tables mask patient INS; JSON is complete.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Final

import typer
from rich.console import Console
from rich.markup import escape

from dmpclient.errors import DmpError
from dmpclient.inspection import Inspection, inspect_file

__all__ = ["inspect"]

_console = Console()
_INS: Final = re.compile(r"(?<![0-9A-Za-z])([1-478][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{4})([0-9]{4})(?![0-9A-Za-z])")


def _masked(text: str) -> str:
    return _INS.sub(lambda match: "*" * len(match[1]) + match[2], text)


def _empty(value: Any) -> bool:
    return value is None or value in ("", [], {})


def _coded(value: dict[str, Any]) -> str | None:
    """A coded value (any model with code / system / display) on one line."""
    if set(value) == {"code", "system", "display"}:
        label = f" {value['display']}" if value["display"] else ""
        return f"{value['code']}{label} ({value['system']})" if value["system"] else f"{value['code']}{label}"
    return None


def _lines(value: Any, indent: int = 1) -> list[str]:
    """Nested data as indented ``key: value`` lines; empty values are left out."""
    pad = "  " * indent
    lines: list[str] = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        label = escape(f"[{key}]" if isinstance(key, int) else str(key))
        if _empty(item):
            continue
        nested = isinstance(item, dict) and _coded(item) is None
        if nested or (isinstance(item, list) and any(isinstance(x, dict | list) for x in item)):
            lines += [f"{pad}[cyan]{label}[/cyan]", *_lines(item, indent + 1)]
        else:
            text = (
                _coded(item)
                if isinstance(item, dict)
                else ", ".join(map(str, item))
                if isinstance(item, list)
                else item
            )
            lines.append(f"{pad}[cyan]{label}:[/cyan] {escape(_masked(str(text)))}")  # the message's text
    return lines


def _section(title: str, value: Any) -> None:
    if _empty(value):
        return
    _console.print(f"[bold]{title}[/bold]", highlight=False)
    for line in _lines(value):
        _console.print(line, highlight=False, soft_wrap=True)


def _summary(found: Inspection) -> None:
    transaction = found.transaction or {}
    what = f"{transaction.get('td', '?')} {transaction.get('title', 'unknown transaction')}"
    others = [td for td in found.candidates if td != transaction.get("td")]
    if others:
        what += f" (or {', '.join(others)})"
    details = escape(f"{what} — {found.framing}, body {found.body_element}")
    _console.print(f"[bold]{escape(found.kind)}[/bold] {details}", highlight=False)
    for warning in found.warnings:
        _console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)


def inspect(
    file: Annotated[Path, typer.Argument(help="A captured message: SOAP XML, raw HTTP (with MTOM), or MIME.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Decode a captured DMP request or answer: transaction, VIHF, parameters, documents, errors."""
    try:
        found = inspect_file(file)
    except OSError as exc:
        _console.print(f"[red]error:[/red] {escape(f'cannot read {file}: {exc.strerror}')}", highlight=False)
        raise typer.Exit(2) from None
    except DmpError as exc:
        _console.print(f"[red]error:[/red] {escape(f'{file}: {exc.message}')}", highlight=False)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(found.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    _summary(found)
    _section("HTTP", found.http)
    _section("SOAP headers", found.headers)
    _section("VIHF", found.vihf)
    _section("request", found.request)
    _section("result", found.result)
    _section("error", found.error)
    _section("attachments", [dict(a) for a in found.attachments])
