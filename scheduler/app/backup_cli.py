"""`dosing backup FILE` and `dosing restore FILE`: a SQLite database copied while in use, and
restored into an empty database (``scheduler.backup``; PostgreSQL uses pg_dump/pg_restore)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scheduler import backup as backups
from scheduler.cli.options import DbOption, database_url

FileArgument = Annotated[Path, typer.Argument(help="The backup file")]


def backup(file: FileArgument, db: DbOption = None) -> None:
    """Copy the database to a new FILE while it stays in use, and check the copy."""
    backups.backup(database_url(db), file)
    typer.echo(f"backed up to {file} (integrity check ok)")


def restore(file: FileArgument, db: DbOption = None) -> None:
    """Restore the backup FILE into an empty database (a new file)."""
    url = database_url(db)
    backups.restore(file, url)
    typer.echo(
        f"restored {file} into {backups.sqlite_file(url)}; run `dosing init` if it is an older "
        "schema, then `dosing audit verify` to check its audit trail"
    )
