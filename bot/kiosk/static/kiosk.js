// The lobby kiosk page. Talks to the gateway's one chat core (POST /api/chat), hears staff and the
// queue live (GET /api/chat/{sender}/events), and wipes everything after an idle countdown.
// Every text from the server is put on the page with textContent, never as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const SENDER_KEY = "kiosk.sender";
  const state = {
    sender: null,
    events: null,
    lastInboxId: null,
    config: { idle_seconds: 120, countdown_seconds: 20, chat_max_chars: 500 },
    idleTimer: null,
    countdownTimer: null,
    countdownLeft: 0,
    sending: false,
    wiping: false,
  };

  // --- small helpers ------------------------------------------------------------------------------

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  async function api(method, path, body) {
    const init = { method, headers: {}, cache: "no-store" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const resp = await fetch(path, init);
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) {
      const message = data && data.error && data.error.message ? data.error.message : "网络有点问题，请稍后再试。";
      const err = new Error(message);
      err.status = resp.status;
      throw err;
    }
    return data;
  }

  function scrollDown() {
    const main = document.querySelector(".main");
    main.scrollTop = main.scrollHeight;
  }

  // --- the conversation ---------------------------------------------------------------------------

  function addBubble(kind, text, who) {
    const li = el("li", "msg " + kind);
    if (who) li.appendChild(el("span", "who", who));
    li.appendChild(document.createTextNode(text));
    $("log").appendChild(li);
    scrollDown();
    return li;
  }

  function setQuickReplies(buttons) {
    const box = $("quick");
    box.replaceChildren();
    (buttons || []).forEach((b) => {
      if (!b || typeof b.title !== "string" || typeof b.payload !== "string") return;
      const btn = el("button", "reply", b.title);
      btn.type = "button";
      btn.dataset.payload = b.payload;
      btn.setAttribute("aria-label", "回答：" + b.title);
      btn.addEventListener("click", () => send(b.payload, b.title));
      box.appendChild(btn);
    });
  }

  function absoluteUrl(card) {
    if (typeof card.public_url === "string" && card.public_url) return card.public_url;
    return typeof card.url === "string" ? location.origin + card.url : "";
  }

  function validUntil(expiresAt) {
    if (typeof expiresAt !== "number") return "";
    const d = new Date(expiresAt * 1000);
    return `（${d.getMonth() + 1}月${d.getDate()}日前有效）`;
  }

  function checklistCard(card) {
    const article = el("article", "card checklist");
    article.setAttribute("aria-label", "材料清单");
    const today = new Date();
    article.appendChild(el("p", "card-from",
      `邵阳县政务服务中心 · 一件事导办助手 · ${today.getFullYear()}年${today.getMonth() + 1}月${today.getDate()}日`));
    article.appendChild(el("h2", null, card.title || "办事材料清单"));
    const list = el("ul", "lines");
    String(card.text || "").split("\n").filter((l) => l.trim()).forEach((line) => list.appendChild(el("li", null, line)));
    article.appendChild(list);
    if (typeof card.qr === "string" && card.qr.startsWith("/c/")) {
      const url = absoluteUrl(card);
      const qr = el("div", "qr");
      const img = el("img");
      img.src = card.qr;
      img.alt = "手机扫码查看这份清单的二维码";
      qr.appendChild(img);
      const note = el("p", "qr-note", "用手机扫一扫，把这份清单带走" + validUntil(card.expires_at));
      const link = el("span", "link", url);
      link.dataset.url = url;
      note.appendChild(link);
      qr.appendChild(note);
      article.appendChild(qr);
      article.dataset.url = url;
    }
    const buttons = el("div", "print-buttons");
    [["a4", "打印清单（A4纸）"], ["receipt", "打印小票"]].forEach(([size, label]) => {
      const btn = el("button", "secondary print", label);
      btn.type = "button";
      btn.dataset.size = size;
      btn.setAttribute("aria-label", label);
      btn.addEventListener("click", () => printCard(article, size));
      buttons.appendChild(btn);
    });
    article.appendChild(buttons);
    return article;
  }

  function preparePrint(article, size) {
    const area = $("print-area");
    area.replaceChildren(article.cloneNode(true));
    area.classList.toggle("receipt", size === "receipt");
  }

  function printCard(article, size) {
    preparePrint(article, size);
    window.print();
  }

  function showQueuePlace(text) {
    const box = $("queue-status");
    box.textContent = text;
    box.hidden = !text;
  }

  function renderReply(msg, cardText) {
    if (!msg || typeof msg !== "object") return;
    const custom = msg.custom && typeof msg.custom === "object" ? msg.custom : {};
    let text = typeof msg.text === "string" ? msg.text : "";
    if (cardText && text.includes(cardText)) {
      // The card below shows the list itself: keep only what the assistant said around it.
      text = text.replace(cardText, "").trim() || "好的，这是按您的情况列的材料清单：";
    }
    if (text) {
      addBubble(custom.error ? "error" : "bot", text, "小助手");
    }
    if (Array.isArray(msg.buttons) && msg.buttons.length) setQuickReplies(msg.buttons);
    if (custom.checklist && typeof custom.checklist === "object") {
      const li = el("li", "msg-card");
      const article = checklistCard(custom.checklist);
      li.appendChild(article);
      $("log").appendChild(li);
      preparePrint(article, "a4"); // print media shows the newest card
      scrollDown();
    }
    if (custom.handoff && typeof custom.handoff === "object") {
      const h = custom.handoff;
      if (h.status === "waiting" && typeof h.place === "number") {
        const ahead = Math.max(0, h.place - 1);
        showQueuePlace(ahead ? `您前面还有 ${ahead} 位，请稍等` : "下一位就是您，请稍等");
      } else if (h.status === "picked_up") {
        showQueuePlace("工作人员正在为您服务");
      } else if (h.status === "resumed" || h.status === "closed") {
        showQueuePlace("");
      }
    }
  }

  async function send(message, shown) {
    const text = String(message || "").trim();
    if (!text || state.sending || !state.sender) return;
    state.sending = true;
    $("start").classList.add("compact");
    setQuickReplies([]);
    addBubble("user", shown || text);
    $("busy").hidden = false;
    try {
      const replies = await api("POST", "/api/chat", { sender: state.sender, message: text });
      const list = Array.isArray(replies) ? replies : [];
      const withCard = list.find((r) => r && r.custom && r.custom.checklist && typeof r.custom.checklist.text === "string");
      const cardText = withCard ? withCard.custom.checklist.text : "";
      list.forEach((r) => renderReply(r, cardText));
    } catch (err) {
      addBubble("error", err.message || "网络有点问题，请稍后再试。", "小助手");
    } finally {
      state.sending = false;
      $("busy").hidden = true;
      scrollDown();
    }
  }

  // --- live messages from staff and the queue (server-sent events) --------------------------------

  function openEvents() {
    closeEvents();
    const sender = state.sender;
    const after = state.lastInboxId ? "?after=" + encodeURIComponent(state.lastInboxId) : "";
    const source = new EventSource(`/api/chat/${encodeURIComponent(sender)}/events${after}`);
    source.addEventListener("inbox", (ev) => {
      if (sender !== state.sender) return;
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      state.lastInboxId = m.id;
      if (m.from === "staff") {
        addBubble("staff", m.text, "工作人员");
      } else if (m.from === "system") {
        addBubble("system", m.text);
        if (/前面还有|下一位/.test(m.text)) showQueuePlace(m.text);
        else if (/接手/.test(m.text)) showQueuePlace("工作人员正在为您服务");
        else if (/结束/.test(m.text)) showQueuePlace("");
      } else {
        addBubble("bot", m.text, "小助手");
        if (Array.isArray(m.buttons) && m.buttons.length) setQuickReplies(m.buttons);
      }
    });
    state.events = source;
  }

  function closeEvents() {
    if (state.events) state.events.close();
    state.events = null;
  }

  // --- sessions, idle countdown and the wipe ------------------------------------------------------

  function endSession(sender) {
    if (!sender) return;
    fetch("/api/kiosk/session/end", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender }),
      keepalive: true,
    }).catch(() => {});
  }

  async function startSession() {
    const data = await api("POST", "/api/kiosk/session");
    state.sender = data.sender;
    state.lastInboxId = null;
    sessionStorage.setItem(SENDER_KEY, state.sender);
    document.body.dataset.sender = state.sender;
    openEvents();
  }

  function clearScreen() {
    $("log").replaceChildren();
    $("print-area").replaceChildren();
    setQuickReplies([]);
    showQueuePlace("");
    $("message").value = "";
    $("start").classList.remove("compact");
    setFont("m");
    document.querySelector(".main").scrollTop = 0;
  }

  async function wipe() {
    if (state.wiping) return;
    state.wiping = true;
    stopCountdown();
    closeEvents();
    const old = state.sender;
    state.sender = null;
    delete document.body.dataset.sender;
    endSession(old);
    clearScreen();
    try { localStorage.clear(); } catch (e) { /* storage may be off */ }
    try { sessionStorage.clear(); } catch (e) { /* storage may be off */ }
    try {
      await startSession();
    } catch (err) {
      addBubble("error", "系统暂时有点忙，请稍后再点一下“重新开始”。");
    } finally {
      state.wiping = false;
      armIdle();
    }
  }

  function armIdle() {
    clearTimeout(state.idleTimer);
    state.idleTimer = setTimeout(startCountdown, state.config.idle_seconds * 1000);
  }

  function startCountdown() {
    const box = $("idle");
    if (!$("log").children.length && !$("message").value && $("quick").children.length === 0) {
      armIdle(); // nothing on screen to protect
      return;
    }
    state.countdownLeft = state.config.countdown_seconds;
    $("idle-count").textContent = String(state.countdownLeft);
    box.hidden = false;
    $("idle-stay").focus();
    state.countdownTimer = setInterval(() => {
      state.countdownLeft -= 1;
      $("idle-count").textContent = String(Math.max(0, state.countdownLeft));
      if (state.countdownLeft <= 0) wipe();
    }, 1000);
  }

  function stopCountdown() {
    clearInterval(state.countdownTimer);
    state.countdownTimer = null;
    $("idle").hidden = true;
  }

  function touched() {
    if (state.countdownTimer) stopCountdown();
    armIdle();
  }

  // --- font size ----------------------------------------------------------------------------------

  function setFont(size) {
    document.documentElement.classList.toggle("font-l", size === "l");
    document.documentElement.classList.toggle("font-xl", size === "xl");
    document.querySelectorAll(".font-btn").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.font === size)));
  }

  // --- start --------------------------------------------------------------------------------------

  function renderSituations(items) {
    const box = $("situations");
    box.replaceChildren();
    items.forEach((s) => {
      const btn = el("button", "situation");
      btn.type = "button";
      btn.dataset.code = s.code;
      btn.setAttribute("aria-label", `${s.label}：${s.title}`);
      btn.appendChild(el("span", "label", s.label));
      btn.appendChild(el("span", "title", s.title));
      btn.addEventListener("click", () => send(s.message, s.label));
      box.appendChild(btn);
    });
  }

  async function init() {
    ["pointerdown", "keydown", "input", "touchstart", "wheel"].forEach((name) =>
      document.addEventListener(name, touched, { capture: true, passive: true }));
    document.querySelectorAll(".font-btn").forEach((b) => b.addEventListener("click", () => setFont(b.dataset.font)));
    $("restart").addEventListener("click", wipe);
    $("idle-stay").addEventListener("click", touched);
    $("human").addEventListener("click", () => send("我要找工作人员", "找工作人员"));
    $("composer").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const input = $("message");
      const text = input.value;
      input.value = "";
      send(text);
    });

    const params = new URLSearchParams(location.search);
    const query = new URLSearchParams();
    ["idle", "countdown"].forEach((k) => { if (params.get(k)) query.set(k, params.get(k)); });
    try {
      state.config = await api("GET", "/api/kiosk/config" + (query.toString() ? "?" + query : ""));
    } catch (e) { /* keep the defaults */ }
    $("message").maxLength = state.config.chat_max_chars;
    try {
      renderSituations((await api("GET", "/api/kiosk/situations")).situations || []);
    } catch (e) { /* typing still works */ }

    endSession(sessionStorage.getItem(SENDER_KEY)); // a reload: the last person's conversation ends
    try { localStorage.clear(); sessionStorage.clear(); } catch (e) { /* storage may be off */ }
    try {
      await startSession();
    } catch (e) {
      addBubble("error", "系统暂时有点忙，请稍后再点一下“重新开始”。");
    }
    document.body.dataset.ready = "1";
    armIdle();
  }

  document.addEventListener("DOMContentLoaded", init);
})();
