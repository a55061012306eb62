/*
 * Wegwijs phone simulator — plain JavaScript, no frameworks, no external requests.
 *
 * Server contract:
 *   POST /simulator/api/messages  {session, id, text}              -> {replies: [Reply]}
 *   POST /simulator/api/messages  {session, id, choice, question}  -> {replies: [Reply]}
 *   GET  /simulator/api/messages?session=...                       -> {replies: [Reply]}  (polled every 3 s)
 *   POST /simulator/api/reset     {session}                        -> forgets this simulated parent
 *   Reply = {text, choices: [{id, label}], question: int|null, language, direction: "ltr"|"rtl"}
 *
 * A failed send keeps its id: "Retry" (or Send with the same text) resends the very same
 * message, so the server can deduplicate.
 *
 * Demo mode: open /?demo=1 to render two sample replies (English ltr with 3 choices, Arabic rtl
 * with 2 choices) without contacting the server; nothing is stored in localStorage then.
 *
 * Message text is only ever put in the page with textContent (never innerHTML).
 */
(function () {
  "use strict";

  var API_MESSAGES = "/simulator/api/messages";
  var API_RESET = "/simulator/api/reset";
  var SESSION_KEY = "wegwijs.simulator.session";
  var HISTORY_KEY = "wegwijs.simulator.history";
  var MAX_HISTORY = 100;
  var POLL_MS = 3000;
  var TIMEOUT_MS = 30000;

  var DEMO = new URLSearchParams(window.location.search).get("demo") === "1";

  var el = {
    log: document.getElementById("log"),
    list: document.getElementById("log-list"),
    typing: document.getElementById("typing"),
    announcer: document.getElementById("announcer"),
    error: document.getElementById("error"),
    errorText: document.getElementById("error-text"),
    errorRetry: document.getElementById("error-retry"),
    errorDismiss: document.getElementById("error-dismiss"),
    form: document.getElementById("composer"),
    input: document.getElementById("input"),
    send: document.getElementById("send"),
    reset: document.getElementById("reset"),
    note: document.getElementById("note"),
    demoBanner: document.getElementById("demo-banner")
  };

  var state = {
    session: null,
    history: [],
    busy: false,
    epoch: 0, // bumped on reset: answers for an older session are ignored
    failed: null, // the last send that failed, kept for a retry with the same id
    retryAction: null,
    pollTimer: null
  };

  // ---- storage (localStorage can be missing or blocked: then we just don't remember) ----

  function storageGet(key) {
    if (DEMO) return null;
    try {
      return window.localStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }

  function storageSet(key, value) {
    if (DEMO) return;
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, value);
    } catch (e) {
      /* full or blocked: ignore */
    }
  }

  function randomId() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") {
      try {
        return c.randomUUID(); // needs a secure context (https or localhost)
      } catch (e) {
        /* fall through */
      }
    }
    if (c && typeof c.getRandomValues === "function") {
      var b = new Uint8Array(16);
      c.getRandomValues(b);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      var h = Array.prototype.map.call(b, function (x) {
        return (x < 16 ? "0" : "") + x.toString(16);
      }).join("");
      return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" +
        h.slice(16, 20) + "-" + h.slice(20);
    }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2) +
      Math.random().toString(36).slice(2);
  }

  function loadSession() {
    var s = storageGet(SESSION_KEY);
    if (!s) {
      s = randomId();
      storageSet(SESSION_KEY, s);
    }
    return s;
  }

  function loadHistory() {
    var raw = storageGet(HISTORY_KEY);
    if (!raw) return [];
    try {
      var list = JSON.parse(raw);
      if (!Array.isArray(list)) return [];
      return list.filter(isEntry).slice(-MAX_HISTORY).map(function (e) {
        return e.kind === "bot" ? botEntry(e) : { kind: e.kind, text: e.text };
      });
    } catch (e) {
      return [];
    }
  }

  function isEntry(e) {
    return e && typeof e === "object" && typeof e.text === "string" &&
      (e.kind === "bot" || e.kind === "parent" || e.kind === "system");
  }

  function remember(entry) {
    state.history.push(entry);
    if (state.history.length > MAX_HISTORY) {
      state.history = state.history.slice(-MAX_HISTORY);
    }
    storageSet(HISTORY_KEY, JSON.stringify(state.history));
  }

  // ---- normalising server replies --------------------------------------------------

  var LANG_RE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

  function botEntry(reply) {
    reply = reply && typeof reply === "object" ? reply : {};
    var choices = Array.isArray(reply.choices) ? reply.choices : [];
    return {
      kind: "bot",
      text: reply.text == null ? "" : String(reply.text),
      choices: choices.filter(function (c) {
        return c && typeof c === "object" && c.id != null;
      }).map(function (c) {
        return { id: String(c.id), label: c.label == null ? String(c.id) : String(c.label) };
      }),
      question: typeof reply.question === "number" ? reply.question : null,
      language: typeof reply.language === "string" && LANG_RE.test(reply.language) ? reply.language : "",
      direction: reply.direction === "rtl" ? "rtl" : reply.direction === "ltr" ? "ltr" : "auto"
    };
  }

  // ---- rendering (textContent only) ------------------------------------------------

  function node(tag, className, text) {
    var n = document.createElement(tag);
    if (className) n.className = className;
    if (text != null) n.textContent = text;
    return n;
  }

  function renderEntry(entry) {
    var li;
    if (entry.kind === "system") {
      li = node("li", "msg msg--system");
      li.appendChild(node("p", "bubble bubble--system", entry.text));
      return li;
    }

    if (entry.kind === "parent") {
      li = node("li", "msg msg--parent");
      li.appendChild(node("span", "visually-hidden", "You:"));
      var mine = node("p", "bubble", entry.text);
      mine.dir = "auto";
      li.appendChild(mine);
      li.appendChild(node("span", "msg__status"));
      return li;
    }

    li = node("li", "msg msg--bot");
    li.appendChild(node("span", "visually-hidden", "Wegwijs:"));
    var bubble = node("p", "bubble", entry.text);
    bubble.dir = entry.direction || "auto";
    if (entry.language) bubble.lang = entry.language;
    li.appendChild(bubble);

    if (entry.choices && entry.choices.length) {
      var group = node("div", "choices");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Answer options");
      group.dir = entry.direction || "auto";
      if (entry.language) group.lang = entry.language;
      entry.choices.forEach(function (choice) {
        var b = node("button", "choice", choice.label);
        b.type = "button";
        b.addEventListener("click", function () {
          sendChoice(choice, entry.question);
        });
        group.appendChild(b);
      });
      li.appendChild(group);
    }
    return li;
  }

  function append(li) {
    el.list.appendChild(li);
    return li;
  }

  function scrollToEnd() {
    el.log.scrollTop = el.log.scrollHeight;
  }

  // Show the newest messages, but never scroll the start of the first new one out of view.
  function scrollToShow(first) {
    var bottom = el.log.scrollHeight - el.log.clientHeight;
    var top = first ? first.offsetTop - 8 : bottom;
    el.log.scrollTop = Math.max(0, Math.min(bottom, top));
  }

  function announce(entries) {
    el.announcer.textContent = "";
    entries.forEach(function (entry) {
      var p = node("p", null, "Wegwijs: " + entry.text +
        (entry.choices.length ? " (" + entry.choices.length + " answer options)" : ""));
      if (entry.language) p.lang = entry.language;
      if (entry.direction !== "auto") p.dir = entry.direction;
      el.announcer.appendChild(p);
    });
  }

  function showReplies(replies) {
    if (!Array.isArray(replies) || !replies.length) return;
    var entries = replies.map(botEntry);
    var first = null;
    entries.forEach(function (entry) {
      var li = append(renderEntry(entry));
      if (!first) first = li;
      remember(entry);
    });
    scrollToShow(first);
    announce(entries);
  }

  function setStatus(ctx, cls, text) {
    if (!ctx.li) return;
    ctx.li.classList.remove("is-pending", "is-failed");
    if (cls) ctx.li.classList.add(cls);
    var status = ctx.li.querySelector(".msg__status");
    if (status) status.textContent = text;
  }

  function setBusy(busy) {
    state.busy = busy;
    el.typing.hidden = !busy;
    el.log.setAttribute("aria-busy", busy ? "true" : "false");
    el.send.setAttribute("aria-disabled", busy ? "true" : "false");
    if (busy) scrollToEnd();
  }

  // ---- errors ------------------------------------------------------------------------

  function showError(message, retryAction) {
    el.errorText.textContent = message;
    state.retryAction = retryAction || null;
    el.errorRetry.hidden = !retryAction;
    el.error.hidden = false;
  }

  function hideError() {
    el.error.hidden = true;
    el.errorText.textContent = "";
    state.retryAction = null;
  }

  function describe(err) {
    if (err && err.status) return "The server answered with an error (HTTP " + err.status + ").";
    if (err && err.name === "AbortError") return "The server took too long to answer.";
    return "Could not reach the server.";
  }

  // ---- network ------------------------------------------------------------------------

  function api(method, url, body) {
    if (DEMO) return demoApi(method, url, body);
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    var opts = {
      method: method,
      headers: { "Accept": "application/json" },
      cache: "no-store",
      credentials: "same-origin"
    };
    if (controller) opts.signal = controller.signal;
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (res) {
      if (timer) clearTimeout(timer);
      if (res.status !== 200) {
        var err = new Error("HTTP " + res.status);
        err.status = res.status;
        throw err;
      }
      return res.text().then(function (t) {
        return t ? JSON.parse(t) : {};
      });
    }, function (err) {
      if (timer) clearTimeout(timer);
      throw err;
    });
  }

  /* ctx = {payload, li (the parent's bubble or a system note), entry (to remember on success),
            kind: "text" | "choice" | "start"} */
  function send(ctx) {
    if (state.busy) return;
    var epoch = state.epoch;
    hideError();
    setStatus(ctx, "is-pending", "Sending…");
    setBusy(true);
    api("POST", API_MESSAGES, ctx.payload).then(function (data) {
      if (epoch !== state.epoch) return;
      if (state.failed === ctx) state.failed = null;
      setStatus(ctx, null, "");
      if (ctx.entry) remember(ctx.entry);
      if (ctx.kind === "text" && el.input.value === ctx.payload.text) {
        el.input.value = "";
        autoGrow();
      }
      setBusy(false);
      showReplies(data && data.replies);
    }).catch(function (err) {
      if (epoch !== state.epoch) return;
      setBusy(false);
      state.failed = ctx;
      setStatus(ctx, "is-failed", ctx.kind === "start" ? "" : "Not sent");
      var hint = ctx.kind === "text" ? " Your message is kept: press Retry or Send." : " Press Retry to try again.";
      showError(describe(err) + hint, function () { send(ctx); });
    });
  }

  function sendText(text) {
    // Sending the same text again after a failure is a retry: same id, so no duplicate.
    var f = state.failed;
    if (f && f.kind === "text" && f.payload.text === text && f.payload.session === state.session) {
      send(f);
      return;
    }
    var entry = { kind: "parent", text: text };
    var ctx = {
      kind: "text",
      payload: { session: state.session, id: randomId(), text: text },
      entry: entry,
      li: append(renderEntry(entry))
    };
    scrollToEnd();
    send(ctx);
  }

  function sendChoice(choice, question) {
    if (state.busy) return;
    var entry = { kind: "parent", text: choice.label };
    var ctx = {
      kind: "choice",
      payload: { session: state.session, id: randomId(), choice: choice.id, question: question },
      entry: entry,
      li: append(renderEntry(entry))
    };
    scrollToEnd();
    send(ctx);
  }

  function startConversation() {
    var entry = { kind: "system", text: "New conversation" };
    var ctx = {
      kind: "start",
      payload: { session: state.session, id: randomId(), text: "/start" },
      entry: entry,
      li: append(renderEntry(entry))
    };
    send(ctx);
  }

  // Later messages (reminders and such) arrive by polling.
  function schedulePoll() {
    if (DEMO) return;
    clearTimeout(state.pollTimer);
    state.pollTimer = setTimeout(poll, POLL_MS);
  }

  function poll() {
    var epoch = state.epoch;
    api("GET", API_MESSAGES + "?session=" + encodeURIComponent(state.session))
      .then(function (data) {
        if (epoch === state.epoch) showReplies(data && data.replies);
      })
      .catch(function () {
        /* quiet: the next poll tries again, and sending shows its own errors */
      })
      .then(function () {
        if (epoch === state.epoch) schedulePoll();
      });
  }

  function clearConversation() {
    state.epoch += 1;
    clearTimeout(state.pollTimer);
    setBusy(false);
    state.failed = null;
    hideError();
    state.history = [];
    storageSet(HISTORY_KEY, null);
    el.list.textContent = "";
    el.announcer.textContent = "";
    el.input.value = "";
    autoGrow();
  }

  function doReset() {
    hideError();
    el.reset.disabled = true;
    api("POST", API_RESET, { session: state.session }).then(function () {
      clearConversation();
      state.session = randomId();
      storageSet(SESSION_KEY, state.session);
      if (DEMO) {
        renderDemo();
      } else {
        startConversation();
        schedulePoll();
      }
      el.input.focus();
    }).catch(function (err) {
      showError("Reset failed: " + describe(err), doReset);
    }).then(function () {
      el.reset.disabled = false;
    });
  }

  // ---- demo mode (?demo=1): sample replies, no server -------------------------------

  var DEMO_REPLIES = [
    {
      text: "Hello! I am Wegwijs.\nI help you understand the choice of secondary school for your child.\n\nWhat would you like to know first?",
      choices: [
        { id: "school_types", label: "Which school types are there?" },
        { id: "dates", label: "Important dates" },
        { id: "language", label: "Another language" }
      ],
      question: 1,
      language: "en",
      direction: "ltr"
    },
    {
      text: "مرحباً! أنا Wegwijs.\nأساعدك على فهم اختيار المدرسة الثانوية لطفلك.\n\nهل تريد أن نكمل باللغة العربية؟",
      choices: [
        { id: "yes", label: "نعم، بالعربية" },
        { id: "no", label: "لا، شكراً" }
      ],
      question: 2,
      language: "ar",
      direction: "rtl"
    }
  ];

  function renderDemo() {
    showReplies([DEMO_REPLIES[0]]);
    var parent = { kind: "parent", text: "العربية من فضلك" };
    append(renderEntry(parent));
    showReplies([DEMO_REPLIES[1]]);
    el.log.scrollTop = 0;
  }

  function demoApi(method, url, body) {
    return new Promise(function (resolve) {
      setTimeout(function () {
        if (url === API_RESET) return resolve({});
        var what = body && body.choice != null ? "the option \u201c" + body.choice + "\u201d" : "a message";
        resolve({
          replies: [{
            text: "Demo mode: the server is not contacted, so there is no real answer.\nYou sent " + what + ".",
            choices: [],
            question: null,
            language: "en",
            direction: "ltr"
          }]
        });
      }, 400);
    });
  }

  // ---- composer -----------------------------------------------------------------------

  function autoGrow() {
    el.input.style.height = "auto";
    el.input.style.height = Math.min(el.input.scrollHeight + 3, 200) + "px";
  }

  el.form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = el.input.value;
    if (!text.trim()) {
      el.input.focus();
      return;
    }
    if (state.busy) return;
    sendText(text);
    el.input.focus();
  });

  el.input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      if (typeof el.form.requestSubmit === "function") el.form.requestSubmit();
      else el.send.click();
    }
  });

  el.input.addEventListener("input", autoGrow);

  el.reset.addEventListener("click", function () {
    var ok = window.confirm("Start over? This erases this simulated parent's data on the server.");
    if (ok) doReset();
  });

  el.errorRetry.addEventListener("click", function () {
    var action = state.retryAction;
    if (action) action();
  });

  el.errorDismiss.addEventListener("click", function () {
    hideError();
    el.input.focus();
  });

  // ---- start -------------------------------------------------------------------------

  function init() {
    state.session = DEMO ? randomId() : loadSession();
    if (DEMO) {
      el.demoBanner.hidden = false;
      renderDemo();
      return;
    }
    state.history = loadHistory();
    state.history.forEach(function (entry) {
      append(renderEntry(entry));
    });
    scrollToEnd();
    if (!state.history.length) startConversation();
    schedulePoll();
  }

  init();
})();
