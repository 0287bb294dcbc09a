"""Customer webhooks from a durable outbox (docs/webhooks.md).

- `events`: what the service's writes call inside their transaction to record an event;
- `service`: the use cases of subscriptions and deliveries (one transaction each);
- `targets`: which receivers `--webhook-allow` lets the server call;
- `delivery`: the deliverer, which claims due deliveries and POSTs them.
"""
