"""Simulated candidates: personas in YAML that answer the agent by voice (Piper) or text, for dry runs and demos."""
