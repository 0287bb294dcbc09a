"""openscout: a self-hosted server for the Help Scout Mailbox API's customers."""

__version__ = "0.1.0"
