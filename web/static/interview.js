// Shared by the voice and typed interview pages: the transcript on screen, the phase and time left, the end screen.
"use strict";
window.SIMA = (() => {
  const log = () => document.getElementById("log");
  const lines = new Map(); // segment id -> element, so a streamed transcription updates its own line
  let deadlines = null; // {phase: ms, total: ms} on this page's clock
  const PHASES = {introduction: "Introduction", experience: "Experience", technical: "Technical",
                  behavioral: "Behavioural", scenario: "Scenario", wrap_up: "Wrap-up", ended: "Finished"};

  function fmt(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  function tick() {
    if (!deadlines) return;
    const now = Date.now();
    document.getElementById("phase-left").textContent = fmt(deadlines.phase - now);
    document.getElementById("total-left").textContent = fmt(deadlines.total - now);
  }
  setInterval(tick, 1000);

  function progress(attrs) {
    const phase = attrs["sima.phase"];
    if (!phase) return;
    document.getElementById("phase").textContent = PHASES[phase] || phase;
    const now = Date.now();
    deadlines = {phase: now + 1000 * Number(attrs["sima.phase_seconds_left"] || 0),
                 total: now + 1000 * Number(attrs["sima.seconds_left"] || 0)};
    tick();
  }

  function say(who, text, segment) {
    let line = segment ? lines.get(segment) : null;
    if (!line) {
      line = document.createElement("div");
      line.className = `line ${who === "SIMA" ? "agent" : "candidate"}`;
      const name = document.createElement("strong");
      name.textContent = who;
      const body = document.createElement("p");
      line.append(name, body);
      log().append(line);
      if (segment) lines.set(segment, line);
    }
    line.querySelector("p").textContent = text; // text, never HTML: transcripts are untrusted
    log().scrollTop = log().scrollHeight;
  }

  function end() {
    document.getElementById("interview").classList.add("hidden");
    const mic = document.getElementById("mic-check");
    if (mic) mic.classList.add("hidden");
    document.getElementById("end").classList.remove("hidden");
  }

  // Enter sends, Shift+Enter makes a new line.
  function answerBox(onAnswer) {
    const form = document.getElementById("answer-form");
    const box = document.getElementById("answer");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = box.value.trim();
      if (!text) return;
      box.value = "";
      onAnswer(text);
    });
    box.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
    });
  }

  return {progress, say, end, answerBox};
})();
