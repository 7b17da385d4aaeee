"""Rules of the images family."""
