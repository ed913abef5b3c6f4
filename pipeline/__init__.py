"""LiveKit adapter: provider registry, the interviewing agent and its tools, session wiring, worker.

Modules, outside in:

* `worker` — the AgentServer (explicit dispatch, prewarm, metadata preset); `tokens` — candidate join tokens;
  `console` — typed interviews in a terminal.
* `session` — one interview: engine + agent + AgentSession, turns persisted as they happen, evaluation once.
* `agent` — the interviewing agents (tool-driven and guided); `driver` — every engine call they make and what the
  LLM is told to say; `introduction` — reading a candidate's introduction without an LLM (guided mode).
* `transcript` — LiveKit conversation items to turns; `journal` — the per-interview JSON-lines sink;
  `ports` — what the pipeline needs from storage and evaluation.
* `providers` — cloud and OpenAI-compatible providers, stacks and fallback chains, on `registry` and `settings`;
  `local/` — the offline stack; `audio_io` — WAV-file microphone and speaker for roomless sessions.

pipeline/ imports engine/ and livekit, never sima/, evaluation/ or storage/.
"""
