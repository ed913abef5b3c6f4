// The typed interview: a WebSocket to SIMA's own server, no LiveKit.
"use strict";
(() => {
  const section = document.getElementById("interview");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}${section.dataset.socket}`);
  const box = document.getElementById("answer");
  const send = document.getElementById("send");
  let over = false;

  // The engine reports "ended" before the goodbye is shown: from then on an answer would reach nobody.
  function closing() {
    box.disabled = send.disabled = true;
    box.placeholder = "The interview is over. Saving it\u2026";
  }

  function finish() {
    if (over) return;
    over = true;
    closing();
    SIMA.end();
  }

  socket.addEventListener("open", () => { box.disabled = send.disabled = false; box.focus(); });
  socket.addEventListener("message", (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "say") SIMA.say("SIMA", msg.text);
    else if (msg.type === "progress") {
      SIMA.progress(msg);
      if (msg["sima.phase"] === "ended") closing();
    }
    else if (msg.type === "end") finish();
  });
  socket.addEventListener("close", finish);
  SIMA.answerBox((text) => {
    if (over) return;
    SIMA.say("You", text);
    socket.send(JSON.stringify({type: "answer", text}));
  });
})();
