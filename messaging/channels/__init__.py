"""The channels that carry messages to families: SMS backends here; email is Django's."""
