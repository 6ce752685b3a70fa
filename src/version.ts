/** The service's version, as the OpenAPI document and the MCP handshake announce it (package.json's). */
export const VERSION = "0.1.0";
