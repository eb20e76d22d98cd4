# Stand-in for python:3.11-slim (Docker Hub unreachable): Debian bookworm's Python 3.11 with pip, installing into the
# system like the official image does. ca-certificates.crt is this machine's bundle (copied in by check.sh), which
# trusts the proxy PyPI is reached through.
FROM local/debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* /usr/lib/python3.11/EXTERNALLY-MANAGED \
    && ln -s /usr/bin/python3 /usr/local/bin/python && ln -sf /usr/bin/pip3 /usr/local/bin/pip
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
