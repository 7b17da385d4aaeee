"""Rules of the dependencies family."""
