// A tiny MCP server on the official TypeScript SDK (v1 line, @modelcontextprotocol/sdk), set
// up the way the SDK's own Streamable HTTP examples set it up, for `conformance probe --url`
// comparisons (scripts/probe-peers.sh):
//
//   - the app comes from the SDK's createMcpExpressApp(): Host validation on loopback and
//     express.json() for bodies;
//   - one StreamableHTTPServerTransport (stateful, random session ids) per `initialize`, looked
//     up again by Mcp-Session-Id; an unknown id gets 404, a missing one 400, as in the examples.
//
//   node server.mjs --http PORT      # http://127.0.0.1:PORT/mcp
//
// The SDK is found through NODE_PATH (require honours it, ESM imports do not), which
// scripts/install-interop.sh writes into its env file. One tool: echo {message} → message.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { createMcpExpressApp } = require('@modelcontextprotocol/sdk/server/express.js');
const { isInitializeRequest } = require('@modelcontextprotocol/sdk/types.js');
const { z } = require('zod');

function echoServer() {
  const server = new McpServer({ name: 'ts-echo', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echoes the message back', inputSchema: { message: z.string() } },
    async ({ message }) => ({ content: [{ type: 'text', text: message }] }),
  );
  return server;
}

function refuse(res, status, code, message) {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}

const transports = new Map();

/** The transport of the request's session; answers 400/404 itself when there is none. */
function sessionTransport(req, res) {
  const id = req.headers['mcp-session-id'];
  if (!id) {
    refuse(res, 400, -32000, 'Bad Request: no session id');
    return undefined;
  }
  const transport = transports.get(id);
  if (!transport) refuse(res, 404, -32001, 'Session not found');
  return transport;
}

const app = createMcpExpressApp();

app.post('/mcp', async (req, res) => {
  if (!req.headers['mcp-session-id'] && isInitializeRequest(req.body)) {
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => transports.set(id, transport),
    });
    transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId);
    await echoServer().connect(transport);
    return transport.handleRequest(req, res, req.body);
  }
  const transport = sessionTransport(req, res);
  if (transport) await transport.handleRequest(req, res, req.body);
});

for (const method of ['get', 'delete']) {
  app[method]('/mcp', async (req, res) => {
    const transport = sessionTransport(req, res);
    if (transport) await transport.handleRequest(req, res);
  });
}

const args = process.argv.slice(2);
const port = args[0] === '--http' ? Number(args[1]) : NaN;
if (!Number.isInteger(port)) {
  console.error('usage: node server.mjs --http PORT');
  process.exit(2);
}
app.listen(port, '127.0.0.1', () => console.error(`listening http://127.0.0.1:${port}/mcp`));
