// Must NOT type-check: the types are real, not `any`.
import { connect } from 'rustls-tls';
import { createServer } from 'rustls-tls/https';

export const n: number = connect({ port: 1 });
export const m: number = createServer();
