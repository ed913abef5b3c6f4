"""For the web tests: a config on a scripted model server, the app served for real on 127.0.0.1, a scripted judge.

The judge's replies are made from the JSON schema the judge itself sends (`response_format`), so they follow the
assessment's current reply format whatever it is; the interviewer's replies are short acknowledgements (the profile
is guided and verbatim: the code chooses and says each question).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import uvicorn
import yaml

from tests.support.openai_server import Reply, ScriptedOpenAI

ROOT = Path(__file__).resolve().parents[2]
ACK = "Thank you, that is helpful."


def schema_instance(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """A small value valid against `schema` (objects with their required keys, the fewest array items).

    >>> schema_instance({"type": "object", "required": ["score"], "properties": {
    ...     "score": {"type": "integer", "minimum": 1, "maximum": 10}, "notes": {"type": "string"}}})
    {'score': 7}
    """
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return schema_instance(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return schema_instance(options[0], defs)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: schema_instance(props[k], defs) for k in schema.get("required", props)}
    if kind == "array":
        return [schema_instance(schema.get("items", {}), defs) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", 1), schema.get("maximum", 10)
        value = min(max(7, low), high)
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return False
    text = "The candidate answered the question."
    return text[: schema.get("maxLength", len(text))].ljust(schema.get("minLength", 0), ".")


def _schema(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format") or {}
    return (fmt.get("json_schema") or {}).get("schema") or fmt.get("schema")


def respond(body: dict[str, Any]) -> Reply:
    """The judge gets a reply valid against its schema; the interviewer an acknowledgement."""
    schema = _schema(body)
    if schema is not None:
        import json

        return Reply(text=json.dumps(schema_instance(schema)))
    return Reply(text=ACK)


def write_config(folder: Path, llm_url: str) -> Path:
    """The shipped config.yaml with a profile on the scripted server, a short interview and its own folders."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["profiles"]["web-test"] = {
        "stt": {"provider": "openai"}, "tts": {"provider": "openai"},
        "llm": {"provider": "openai-compatible", "base_url": llm_url, "model": "scripted-model"},
        "judge": {"provider": "openai", "base_url": llm_url, "model": "judge-model"},
        "guided": True, "phrasing": "verbatim", "judge_samples": 1}
    config["profile"] = "web-test"
    # 22 minutes as shipped, but one or two questions per phase, so six phases pass in a dozen typed answers
    for phase in config["interview"]["phases"].values():
        phase |= {"min_questions": 1, "max_questions": 1}
    config["evaluation"] |= {"backoff_seconds": 0, "output_dir": str(folder / "evaluations")}
    config["storage"] = {"url": f"sqlite:///{folder / 'sima.db'}"}
    config["paths"] |= {"question_banks": str(ROOT / "question_banks"),
                        "prompt_templates": str(ROOT / "prompt_templates"), "runs": str(folder / "runs"),
                        "cache": str(ROOT / config["paths"]["cache"])}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def scripted_model() -> Iterator[ScriptedOpenAI]:
    """The scripted OpenAI-compatible server, on a loop of its own (the browser tests are synchronous)."""
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        holder["stop"] = stop = asyncio.Event()
        async with ScriptedOpenAI(respond) as server:
            holder["server"] = server
            ready.set()
            await stop.wait()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield holder["server"]
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(10)


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def wait_for(check: Callable[[], bool], seconds: float = 30) -> bool:
    for _ in range(int(seconds * 20)):
        if check():
            return True
        threading.Event().wait(0.05)
    return check()
