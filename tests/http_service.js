// A tiny service in another language for tests/test_http.py: Node's standard library only (no
// npm package: the tests run offline), with a minimal PostgreSQL client speaking the wire
// protocol (simple queries, trust authentication) and an HTTP server with an N+1 in it.
//
//   GET /api/users?limit=20      the users, then one query per user for their orders (N+1)
//   GET /api/users?eager=1       the same answer in one query
//   GET /error                   a query, then a 500
//   GET /slow?ms=1500            answers after that long
//   GET /health                  ok
//
// Configuration: PGHOST, PGPORT, PGUSER, PGDATABASE. Listens on 127.0.0.1, a free port, and
// prints "listening PORT" on standard output.
"use strict";

const http = require("http");
const net = require("net");

class Connection {
  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.waiting = null;
    this.rows = [];
    this.columns = [];
    this.error = null;
    socket.on("data", (chunk) => this.receive(chunk));
    socket.on("error", (err) => this.fail(err));
    socket.on("close", () => this.fail(new Error("connection closed")));
  }

  static open() {
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(process.env.PGPORT || 5432), process.env.PGHOST || "127.0.0.1");
      const connection = new Connection(socket);
      connection.waiting = { resolve: () => resolve(connection), reject };
      socket.on("connect", () => {
        const fields = ["user", process.env.PGUSER || "postgres", "database", process.env.PGDATABASE || "postgres"];
        const body = Buffer.concat([
          int32(196608),
          Buffer.from(fields.join("\0") + "\0\0", "utf8"),
        ]);
        socket.write(Buffer.concat([int32(body.length + 4), body]));
      });
    });
  }

  query(sql) {
    return new Promise((resolve, reject) => {
      this.rows = [];
      this.columns = [];
      this.error = null;
      this.waiting = { resolve, reject };
      const text = Buffer.from(sql + "\0", "utf8");
      this.socket.write(Buffer.concat([Buffer.from("Q"), int32(text.length + 4), text]));
    });
  }

  fail(err) {
    if (this.waiting) {
      const waiting = this.waiting;
      this.waiting = null;
      waiting.reject(err);
    }
  }

  receive(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 5) {
      const type = String.fromCharCode(this.buffer[0]);
      const length = this.buffer.readInt32BE(1);
      if (this.buffer.length < length + 1) return;
      const payload = this.buffer.subarray(5, length + 1);
      this.buffer = this.buffer.subarray(length + 1);
      this.message(type, payload);
    }
  }

  message(type, payload) {
    if (type === "R" && payload.readInt32BE(0) !== 0) {
      this.fail(new Error("only trust authentication is supported"));
    } else if (type === "T") {
      let at = 2;
      for (let i = 0; i < payload.readInt16BE(0); i++) {
        const end = payload.indexOf(0, at);
        this.columns.push(payload.toString("utf8", at, end));
        at = end + 1 + 18;
      }
    } else if (type === "D") {
      const row = {};
      let at = 2;
      for (let i = 0; i < payload.readInt16BE(0); i++) {
        const size = payload.readInt32BE(at);
        at += 4;
        row[this.columns[i]] = size < 0 ? null : payload.toString("utf8", at, at + size);
        at += Math.max(size, 0);
      }
      this.rows.push(row);
    } else if (type === "E") {
      this.error = new Error(payload.toString("utf8").replace(/\0/g, " ").trim());
    } else if (type === "Z" && this.waiting) {
      const waiting = this.waiting;
      this.waiting = null;
      if (this.error) waiting.reject(this.error);
      else waiting.resolve(this.rows);
    }
  }
}

function int32(value) {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

const idle = [];

async function withConnection(work) {
  const connection = idle.pop() || (await Connection.open());
  try {
    const result = await work(connection);
    idle.push(connection);
    return result;
  } catch (err) {
    connection.socket.destroy();
    throw err;
  }
}

async function users(url) {
  const limit = Math.min(Number(url.searchParams.get("limit") || 20), 500) | 0;
  return withConnection(async (db) => {
    if (url.searchParams.get("eager") === "1") {
      return db.query(
        "SELECT u.id, u.email, count(o.id) AS orders, coalesce(sum(o.total_cents), 0) AS total " +
          `FROM (SELECT id, email FROM users ORDER BY id LIMIT ${limit}) u ` +
          "LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id, u.email ORDER BY u.id"
      );
    }
    const found = await db.query(`SELECT id, email FROM users ORDER BY id LIMIT ${limit}`);
    const out = [];
    for (const user of found) {
      const [stats] = await db.query(
        "SELECT count(*) AS orders, coalesce(sum(total_cents), 0) AS total FROM orders " +
          `WHERE user_id = ${Number(user.id)}`
      );
      out.push({ ...user, ...stats });
    }
    return out;
  });
}

const server = http.createServer(async (request, response) => {
  const url = new URL(request.url, "http://127.0.0.1");
  const send = (status, body) => {
    response.writeHead(status, { "Content-Type": "application/json" });
    response.end(JSON.stringify(body));
  };
  try {
    if (url.pathname === "/api/users") return send(200, await users(url));
    if (url.pathname === "/error") {
      await withConnection((db) => db.query("SELECT 1 AS one"));
      return send(500, { error: "planted failure" });
    }
    if (url.pathname === "/slow") {
      const ms = Number(url.searchParams.get("ms") || 1000);
      return setTimeout(() => send(200, { slept: ms }), ms);
    }
    if (url.pathname === "/health") return send(200, "ok");
    return send(404, { error: "not found" });
  } catch (err) {
    return send(500, { error: String(err.message || err) });
  }
});

server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.stdin.on("end", () => process.exit(0)); // the test closed the pipe
process.stdin.resume();
