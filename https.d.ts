// rustls-tls/https has node:https's API; its types are Node's own.
/// <reference types="node" />
import * as https from 'node:https';
import type { Server as TlsServer } from 'node:tls';

declare namespace rustlsHttps {
  export import Agent = https.Agent;
  export import AgentOptions = https.AgentOptions;
  export import RequestOptions = https.RequestOptions;
  export import ServerOptions = https.ServerOptions;
  export type Server = https.Server & {
    /** The rustls-tls TLS server the HTTPS server listens with. */
    readonly tlsServer: TlsServer;
  };
  export const Server: {
    new (options?: https.ServerOptions, requestListener?: Parameters<typeof https.createServer>[1]): Server;
  };
  export function createServer(requestListener?: Parameters<typeof https.createServer>[1]): Server;
  export function createServer(options: https.ServerOptions, requestListener?: Parameters<typeof https.createServer>[1]): Server;
  export const request: typeof https.request;
  export const get: typeof https.get;
  export const globalAgent: https.Agent;
}

export = rustlsHttps;
