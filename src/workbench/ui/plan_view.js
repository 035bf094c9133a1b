// The workbench's plan view: an anywidget front end, one ES module, no build step.
//
// It draws what workbench.plans.view_data computed (every number is formatted on the Python
// side, so the notebook, the report and the command line agree): one row per node with a bar
// of its own time (solid) and its subtree's (faint) as a share of the total, rows estimated →
// actual with the misestimate factor, loops, buffers, cost; a node's details in a table on
// click; subtrees that collapse; the hot path highlighted; a compact mode for large plans; a
// side-by-side diff of two plans. Text from the database only ever goes in as textContent.

const INDENT = 14;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function bar(node, timed) {
  const outer = el("span", "wbpv-bar");
  const own = timed ? node.share : node.cost_share;
  const whole = timed ? node.inclusive_share : null;
  if (whole !== null && whole !== undefined) {
    const faint = el("span", "wbpv-bar-incl");
    faint.style.width = `${Math.max(0, Math.min(100, whole * 100)).toFixed(1)}%`;
    outer.appendChild(faint);
  }
  if (own !== null && own !== undefined) {
    const solid = el("span", "wbpv-bar-excl");
    solid.style.width = `${Math.max(0, Math.min(100, own * 100)).toFixed(1)}%`;
    if (own >= 0.3) solid.classList.add("wbpv-bar-high");
    outer.appendChild(solid);
  }
  outer.setAttribute("role", "meter");
  outer.setAttribute("aria-valuemin", "0");
  outer.setAttribute("aria-valuemax", "100");
  outer.setAttribute("aria-valuenow", String(Math.round(((own || 0) * 100))));
  outer.title = timed
    ? `own time ${node.time || "–"} (${node.share_text || "–"} of the total)` +
      (whole !== null && whole !== undefined
        ? `; with its children ${(whole * 100).toFixed(0)}%`
        : "")
    : `own cost ${node.cost || "–"} (the bar: against the costliest node)`;
  return outer;
}

function facts(node) {
  const table = el("table", "wbpv-facts");
  for (const [label, value] of node.facts) {
    const tr = el("tr");
    tr.appendChild(el("th", "", label));
    const td = el("td");
    td.appendChild(el("code", "", value));
    tr.appendChild(td);
    table.appendChild(tr);
  }
  return table;
}

function childrenOf(nodes) {
  const kids = new Map();
  for (const node of nodes) {
    if (node.parent === null || node.parent === undefined) continue;
    if (!kids.has(node.parent)) kids.set(node.parent, []);
    kids.get(node.parent).push(node.id);
  }
  return kids;
}

function initialCollapse(data, kids) {
  // compact plans open on their hot path: deeper subtrees off it start collapsed
  const collapsed = new Set();
  if (!data.compact) return collapsed;
  for (const node of data.nodes) {
    if (kids.has(node.id) && node.depth >= 2 && !node.on_path) collapsed.add(node.id);
  }
  return collapsed;
}

