"""Scale out on Celery: workers run incremental cycles and backfill chunks that `udc run --executor celery` sends.

`udc.scale.app` builds the Celery app from `UDC_BROKER_URL` (Redis by default, RabbitMQ accepted); `udc.scale.tasks`
holds the two tasks, `udc.cycle` and `udc.chunk`, and the executor the scheduler sends them through. Guarantees come
from the store, not from Celery: a cycle holds its pipeline's lock, a chunk is claimed under a lease in the ledger,
and every page commits with its position, so a worker killed anywhere loses and doubles nothing.
"""
