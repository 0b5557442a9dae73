"""A tiny MCP server on the official Python SDK, a peer of scenarios/src/interop.rs.

    python python_server.py --stdio
    python python_server.py --http PORT      # Streamable HTTP at http://127.0.0.1:PORT/mcp

Runs on mcp 2.x (MCPServer; both protocol eras) and on mcp 1.x (FastMCP; the legacy
`initialize` line only, still the most deployed).
"""

import argparse

try:
    from mcp.server import MCPServer

    server = MCPServer("python-peer", version="1.0")
except ImportError:
    from mcp.server.fastmcp import FastMCP

    server = FastMCP("python-peer")


@server.tool(description="Returns its message as text.")
def echo(message: str) -> str:
    return message


@server.resource("peer://readme", name="readme", mime_type="text/plain")
def readme() -> str:
    return "This is the Python peer."


@server.prompt(description="Greets someone by name.")
def greet(name: str) -> str:
    return f"Say hello to {name}."


def main() -> None:
    parser = argparse.ArgumentParser()
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--stdio", action="store_true")
    mode.add_argument("--http", type=int, metavar="PORT")
    args = parser.parse_args()
    if args.stdio:
        server.run("stdio")
    elif hasattr(server, "settings") and hasattr(server.settings, "port"):  # mcp 1.x
        server.settings.host = "127.0.0.1"
        server.settings.port = args.http
        server.settings.streamable_http_path = "/mcp"
        server.run("streamable-http")
    else:
        server.run("streamable-http", host="127.0.0.1", port=args.http, streamable_http_path="/mcp")


if __name__ == "__main__":
    main()
