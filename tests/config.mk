# Check suite for runtime/config.c.
