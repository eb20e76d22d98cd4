# Stand-in for postgres:16: Debian bookworm's PostgreSQL 15 behind a reduced copy of the official entrypoint.
FROM local/debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/run/postgresql && chown postgres /var/run/postgresql
ENV PG=/usr/lib/postgresql/15/bin PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["postgres-entrypoint.sh"]
CMD ["postgres"]
