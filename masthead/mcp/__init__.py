"""The MCP server for agent staff: the same actions, roles and safeguards as the API.

A face like `web` and `cli`: it parses a tool call, opens a unit of work (through the
`Gateway` the web layer hands it, one per HTTP request), calls the actions and shapes the
answer. `masthead.mcp.bridge` is the stdio bridge (`masthead mcp`) to a site's
`/api/v1/mcp`. Imports of the SDK are absolute (`mcp.…`): this package is `masthead.mcp`.
"""
