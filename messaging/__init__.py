"""Threads, messages, translations, deliveries and the channels that carry them."""
