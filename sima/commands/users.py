"""`sima users add NAME` / `sima users passwd NAME` / `sima users list`: recruiter accounts for `sima serve`.

The password is read from standard input (typed twice at a terminal, or the first line of a pipe), never from the
command line, where other users and the shell history could see it.

Example::

    printf '%s\\n' "$PASSWORD" | sima users add ada
"""

from __future__ import annotations

import getpass
import sys
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from sima.context import load_context

if TYPE_CHECKING:
    from storage.store import Store

err = Console(stderr=True, soft_wrap=True)
users_app = typer.Typer(help="Recruiter accounts for the web app.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


def _read_password() -> str:
    from web.auth import MIN_PASSWORD_LENGTH

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            err.print("[red]✗[/red] the passwords differ")
            raise typer.Exit(1)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD_LENGTH:
        err.print(f"[red]✗[/red] the password must have at least {MIN_PASSWORD_LENGTH} characters")
        raise typer.Exit(1)
    return password


def _store(ctx: typer.Context) -> Store:
    from storage.store import Store

    return Store(load_context(ctx.find_root().obj).config.storage.url)


@users_app.command("add")
def add(ctx: typer.Context, name: str = typer.Argument(..., help="login name (letters, digits, . _ -)")) -> None:
    """Create a recruiter account; the password comes from standard input."""
    import re

    from web.repo import RepoError, add_user

    if not re.fullmatch(r"[\w.-]{1,64}", name):
        err.print(f"[red]✗[/red] NAME: '{name}' must be 1–64 letters, digits, '.', '_' or '-'", highlight=False)
        raise typer.Exit(1)
    store = _store(ctx)
    try:
        add_user(store, name, _read_password())
    except RepoError as exc:
        err.print(f"[red]✗[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    err.print(f"user '{name}' added", highlight=False)


@users_app.command("passwd")
def passwd(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Set a new password (from standard input); the user's open sessions end."""
    from web.repo import set_password

    if not set_password(_store(ctx), name, _read_password()):
        err.print(f"[red]✗[/red] no user '{name}'", highlight=False)
        raise typer.Exit(1)
    err.print(f"password of '{name}' changed", highlight=False)


@users_app.command("list")
def list_users(ctx: typer.Context) -> None:
    """The recruiter accounts, one name per line."""
    from web.repo import user_names

    for name in user_names(_store(ctx)):
        print(name)
