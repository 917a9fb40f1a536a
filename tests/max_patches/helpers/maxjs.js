// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// Runs a Max [js] script under Node the way Max's js object would: the script's global code in
// its own context, with Max's globals (outlet, post, messagename, arrayfromargs, include,
// require, Task, Dict, LiveAPI), and messages dispatched to its functions by selector.
"use strict";

const fs = require("fs");
const path = require("path");
const vm = require("vm");

const MAX_PATCHES = path.resolve(__dirname, "..", "..", "..", "max_patches");

// ---- Dict ---------------------------------------------------------------------------------------
const dicts = new Map();
let dictCounter = 0;

class Dict {
  constructor(name) {
    this.name = name || `u${++dictCounter}${Math.floor(Math.random() * 1e6)}`;
    if (!dicts.has(this.name)) dicts.set(this.name, {});
  }
  get data() { return dicts.get(this.name); }
  stringify() { return JSON.stringify(this.data); }
  parse(text) { dicts.set(this.name, JSON.parse(text)); }
  get(key) { return this.data[key]; }
  set(key, value) { this.data[key] = value; }
  static contents(name) { return dicts.get(name); }
  static create(name, value) { dicts.set(name, JSON.parse(JSON.stringify(value))); return name; }
}

// ---- Task ---------------------------------------------------------------------------------------
function makeTaskClass(mode, tasks) {
  return class Task {
    constructor(fn, obj) {
      this.fn = fn;
      this.obj = obj;
      this.interval = 500;
      this.timer = null;
      tasks.push(this);
    }
    execute() { this.fn.call(this.obj); }
    repeat() {
      if (mode === "real") {
        this.timer = setInterval(() => this.fn.call(this.obj), this.interval);
      }
    }
    schedule() { this.repeat(); }
    cancel() {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    }
  };
}

/**
 * Load a Max js file. options:
 *   LiveAPI   a LiveAPI class (tests/max_patches/helpers/fake_live.js)
 *   loader    "require" (Max 7+ CommonJS require with `exports` only), "include" (no require), or
 *             "require-empty" (require gives {} instead of throwing for a file it cannot find)
 *   missing   script files Max cannot find (require and include fail for them)
 *   requireGivesEmpty  with "require-empty": require gives {} for every module (include finds them)
 *   timers    "manual" (Task never fires by itself; call runTasks) or "real"
 *   onOutlet  (index, args) callback, e.g. to wire outlet 0 to UDP
 */
function loadMaxScript(file, options = {}) {
  const outlets = [];
  const posts = [];
  const tasks = [];
  const loader = options.loader || "require";
  const sandbox = {
    console,
    inlets: 1,
    outlets: 1,
    autowatch: 0,
    jsarguments: [file],
    messagename: "",
    inlet: 0,
    post: (...a) => posts.push(a.join(" ")),
    error: (...a) => posts.push("error: " + a.join(" ")),
    cpost: (...a) => posts.push(a.join(" ")),
    arrayfromargs: (args) => Array.prototype.slice.call(args),
    outlet: (n, ...args) => {
      const flat = Array.from(args.length === 1 && Array.isArray(args[0]) ? args[0] : args);
      outlets.push({ outlet: n, args: flat });
      if (options.onOutlet) options.onOutlet(n, flat);
    },
    Task: makeTaskClass(options.timers || "manual", tasks),
    Dict,
    LiveAPI: options.LiveAPI,
  };
  if (!options.LiveAPI) delete sandbox.LiveAPI;
  const context = vm.createContext(sandbox);
  const missing = new Set(options.missing || []);
  const fileOf = (name) => (name.endsWith(".js") ? name : name + ".js");
  const run = (name) => {
    if (missing.has(name)) throw new Error(`js: can't find file ${name}`);
    const p = path.join(MAX_PATCHES, name);
    vm.runInContext(fs.readFileSync(p, "utf8"), context, { filename: p });
  };
  const includes = [];
  if (loader === "include") {
    context.include = (name) => { includes.push(fileOf(name)); run(fileOf(name)); };
  } else {
    // Max's require: the module sees `exports` (no `module`), its return value is `exports`.
    context.require = (name) => {
      if (missing.has(fileOf(name)) || options.requireGivesEmpty) {
        if (loader === "require-empty") return {};
        throw new Error(`require: can't find ${name}`);
      }
      const p = path.join(MAX_PATCHES, fileOf(name));
      const modContext = vm.createContext({ exports: {} });
      vm.runInContext(fs.readFileSync(p, "utf8"), modContext, { filename: p });
      return modContext.exports;
    };
    context.include = (name) => {
      includes.push(fileOf(name));
      if (loader === "require-empty") return run(fileOf(name));
      throw new Error("include() should not be needed when require() works");
    };
  }
  run(file);

  /** Send a Max message to the script's inlet. */
  function send(selector, ...args) {
    context.messagename = selector;
    let fn;
    if (typeof selector === "number") {
      fn = Number.isInteger(selector) ? context.msg_int : context.msg_float;
      return fn.call(context, selector);
    }
    const own = context[selector];
    if (typeof own === "function" && !own.local) return own.apply(context, args);
    if (typeof context.anything === "function") return context.anything.apply(context, args);
    throw new Error(`${file}: no function for message '${selector}'`);
  }

  return {
    context,
    outlets,
    posts,
    tasks,
    includes,
    send,
    runTasks() { tasks.forEach((t) => t.timer !== undefined && t.execute()); },
    /** Messages that went out of one outlet, as arrays. */
    out(n) { return outlets.filter((o) => o.outlet === n).map((o) => o.args); },
    clear() { outlets.length = 0; posts.length = 0; },
    dispose() { tasks.forEach((t) => t.cancel()); },
  };
}

module.exports = { loadMaxScript, Dict, MAX_PATCHES };
