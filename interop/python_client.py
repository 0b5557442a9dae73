"""A tiny MCP client on the official Python SDK, a peer of scenarios/src/interop.rs.

    python python_client.py [--mode auto|legacy] --stdio 'CMD ARGS'
    python python_client.py [--mode auto|legacy] --url http://127.0.0.1:PORT/mcp

Connects (mode auto: `server/discover`, falling back to `initialize`; legacy: `initialize`),
lists the tools, calls `echo` with a unique message, calls `slow` (when there is one)
counting its progress notifications, reads the first resource, lists the prompts and gets the
first one (its required arguments set to "interop"). Prints a JSON summary on stdout; on any
failure, prints the error on stderr and exits 1.
"""

import argparse
import asyncio
import json
import os
import shlex
import sys
import uuid

from mcp import Client, StdioServerParameters


def text_of(content: list) -> list[str]:
    return [block.text for block in content if getattr(block, "type", None) == "text"]


async def run(target, mode: str) -> dict:
    summary: dict = {}
    async with Client(target, mode=mode, read_timeout_seconds=30) as client:
        summary["protocol_version"] = client.protocol_version
        info = client.server_info
        summary["server"] = info.name if info else None
        tools = await client.list_tools()
        summary["tools"] = [tool.name for tool in tools.tools]
        message = f"python-{uuid.uuid4()}"
        called = await client.call_tool("echo", {"message": message})
        summary["echo"] = {"sent": message, "text": text_of(called.content), "is_error": bool(called.is_error)}
        if called.is_error or text_of(called.content) != [message]:
            raise RuntimeError(f"echo answered {called!r}")
        if "slow" in summary["tools"]:
            # Progress notifications come before the answer (an SSE stream over HTTP).
            progress: list[float] = []

            async def on_progress(done: float, total: float | None, note: str | None) -> None:
                progress.append(done)

            slow = await client.call_tool("slow", {"millis": 200}, progress_callback=on_progress)
            summary["slow"] = {"text": text_of(slow.content), "progress": progress}
        resources = await client.list_resources()
        summary["resources"] = [str(resource.uri) for resource in resources.resources]
        if resources.resources:
            read = await client.read_resource(resources.resources[0].uri)
            summary["resource_text"] = [getattr(c, "text", None) for c in read.contents]
        prompts = await client.list_prompts()
        summary["prompts"] = [prompt.name for prompt in prompts.prompts]
        if prompts.prompts:
            prompt = prompts.prompts[0]
            arguments = {a.name: "interop" for a in (prompt.arguments or []) if a.required}
            got = await client.get_prompt(prompt.name, arguments)
            summary["prompt_text"] = [getattr(m.content, "text", None) for m in got.messages]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stdio", metavar="'CMD ARGS'")
    where.add_argument("--url")
    parser.add_argument("--mode", default="auto", help="auto (discover, then initialize) or legacy")
    args = parser.parse_args()
    if args.stdio:
        command, *rest = shlex.split(args.stdio)
        # The whole environment, not the SDK's default subset: the tests pass PYTHONPATH, NODE_PATH…
        target = StdioServerParameters(command=command, args=rest, env=dict(os.environ))
    else:
        target = args.url
    try:
        summary = asyncio.run(run(target, args.mode))
    except BaseException as error:  # noqa: BLE001 - any failure is the test's failure
        print(f"python_client: {type(error).__name__}: {error!r}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