function tree(data, state, options) {
  const kids = childrenOf(data.nodes);
  const box = el("div", "wbpv-tree");
  box.setAttribute("role", "tree");
  box.tabIndex = 0;
  const byId = new Map(data.nodes.map((n) => [n.id, n]));
  const hidden = (node) => {
    let parent = node.parent;
    while (parent !== null && parent !== undefined) {
      if (state.collapsed.has(parent)) return true;
      parent = byId.get(parent) ? byId.get(parent).parent : null;
    }
    return false;
  };
  const rows = [];
  for (const node of data.nodes) {
    if (hidden(node)) continue;
    const row = el("div", "wbpv-row");
    row.dataset.id = String(node.id);
    row.setAttribute("role", "treeitem");
    row.setAttribute("aria-level", String(node.depth + 1));
    row.tabIndex = -1;
    if (node.on_path) row.classList.add("wbpv-path");
    if (node.hot) row.classList.add("wbpv-hot");
    if (state.selected === node.id) row.classList.add("wbpv-selected");
    // the row is a grid: name (indented), bar, time, share, then rows and flags; every bar
    // starts at the same place whatever the depth or the label's length
    const name = el("span", "wbpv-name");
    const indent = el("span", "wbpv-indent");
    indent.style.width = `${node.depth * INDENT}px`;
    name.appendChild(indent);
    const twisty = el("button", "wbpv-twisty");
    twisty.type = "button";
    if (kids.has(node.id)) {
      const open = !state.collapsed.has(node.id);
      twisty.textContent = open ? "▾" : "▸";
      twisty.setAttribute("aria-label", open ? "collapse" : "expand");
      row.setAttribute("aria-expanded", String(open));
      twisty.addEventListener("click", (event) => {
        event.stopPropagation();
        options.toggle(node.id);
      });
      name.appendChild(twisty);
      if (!open) {
        const count = el("span", "wbpv-more", `+${countBelow(node.id, kids)}`);
        count.title = "nodes folded under this one";
        name.appendChild(count);
      }
    } else {
      twisty.disabled = true;
      twisty.setAttribute("aria-hidden", "true");
      name.appendChild(twisty);
    }
    name.appendChild(el("span", "wbpv-id", `#${node.id}`));
    const label = el("span", "wbpv-label", node.label);
    label.title = node.label;
    name.appendChild(label);
    row.appendChild(name);
    row.appendChild(bar(node, data.timed));
    if (data.timed) {
      row.appendChild(el("span", "wbpv-time", node.time || "–"));
      row.appendChild(el("span", "wbpv-share", node.share_text || ""));
    } else {
      row.appendChild(el("span", "wbpv-time", node.cost ? `cost ${node.cost}` : ""));
      row.appendChild(el("span", "wbpv-share", ""));
    }
    const tail = el("span", "wbpv-tail");
    if (node.rows) {
      const rowsText = el("span", "wbpv-rows", `rows ${node.rows}`);
      rowsText.title = "estimated → actual (totals over all loops)";
      tail.appendChild(rowsText);
    }
    for (const flag of node.flags) {
      const badge = el("span", `wbpv-flag wbpv-flag-${flag.kind}`, flag.text);
      badge.title = flag.title;
      tail.appendChild(badge);
    }
    if (!options.compact) {
      if (node.loops) tail.appendChild(el("span", "wbpv-extra", `loops ${node.loops}`));
      if (node.buffers) tail.appendChild(el("span", "wbpv-extra", `buffers ${node.buffers}`));
      if (data.timed && node.cost) tail.appendChild(el("span", "wbpv-extra", `cost ${node.cost}`));
    }
    row.appendChild(tail);
    row.addEventListener("click", () => options.select(node.id));
    row.addEventListener("mouseenter", () => options.hover && options.hover(node.id, true));
    row.addEventListener("mouseleave", () => options.hover && options.hover(node.id, false));
    box.appendChild(row);
    rows.push(row);
    if (node.condition && !options.compact) {
      const condition = el("div", "wbpv-condition", node.condition);
      condition.style.paddingLeft = `${node.depth * INDENT + 40}px`;
      box.appendChild(condition);
    }
    if (state.selected === node.id && options.details) {
      const details = facts(node);
      details.style.marginLeft = `${node.depth * INDENT + 34}px`;
      box.appendChild(details);
    }
  }
  box.addEventListener("keydown", (event) => keyboard(event, rows, byId, kids, state, options));
  return box;
}

function countBelow(id, kids) {
  let count = 0;
  const stack = [...(kids.get(id) || [])];
  while (stack.length) {
    const next = stack.pop();
    count += 1;
    stack.push(...(kids.get(next) || []));
  }
  return count;
}

function keyboard(event, rows, byId, kids, state, options) {
  const current = rows.findIndex((r) => r === document.activeElement);
  const focus = (index) => {
    const row = rows[Math.max(0, Math.min(rows.length - 1, index))];
    if (row) row.focus();
  };
  const id = current >= 0 ? Number(rows[current].dataset.id) : null;
  switch (event.key) {
    case "ArrowDown":
      focus(current + 1);
      break;
    case "ArrowUp":
      focus(current - 1);
      break;
    case "ArrowRight":
      if (id !== null && kids.has(id) && state.collapsed.has(id)) options.toggle(id);
      else focus(current + 1);
      break;
    case "ArrowLeft":
      if (id !== null && kids.has(id) && !state.collapsed.has(id)) options.toggle(id);
      else if (id !== null && byId.get(id).parent !== null) {
        const parent = rows.findIndex((r) => Number(r.dataset.id) === byId.get(id).parent);
        focus(parent);
      }
      break;
    case "Enter":
    case " ":
      if (id !== null) options.select(id);
      break;
    default:
      return;
  }
  event.preventDefault();
}

