"""Fakes at the network edge: provider APIs served on 127.0.0.1 for the real clients."""
