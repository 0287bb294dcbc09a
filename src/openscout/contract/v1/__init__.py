"""The Help Scout Mailbox API 1.0 wire format (spec: shared/spec/helpscout-v1-customers.md)."""
