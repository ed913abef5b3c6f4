"""LiveKit adapter: provider registry, the interviewing agent and its tools, session wiring, worker."""
