"""Change events for planning systems: CloudEvents 1.0 in an outbox, POSTed to a webhook (DESIGN §3.6).

No Dagster. Layout under ``$TWIN_HOME/published/events/`` (documented in data_contracts/README.md)::

    outbox/<event id>.json      structured-mode CloudEvents not delivered yet (one file per event)
    delivered/<event id>.json   the same files, moved here once a receiver answered 2xx
    deliveries.jsonl            one line per delivery attempt (event id, status, time, redacted target)

``outbox.write_events`` compares a new publication with the version that was current before it and writes
one event per change, each atomically (``write_text_atomically``). Event ids are derived from the
publication id, the type, the subject and the bucket/scenario, so writing the events of a
publication again gives the same files (a retried write is idempotent) and an event that was
already delivered is not queued again. ``delivery.deliver_events`` POSTs the outbox, oldest first; an event
leaves the outbox only after a 2xx, so a receiver that is down loses nothing: the next call retries.
The webhook URL is a secret (its path carries a token): only ``redact_url`` of it is ever logged,
recorded or put into a message.
"""
