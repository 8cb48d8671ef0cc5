"""The ``dosing`` command line: it parses arguments and renders results, nothing more."""
