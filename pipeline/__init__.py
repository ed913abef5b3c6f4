"""LiveKit adapter: provider registry, the interviewing agent and its tools, session wiring, worker.

Modules, outside in:

* `worker` — the AgentServer (explicit dispatch, prewarm, metadata preset); `tokens` — candidate join tokens;
  `console` — typed interviews in a terminal.
* `session` — one interview: engine + agent + AgentSession, turns persisted as they happen, evaluation once.
* `agent` — the interviewing agents (tool-driven, guided, verbatim); `driver` — every engine call they make and
  what to say next; `phrasing` — each step worded for the LLM and as exact words; `acknowledge` — the LLM's short,
  sanitised acknowledgement (verbatim mode); `introduction` — reading a candidate's introduction without an LLM.
* `transcript` — LiveKit conversation items to turns; `journal` — the per-interview JSON-lines sink;
  `ports` — what the pipeline needs from storage and evaluation.
* `providers` — cloud and OpenAI-compatible providers, stacks and fallback chains, on `registry` and `settings`;
  `local/` — the offline stack; `audio_io` — WAV-file microphone and speaker for roomless sessions.

pipeline/ imports engine/ and livekit, never sima/, evaluation/ or storage/.
"""
