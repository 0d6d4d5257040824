"""The `reconciler` command: Terraform's verbs and exit codes over the library.

Exit codes: 0 success (and, with `--detailed-exitcode`, no changes), 1 error, 2 changes present
(with `--detailed-exitcode`). User errors print one clear message, never a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from reconciler.cli import output
from reconciler.errors import ReconcilerError

# rich_markup_mode=None: plain help, like click's; typer's rich help labels every flag `<bool>`
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="Schema-as-code for Notion and Supabase: plan and apply from YAML.")
local_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                        help="The local Notion: a Notion-compatible workspace on disk.")
app.add_typer(local_app, name="local")

DirOption = Annotated[Optional[Path], typer.Option(
    "--dir", "-d", metavar="DIR", help="Project root (holds reconciler.yaml or schemas/). Default: search up "
    "from the current directory.")]


def _debug(ctx: typer.Context, value: bool) -> bool:
    """`--debug`, before or after the command name: DEBUG logging until the command ends."""
    from reconciler.cli.debug import debug_logging, protect_loggers

    protect_loggers()
    root = ctx.find_root()
    if value and not root.meta.get("reconciler.debug"):
        root.meta["reconciler.debug"] = True
        root.with_resource(debug_logging())
    return value


#: `--debug` on the app and on every command (`reconciler --debug plan` = `reconciler plan
#: --debug`); the callback acts on it, the commands never see it.
DebugOption = Annotated[bool, typer.Option(
    "--debug", callback=_debug, expose_value=False, is_eager=True,
    help="Log every HTTP request and SQL statement (with timings) to stderr. Tokens and "
    "passwords are masked.")]


def user_errors(fn: Callable) -> Callable:
    """Turn `ReconcilerError` into `Error: …` on stderr and exit code 1 (sensitive values the
    message would quote masked: `reconciler.redact`)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ReconcilerError as exc:
            from reconciler.redact import redact

            output.error(redact(str(exc)))
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            output.error("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:
            if _is_notion_refusal(exc):  # one no layer turned into a ReconcilerError
                from reconciler.backends.notion.client import notion_refusal
                from reconciler.redact import redact

                output.error(redact(f"Notion refused a request: {notion_refusal(exc)}"))
                raise typer.Exit(1) from None
            if not _is_transport_error(exc):
                raise
            from reconciler.cli.debug import mask_secrets  # the network failed past every retry

            where = exc.request.url.copy_with(username=None, password=None, query=None) \
                if _has_request(exc) else "the server"
            from reconciler.redact import redact

            output.error(redact(mask_secrets(f"cannot reach {where}: {type(exc).__name__}: "
                                             f"{exc}")))
            raise typer.Exit(1) from None

    return wrapper


def _is_transport_error(exc: Exception) -> bool:
    """An `httpx.TransportError`, without importing httpx for it: when no command has
    imported httpx, no exception can be one (start-up stays cheap: issue 15 point 1)."""
    httpx = sys.modules.get("httpx")
    return httpx is not None and isinstance(exc, httpx.TransportError)


def _is_notion_refusal(exc: Exception) -> bool:
    """A notion-client `APIResponseError` (Notion answered with an error), without importing
    notion-client for it (as `_is_transport_error`)."""
    errors = sys.modules.get("notion_client.errors")
    return errors is not None and isinstance(exc, errors.APIResponseError)


def _has_request(exc) -> bool:
    try:
        exc.request  # noqa: B018  (raises RuntimeError when the error has no request)
        return True
    except RuntimeError:
        return False


def _version(value: bool) -> None:
    if value:
        from reconciler import __version__

        output.out.print(f"reconciler {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    debug: DebugOption = False,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, expose_value=False, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """Schema-as-code for Notion and Supabase: plan and apply from YAML."""


from reconciler.cli import commands, apply, admin, local_sql  # noqa: E402,F401,I001  (registers the commands)
from reconciler.cli import ops  # noqa: E402,F401,I001  (init, import, status, doctor, graph)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="reconciler")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
