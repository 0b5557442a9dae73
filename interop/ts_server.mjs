// A tiny MCP server on the official TypeScript SDK, a peer of scenarios/src/interop.rs.
//
//   node ts_server.mjs --stdio
//   node ts_server.mjs --http PORT      # Streamable HTTP at http://127.0.0.1:PORT/mcp
//
// The SDK is found through NODE_PATH (require honours it, ESM imports do not), which
// scripts/install-interop.sh writes into its env file.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { isInitializeRequest } = require('@modelcontextprotocol/sdk/types.js');
const { z } = require('zod');

function makeServer() {
  const server = new McpServer({ name: 'ts-peer', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns its message as text.', inputSchema: { message: z.string() } },
    async ({ message }) => ({ content: [{ type: 'text', text: message }] }),
  );
  server.registerResource(
    'readme',
    'peer://readme',
    { mimeType: 'text/plain', description: 'What this peer is' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the TypeScript peer.' }] }),
  );
  server.registerPrompt(
    'greet',
    { description: 'Greets someone by name.', argsSchema: { name: z.string() } },
    ({ name }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Say hello to ${name}.` } }] }),
  );
  return server;
}

function reject(res, status, code, message) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

const MAX_BODY = 4 * 1024 * 1024;

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) throw new RangeError('body too large');
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

// The stateful pattern of the SDK's documentation: a session (server + transport) per
// `initialize`, found again by its Mcp-Session-Id header.
function serveHttp(port) {
  const sessions = new Map();
  const http = createServer(async (req, res) => {
    try {
      if (new URL(req.url, 'http://localhost').pathname !== '/mcp') return reject(res, 404, -32000, 'Not found');
      const id = req.headers['mcp-session-id'];
      if (!['GET', 'POST', 'DELETE'].includes(req.method)) {
        res.writeHead(405, { allow: 'GET, POST, DELETE' });
        return res.end();
      }
      // An id we do not know (never issued, or the session ended) is 404, so that a client
      // starts a new session; a missing one is 400.
      if (id && !sessions.has(id)) return reject(res, 404, -32001, 'Session not found');
      if (req.method !== 'POST') {
        const transport = id && sessions.get(id);
        if (!transport) return reject(res, 400, -32000, 'Bad Request: No valid session ID provided');
        return await transport.handleRequest(req, res);
      }
      let body;
      try {
        body = await readJson(req);
      } catch (error) {
        if (error instanceof RangeError) return reject(res, 413, -32000, 'Payload too large');
        return reject(res, 400, -32700, 'Parse error');
      }
      let transport = id && sessions.get(id);
      if (!transport) {
        if (!isInitializeRequest(body)) return reject(res, 400, -32000, 'Bad Request: No valid session ID provided');
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (sessionId) => sessions.set(sessionId, transport),
        });
        transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
        await makeServer().connect(transport);
      }
      await transport.handleRequest(req, res, body);
    } catch (error) {
      console.error('ts_server:', error);
      if (!res.headersSent) reject(res, 500, -32603, 'Internal error');
    }
  });
  http.listen(port, '127.0.0.1', () => console.error(`ts_server: listening on http://127.0.0.1:${port}/mcp`));
}

const [mode, port] = process.argv.slice(2);
if (mode === '--stdio') {
  await makeServer().connect(new StdioServerTransport());
} else if (mode === '--http' && /^\d+$/.test(port ?? '')) {
  serveHttp(Number(port));
} else {
  console.error('usage: ts_server.mjs (--stdio | --http PORT)');
  process.exit(2);
}