function header(data, state, redraw) {
  const head = el("div", "wbpv-head");
  head.appendChild(el("span", "wbpv-headline", data.headline));
  const controls = el("span", "wbpv-controls");
  const compact = el("button", "wbpv-button", state.compact ? "detailed" : "compact");
  compact.type = "button";
  compact.title = "one line per node, or conditions and extra numbers too";
  compact.addEventListener("click", () => {
    state.compact = !state.compact;
    redraw();
  });
  const expand = el("button", "wbpv-button", "expand all");
  expand.type = "button";
  expand.addEventListener("click", () => {
    state.collapsed.clear();
    redraw();
  });
  const fold = el("button", "wbpv-button", "hot path only");
  fold.type = "button";
  fold.title = "fold every subtree off the hot path";
  fold.addEventListener("click", () => {
    state.collapsed = new Set(
      data.nodes.filter((n) => !n.on_path && n.depth >= 1).map((n) => n.id),
    );
    redraw();
  });
  controls.append(compact, expand, fold);
  head.appendChild(controls);
  return head;
}

function legend(data) {
  const text = data.timed
    ? "bar: the node's own time (solid) and with its children (faint), as a share of the total; " +
      "▲ more rows than estimated, ▼ fewer"
    : "estimates only: the bar is the node's own cost against the costliest node";
  return el("div", "wbpv-legend", text);
}

function single(root, model, data) {
  const kids = childrenOf(data.nodes);
  const state = {
    collapsed: initialCollapse(data, kids),
    compact: data.compact,
    selected: model.get("selected"),
  };
  const redraw = () => {
    root.replaceChildren();
    root.appendChild(header(data, state, redraw));
    root.appendChild(legend(data));
    const body = tree(data, state, {
      compact: state.compact,
      details: true,
      toggle: (id) => {
        if (state.collapsed.has(id)) state.collapsed.delete(id);
        else state.collapsed.add(id);
        redraw();
        focusRow(root, id);
      },
      select: (id) => {
        state.selected = state.selected === id ? -1 : id;
        model.set("selected", state.selected);
        model.save_changes();
        redraw();
        focusRow(root, id);
      },
    });
    root.appendChild(body);
    for (const note of data.notes || []) root.appendChild(el("div", "wbpv-note", note));
  };
  redraw();
}

function focusRow(root, id) {
  const row = root.querySelector(`.wbpv-row[data-id="${id}"]`);
  if (row) row.focus();
}

function diff(root, data) {
  root.appendChild(el("div", "wbpv-verdict", data.verdict));
  const grid = el("div", "wbpv-diff");
  const pairs = data.pairs || [];
  const sides = {};
  const highlight = (side, id, on) => {
    const other = side === "before" ? "after" : "before";
    for (const [b, a] of pairs) {
      const mine = side === "before" ? b : a;
      const theirs = side === "before" ? a : b;
      if (mine !== id || theirs === null || theirs === undefined) continue;
      const row = sides[other].querySelector(`.wbpv-row[data-id="${theirs}"]`);
      if (row) row.classList.toggle("wbpv-twin", on);
    }
  };
  for (const side of ["before", "after"]) {
    const column = el("div", "wbpv-side");
    const plan = data[side];
    column.appendChild(el("div", "wbpv-side-title", `${side}: ${plan.headline}`));
    const state = { collapsed: new Set(), compact: true, selected: -1 };
    column.appendChild(
      tree(plan, state, {
        compact: true,
        details: false,
        toggle: () => {},
        select: () => {},
        hover: (id, on) => highlight(side, id, on),
      }),
    );
    sides[side] = column;
    grid.appendChild(column);
  }
  root.appendChild(grid);
}

function render({ model, el: host }) {
  const root = document.createElement("div");
  root.className = "wbpv";
  host.appendChild(root);
  const draw = () => {
    root.replaceChildren();
    const data = model.get("data") || {};
    if (data.kind === "diff") diff(root, data);
    else if (data.nodes) single(root, model, data);
    else root.appendChild(el("div", "wbpv-empty", data.empty || "No plan yet."));
  };
  model.on("change:data", draw);
  draw();
}

export default { render };
