#!/usr/bin/env bash
# What `make test` needs from the machine, installed or started when missing:
#   - Chromium and its driver, for the browser tests (Debian packages; never `playwright install`);
#   - npm, which fetches the pinned front-end files;
#   - LibreOffice Calc without its interface, which must open every workbook Matrica writes;
#   - a PostgreSQL server answering on 127.0.0.1:5432 with trust authentication and a `test`
#     database: the packaged cluster is started, or a throwaway one is made under /tmp.
# Installing needs root (or password-less sudo); without it the script says what to install.
set -euo pipefail

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
  else return 1
  fi
}

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v pg_isready >/dev/null 2>&1 || missing+=(postgresql postgresql-client)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-calc-nogui)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "make test: installing ${missing[*]} from Debian (once)"
  if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive \
         apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    echo "make test: could not install ${missing[*]}: run as root (or with sudo), or install them:" >&2
    echo "    apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "make test: PostgreSQL is not answering on 127.0.0.1:5432; starting it"
  if [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql)" ]; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    # A throwaway cluster with trust authentication, owned by the postgres user.
    bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
    datadir="$(mktemp -d /tmp/matrica-pg.XXXXXX)"
    as_root chown postgres "$datadir"
    as_root su postgres -c "$bindir/initdb --auth=trust -U postgres -D $datadir" >/dev/null
    as_root su postgres -c "$bindir/pg_ctl -D $datadir -o '-k /tmp -h 127.0.0.1 -p 5432' -l $datadir/log start -w" >/dev/null
  fi
fi
if pg_isready -q -h 127.0.0.1 -p 5432; then
  psql -h 127.0.0.1 -U postgres -lqt | cut -d'|' -f1 | grep -qw test \
    || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null
fi
