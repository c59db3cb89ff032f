// The page: play IMPS with on-screen controls (sent as /interface over the OSC
// WebSocket, as a browser instrument would), hear and see its /predictions, watch the
// last 20 s as lanes, and send the commands. No framework, no build step.
"use strict";

const WINDOW = 20;  // seconds of the watch view
const you = [], model = [];  // per control: the value shown
const lanes = [];  // [{model: bool, t: seconds on this page's clock, values}]
let csrf = null, osc = null, audio = null, heard = 0, offset = null, controls = 0, shownRate = 0, stateSeen = false;

const $ = id => document.getElementById(id);
const wsUrl = path => (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;

// --- sound: a short blip per event and control; yours on the left, the model's on the right
function blip(values, isModel) {
  if (!audio) return;
  const now = audio.currentTime;
  const pan = new StereoPannerNode(audio, {pan: isModel ? 0.6 : -0.6});
  pan.connect(audio.destination);
  values.forEach((v, i) => {
    const osc = new OscillatorNode(audio, {type: isModel ? "triangle" : "sine",
                                           frequency: 110 * Math.pow(2, 4 * v + i * 0.25)});
    const gain = new GainNode(audio, {gain: 0});
    gain.gain.linearRampToValueAtTime(0.15 / values.length, now + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.3);
    osc.connect(gain).connect(pan);
    osc.start(now);
    osc.stop(now + 0.32);
  });
}

$("sound").addEventListener("click", () => {
  if (!audio) audio = new AudioContext();  // a browser starts sound only on a gesture
  const on = $("sound").getAttribute("aria-pressed") !== "true";
  (on ? audio.resume() : audio.suspend());
  $("sound").setAttribute("aria-pressed", String(on));
  $("sound").textContent = on ? "Sound off" : "Sound on";
});

// --- playing: faders, or an XY pad for two controls
function play() {
  if (osc && osc.readyState === WebSocket.OPEN) osc.send(oscMessage("/interface", you));
  blip(you, false);
}

function buildFaders(parent, values, editable) {
  const shown = [];
  for (let i = 0; i < controls; i++) {
    if (editable) {
      const fader = document.createElement("input");
      Object.assign(fader, {type: "range", min: 0, max: 1, step: 0.001, value: 0.5, className: "fader"});
      fader.dataset.index = i;
      fader.setAttribute("aria-label", `control ${i + 1}`);
      fader.addEventListener("input", () => { values[i] = Number(fader.value); play(); });
      parent.append(fader);
    } else {
      const bar = document.createElement("div");
      bar.className = "bar";
      bar.dataset.index = i;
      const fill = document.createElement("div");
      fill.style.height = "0%";
      bar.append(fill);
      parent.append(bar);
      shown.push(fill);
    }
  }
  return values => values.forEach((v, i) => { shown[i].style.height = (100 * v).toFixed(1) + "%"; });
}

function buildPad(parent, values, editable) {
  const pad = document.createElement("div");
  pad.className = "pad" + (editable ? "" : " model");
  const dot = document.createElement("div");
  dot.className = "dot";
  pad.append(dot);
  parent.append(pad);
  const show = v => { dot.style.left = (100 * v[0]) + "%"; dot.style.top = (100 * (1 - v[1])) + "%"; };
  show([0.5, 0.5]);
  if (editable) {
    const move = e => {
      if (e.type !== "pointerdown" && !e.buttons) return;
      const box = pad.getBoundingClientRect();
      values[0] = Math.min(1, Math.max(0, (e.clientX - box.left) / box.width));
      values[1] = Math.min(1, Math.max(0, 1 - (e.clientY - box.top) / box.height));
      show(values);
      play();
    };
    pad.addEventListener("pointerdown", e => { pad.setPointerCapture(e.pointerId); move(e); });
    pad.addEventListener("pointermove", move);
  }
  return show;
}

let showModel = () => {};

function connectOsc() {
  osc = new WebSocket(wsUrl("/ws/osc"));
  osc.binaryType = "arraybuffer";
  osc.onmessage = e => {
    const message = parseOsc(e.data);
    if (!message || message.address !== "/prediction") return;
    heard++;
    $("predictions").textContent = heard;
    model.splice(0, model.length, ...message.args);
    showModel(model);
    blip(model, true);
  };
  osc.onclose = () => setTimeout(connectOsc, 1000);
}

// --- watching
function connectWatch() {
  const watch = new WebSocket(wsUrl("/ws/watch"));
  watch.onopen = () => { $("link").textContent = "connected"; };
  watch.onclose = e => {
    // 1012: IMPS stopped (Ctrl-C); the page reconnects when it plays again.
    $("link").textContent = e.code === 1012 ? "IMPS has stopped: waiting for it to start again" : "disconnected: retrying";
    setTimeout(connectWatch, 1000);
  };
  watch.onmessage = e => {
    const batch = JSON.parse(e.data);
    offset = performance.now() / 1000 - batch.now;
    for (const [isModel, t, values] of batch.events) lanes.push({model: isModel, t: t + offset, values});
    $("behind").textContent = [
      batch.dropped ? `${batch.dropped} events not shown: this page fell behind` : "",
      batch.unshown ? `${batch.unshown} events not drawn: more than ${shownRate} a second` : "",
    ].filter(Boolean).map((line) => `(${line})`).join(" ");
    if (batch.state) showState(batch.state);
  };
}

function showState(s) {
  const late = s.late_ms ? `${s.late_ms.p50.toFixed(2)} ms median, ${s.late_ms.p99.toFixed(2)} ms 99th percentile`
                         : "none sent yet";
  const refused = Object.entries(s.refused).map(([kind, n]) => `${n} ${kind}`).join(", ") || "none";
  const rows = {
    "mode": s.mode + (s.turn ? ` (${s.turn})` : "") + (s.paused ? ", paused" : ""),
    "sampling": s.sigma_temp === null ? "no model" : `σ ${s.sigma_temp}, π ${s.pi_temp}, timescale ${s.timescale}`,
    "events": `${s.events} from you, ${s.predictions} predictions sent`,
    "lateness": late,
    "refused": refused,
    "logging": s.log ? `on, to ${s.log}` : "off",
  };
  const table = $("state");
  table.replaceChildren(...Object.entries(rows).map(([name, value]) => {
    const row = table.insertRow();
    row.insertCell().textContent = name;
    row.insertCell().textContent = value;
    return row;
  }));
  $("mode").value = s.mode;
  if (!stateSeen && s.sigma_temp !== null) {  // the boxes start at the temperatures playing
    $("sigma").value = s.sigma_temp;
    $("pi").value = s.pi_temp;
    $("timescale").value = s.timescale;
  }
  stateSeen = true;
  $("link").textContent = `${s.mode}${s.paused ? " (paused)" : ""}, logging ${s.log ? "on" : "off"}`;
}

function draw() {
  const canvas = $("lanes");
  if (!$("watch").hidden && controls) {
    const g = canvas.getContext("2d");
    const now = performance.now() / 1000;
    while (lanes.length && lanes[0].t < now - WINDOW) lanes.shift();
    g.clearRect(0, 0, canvas.width, canvas.height);
    const h = canvas.height / controls;
    g.strokeStyle = "#ddd";
    for (let i = 1; i < controls; i++) { g.beginPath(); g.moveTo(0, i * h); g.lineTo(canvas.width, i * h); g.stroke(); }
    for (const e of lanes) {
      const x = canvas.width * (1 - (now - e.t) / WINDOW);
      g.fillStyle = e.model ? "#e07a1f" : "#2a6fdb";
      e.values.forEach((v, i) => g.fillRect(x - 1.5, i * h + (1 - v) * (h - 4) + 1, 3, 3));
    }
  }
  requestAnimationFrame(draw);
}

// --- commands: POSTs with the CSRF token
async function command(name, args) {
  const answer = await fetch("/api/command/" + name, {
    method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
    body: JSON.stringify({args}),
  });
  $("answer").textContent = answer.ok ? `${name}: done` : `${name}: refused (${(await answer.json()).error || "bad value"})`;
}

$("mode").addEventListener("change", () => command("mode", [$("mode").value]));
$("pause").addEventListener("click", () => command("pause", [1]));
$("resume").addEventListener("click", () => command("pause", [0]));
$("reset").addEventListener("click", () => command("reset", []));
$("temperature").addEventListener("click",
  () => command("temperature", [Number($("sigma").value), Number($("pi").value)]));
$("set-timescale").addEventListener("click", () => command("timescale", [Number($("timescale").value)]));

for (const tab of document.querySelectorAll("button.tab")) {
  tab.addEventListener("click", () => {
    for (const other of document.querySelectorAll("button.tab")) {
      other.setAttribute("aria-pressed", String(other === tab));
      $(other.dataset.view).hidden = other !== tab;
    }
  });
}

async function start() {
  const session = await (await fetch("/api/session")).json();
  csrf = session.csrf;
  if (!session.playing) { $("link").textContent = "nothing is playing"; return; }
  controls = session.controls;
  shownRate = session.shown_rate;
  for (let i = 0; i < controls; i++) { you.push(0.5); model.push(0); }
  const build = controls === 2 ? buildPad : buildFaders;
  build($("you"), you, true);
  showModel = build($("model"), model, false);
  $("mode").replaceChildren(...session.modes.map(m => new Option(m, m)));
  connectOsc();
  connectWatch();
  requestAnimationFrame(draw);
}

start();
