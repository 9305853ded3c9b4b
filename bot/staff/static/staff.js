// 帮代办工作台 — the staff console. Plain JavaScript, no build step.
// Every text that comes from a citizen (or any ticket field) is put on the page with textContent,
// never innerHTML.
"use strict";

(function () {
  const state = {
    me: null,          // {username, display_name, csrf_token}
    selected: null,    // ticket id shown in the middle column
    ticket: null,      // that ticket, as the API last returned it
    fetchedAt: 0,      // Date.now() when the lists were fetched (wait times count on from there)
    events: null,      // EventSource
    heartbeat: null,
    clock: null,
    chart: null,
    refreshTimer: null,
  };
  const CHANNELS = { rest: "网页", kiosk: "自助机", telegram: "Telegram" };
  const ROLES = { user: "群众", bot: "小助手", staff: "工作人员" };

  const $ = (id) => document.getElementById(id);

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + "秒";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + "分钟";
    return Math.floor(minutes / 60) + "小时" + (minutes % 60) + "分";
  }

  function clock(ts) {  // hh:mm on the county's clock, whatever the browser's time zone
    const offset = state.me && typeof state.me.utc_offset_seconds === "number"
      ? state.me.utc_offset_seconds : -new Date().getTimezoneOffset() * 60;
    const d = new Date((ts + offset) * 1000);
    return String(d.getUTCHours()).padStart(2, "0") + ":" + String(d.getUTCMinutes()).padStart(2, "0");
  }

  // --- API ------------------------------------------------------------------------------------------

  class ApiFailure extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      if (state.me) headers["X-CSRF-Token"] = state.me.csrf_token;
    }
    const response = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const message = data && data.error ? data.error.message : "操作没有成功，请稍后再试。";
      if (response.status === 401 && path !== "/api/staff/login") showLogin();
      throw new ApiFailure(response.status, message);
    }
    return data;
  }

  // --- login ----------------------------------------------------------------------------------------

  function showLogin() {
    stopLive();
    state.me = null;
    $("who").hidden = true;
    $("console-view").hidden = true;
    $("login-view").hidden = false;
    $("login-user").focus();
  }

  async function onLogin(event) {
    event.preventDefault();
    $("login-error").textContent = "";
    try {
      state.me = await api("POST", "/api/staff/login", {
        username: $("login-user").value.trim(), password: $("login-pass").value,
      });
      $("login-pass").value = "";
      showConsole();
    } catch (e) {
      $("login-error").textContent = e.message;
    }
  }

  async function onLogout() {
    try { await api("POST", "/api/staff/logout"); } catch (e) { /* already gone */ }
    showLogin();
  }

  // --- console --------------------------------------------------------------------------------------

  function showConsole() {
    $("login-view").hidden = true;
    $("console-view").hidden = false;
    $("who").hidden = false;
    $("who-name").textContent = state.me.display_name + "（" + state.me.username + "）";
    loadCanned();
    refreshAll();
    startLive();
  }

  function refreshAll() {
    loadQueue();
    loadStats();
    loadAppointments();
    if (state.selected) loadTicket(state.selected);
  }

  function scheduleRefresh() {
    if (state.refreshTimer) return;
    state.refreshTimer = setTimeout(() => {
      state.refreshTimer = null;
      loadQueue();
      loadStats();
    }, 300);
  }

  function startLive() {
    stopLive();
    const source = new EventSource("/api/staff/events");
    state.events = source;
    source.addEventListener("open", () => { setLive(true); });
    source.addEventListener("error", () => {
      setLive(false);
      if (source.readyState === EventSource.CLOSED) {
        // refused (e.g. the session ended): check who we are, then try again
        setTimeout(() => { if (state.me) checkSession().then(() => { if (state.me) startLive(); }); }, 3000);
      }
    });
    source.addEventListener("queue", (message) => {
      let data;
      try { data = JSON.parse(message.data); } catch (e) { return; }
      onQueueEvent(data);
    });
    state.heartbeat = setInterval(() => {
      api("POST", "/api/staff/heartbeat").catch(() => {});
    }, 15000);
    state.clock = setInterval(tickClocks, 5000);
    state.bookings = setInterval(loadAppointments, 30000);  // bookings made in the chat since
  }

  function stopLive() {
    if (state.events) state.events.close();
    state.events = null;
    clearInterval(state.heartbeat);
    clearInterval(state.clock);
    clearInterval(state.bookings);
    setLive(false);
  }

  function setLive(on) {
    const badge = $("live");
    badge.textContent = on ? "实时更新中" : "正在重新连接…";
    badge.className = on ? "live" : "live off";
  }

  function onQueueEvent(data) {
    scheduleRefresh();
    if (data.ticket_id && data.ticket_id === state.selected) loadTicket(state.selected);
  }

  async function checkSession() {
    try {
      state.me = await api("GET", "/api/staff/me");
      return true;
    } catch (e) {
      if (!(e instanceof ApiFailure) || e.status !== 401) setLive(false);
      return false;
    }
  }

  // --- the queue ------------------------------------------------------------------------------------

  async function loadQueue() {
    try {
      const [waiting, claimed, closed] = await Promise.all([
        api("GET", "/api/staff/tickets?status=waiting"),
        api("GET", "/api/staff/tickets?status=claimed"),
        api("GET", "/api/staff/tickets?status=closed"),
      ]);
      state.fetchedAt = Date.now();
      renderList($("waiting-list"), waiting.tickets, "还没有人在等。");
      renderList($("claimed-list"), claimed.tickets, "没有正在处理的单子。");
      renderList($("closed-list"), closed.tickets.slice(0, 20), "今天还没有结束的单子。");
      $("waiting-count").textContent = String(waiting.tickets.length);
    } catch (e) { /* shown by the next refresh */ }
  }

  function renderList(list, tickets, emptyText) {
    clear(list);
    if (!tickets.length) {
      list.appendChild(el("li", emptyText, "none"));
      return;
    }
    for (const t of tickets) {
      const item = el("li");
      item.dataset.ticket = t.id;
      if (t.priority) item.classList.add("priority");
      if (t.id === state.selected) item.classList.add("selected");
      const line1 = el("div", null, "line1");
      const name = el("span", (t.place ? t.place + ". " : "") + t.sender);
      line1.appendChild(name);
      if (t.priority) line1.appendChild(el("span", "绿色通道", "badge green"));
      const line2 = el("div", null, "line2");
      const thing = t.current_thing ? t.current_thing.title : (t.matched_things[0] ? t.matched_things[0].title : "未识别事项");
      if (t.status === "waiting") {
        const wait = el("span", "已等" + duration(t.wait_seconds), "wait");
        wait.dataset.wait = String(t.wait_seconds);
        line2.appendChild(wait);
        line2.appendChild(document.createTextNode(" · " + thing));
      } else if (t.status === "claimed") {
        line2.textContent = (t.staff === state.me.username ? "我在处理" : "处理人：" + t.staff) + " · " + thing;
      } else {
        line2.textContent = (t.outcome_label || "") + " · " + thing + " · " + (t.closed_at ? clock(t.closed_at) : "");
      }
      item.appendChild(line1);
      item.appendChild(line2);
      item.addEventListener("click", () => selectTicket(t.id));
      list.appendChild(item);
    }
  }

  function tickClocks() {
    const extra = (Date.now() - state.fetchedAt) / 1000;
    for (const node of document.querySelectorAll("#waiting-list .wait")) {
      node.textContent = "已等" + duration(Number(node.dataset.wait) + extra);
    }
  }

  // --- one ticket -----------------------------------------------------------------------------------

  function selectTicket(id) {
    state.selected = id;
    for (const item of document.querySelectorAll(".tickets li")) {
      item.classList.toggle("selected", item.dataset.ticket === id);
    }
    $("detail-error").textContent = "";
    loadTicket(id);
  }

  async function loadTicket(id) {
    try {
      const data = await api("GET", "/api/staff/tickets/" + encodeURIComponent(id));
      if (state.selected === id) renderTicket(data.ticket);
    } catch (e) {
      $("detail-error").textContent = e.message;
    }
  }

  function renderTicket(t) {
    state.ticket = t;
    $("no-ticket").hidden = true;
    $("ticket-view").hidden = false;
    const mine = t.status === "claimed" && t.staff === state.me.username;
    $("t-title").textContent = t.current_thing ? t.current_thing.title : "未识别事项";
    $("t-priority").hidden = !t.priority;
    const statusText = { waiting: "等待中", claimed: "处理中", closed: "已结束", resumed: "已回到小助手" }[t.status] || t.status;
    $("t-status").textContent = statusText + (t.outcome_label ? "：" + t.outcome_label : "");
    $("t-sender").textContent = t.sender;
    $("t-channel").textContent = CHANNELS[t.channel] || t.channel;
    $("t-wait").textContent = duration(t.wait_seconds) + (t.status === "waiting" ? "（还在等）" : "");
    $("t-priority-reason").textContent = t.priority ? (t.priority_reason || "优先") : "无";
    $("t-thing").textContent = t.current_thing ? t.current_thing.title + "（" + t.current_thing.code + "）" : "—";
    $("t-matched").textContent = t.matched_things.length
      ? t.matched_things.map((m) => m.title + "（" + m.code + "）").join("；") : "—";
    $("t-why").textContent = t.why || "—";
    $("t-contact").textContent = t.contact || (t.consent ? "未留电话" : "未同意提供");
    $("t-staff").textContent = t.staff || "—";
    $("t-checklist").textContent = t.checklist || "还没有列清单。";
    const conditions = $("t-conditions");
    clear(conditions);
    for (const c of t.conditions) conditions.appendChild(el("li", c));
    if (!t.conditions.length) conditions.appendChild(el("li", "—"));

    const claim = $("claim");
    claim.hidden = t.status !== "waiting";

    const transcript = $("transcript");
    clear(transcript);
    for (const line of t.transcript) {
      const item = el("li", null, line.role);
      const who = line.role === "staff" ? "工作人员 " + (line.staff || "") : (ROLES[line.role] || line.role);
      item.appendChild(el("span", who + " · " + clock(line.ts), "who"));
      item.appendChild(el("span", line.text, "text"));
      transcript.appendChild(item);
    }
    transcript.scrollTop = transcript.scrollHeight;

    $("reply-form").hidden = !mine;
    $("close-form").hidden = !mine;
    const notes = $("notes");
    clear(notes);
    for (const n of t.notes) notes.appendChild(el("li", clock(n.ts) + " " + n.staff + "：" + n.text));
    if (t.staff_note) notes.appendChild(el("li", "结束说明：" + t.staff_note));
  }

  async function onClaim() {
    const id = state.selected;
    $("detail-error").textContent = "";
    try {
      const data = await api("POST", "/api/staff/tickets/" + encodeURIComponent(id) + "/claim");
      renderTicket(data.ticket);
      loadQueue();
      $("reply-text").focus();
    } catch (e) {
      $("detail-error").textContent = e.message;
      loadTicket(id);
      loadQueue();
    }
  }

  async function onReply(event) {
    event.preventDefault();
    const text = $("reply-text").value.trim();
    if (!text) return;
    $("detail-error").textContent = "";
    try {
      const data = await api("POST", "/api/staff/tickets/" + encodeURIComponent(state.selected) + "/messages", { text });
      $("reply-text").value = "";
      renderTicket(data.ticket);
    } catch (e) {
      $("detail-error").textContent = e.message;
    }
  }

  async function onNote(event) {
    event.preventDefault();
    const text = $("note-text").value.trim();
    if (!text) return;
    try {
      const data = await api("POST", "/api/staff/tickets/" + encodeURIComponent(state.selected) + "/notes", { text });
      $("note-text").value = "";
      renderTicket(data.ticket);
    } catch (e) {
      $("detail-error").textContent = e.message;
    }
  }

  async function onClose(event) {
    event.preventDefault();
    const outcome = $("close-outcome").value;
    $("detail-error").textContent = "";
    try {
      const data = await api("POST", "/api/staff/tickets/" + encodeURIComponent(state.selected) + "/close", {
        outcome, note: $("close-note").value.trim() || null, return_to_bot: $("close-return").checked,
      });
      $("close-note").value = "";
      renderTicket(data.ticket);
      loadQueue();
      loadStats();
    } catch (e) {
      $("detail-error").textContent = e.message;
    }
  }

  async function loadCanned() {
    const box = $("canned");
    clear(box);
    try {
      const data = await api("GET", "/api/staff/canned");
      for (const reply of data.replies) {
        const button = el("button", reply.title);
        button.type = "button";
        button.title = reply.text;
        button.addEventListener("click", () => {
          const area = $("reply-text");
          area.value = area.value ? area.value + "\n" + reply.text : reply.text;
          area.focus();
        });
        box.appendChild(button);
      }
    } catch (e) { /* no canned replies */ }
  }

  // --- figures and appointments ---------------------------------------------------------------------

  async function loadStats() {
    let s;
    try { s = await api("GET", "/api/staff/stats"); } catch (e) { return; }
    $("f-waiting").textContent = s.waiting_now + "人" + (s.priority_waiting_now ? "（绿色通道" + s.priority_waiting_now + "）" : "");
    $("f-wait").textContent = s.average_wait_seconds === null ? "—" : duration(s.average_wait_seconds);
    $("f-handled").textContent = s.handled + "件";
    $("f-rate").textContent = s.done_rate === null ? "—" : Math.round(s.done_rate * 100) + "%";
    // Ratings of the human service (asked when staff give a conversation back).
    $("f-satisfaction").textContent = s.staff_satisfaction.count
      ? s.staff_satisfaction.average.toFixed(1) + "分（" + s.staff_satisfaction.count + "条评价）" : "还没有评价";
    drawChart(s.hourly);
  }

  function drawChart(hourly) {
    if (typeof window.Chart !== "function") return;
    const hours = hourly.filter((h) => (h.hour >= 8 && h.hour <= 18) || h.created || h.closed);
    const labels = hours.map((h) => h.hour + "时");
    const created = hours.map((h) => h.created);
    const closed = hours.map((h) => h.closed);
    if (state.chart) {
      state.chart.data.labels = labels;
      state.chart.data.datasets[0].data = created;
      state.chart.data.datasets[1].data = closed;
      state.chart.update();
      return;
    }
    state.chart = new window.Chart($("chart"), {
      type: "bar",
      data: {
        labels,
        datasets: [
          { label: "接入", data: created, backgroundColor: "#1565c0" },
          { label: "结束", data: closed, backgroundColor: "#2e7d32" },
        ],
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  async function loadAppointments() {
    const list = $("appointments");
    let data;
    const picked = $("appt-date").value;
    const query = picked ? "?date=" + encodeURIComponent(picked) : "";
    try { data = await api("GET", "/api/staff/appointments" + query); } catch (e) { return; }
    if (!picked) $("appt-date").value = data.date;  // the county's today, from the server
    clear(list);
    $("appt-count").textContent = String(data.appointments.length);
    if (!data.appointments.length) list.appendChild(el("li", "这天没有预约。"));
    for (const a of data.appointments) {
      const item = el("li");
      item.appendChild(el("div", a.period_label + " · " + a.code + " · " + a.status_label));
      item.appendChild(el("div", (a.thing_title || "未说明事项") + " · " + a.sender, "line2"));
      const actions = el("div", null, "actions");
      for (const [status, label] of [["attended", "已到"], ["no_show", "未到"]]) {
        const button = el("button", label);
        button.type = "button";
        button.disabled = a.status === status || a.status === "cancelled";
        button.addEventListener("click", async () => {
          try {
            await api("POST", "/api/staff/appointments/" + encodeURIComponent(a.code) + "/mark", { status });
          } catch (e) { item.appendChild(el("div", e.message, "error")); return; }
          loadAppointments();
        });
        actions.appendChild(button);
      }
      item.appendChild(actions);
      list.appendChild(item);
    }
  }

  // --- start ----------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", async () => {
    $("login-form").addEventListener("submit", onLogin);
    $("logout").addEventListener("click", onLogout);
    $("claim").addEventListener("click", onClaim);
    $("reply-form").addEventListener("submit", onReply);
    $("note-form").addEventListener("submit", onNote);
    $("close-form").addEventListener("submit", onClose);
    $("appt-date").addEventListener("change", loadAppointments);
    $("reply-text").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("reply-form").requestSubmit();
    });
    if (await checkSession()) showConsole(); else showLogin();
  });
})();
