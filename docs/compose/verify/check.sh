#!/bin/sh
# Runs docs/compose for real and checks it: the shipped docker-compose.yml, Dockerfile and udc.yaml unchanged, plus
# verify/docker-compose.verify.yml (the ServiceNow simulator as the source, udc.yaml pointed at it). Runs the compose
# file's head-comment commands — up with 4 workers, queue the 90-day backfill, watch it — then checks that PostgreSQL
# holds exactly the simulator's records of that range and that `udc serve` answers (401 without the token).
#
# Needs a Docker daemon and docker-compose (or COMPOSE="docker compose"). On the machine it was first run on (a VM,
# root): apt-get install docker.io docker-compose debootstrap, then
#   dockerd --data-root /tmp/dockerd/root --exec-root /tmp/dockerd/exec --pidfile /tmp/dockerd/pid &
# STANDINS=1 (the default) first builds stand-ins for python:3.11-slim, postgres:16 and redis:7 from Debian
# packages, for a machine that cannot reach Docker Hub; they take those names in the local daemon
# only. KEEP=1 leaves the stack running.
set -eu
cd "$(dirname "$0")/.."
export COMPOSE_FILE=docker-compose.yml:verify/docker-compose.verify.yml
compose=${COMPOSE:-docker-compose}
incidents=3000 changes=1000
export VERIFY_INCIDENTS=$incidents VERIFY_CHANGES=$changes

if [ "${STANDINS:-1}" = 1 ]; then
    if ! docker image inspect local/debian:bookworm >/dev/null 2>&1; then
        rootfs=$(mktemp -d)
        debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
        tar -C "$rootfs" -c . | docker import - local/debian:bookworm
        rm -rf "$rootfs"
    fi
    cp /etc/ssl/certs/ca-certificates.crt verify/  # this machine's roots: PyPI is reached through a TLS proxy
    trap 'rm -f verify/ca-certificates.crt' EXIT
    docker build -q -t python:3.11-slim -f verify/python.Dockerfile verify
    docker build -q -t postgres:16 -f verify/postgres.Dockerfile verify
    docker build -q -t redis:7 -f verify/redis.Dockerfile verify
fi

# the head comment's `cp env.example .env`, with fresh passwords; the config the containers read, at the simulator
if [ ! -e .env ]; then
    (umask 077; sed -n 's/^\([A-Z_]*\)=.*/\1/p' env.example | while read -r name; do
        echo "$name=$(openssl rand -hex 16)"; done > .env)
fi
lab='instance_url: http://snow:8080\n    allow_insecure_http: true   # the simulator, in this network only'
sed -e "s|instance_url: .*|$lab|" udc.yaml > verify/udc.yaml
chmod 644 verify/udc.yaml  # read by the containers' udc user

$compose build -q
$compose up -d --scale worker=4
$compose run --rm scheduler udc backfill --pipeline snow-itsm \
    --start 2025-01-01 --end 2025-04-01 --parallel 8 --queue
tries=0
until $compose run --rm scheduler udc backfill status | tee /dev/stderr | grep '  done  ' >/dev/null; do
    tries=$((tries + 1))
    [ $tries -lt 60 ] || { echo "check: the backfill did not finish in 10 minutes" >&2; exit 1; }
    sleep 10
done

# the simulator's records updated in [2025-01-01, 2025-04-01), computed from its seed, against the store's
expected=$($compose run --rm --no-deps snow python -c "
from udc.simulators.servicenow import ServiceNowSim
sim = ServiceNowSim(counts={'incident': $incidents, 'change_request': $changes})
for t in ('change_request', 'incident'):
    print(f'snow/{t}', sum('2025-01-01 00:00:00' <= r['sys_updated_on'] < '2025-04-01 00:00:00'
                           for r in sim.records(t)))
")
stored=$($compose exec -T postgres psql -U udc -d udc -At -F ' ' \
    -c "SELECT dataset, count(*) FROM records GROUP BY 1 ORDER BY 1")
echo "expected: $expected" | tr '\n' ' '; echo; echo "stored:   $stored" | tr '\n' ' '; echo
[ "$expected" = "$stored" ] || { echo "check: the store does not hold the simulator's records" >&2; exit 1; }

token=$(sed -n 's/^UDC_SERVE_TOKEN=//p' .env)
code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8765/api/backfills)
[ "$code" = 401 ] || { echo "check: udc serve answered $code without the token" >&2; exit 1; }
curl -sf -H "Authorization: Bearer $token" http://127.0.0.1:8765/api/backfills | grep -q '"chunks_done":90'
curl -sf -H "Authorization: Bearer $token" http://127.0.0.1:8765/metrics | grep '^udc_records_stored.*live'
echo "check: OK"
[ "${KEEP:-0}" = 1 ] || $compose down -v
