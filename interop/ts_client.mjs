// A tiny MCP client on the official TypeScript SDK, a peer of scenarios/src/interop.rs.
//
//   node ts_client.mjs --stdio 'CMD ARGS'
//   node ts_client.mjs --url http://127.0.0.1:PORT/mcp
//
// Connects, lists the tools, calls `echo` with a unique message, calls `slow` (when there is
// one) counting its progress notifications, reads the first resource, lists the prompts and
// gets the first one (its required arguments set to "interop"). Prints a JSON summary on
// stdout; on any failure, prints the error on stderr and exits 1.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');

// 'CMD ARGS' split as a shell would for plain words and quoted ones (no expansions).
function splitCommand(line) {
  const words = [];
  for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) {
    words.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : (match[2] ?? match[3]));
  }
  return words;
}

const texts = (content) => content.filter((block) => block.type === 'text').map((block) => block.text);

async function run(transport) {
  const client = new Client({ name: 'ts-interop-client', version: '1.0.0' });
  const options = { timeout: 30_000 };
  const summary = { protocol_version: null };
  // The client hands the negotiated version to transports that want it (HTTP); record it for all.
  const setVersion = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (version) => {
    summary.protocol_version = version;
    setVersion?.(version);
  };
  await client.connect(transport, options);
  // The SDK runs progress callbacks in a later microtask but drops a call's callback as soon as
  // its answer is read, so a last progress notification read in the same chunk as the answer
  // never reaches `onprogress`. What is checked is the wire order, seen where messages arrive.
  let watching = null;
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (watching) {
      if (message.method === 'notifications/progress') watching.push(message.params.progress);
      else if ('result' in message || 'error' in message) watching.push('answer');
    }
    deliver(message, extra);
  };
  try {
    summary.server = client.getServerVersion()?.name ?? null;
    summary.tools = (await client.listTools(undefined, options)).tools.map((tool) => tool.name);
    const message = `ts-${randomUUID()}`;
    const called = await client.callTool({ name: 'echo', arguments: { message } }, undefined, options);
    summary.echo = { sent: message, text: texts(called.content), is_error: Boolean(called.isError) };
    if (called.isError || summary.echo.text.length !== 1 || summary.echo.text[0] !== message) {
      throw new Error(`echo answered ${JSON.stringify(called)}`);
    }
    if (summary.tools.includes('slow')) {
      // Progress notifications come before the answer (an SSE stream over HTTP).
      // `onprogress` makes the SDK send a progress token; the wire record holds what came.
      const onprogress = () => {};
      watching = [];
      const slow = await client.callTool({ name: 'slow', arguments: { millis: 200 } }, undefined, { ...options, onprogress });
      const answered = watching.indexOf('answer');
      const progress = answered < 0 ? watching : watching.slice(0, answered);
      const after_answer = answered < 0 ? [] : watching.slice(answered + 1);
      watching = null;
      summary.slow = { text: texts(slow.content), progress, after_answer };
    }
    const { resources } = await client.listResources(undefined, options);
    summary.resources = resources.map((resource) => resource.uri);
    if (resources.length > 0) {
      const read = await client.readResource({ uri: resources[0].uri }, options);
      summary.resource_text = read.contents.map((contents) => contents.text ?? null);
    }
    const { prompts } = await client.listPrompts(undefined, options);
    summary.prompts = prompts.map((prompt) => prompt.name);
    if (prompts.length > 0) {
      const args = Object.fromEntries((prompts[0].arguments ?? []).filter((a) => a.required).map((a) => [a.name, 'interop']));
      const got = await client.getPrompt({ name: prompts[0].name, arguments: args }, options);
      summary.prompt_text = got.messages.map((message) => message.content.text ?? null);
    }
  } finally {
    // Over HTTP, end the session with DELETE as a well-behaved client does (a failure fails the run).
    if (transport.terminateSession) await transport.terminateSession();
    await client.close();
  }
  return summary;
}

const [mode, target] = process.argv.slice(2);
let transport;
if (mode === '--stdio' && target) {
  const [command, ...args] = splitCommand(target);
  // The whole environment, not the SDK's default subset: the tests pass NODE_PATH, PYTHONPATH…
  transport = new StdioClientTransport({ command, args, env: { ...process.env }, stderr: 'inherit' });
} else if (mode === '--url' && target) {
  transport = new StreamableHTTPClientTransport(new URL(target));
} else {
  console.error("usage: ts_client.mjs (--stdio 'CMD ARGS' | --url URL)");
  process.exit(2);
}
try {
  console.log(JSON.stringify(await run(transport)));
} catch (error) {
  console.error('ts_client:', error?.stack ?? error);
  process.exit(1);
}
