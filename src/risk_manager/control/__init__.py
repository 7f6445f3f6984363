"""The daemon's control API on loopback (SPEC §6): admin actions behind the password."""
