"""The Help Scout Mailbox API 2.0 wire format of customers (spec: helpscout-v2-customers.md)."""
