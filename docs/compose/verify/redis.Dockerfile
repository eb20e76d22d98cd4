# Stand-in for redis:7: Debian bookworm's Redis 7.0. The official image builds Redis with protected mode off, so
# other containers can connect without a password; the entrypoint does the same.
FROM local/debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*
ENTRYPOINT ["sh", "-c", "[ \"$1\" != redis-server ] || { shift; set -- redis-server --protected-mode no \"$@\"; }; \
exec \"$@\"", "entrypoint"]
CMD ["redis-server"]
