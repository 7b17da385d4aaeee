"""premortem: runs the postmortem before the incident."""
__version__ = "0.1.0"
