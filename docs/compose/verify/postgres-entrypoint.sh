#!/bin/sh
# The official postgres image's contract, reduced: POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB, data in PGDATA.
# UTF8 as its en_US.utf8 (a SQL_ASCII database hands udc bytes: `udc status` fails). Like it, the first start
# initialises through a temporary server listening on the unix socket only.
set -eu
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA" && chown postgres "$PGDATA" && chmod 700 "$PGDATA"
    printf '%s\n' "$POSTGRES_PASSWORD" > /tmp/pwfile && chown postgres /tmp/pwfile
    gosu() { su postgres -s /bin/sh -c "$*"; }
    gosu "$PG/initdb -D $PGDATA -U $POSTGRES_USER --pwfile=/tmp/pwfile --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256"
    rm /tmp/pwfile
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    gosu "$PG/pg_ctl -D $PGDATA -o \"-c listen_addresses=''\" -w start"
    [ "$POSTGRES_DB" = postgres ] || gosu "createdb -U $POSTGRES_USER $POSTGRES_DB"
    gosu "$PG/pg_ctl -D $PGDATA -m fast -w stop"
fi
[ "$1" = postgres ] && exec su postgres -s /bin/sh -c "exec $PG/postgres -D $PGDATA"
exec "$@"
