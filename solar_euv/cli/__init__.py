"""Command line interface: ``solar-euv <command>`` (one module per command)."""
__all__ = []
