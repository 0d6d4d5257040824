"""typer's `CliRunner`, with the app's click command built once per process.

`typer.testing.CliRunner.invoke` turns the Typer app into a click command on every call
(`typer.main.get_command`: about 20 ms for this app's commands, which the suite's thousands of
invocations added up to a sixth of its CPU time). This runner builds it once per app and runs
it in typer's own isolation (`CliRunner.isolation`), exactly as typer's `invoke` does after that
step: same streams, same exit codes, same `Result`.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import typer
import typer.main
import typer.testing
from typer.testing import Result


class CliRunner(typer.testing.CliRunner):
    """`typer.testing.CliRunner` whose `invoke` reuses the app's click command."""

    _commands: dict[int, tuple[typer.Typer, Any]] = {}

    def command(self, app: typer.Typer) -> Any:
        """The click command of `app`, built on first use (every command module is imported by
        `reconciler.cli` before any test runs one)."""
        made = self._commands.get(id(app))
        if made is None or made[0] is not app:
            made = self._commands[id(app)] = (app, typer.main.get_command(app))
        return made[1]

    def invoke(self, app: typer.Typer, args: str | Sequence[str] | None = None,
               input: bytes | str | None = None, env: Mapping[str, str | None] | None = None,
               catch_exceptions: bool = True, color: bool = False, **extra: Any) -> Result:
        cli = self.command(app)
        exc_info = None
        with self.isolation(input=input, env=env, color=color) as outstreams:
            return_value = None
            exception: BaseException | None = None
            exit_code = 0
            if isinstance(args, str):
                args = shlex.split(args)
            prog_name = extra.pop("prog_name", None) or self.get_default_prog_name(cli)
            try:
                return_value = cli.main(args=args or (), prog_name=prog_name, **extra)
            except SystemExit as e:
                exc_info = sys.exc_info()
                code = 0 if e.code is None else e.code
                if code != 0:
                    exception = e
                if not isinstance(code, int):
                    sys.stdout.write(f"{code}\n")
                    code = 1
                exit_code = code
            except Exception as e:
                if not catch_exceptions:
                    raise
                exception, exit_code, exc_info = e, 1, sys.exc_info()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                stdout, stderr, output = (s.getvalue() for s in outstreams)
        return Result(runner=self, stdout_bytes=stdout, stderr_bytes=stderr, output_bytes=output,
                      return_value=return_value, exit_code=exit_code, exception=exception,
                      exc_info=exc_info)
