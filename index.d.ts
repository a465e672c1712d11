// rustls-tls has the API of Node's `tls` module; its types are Node's own
// (from @types/node), so `import tls from 'rustls-tls'` type-checks exactly
// as `import tls from 'node:tls'` does. What differs at run time (options
// rustls cannot honour) is listed in the README.
/// <reference types="node" />
import * as tls from 'node:tls';

export = tls;
