#!/usr/bin/env bash
# Print the Python interpreter `make` builds .venv with: Python 3.12 (the version the suite is tested on) from
# PATH or pyenv, else a later 3.x that runs, else python3; on Python < 3.12 the hwcomponents energy models do not
# install, the derived energy tables are unavailable and their tests skip.
set -u
root="${PYENV_ROOT:-$HOME/.pyenv}"
candidates=(python3.12 "$root"/versions/3.12*/bin/python3 python3.13 "$root"/versions/3.1[3-9]*/bin/python3)
for python in "${candidates[@]}"; do
    if "$python" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
        command -v "$python"
        exit 0
    fi
done
echo python3
