// The live page: one EventSource; each event updates one part of the DOM in place.
"use strict";
const token = new URLSearchParams(location.search).get("token") || "";
const QUIET_LIVE = new Set(["node", "gate_progress", "training_progress", "experiment"]);
const ECHOED = new Set(["note", "approval_request", "approved", "denied", "training_started",
                        "training_done", "error"]);  // also in events.jsonl: shown from there

function now() { return performance.timeOrigin + performance.now(); }

function fragment(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content.firstElementChild;
}

function onExperiment(data) {
  const card = fragment(data.card);
  const old = document.getElementById(card.id);
  card.dataset.arrived = old ? old.dataset.arrived : String(now());
  if (old) {  // the same record again, now committed: keep what the reader opened
    card.querySelector("details")?.toggleAttribute("open", !!old.querySelector("details[open]"));
    old.replaceWith(card);
  } else {
    document.getElementById("cards").prepend(card);
    addActivity(`exp${data.id} recorded: ${card.dataset.status}`);
  }
  document.getElementById("no-cards")?.remove();
  document.getElementById("summary").innerHTML = data.summary;
  document.getElementById("chart").innerHTML = data.chart;
}

function addActivity(text) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()} · ${text}`;
  document.getElementById("activity").prepend(item);
}

function describe(item) {
  const payload = item.payload || item;
  const text = payload.text || payload.note || payload.rationale || "";
  return text ? `${item.kind}: ${text}` : item.kind;
}

function onStatus(status) {
  document.getElementById("state").textContent = status.state;
  const parts = [status.node, status.experiment && `exp${status.experiment}`, status.gate];
  if (status.progress) parts.push(`${status.progress[0]}/${status.progress[1]}`);
  if (status.message) parts.push(status.message);
  document.getElementById("status-line").textContent = parts.filter(Boolean).join(" · ");
  const pending = document.getElementById("pending");
  const request = status.pending_request;
  pending.hidden = !request;
  if (request) {
    pending.dataset.request = request.id || "";
    document.getElementById("pending-text").textContent =
      `${request.kind || "request"} ${request.id || ""}: ${request.rationale || ""}`;
  }
}

function onLive(item) {
  if (item.kind === "gate_progress") {
    document.getElementById("status-line").textContent =
      `run_gate · exp${item.experiment} · ${item.gate} · ${item.done}/${item.total} ${item.stage || ""}`;
  } else if (!QUIET_LIVE.has(item.kind) && !ECHOED.has(item.kind)) {
    addActivity(describe(item));
  }
}

function connect() {
  const source = new EventSource(`/events?cursor=${encodeURIComponent(document.body.dataset.cursor)}`);
  const live = document.getElementById("live");
  source.onopen = () => { live.classList.add("connected"); window.liveReady = true; };
  source.onerror = () => { live.classList.remove("connected"); };
  source.addEventListener("experiment", (e) => onExperiment(JSON.parse(e.data)));
  source.addEventListener("status", (e) => onStatus(JSON.parse(e.data)));
  source.addEventListener("live", (e) => onLive(JSON.parse(e.data)));
  source.addEventListener("event", (e) => addActivity(describe(JSON.parse(e.data))));
}

async function sendCommand(kind) {
  const body = { text: "", request: null };
  if (kind === "note") body.text = document.getElementById("note-text").value.trim();
  if (kind === "approve" || kind === "deny") body.request = document.getElementById("pending").dataset.request || null;
  const trainings = parseInt(document.getElementById("trainings")?.value || "1", 10);
  if (kind === "approve" && trainings > 1) body.trainings = trainings;
  const response = await fetch(`/control/${kind}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Autoresearch-Token": token },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  document.getElementById("control-result").textContent = answer.message || answer.error || "";
  if (response.ok && kind === "note") document.getElementById("note-text").value = "";
}

document.querySelectorAll("button[data-command]").forEach((button) => {
  button.addEventListener("click", () => sendCommand(button.dataset.command));
});
connect();
