// The voice interview: microphone check, then the LiveKit room with the token SIMA minted for this interview only.
"use strict";
(() => {
  const LK = window.LivekitClient;
  const check = document.getElementById("mic-check");
  const joinButton = document.getElementById("join");
  const status = document.getElementById("mic-status");
  const csrf = document.querySelector('meta[name="sima-csrf"]').content;
  let testStream = null;

  async function testMicrophone() {
    try {
      testStream = await navigator.mediaDevices.getUserMedia({audio: true});
    } catch (err) {
      status.textContent = "We cannot use your microphone: allow it in the browser, then try again.";
      return;
    }
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    ctx.createMediaStreamSource(testStream).connect(analyser);
    const samples = new Uint8Array(analyser.fftSize);
    const fill = document.getElementById("meter-fill");
    let heard = false;
    (function draw() {
      analyser.getByteTimeDomainData(samples);
      const peak = samples.reduce((m, v) => Math.max(m, Math.abs(v - 128)), 0) / 128;
      fill.setAttribute("width", String(Math.round(peak * 100)));
      if (peak > 0.05 && !heard) { heard = true; status.textContent = "We can hear you."; }
      if (testStream) requestAnimationFrame(draw);
    })();
    status.textContent = "Microphone on: say something.";
    joinButton.disabled = false;
  }

  function showError(text) {
    const el = document.getElementById("join-error");
    el.textContent = text;
    el.classList.remove("hidden");
  }

  async function join() {
    joinButton.disabled = true;
    if (testStream) { testStream.getTracks().forEach((t) => t.stop()); testStream = null; }
    const reply = await fetch(check.dataset.join, {method: "POST", headers: {"X-CSRF-Token": csrf}});
    const body = await reply.json();
    if (!reply.ok) { showError(body.error || "The interview cannot start."); return; }
    const room = new LK.Room();
    room.registerTextStreamHandler("lk.transcription", async (reader, from) => {
      const who = from.identity === room.localParticipant.identity ? "You" : "SIMA";
      const segment = reader.info.attributes["lk.segment_id"] || reader.info.id;
      let text = "";
      for await (const chunk of reader) { text += chunk; SIMA.say(who, text, segment); }
    });
    room.on(LK.RoomEvent.ParticipantAttributesChanged, (_changed, participant) => {
      if (participant !== room.localParticipant) SIMA.progress(participant.attributes);
    });
    room.on(LK.RoomEvent.TrackSubscribed, (track) => {
      if (track.kind === "audio") document.body.append(track.attach());
    });
    room.on(LK.RoomEvent.Disconnected, () => SIMA.end());
    try {
      await room.connect(body.url, body.token);
      await room.localParticipant.setMicrophoneEnabled(true);
    } catch (err) {
      showError("Could not connect to the interview room. Check your connection and reload the page.");
      return;
    }
    check.classList.add("hidden");
    document.getElementById("interview").classList.remove("hidden");
    for (const p of room.remoteParticipants.values()) SIMA.progress(p.attributes);
    SIMA.answerBox(async (text) => {
      SIMA.say("You", text);
      await room.localParticipant.sendText(text, {topic: "lk.chat"});
    });
    document.getElementById("leave").addEventListener("click", () => room.disconnect());
  }

  document.getElementById("mic-test").addEventListener("click", testMicrophone);
  joinButton.addEventListener("click", join);
})();
