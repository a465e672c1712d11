// The ESM entry of rustls-tls/https.
import https from './https.js';

export default https;
export const { Agent, globalAgent, Server, createServer, request, get } = https;
