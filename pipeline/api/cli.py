"""``claimcheck api`` and ``claimcheck tokens``: the intake API's server and its tokens."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ["tokens_app", "api"]

tokens_app = typer.Typer(no_args_is_help=True, help="API tokens for `claimcheck api` (shown once, stored hashed).")

UsersOpt = Annotated[Optional[Path], typer.Option(
    "--users", help="Reviewers' TOML file; tokens.toml sits beside it (default: $CLAIMCHECK_USERS, else "
                    "~/.config/claimcheck/users.toml).")]


@tokens_app.command("add")
def tokens_add(
    name: Annotated[str, typer.Argument(help="Who or what uses the token (a portal's name).")],
    scope: Annotated[str, typer.Option("--scope", help="Comma-separated: claims:write, claims:read.")] = "claims:read",
    users: UsersOpt = None,
) -> None:
    """Make a token for NAME (replacing its old one); the token is the last line of stdout, shown once."""
    from .tokens import add_token, tokens_file

    path = tokens_file(users)
    try:
        token = add_token(path, name, [s.strip() for s in scope.split(",") if s.strip()])
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"token for {name} ({scope}) stored hashed in {path}; it is shown only now:", err=True)
    typer.echo(token)


@tokens_app.command("revoke")
def tokens_revoke(name: Annotated[str, typer.Argument()], users: UsersOpt = None) -> None:
    """Revoke NAME's token: refused from the next request on."""
    from .tokens import revoke_token, tokens_file

    if not revoke_token(tokens_file(users), name):
        typer.echo(f"error: no active token named {name}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {name}", err=True)


@tokens_app.command("list")
def tokens_list(users: UsersOpt = None) -> None:
    """Tokens by name, scopes and state (never the tokens themselves)."""
    from .tokens import load_tokens, tokens_file

    for t in sorted(load_tokens(tokens_file(users)).values(), key=lambda t: t.name):
        state = f"revoked {t.revoked_at}" if t.revoked_at else "active"
        typer.echo(f"{t.name}\t{','.join(t.scopes)}\tcreated {t.created_at}\t{state}")


def api(
    db: Annotated[str, typer.Option("--db", help="Claim store: uploads, their status and decisions.")] = (
        "sqlite:///out/claimcheck.db"),
    host: Annotated[str, typer.Option(help="Address to listen on (only this machine by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    config: Annotated[Optional[Path], typer.Option(help="Pipeline TOML config merged over the defaults.")] = None,
    api_config: Annotated[Optional[Path], typer.Option(
        "--api-config", help="API TOML settings merged over pipeline/data/api.toml.")] = None,
    users: UsersOpt = None,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Only take uploads; verify them elsewhere.")] = False,
) -> None:
    """The intake API (/api/v1, OpenAPI pages at /api/v1/docs): uploads are verified by an embedded
    worker (or, with PREFECT_API_URL and [prefect].deployment, by that deployment's runs)."""
    import uvicorn

    from ..config import load_config
    from ..db import SqlClaimStore
    from ..errors import ClaimcheckError
    from .app import create_api_app
    from .settings import load_api_settings
    from .tokens import TokenBook, load_tokens, tokens_file

    try:
        cfg = load_config(config)
        settings = load_api_settings(api_config)
        settings.webhook.secret()  # a webhook URL without a secret is refused here, not at the first decision
        store = SqlClaimStore(db)
    except ClaimcheckError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    path = tokens_file(users)
    if not any(t.active for t in load_tokens(path).values()):
        typer.echo(f"warning: no API tokens in {path}: add one with `claimcheck tokens add NAME --scope ...`",
                   err=True)
    app = create_api_app(store, cfg, settings, TokenBook(path), db_url=db, run_worker=not no_worker,
                         config_path=str(config) if config else None)
    typer.echo(f"intake API on http://{host}:{port}/api/v1 (store {db}, claims in {settings.intake.root})", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=10)
