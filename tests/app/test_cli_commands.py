"""The ``dosing`` command table: each command loads only when it runs, and the one-line help the
table prints for ``dosing --help`` is the command's own."""

import subprocess
import sys

import pytest

from scheduler.app.cli import COMMANDS, load_command


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_table_help_is_the_command_help(name):
    assert load_command(name).get_short_help_str(10_000) == COMMANDS[name][2]


def test_help_lists_every_command_without_importing_the_database_layer():
    """Start-up time is what the import costs (measured by the write benchmark's note, not
    here): ``dosing --help`` must not pull in SQLAlchemy, the models or a feature."""
    script = (
        "import sys\n"
        "from scheduler.app.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = [m for m in ('sqlalchemy', 'sqlmodel', 'scheduler.models', 'scheduler.subjects')"
        " if m in sys.modules]\n"
        "print('LOADED', loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "LOADED []" in done.stdout
    for name in COMMANDS:
        assert f"  {name} " in done.stdout


def test_an_unknown_command_is_refused_with_exit_2(capsys):
    from scheduler.app.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["no-such-command"])
    assert exited.value.code == 2
    assert "no-such-command" in capsys.readouterr().err
