"""Storage backends shipped with stockkit, each registered as a plugin."""
