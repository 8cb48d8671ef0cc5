#!/usr/bin/env bash
# The two commands of the README:
#   ./dev.sh demo [--port N] [--reset]   set up, load the demo trial into dosing.db (SQLite) and
#                                        serve it on :8000 (or N, or $PORT); --reset starts afresh
#   ./dev.sh test   set up (virtualenv, PostgreSQL if missing) and run every check and test
set -euo pipefail
cd "$(dirname "$0")"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_venv() {
    if [ ! -x .venv/bin/dosing ] || [ pyproject.toml -nt .venv/.installed ]; then
        python3 -m venv .venv || {
            as_root apt-get update -qq
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
            python3 -m venv .venv
        }
        .venv/bin/python -m pip install -q -U pip
        .venv/bin/python -m pip install -q -e '.[dev]'
        touch .venv/.installed
    fi
}

ensure_postgres() {
    if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
        return
    fi
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        echo "installing PostgreSQL from Debian's packages" >&2
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    if ! as_root grep -q "^host all all 127.0.0.1/32 trust" "$hba"; then
        as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    fi
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || \
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && return
        sleep 1
    done
    echo "PostgreSQL did not start on 127.0.0.1:5432" >&2
    exit 1
}

ensure_chromium() {
    # Browser tests drive Debian's Chromium (never a browser Playwright downloads). When it
    # cannot be installed here, pytest skips only those tests and says how to install it.
    # A Chinese font, so the Chinese handout prints as it will at the site (one A4 page).
    if [ -x /usr/bin/chromium ] && command -v chromedriver >/dev/null &&
        [ -n "$(fc-list :lang=zh 2>/dev/null)" ]; then
        return
    fi
    echo "installing Chromium and a Chinese font from Debian's packages" >&2
    { as_root apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
            fonts-wqy-zenhei >/dev/null; } ||
        echo "could not install chromium; browser tests will be skipped" >&2
}

ensure_node() {
    # The ical.js feed consumer runs under node, with ical.js from the npm registry.
    if command -v node >/dev/null && command -v npm >/dev/null; then
        return
    fi
    echo "installing node and npm from Debian's packages" >&2
    { as_root apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm \
            >/dev/null; } || echo "could not install node; the ical.js consumer tests will be skipped" >&2
}

case "${1:-}" in
    demo)
        shift
        port="${PORT:-8000}"
        reset=()
        while [ $# -gt 0 ]; do
            case "$1" in
                --port) port="${2:?--port needs a number}"; shift 2 ;;
                --port=*) port="${1#--port=}"; shift ;;
                --reset) reset=(--reset); shift ;;
                *) echo "usage: ./dev.sh demo [--port N] [--reset]" >&2; exit 2 ;;
            esac
        done
        ensure_venv
        .venv/bin/dosing demo "${reset[@]}"
        echo
        echo "serving on http://127.0.0.1:$port/ (log in as demo-nurse, password demo-password; Ctrl-C to stop)"
        exec .venv/bin/dosing serve --port "$port"
        ;;
    test)
        ensure_venv
        ensure_postgres
        ensure_chromium
        ensure_node
        .venv/bin/ruff check .
        .venv/bin/ruff format --check .
        .venv/bin/lint-imports
        .venv/bin/mypy scheduler calendars
        # Two workers (xdist): each migrates its own template databases once; the browser tests
        # share one worker, and so one server and one Chromium (tests/browser/conftest.py).
        DOSING_REQUIRE_POSTGRES=1 exec .venv/bin/pytest -q -n 2 --dist loadgroup
        ;;
    *)
        echo "usage: ./dev.sh demo [--port N] [--reset] | ./dev.sh test" >&2
        exit 2
        ;;
esac
