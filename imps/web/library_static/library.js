// The library page: plain DOM, no framework. Every change is a POST carrying the CSRF
// token from /api/session, which only a page served by IMPS can read.
"use strict";

let csrf = null;
let nextLine = 0;  // the number of the next training line to ask for

const $ = (id) => document.getElementById(id);
const say = (text) => { $("message").textContent = text; };

async function answer(response) {
  const body = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  if (!response.ok) throw new Error(body.error || `${response.status}`);
  return body;
}

const get = async (url) => answer(await fetch(url));
const post = async (url, body, type = "application/json") => answer(await fetch(url, {
  method: "POST", headers: { "X-CSRF-Token": csrf, "Content-Type": type }, body }));
const path = (name) => encodeURIComponent(name);

function cell(row, content) {
  const td = row.insertCell();
  if (content instanceof Node) td.append(content); else td.textContent = content ?? "";
  return td;
}

function button(text, action) {
  const b = document.createElement("button");
  b.textContent = text;
  b.addEventListener("click", () => action().catch((error) => say(error.message)));
  return b;
}

function link(text, url) {
  const a = document.createElement("a");
  a.textContent = text;
  a.href = url;
  return a;
}

function remover(kind, name) {
  return button("delete", async () => {
    if (!confirm(`Delete ${name}?`)) return;
    await post(`/api/library/delete/${kind}/${path(name)}`, "");
    say(`deleted ${name}`);
    await refresh();
  });
}

const bytes = (n) => n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`;

function showLogs(logs) {
  const body = $("logs").tBodies[0];
  body.replaceChildren();
  for (const log of logs) {
    const row = body.insertRow();
    const choose = document.createElement("input");
    choose.type = "checkbox";
    choose.value = log.name;
    cell(row, choose);
    cell(row, log.name); cell(row, bytes(log.size)); cell(row, log.events);
    const actions = cell(row, link("download", `/api/library/file/logs/${path(log.name)}`));
    actions.append(" ", button("lanes", async () => { $("lanes").src = `/api/library/lanes/${path(log.name)}`; }),
                   " ", remover("logs", log.name));
  }
}

function showDatasets(datasets) {
  const body = $("datasets").tBodies[0];
  body.replaceChildren();
  const select = document.querySelector("#train select[name=dataset]");
  select.replaceChildren();
  for (const dataset of datasets) {
    const row = body.insertRow();
    cell(row, dataset.name); cell(row, bytes(dataset.size));
    const actions = cell(row, link("download", `/api/library/file/datasets/${path(dataset.name)}`));
    actions.append(" ", remover("datasets", dataset.name));
    select.append(new Option(dataset.name));
  }
  dimensionFromName();
}

// A dataset's name gives its dimension (training-dataset-{D}d.npz), which the trainer needs.
function dimensionFromName() {
  const found = /-(\d+)d\.npz$/.exec(document.querySelector("#train select[name=dataset]").value);
  if (found) document.querySelector("#train input[name=dimension]").value = found[1];
}

const figure = (value, digits) => (value === null || value === undefined ? "" : value.toFixed(digits));

function showModels(models) {
  const body = $("models").tBodies[0];
  body.replaceChildren();
  for (const model of models) {
    const row = body.insertRow();
    cell(row, model.checkpoint ? `${model.name} (checkpoint: the trainer's best so far)` : model.name);
    cell(row, bytes(model.size));
    cell(row, model.dimension ?? "does not load"); cell(row, model.shape ?? model.problem);
    cell(row, model.sampling ? `--pitemp ${model.sampling.pi_temp} --sigmatemp ${model.sampling.sigma_temp}` : "none");
    const report = model.report;
    const loss = cell(row, report ? figure(report.heldout_loss, 4) : (model.dimension !== null ? model.problem : ""));
    if (report && report.dataset) loss.title = `on ${report.dataset}`;
    cell(row, report && report.solo_distance !== null
      ? `solo ${figure(report.solo_distance, 2)}` + (report.answer_distance !== null ? `, answers ${figure(report.answer_distance, 2)}` : "")
      : "");
    const pictures = cell(row, "");
    for (const [label, name] of [["report", model.report_picture], ["loss", model.loss_picture]]) {
      if (name) pictures.append(button(label, async () => { $("picture").src = `/api/library/file/pictures/${path(name)}`; }), " ");
    }
    const actions = cell(row, link("download", `/api/library/file/models/${path(model.name)}`));
    actions.append(" ", button("play now", async () => {
      const played = await post(`/api/library/play/${path(model.name)}`, "");
      $("played").textContent = played.said + ".";
      $("command").textContent = played.command;
    }), " ", remover("models", model.name));
  }
}

async function refresh() {
  const library = await get("/api/library");
  showLogs(library.logs);
  showDatasets(library.datasets);
  showModels(library.models);
}

async function follow() {
  const job = await get(`/api/library/train?since=${nextLine}`);
  if (job.lines.length) $("progress").textContent += job.lines.join("\n") + "\n";
  nextLine = job.next;
  if (job.running) setTimeout(() => follow().catch((error) => say(error.message)), 1000);
  else if (job.exit_code !== null) { say(`training ended (exit ${job.exit_code})`); await refresh(); }
}

function trainingSettings(form) {
  const data = new FormData(form);
  const number = (name) => data.get(name) === "" ? null : Number(data.get(name));
  return JSON.stringify({
    dataset: data.get("dataset"), dimension: number("dimension"), size: data.get("size") || null,
    epochs: number("epochs"), warmup: number("warmup"), minutes: number("minutes"), early_stopping: data.get("early_stopping") === "on",
  });
}

async function start() {
  csrf = (await get("/api/session")).csrf;
  $("collate").addEventListener("click", () => (async () => {
    const logs = [...document.querySelectorAll("#logs input:checked")].map((box) => box.value);
    const collated = await post("/api/library/collate", JSON.stringify({ logs }));
    $("collated").textContent = collated.lines.join("\n");
    await refresh();
  })().catch((error) => say(error.message)));
  $("train").addEventListener("submit", (event) => {
    event.preventDefault();
    (async () => {
      await post("/api/library/train", trainingSettings(event.target));
      $("progress").textContent = "";
      nextLine = 0;
      say("training");
      await follow();
    })().catch((error) => say(error.message));
  });
  document.querySelector("#train select[name=dataset]").addEventListener("change", dimensionFromName);
  $("stop").addEventListener("click", () => post("/api/library/train/stop", "")
    .then(() => say("stopping: the trainer keeps its best weights")).catch((error) => say(error.message)));
  $("upload").addEventListener("change", (event) => (async () => {
    const file = event.target.files[0];
    if (!file) return;
    const kept = await post("/api/library/upload", file, "application/octet-stream");
    say(`kept as ${kept.kept}`);
    await refresh();
  })().catch((error) => say(error.message)).finally(() => { event.target.value = ""; }));
  await refresh();
  await follow();  // a job started before this page opened
}

start().catch((error) => say(error.message));
